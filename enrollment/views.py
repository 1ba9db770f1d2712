from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.utils.functional import cached_property
from django.views.generic import DetailView, FormView, ListView

from enrollment import columns, course, evidence, medication_services, selectors, services
from enrollment.forms import (
    ConfirmEligibilityForm,
    MedicalHistoryForm,
    MedicationForm,
    MedicationStopForm,
    ReopenScreeningForm,
    ScreeningForm,
    StatusChangeForm,
    TreatmentEndForm,
)
from enrollment.models import (
    ConcomitantMedication,
    MedicalHistory,
    Outcome,
    Screening,
    StatusChange,
    TreatmentEnd,
)
from inkt_trial import signature
from inkt_trial.errors import DomainError
from inkt_trial.views import PatientFormView, Permission, ServiceFormMixin, add_domain_error


class ScreeningListView(Permission, ListView):
    permission_required = "enrollment.view_screening"
    template_name = "enrollment/screening_list.html"
    paginate_by = 50

    def get_queryset(self):
        self.filterset = selectors.ScreeningFilter(
            self.request.GET, queryset=selectors.screening_list()
        )
        return self.filterset.qs

    def get_context_data(self, **kwargs):
        return super().get_context_data(filterset=self.filterset, **kwargs)


class ScreeningFormView(Permission, FormView):
    """Create a screening, or a re-screening of an earlier screen failure (?rescreen=<pk>)."""

    permission_required = "enrollment.add_screening"
    form_class = ScreeningForm
    template_name = "enrollment/screening_form.html"

    @cached_property
    def rescreen_of(self):
        number = self.request.GET.get("rescreen", "")
        return (
            get_object_or_404(Screening, pk=number)
            if (number.isascii() and number.isdigit())
            else None
        )

    def get_initial(self):
        if self.rescreen_of is None:
            return {}
        earlier = self.rescreen_of
        return {f: getattr(earlier, f) for f in ("date_of_birth", "sex")}

    def form_valid(self, form):
        try:
            screening = services.screening_create(
                values=form.cleaned_data, by=self.request.user, rescreen_of=self.rescreen_of
            )
        except DomainError as error:
            add_domain_error(form, error)
            return self.form_invalid(form)
        messages.success(self.request, f"Screening {screening} saved: {screening.status}.")
        return redirect("enrollment:screening_detail", pk=screening.pk)

    def get_context_data(self, **kwargs):
        return super().get_context_data(rescreen_of=self.rescreen_of, **kwargs)


class ScreeningUpdateView(Permission, FormView):
    permission_required = "enrollment.change_screening"
    template_name = "enrollment/screening_form.html"

    @cached_property
    def screening(self):  # looked up after the permission check: no probing for records
        return get_object_or_404(Screening, pk=self.kwargs["pk"])

    def get_form(self, form_class=None):
        return ScreeningForm(instance=self.screening, with_reason=True, **self.get_form_kwargs())

    def form_valid(self, form):
        try:
            services.screening_update(
                screening=self.screening,
                values=form.cleaned_data,
                by=self.request.user,
                reason=form.cleaned_data["reason"],
            )
        except DomainError as error:
            add_domain_error(form, error)
            return self.form_invalid(form)
        messages.success(self.request, f"Screening {self.screening} updated.")
        return redirect("enrollment:screening_detail", pk=self.screening.pk)

    def get_context_data(self, **kwargs):
        return super().get_context_data(screening=self.screening, **kwargs)


class ScreeningDetailView(Permission, DetailView):
    permission_required = "enrollment.view_screening"
    template_name = "enrollment/screening_detail.html"
    context_object_name = "screening"

    def get_queryset(self):
        return selectors.screening_list()

    def get_context_data(self, **kwargs):
        screening = self.object
        patient = getattr(screening, "patient", None)
        return super().get_context_data(
            can_rescreen=screening.outcome == Outcome.SCREEN_FAILURE
            and patient is None
            and not hasattr(screening, "rescreened_by"),
            violations=patient.eligibility_violations.all() if patient else [],
            **kwargs,
        )


class ScreeningConfirmView(Permission, FormView):
    permission_required = "enrollment.confirm_eligibility"
    template_name = "enrollment/screening_confirm.html"

    def get_initial(self):
        return {"version": self.screening.version}

    def get_form(self, form_class=None):
        return ConfirmEligibilityForm(
            with_username=signature.username_required(self.request), **self.get_form_kwargs()
        )

    @cached_property
    def screening(self):  # looked up after the permission check: no probing for records
        return get_object_or_404(Screening, pk=self.kwargs["pk"])

    def form_valid(self, form):
        try:
            resign = hasattr(self.screening, "patient")
            patient = services.screening_confirm(
                screening=self.screening,
                by=self.request.user,
                password=form.cleaned_data["password"],
                version=form.cleaned_data["version"],
                username=signature.require_components(
                    self.request, form.cleaned_data.get("username")
                ),
            )
        except DomainError as error:
            add_domain_error(form, error)
            return self.form_invalid(form)
        signature.signed_in_session(self.request)
        messages.success(
            self.request,
            f"The corrected screening of {patient.study_id} is signed again."
            if resign
            else f"Eligibility confirmed; enrolled as {patient.study_id}.",
        )
        return redirect("enrollment:patient_detail", study_id=patient.study_id)

    def get_context_data(self, **kwargs):
        meaning = services.signature_meaning(self.screening, self.request.user)
        return super().get_context_data(screening=self.screening, meaning=meaning, **kwargs)


