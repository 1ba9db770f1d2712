"""View bases shared by every app's pages: permission checks, forms whose data goes to a service,
the audit trail of a record, and the form about one patient.

The patient model is named in settings (TRIAL_PATIENT_MODEL, as Django names the user model in
AUTH_USER_MODEL), so this module sits below the apps that define and use it."""

from django.apps import apps
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.shortcuts import get_object_or_404, redirect
from django.utils.functional import cached_property
from django.views.generic import FormView, TemplateView

from inkt_trial.audit import history_of
from inkt_trial.errors import DomainError


def patient_model():
    return apps.get_model(settings.TRIAL_PATIENT_MODEL)


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


class PatientFormView(ServiceFormMixin, Permission, FormView):
    """A form about one patient; the service decides, errors go back on the form."""

    @cached_property
    def patient(self):
        return get_object_or_404(
            patient_model().objects.select_related("screening", "allocation"),
            study_id=self.kwargs["study_id"],
        )

    def get_context_data(self, **kwargs):
        return super().get_context_data(patient=self.patient, **kwargs)

    def success_redirect(self, record):
        return redirect("enrollment:patient_detail", study_id=self.patient.study_id)
