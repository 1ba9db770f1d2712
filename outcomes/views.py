from django.shortcuts import get_object_or_404, redirect
from django.utils.functional import cached_property
from django.views.generic import FormView

from dosing.views import PatientFormView
from enrollment.views import Permission, ServiceFormMixin
from outcomes import services
from outcomes.forms import FollowUpForm
from outcomes.models import FollowUp


class FollowUpCreateView(PatientFormView):
    permission_required = "outcomes.add_followup"
    template_name = "dosing/form.html"
    form_class = FollowUpForm
    success_message = "Follow-up record saved."

    def save(self, data):
        return services.followup_record(patient=self.patient, by=self.request.user, **data)

    def get_context_data(self, **kwargs):
        return super().get_context_data(title="Follow-up", **kwargs)


class FollowUpEditView(ServiceFormMixin, Permission, FormView):
    permission_required = "outcomes.change_followup"
    template_name = "dosing/form.html"
    success_message = "Follow-up record corrected."

    @cached_property
    def record(self):
        return get_object_or_404(FollowUp.objects.select_related("patient"), pk=self.kwargs["pk"])

    def get_form(self, form_class=None):
        kwargs = self.get_form_kwargs()
        if self.request.method != "POST":
            kwargs["initial"] = {f: getattr(self.record, f) for f in services.ENTERED}
        return FollowUpForm(with_reason=True, **kwargs)

    def save(self, data):
        return services.followup_correct(record=self.record, by=self.request.user, **data)

    def success_redirect(self, record):
        return redirect("enrollment:patient_detail", study_id=record.patient.study_id)

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            title=f"Correct: {self.record}", patient=self.record.patient, **kwargs
        )
