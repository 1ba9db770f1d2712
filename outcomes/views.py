from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.utils.functional import cached_property
from django.views import View
from django.views.generic import FormView, TemplateView

from dosing import selectors as dosing_selectors
from enrollment.dates import shown
from enrollment.models import EligibilityViolation, Outcome, Screening
from inkt_trial.errors import DomainError
from inkt_trial.views import PatientFormView, Permission, ServiceFormMixin, add_domain_error
from inkt_trial.widgets import DateInput
from outcomes import analysis, consort, exports, plots, run_results, selectors, services
from outcomes.forms import FollowUpForm
from outcomes.models import EndpointRun, FollowUp
from randomization import selectors as randomization_selectors
from randomization.selectors import can_see_arms
from safety import selectors as safety_selectors
from safety import services as safety_services


class DashboardView(LoginRequiredMixin, TemplateView):
    """Each role's landing page: only what that role may use."""

    template_name = "dashboard.html"

    def get_context_data(self, **kwargs):
        user = self.request.user
        context = super().get_context_data(**kwargs)
        if user.has_perm("enrollment.view_screening"):
            awaiting = Screening.objects.filter(
                Q(outcome=Outcome.ELIGIBLE, confirmed_at__isnull=True, patient__isnull=True)
                | Q(reopened_at__isnull=False)  # corrected, to sign again
            )
            context["awaiting_confirmation"] = awaiting.order_by("created_at")
            context["screening_counts"] = Screening.objects.aggregate(  # one query
                screened=Count("pk"),
                screen_failures=Count(
                    "pk", filter=Q(outcome=Outcome.SCREEN_FAILURE, patient__isnull=True)
                ),
                enrolled=Count("pk", filter=Q(patient__isnull=False)),
            )
        if user.has_perms(("enrollment.view_eligibilityviolation", "dosing.view_infusion")):
            context["eligibility_violations"] = list(
                EligibilityViolation.objects.filter(resolved_on=None).select_related("patient")
            )
        if user.has_perm("randomization.add_allocation"):
            context["awaiting_randomization"] = (
                randomization_selectors.patients_awaiting_randomization()
            )
        if user.has_perm("dosing.add_infusion"):
            context["infusion_reminders"] = dosing_selectors.open_reminders()
        if user.has_perm("safety.view_adverseevent"):
            context["overdue_saes"] = safety_services.overdue_saes(now=timezone.now())
            context["overdue_susars"] = safety_selectors.overdue_susars(user)
        if user.has_perm("randomization.replace_sequence"):
            context["sequence_alerts"] = randomization_selectors.open_alerts()
        return context


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


# Endpoint runs ---------------------------------------------------------------------------------


class RunStartForm(forms.Form):
    cutoff = forms.DateField(
        label="Data cut-off",
        widget=DateInput(),
        initial=timezone.localdate,
    )
    death_is_ttd_event = forms.BooleanField(
        required=False, label="Sensitivity analysis: death counts as QoL deterioration"
    )


def view_for(user, results) -> exports.Presentation:
    return exports.presentation(results, masked=not can_see_arms(user))


class RunListView(Permission, FormView):
    permission_required = "outcomes.view_endpointrun"
    template_name = "outcomes/runs.html"
    form_class = RunStartForm

    def get_context_data(self, **kwargs):
        runs = EndpointRun.objects.select_related("requested_by").defer("results")[:50]
        return super().get_context_data(
            runs=[(run, services.run_state(run)) for run in runs], **kwargs
        )

    def form_valid(self, form):
        if not self.request.user.has_perm("outcomes.add_endpointrun"):
            raise PermissionDenied
        try:
            run = services.run_start(by=self.request.user, **form.cleaned_data)
        except DomainError as error:
            add_domain_error(form, error)
            return self.form_invalid(form)
        messages.success(self.request, f"{run} started.")
        return redirect("outcomes:run", pk=run.pk)


class RunDetailView(Permission, TemplateView):
    permission_required = "outcomes.view_endpointrun"
    template_name = "outcomes/run.html"

    def post(self, request, pk):  # retry
        if not request.user.has_perm("outcomes.add_endpointrun"):
            raise PermissionDenied
        run = get_object_or_404(EndpointRun, pk=pk)
        try:
            services.run_retry(run=run, by=request.user)
            messages.success(request, f"{run}: retry queued.")
        except DomainError as error:
            messages.error(request, error.message)
        return redirect("outcomes:run", pk=pk)

    def get_context_data(self, **kwargs):
        run = get_object_or_404(EndpointRun, pk=self.kwargs["pk"])
        context = {"run": run, "state": services.run_state(run)}
        if run.status == EndpointRun.DONE:
            results = run_results.summary(run)  # never a patient's row
            view = view_for(self.request.user, results)
            labels = view.labels
            param = self.request.GET.get("param", "PFS")
            if param not in analysis.PARAMS:
                param = "PFS"
            survival = results["summary"]["survival"]
            context.update(
                arms=[(arm, labels[arm], results["n"][arm]) for arm in view.arms],
                param=param,
                params=list(analysis.PARAMS.items()),
                conventions=view.conventions(results["conventions"]),
                survival=[
                    (
                        code,
                        name,
                        [(labels[a], survival[code]["arms"][a]) for a in view.arms],
                        survival[code].get("logrank_p"),
                        view.hazard_ratio(survival[code].get("hazard_ratio")),
                    )
                    for code, name in analysis.PARAMS.items()
                ],
                response=[
                    (
                        criterion,
                        measure,
                        [(labels[a], entry[measure][a]) for a in view.arms],
                        view.difference(entry.get(f"{measure}_difference")),
                    )
                    for criterion, entry in results["summary"]["response"].items()
                    for measure in ("ORR", "DCR")
                ],
                os_1_year=[(labels[a], results["summary"]["os_1_year"][a]) for a in view.arms],
                comparison=view.comparison,
                hr_direction=view.hr_direction,
                pending=results.get("pending_adjudication"),
            )
        return super().get_context_data(**context, **kwargs)


class KmPlotView(Permission, View):
    permission_required = "outcomes.view_endpointrun"

    def get(self, request, pk, param, fmt):
        run = get_object_or_404(EndpointRun, pk=pk, status=EndpointRun.DONE)
        if param not in analysis.PARAMS or fmt not in plots.FORMATS:
            raise Http404("No such endpoint or image format.")
        results = run_results.summary(run)
        image = plots.km_plot(
            results["summary"]["survival"][param],
            view_for(request.user, results),
            f"{analysis.PARAMS[param]} · cut-off {shown(run.cutoff)}",
            fmt,
        )
        response = HttpResponse(image, content_type=plots.FORMATS[fmt])
        if request.GET.get("download"):
            response["Content-Disposition"] = (
                f'attachment; filename="nct05962450-run{run.pk}-km-{param}.{fmt}"'
            )
        return response


class ConsortView(Permission, TemplateView):
    permission_required = "randomization.view_allocation"
    template_name = "outcomes/consort.html"

    def get_context_data(self, **kwargs):
        flow = selectors.consort_flow(self.request.user)
        return super().get_context_data(flow=flow, diagram=consort.layout(flow), **kwargs)
