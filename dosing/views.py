from django.shortcuts import get_object_or_404, redirect
from django.utils.functional import cached_property
from django.views.generic import FormView, TemplateView

from dosing import chain, selectors, services
from dosing.forms import (
    ApheresisForm,
    BatchForm,
    DrugExposureForm,
    InfusionForm,
    ReleaseForm,
    ReleaseTestForm,
    ScheduleForm,
)
from dosing.models import Apheresis, InfusionSchedule, ManufacturingBatch, ReleaseTest
from inkt_trial.views import PatientFormView, Permission, ServiceFormMixin


class ScheduleView(PatientFormView):
    permission_required = "dosing.add_infusionschedule"
    template_name = "dosing/form.html"
    success_message = "Infusion schedule saved."

    @cached_property
    def schedule(self):
        return InfusionSchedule.objects.filter(patient=self.patient).first()

    def get_form(self, form_class=None):
        kwargs = self.get_form_kwargs()
        if self.schedule is not None and self.request.method != "POST":
            kwargs["initial"] = {
                f: getattr(self.schedule, f)
                for f in ("first_planned_date", "window_days", "bsa_formula", "target_cells_per_m2")
            }
        return ScheduleForm(with_reason=self.schedule is not None, **kwargs)

    def save(self, data):
        if self.schedule is None:
            services.schedule_create(patient=self.patient, by=self.request.user, **data)
        else:
            services.schedule_update(schedule=self.schedule, by=self.request.user, **data)

    def get_context_data(self, **kwargs):
        title = "Change the infusion schedule" if self.schedule else "Set up the infusion schedule"
        return super().get_context_data(title=title, **kwargs)


class InfusionView(PatientFormView):
    permission_required = "dosing.add_infusion"
    template_name = "dosing/infusion_form.html"
    form_class = InfusionForm

    def get_initial(self):
        schedule = InfusionSchedule.objects.filter(patient=self.patient).first()
        if schedule is None:
            return {}
        return {
            "bsa_formula": schedule.bsa_formula,
            "target_cells_per_m2": schedule.target_cells_per_m2,
        }

    def save(self, data):
        infusion = services.infusion_record(patient=self.patient, by=self.request.user, **data)
        self.success_message = (
            f"Course {infusion.course_number} recorded"
            + (f": {infusion.cells_infused:.3g} cells" if infusion.cells_infused else " as missed")
            + (
                f"; deviations: {', '.join(infusion.deviation_texts)}."
                if infusion.deviations
                else "."
            )
        )

    def get_context_data(self, **kwargs):
        return super().get_context_data(dosing=selectors.patient_dosing(self.patient), **kwargs)


class DrugExposureView(PatientFormView):
    permission_required = "dosing.add_drugexposure"
    template_name = "dosing/form.html"
    form_class = DrugExposureForm
    success_message = "PD-1 / regorafenib record saved."

    def save(self, data):
        services.drug_exposure_record(patient=self.patient, by=self.request.user, **data)

    def get_context_data(self, **kwargs):
        return super().get_context_data(title="PD-1 antibody or regorafenib", **kwargs)


class CalendarView(Permission, TemplateView):
    """The site calendar: courses due within 3 days, and overdue ones."""

    permission_required = "dosing.view_infusion"
    template_name = "dosing/calendar.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            rows=services.due_and_overdue(today=selectors.today()),
            today=selectors.today(),
            **kwargs,
        )


# -- the cell product's chain of identity -------------------------------------------------------


class ApheresisCreateView(PatientFormView):
    permission_required = "dosing.add_apheresis"
    template_name = "dosing/form.html"
    form_class = ApheresisForm
    success_message = "Apheresis recorded."

    def save(self, data):
        return services.apheresis_record(patient=self.patient, by=self.request.user, **data)

    def get_context_data(self, **kwargs):
        return super().get_context_data(title="Apheresis", **kwargs)


