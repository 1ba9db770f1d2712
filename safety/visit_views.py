"""Pages of clinical visits: enter a visit with its lab values, correct it, decide on the
adverse events the values propose."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.functional import cached_property
from django.views import View
from django.views.generic import FormView

from inkt_trial.errors import DomainError
from inkt_trial.views import HistoryView, PatientFormView, Permission, ServiceFormMixin
from safety import visits
from safety.models import ClinicalVisit, ProposedAdverseEvent
from safety.visit_forms import VISIT_FIELDS, DismissForm, VisitForm


def to_labs(patient) -> str:
    return reverse("enrollment:patient_detail", args=[patient.study_id]) + "#labs"


def _announce(request, before: set[int], patient) -> None:
    new = ProposedAdverseEvent.objects.filter(patient=patient, state="proposed").exclude(
        pk__in=before
    )
    for proposal in new.select_related("term"):
        messages.warning(
            request,
            f"Adverse event proposed: {proposal.term.term} grade {proposal.grade} "
            f"({proposal.why}). Accept or dismiss it under Visits and laboratory values.",
        )


class VisitCreateView(PatientFormView):
    permission_required = "safety.add_clinicalvisit"
    template_name = "safety/visit_form.html"
    success_message = "Visit recorded."

    def get_form(self, form_class=None):
        return VisitForm(**self.get_form_kwargs())

    def save(self, data):
        before = set(
            ProposedAdverseEvent.objects.filter(patient=self.patient).values_list("pk", flat=True)
        )
        visit = visits.visit_record(patient=self.patient, by=self.request.user, **data)
        _announce(self.request, before, self.patient)
        return visit

    def success_redirect(self, record):
        return redirect(to_labs(self.patient))

    def get_context_data(self, **kwargs):
        return super().get_context_data(title="Enter a visit with laboratory values", **kwargs)


class VisitEditView(ServiceFormMixin, Permission, FormView):
    permission_required = "safety.change_clinicalvisit"
    template_name = "safety/visit_form.html"
    success_message = "Visit corrected."

    @cached_property
    def visit(self):
        return get_object_or_404(
            ClinicalVisit.objects.select_related("patient"), pk=self.kwargs["pk"]
        )

    def get_form(self, form_class=None):
        kwargs = self.get_form_kwargs()
        stored = list(self.visit.labs.all())
        if self.request.method != "POST":
            initial = {f: getattr(self.visit, f) for f in VISIT_FIELDS}
            for lab in stored:
                initial[f"{lab.test}_value"] = lab.value_entered.normalize()
                initial[f"{lab.test}_unit"] = lab.unit_entered
                for bound in ("lln", "uln"):
                    initial[f"{lab.test}_{bound}"] = visits.entered_bound(lab, bound)
            kwargs["initial"] = initial
        return VisitForm(entered_tests={lab.test for lab in stored}, with_reason=True, **kwargs)

    def save(self, data):
        before = set(
            ProposedAdverseEvent.objects.filter(patient=self.visit.patient).values_list(
                "pk", flat=True
            )
        )
        reason = data.pop("reason")
        visit = visits.visit_correct(visit=self.visit, by=self.request.user, reason=reason, **data)
        _announce(self.request, before, self.visit.patient)
        return visit

    def success_redirect(self, record):
        return redirect(to_labs(self.visit.patient))

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            title=f"Correct the {self.visit}",
            patient=self.visit.patient,
            visit=self.visit,
            **kwargs,
        )


class ProposalMixin(Permission):
    @cached_property
    def proposal(self):
        return get_object_or_404(
            ProposedAdverseEvent.objects.select_related("patient", "term", "lab__visit"),
            pk=self.kwargs["pk"],
        )


class ProposalAcceptView(ProposalMixin, View):
    """POST: the proposed event is recorded, pre-filled; the investigator then assesses it."""

    permission_required = ("safety.decide_proposedadverseevent", "safety.add_adverseevent")
    http_method_names = ["post"]

    def post(self, request, pk):
        try:
            event = visits.proposal_accept(proposal=self.proposal, by=request.user)
        except DomainError as error:
            for message in error.messages:
                messages.error(request, f"Not recorded: {message}")
            return redirect(to_labs(self.proposal.patient))
        messages.success(request, f"Adverse event recorded: {event}. Complete it if needed.")
        return redirect("safety:event", pk=event.pk)


class ProposalDismissView(ServiceFormMixin, ProposalMixin, FormView):
    permission_required = "safety.decide_proposedadverseevent"
    template_name = "safety/proposal_dismiss.html"
    form_class = DismissForm
    success_message = "Proposed adverse event dismissed."

    def save(self, data):
        return visits.proposal_dismiss(
            proposal=self.proposal, by=self.request.user, reason=data["reason"]
        )

    def success_redirect(self, record):
        return redirect(to_labs(self.proposal.patient))

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            proposal=self.proposal, patient=self.proposal.patient, **kwargs
        )


class ArmHistoryView(HistoryView):
    """A visit's trail names an iNKT course: only for those who may see arms."""

    def get_permission_required(self):
        return [*super().get_permission_required(), "randomization.view_arm"]
