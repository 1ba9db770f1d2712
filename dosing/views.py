from django.utils.functional import cached_property
from django.views.generic import TemplateView

from dosing import selectors, services
from dosing.forms import DrugExposureForm, InfusionForm, ScheduleForm
from dosing.models import InfusionSchedule
from inkt_trial.views import PatientFormView, Permission


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
