from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.shortcuts import get_object_or_404, redirect
from django.utils.functional import cached_property
from django.views.generic import DetailView, FormView, ListView, TemplateView

from enrollment import selectors, services
from enrollment.forms import ConfirmEligibilityForm, ScreeningForm
from enrollment.models import Outcome, Screening
from inkt_trial.audit import history_of
from inkt_trial.errors import DomainError


class Permission(PermissionRequiredMixin):
    """Anonymous users go to the login page; logged-in users without the permission get 403."""

    raise_exception = False


def add_domain_error(form, error: DomainError) -> None:
    for field, msgs in error.field_errors.items():
        for msg in msgs:
            form.add_error(field if field in form.fields else None, msg)
    if error.message and not error.field_errors:
        form.add_error(None, error.message)


class ServiceFormMixin:
    """A form whose cleaned data goes to a service: `save(data)` returns the record, a refusal
    goes back on the form, success is announced and redirects to `success_redirect(record)`."""

    success_message = "Saved."

    def form_valid(self, form):
        try:
            record = self.save(form.cleaned_data)
        except DomainError as error:
            add_domain_error(form, error)
            return self.form_invalid(form)
        messages.success(self.request, self.success_message)
        return self.success_redirect(record)


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
        return super().get_context_data(
            can_rescreen=screening.outcome == Outcome.SCREEN_FAILURE
            and not hasattr(screening, "rescreened_by"),
            **kwargs,
        )


class ScreeningConfirmView(Permission, FormView):
    permission_required = "enrollment.confirm_eligibility"
    form_class = ConfirmEligibilityForm
    template_name = "enrollment/screening_confirm.html"

    def get_initial(self):
        return {"version": self.screening.version}

    @cached_property
    def screening(self):  # looked up after the permission check: no probing for records
        return get_object_or_404(Screening, pk=self.kwargs["pk"])

    def form_valid(self, form):
        try:
            patient = services.screening_confirm(
                screening=self.screening,
                by=self.request.user,
                password=form.cleaned_data["password"],
                version=form.cleaned_data["version"],
            )
        except DomainError as error:
            add_domain_error(form, error)
            return self.form_invalid(form)
        messages.success(self.request, f"Eligibility confirmed; enrolled as {patient.study_id}.")
        return redirect("enrollment:patient_detail", study_id=patient.study_id)

    def get_context_data(self, **kwargs):
        user = self.request.user
        meaning = services.SIGNATURE_MEANING.format(
            name=user.get_full_name() or user.username, number=self.screening.screening_number
        )
        return super().get_context_data(screening=self.screening, meaning=meaning, **kwargs)


class HistoryView(Permission, TemplateView):
    """The audit trail of one clinical record."""

    template_name = "audit/history.html"
    model = None
    lookup = "pk"

    def get_permission_required(self):
        meta = self.model._meta
        return [f"{meta.app_label}.view_{meta.model_name}"]

    def get_context_data(self, **kwargs):
        record = get_object_or_404(self.model, **{self.lookup: self.kwargs[self.lookup]})
        return super().get_context_data(record=record, rows=history_of(record), **kwargs)


class PatientListView(Permission, ListView):
    permission_required = "enrollment.view_patient"
    template_name = "enrollment/patient_list.html"
    paginate_by = 50

    def get_queryset(self):
        return selectors.patient_list()


class PatientDetailView(Permission, DetailView):
    permission_required = ("enrollment.view_patient", "enrollment.view_screening")
    template_name = "enrollment/patient_detail.html"
    slug_field = slug_url_kwarg = "study_id"
    context_object_name = "patient"

    def get_queryset(self):
        return selectors.patient_list()

    def get_context_data(self, **kwargs):
        return super().get_context_data(screening=self.object.screening, **kwargs)