class ScreeningReopenView(Permission, FormView):
    """The investigator or the data manager reopens a signed screening for a correction."""

    permission_required = "enrollment.reopen_screening"
    form_class = ReopenScreeningForm
    template_name = "enrollment/screening_reopen.html"

    @cached_property
    def screening(self):  # looked up after the permission check: no probing for records
        return get_object_or_404(Screening, pk=self.kwargs["pk"])

    def form_valid(self, form):
        try:
            services.screening_reopen(
                screening=self.screening, by=self.request.user, reason=form.cleaned_data["reason"]
            )
        except DomainError as error:
            add_domain_error(form, error)
            return self.form_invalid(form)
        messages.success(
            self.request,
            f"{self.screening} is reopened: the coordinator may correct it, with a reason; the "
            "investigator then signs it again.",
        )
        return redirect("enrollment:screening_detail", pk=self.screening.pk)

    def get_context_data(self, **kwargs):
        return super().get_context_data(screening=self.screening, **kwargs)


class PatientListView(Permission, ListView):
    """Enrolled patients: search by study ID or screening number; the columns the apps register
    (status, arm, open queries) as the user may see them, and their filters."""

    permission_required = "enrollment.view_patient"
    template_name = "enrollment/patient_list.html"
    paginate_by = 25  # each row's status is derived from the patient's records (issue 16)

    def get_queryset(self):
        self.filterset = selectors.patient_filter()(
            self.request.GET, queryset=selectors.patient_list(), request=self.request
        )
        return self.filterset.qs

    def get_context_data(self, **kwargs):
        context = super().get_context_data(filterset=self.filterset, **kwargs)
        user = self.request.user
        shown = columns.shown(user)
        page = list(context["object_list"])
        values = columns.values(page, user)
        context["columns"] = shown
        context["filtered"] = any(self.request.GET.get(name) for name in self.filterset.filters)
        context["rows"] = [
            {
                "patient": patient,
                "cells": [
                    _cell(column, patient, values[column.key].get(patient.pk)) for column in shown
                ],
            }
            for patient in page
        ]
        return context


def _cell(column, patient, value) -> dict:
    return {
        "key": column.key,
        "text": "" if value is None else column.text(value),
        "link": column.link(patient, value) if column.link and value is not None else None,
    }


class PatientDetailView(Permission, DetailView):
    permission_required = ("enrollment.view_patient", "enrollment.view_screening")
    template_name = "enrollment/patient_detail.html"
    slug_field = slug_url_kwarg = "study_id"
    context_object_name = "patient"

    def get_queryset(self):  # what the page's boxes read of the patient, in one query
        # Not the allocation's slot (only a user who may not see the arms reads it): with it,
        # PostgreSQL took 4 ms to plan this query of eight tables, against 1.6 ms (issue 16).
        return selectors.patient_list().select_related(
            "screening__confirmed_by",
            "allocation__randomized_by",
            "infusion_schedule",
        )

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            screening=self.object.screening,
            violations=selectors.violations_of([self.object.pk]).get(self.object.pk, []),
            **kwargs,
        )


# The patient's course --------------------------------------------------------------------------


class StatusChangeCreateView(PatientFormView):
    permission_required = "enrollment.add_statuschange"
    template_name = "dosing/form.html"
    form_class = StatusChangeForm
    success_message = "Status change recorded."

    def save(self, data):
        return course.status_change_record(patient=self.patient, by=self.request.user, **data)

    def get_context_data(self, **kwargs):
        return super().get_context_data(title="Status change", **kwargs)


class TreatmentEndCreateView(PatientFormView):
    permission_required = "enrollment.add_treatmentend"
    template_name = "dosing/form.html"
    success_message = "End of treatment recorded."

    def get_form(self, form_class=None):
        plan = evidence.plan(self.patient.pk)
        return TreatmentEndForm(drugs=plan[1] if plan else (), **self.get_form_kwargs())

    def save(self, data):
        return course.treatment_end_record(patient=self.patient, by=self.request.user, **data)

    def get_context_data(self, **kwargs):
        return super().get_context_data(title="End of treatment", **kwargs)