class _CorrectView(ServiceFormMixin, Permission, FormView):
    """Correct one record of the chain, with the reason."""

    template_name = "dosing/form.html"
    model = None
    select = ()
    fields: tuple = ()

    @cached_property
    def record(self):
        return get_object_or_404(
            self.model.objects.select_related(*self.select), pk=self.kwargs["pk"]
        )

    @property
    def patient(self):
        return self.record.patient

    def initial_values(self):
        return {f: getattr(self.record, f) for f in self.fields}

    def get_form(self, form_class=None):
        kwargs = self.get_form_kwargs()
        if self.request.method != "POST":
            kwargs["initial"] = self.initial_values()
        return self.make_form(**kwargs)

    def success_redirect(self, record):
        return redirect("enrollment:patient_detail", study_id=self.patient.study_id)

    def get_context_data(self, **kwargs):
        kwargs.setdefault("title", f"Correct: {self.record}")
        return super().get_context_data(patient=self.patient, record=self.record, **kwargs)


class ApheresisEditView(_CorrectView):
    permission_required = "dosing.change_apheresis"
    model = Apheresis
    select = ("patient",)
    fields = services.APHERESIS_FIELDS
    success_message = "Apheresis corrected."

    def make_form(self, **kwargs):
        return ApheresisForm(with_reason=True, **kwargs)

    def save(self, data):
        return services.apheresis_correct(apheresis=self.record, by=self.request.user, **data)


class BatchCreateView(PatientFormView):
    permission_required = "dosing.add_manufacturingbatch"
    template_name = "dosing/form.html"
    success_message = "Batch recorded; enter its release tests."

    def get_form(self, form_class=None):
        return BatchForm(patient=self.patient, **self.get_form_kwargs())

    def save(self, data):
        return services.batch_record(by=self.request.user, **data)

    def get_context_data(self, **kwargs):
        return super().get_context_data(title="Manufacturing batch", **kwargs)


class BatchEditView(_CorrectView):
    permission_required = "dosing.change_manufacturingbatch"
    model = ManufacturingBatch
    select = ("patient",)
    fields = services.BATCH_FIELDS
    success_message = "Batch corrected."

    def make_form(self, **kwargs):
        return BatchForm(patient=self.patient, with_reason=True, **kwargs)

    def save(self, data):
        return services.batch_correct(batch=self.record, by=self.request.user, **data)


class ReleaseTestCreateView(_CorrectView):
    """A release test of a batch (not a correction: no reason)."""

    permission_required = "dosing.add_releasetest"
    model = ManufacturingBatch
    select = ("patient",)
    success_message = "Release test recorded."

    def initial_values(self):
        return {}

    def make_form(self, **kwargs):
        return ReleaseTestForm(**kwargs)

    def save(self, data):
        return services.release_test_record(batch=self.record, by=self.request.user, **data)

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            **{**kwargs, "title": f"Release test of batch {self.record.batch_number}"}
        )


class ReleaseTestEditView(_CorrectView):
    permission_required = "dosing.change_releasetest"
    model = ReleaseTest
    select = ("batch__patient",)
    fields = ("result_passed", "value", "method", "tested_on")
    success_message = "Release test corrected."

    @property
    def patient(self):
        return self.record.batch.patient

    def make_form(self, **kwargs):
        return ReleaseTestForm(with_reason=True, **kwargs)

    def save(self, data):
        return services.release_test_correct(release_test=self.record, by=self.request.user, **data)


class BatchReleaseView(_CorrectView):
    """The investigator releases a batch once every release test passes."""

    permission_required = "dosing.release_manufacturingbatch"
    model = ManufacturingBatch
    select = ("patient",)
    template_name = "dosing/release.html"
    success_message = "Batch released for infusion."

    def initial_values(self):
        return {}

    def make_form(self, **kwargs):
        return ReleaseForm(**kwargs)

    def save(self, data):
        return services.batch_release(
            batch=self.record, by=self.request.user, released_at=data.get("released_at")
        )

    def get_context_data(self, **kwargs):
        tests = {t.assay: t for t in self.record.release_tests.all()}
        rows = [
            {"label": label, "criterion": chain.CRITERIA[assay], "test": tests.get(assay.value)}
            for assay, label in chain.ASSAY_LABELS.items()
        ]
        return super().get_context_data(
            **{**kwargs, "title": f"Release batch {self.record.batch_number}", "rows": rows}
        )