class _RecordEditView(ServiceFormMixin, Permission, FormView):
    """Correct a record with the reason, through the subclass's `correct` (its app service)."""

    template_name = "dosing/form.html"
    success_message = "Corrected."
    model = form_class = None
    related = "patient"  # what the record's page and redirect need

    @cached_property
    def record(self):
        return get_object_or_404(
            self.model.objects.select_related(self.related), pk=self.kwargs["pk"]
        )

    def get_form(self, form_class=None):
        kwargs = self.get_form_kwargs()
        kwargs["instance"] = self.model.objects.get(pk=self.record.pk)  # a copy: the form edits it
        return self.form_class(with_reason=True, **kwargs)

    def save(self, data):
        return self.correct(data.pop("correction_reason"), data)

    def success_redirect(self, record):
        return redirect("enrollment:patient_detail", study_id=record.patient.study_id)

    def about(self) -> dict:
        """What the page names the record by."""
        return {"patient": self.record.patient}

    def get_context_data(self, **kwargs):
        return super().get_context_data(title=f"Correct: {self.record}", **self.about(), **kwargs)


class _CourseEditView(_RecordEditView):
    """Correct a status change or an end of treatment, with the reason."""


class StatusChangeEditView(_CourseEditView):
    permission_required = "enrollment.change_statuschange"
    model, form_class = StatusChange, StatusChangeForm

    def correct(self, why, data):
        return course.status_change_correct(
            record=self.record, by=self.request.user, reason=why, **data
        )


class TreatmentEndEditView(_CourseEditView):
    permission_required = "enrollment.change_treatmentend"
    model, form_class = TreatmentEnd, TreatmentEndForm

    def correct(self, why, data):
        return course.treatment_end_correct(
            record=self.record, by=self.request.user, correction_reason=why, **data
        )


# Medical history and concomitant medications ---------------------------------------------------


def _back_to(screening):
    """The patient's page once enrolled, else the screening's."""
    patient = getattr(screening, "patient", None)
    if patient is not None:
        return redirect("enrollment:patient_detail", study_id=patient.study_id)
    return redirect("enrollment:screening_detail", pk=screening.pk)


class _ScreeningRecordCreateView(ServiceFormMixin, Permission, FormView):
    """Record a medication or a history entry against a screening (before enrolment too)."""

    template_name = "enrollment/record_form.html"
    title = ""

    @cached_property
    def screening(self):  # looked up after the permission check: no probing for records
        return get_object_or_404(Screening.objects.select_related("patient"), pk=self.kwargs["pk"])

    def success_redirect(self, record):
        return _back_to(self.screening)

    def get_context_data(self, **kwargs):
        return super().get_context_data(title=self.title, screening=self.screening, **kwargs)


class MedicationCreateView(_ScreeningRecordCreateView):
    permission_required = "enrollment.add_concomitantmedication"
    form_class = MedicationForm
    title = "Concomitant medication"
    success_message = "Medication recorded."

    def save(self, data):
        return medication_services.medication_record(
            screening=self.screening, by=self.request.user, **data
        )


class MedicalHistoryCreateView(_ScreeningRecordCreateView):
    permission_required = "enrollment.add_medicalhistory"
    form_class = MedicalHistoryForm
    title = "Medical history"
    success_message = "Medical history recorded."

    def save(self, data):
        return medication_services.history_record(
            screening=self.screening, by=self.request.user, **data
        )


class _ScreeningRecordEditView(_RecordEditView):
    """Correct a medication or a history entry, with the reason."""

    template_name = "enrollment/record_form.html"
    related = "screening__patient"

    def success_redirect(self, record):
        return _back_to(self.record.screening)

    def about(self) -> dict:
        return {"screening": self.record.screening}


class MedicationEditView(_ScreeningRecordEditView):
    permission_required = "enrollment.change_concomitantmedication"
    model, form_class = ConcomitantMedication, MedicationForm

    def correct(self, why, data):
        return medication_services.medication_correct(
            medication=self.record, by=self.request.user, reason=why, **data
        )


class MedicalHistoryEditView(_ScreeningRecordEditView):
    permission_required = "enrollment.change_medicalhistory"
    model, form_class = MedicalHistory, MedicalHistoryForm

    def correct(self, why, data):
        return medication_services.history_correct(
            entry=self.record, by=self.request.user, reason=why, **data
        )


class MedicationStopView(ServiceFormMixin, Permission, FormView):
    """An ongoing medication stopped (the course of things, not a correction)."""

    permission_required = "enrollment.change_concomitantmedication"
    template_name = "enrollment/record_form.html"
    form_class = MedicationStopForm
    success_message = "Medication stopped."

    @cached_property
    def record(self):
        return get_object_or_404(
            ConcomitantMedication.objects.select_related("screening__patient"), pk=self.kwargs["pk"]
        )

    def save(self, data):
        return medication_services.medication_stop(
            medication=self.record, by=self.request.user, **data
        )

    def success_redirect(self, record):
        return _back_to(self.record.screening)

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            title=f"Stop: {self.record}", screening=self.record.screening, **kwargs
        )
