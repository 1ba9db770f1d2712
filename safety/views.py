from django.conf import settings
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.utils.functional import cached_property
from django.views.generic import DetailView, FormView, TemplateView

from inkt_trial.views import PatientFormView, Permission, ServiceFormMixin
from randomization.protocol import ARMS, RPI
from randomization.selectors import can_see_arms
from safety import crs, rules, selectors, services, susar, tables
from safety.forms import AdverseEventForm, CausalityForm, SaeReportForm
from safety.models import DRUGS, AdverseEvent

ASTCT = {  # what the AE form's script needs to show the ASTCT inputs of CRS and ICANS
    "crs_term": crs.CRS_TERM,
    "icans_term": crs.ICANS_TERM,
    "icans_specification": crs.ICANS_SPECIFICATION,
}


def is_rpi(patient) -> bool:
    allocation = getattr(patient, "allocation", None)
    return allocation is not None and allocation.arm == RPI


class AdverseEventCreateView(PatientFormView):
    permission_required = "safety.add_adverseevent"
    template_name = "safety/ae_form.html"

    def get_form(self, form_class=None):
        return AdverseEventForm(
            patient=self.patient, rpi=is_rpi(self.patient), **self.get_form_kwargs()
        )

    def save(self, data):
        event = services.ae_record(patient=self.patient, by=self.request.user, **data)
        self.success_message = f"Adverse event recorded: {event}" + (
            " (serious)." if event.serious else "."
        )

    def get_context_data(self, **kwargs):
        return super().get_context_data(title="Record an adverse event", astct=ASTCT, **kwargs)


class EventMixin(Permission):
    @cached_property
    def event(self):
        return get_object_or_404(
            AdverseEvent.objects.select_related("patient__allocation", "term"), pk=self.kwargs["pk"]
        )

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            event=self.event,
            patient=self.event.patient,
            teae_window_days=settings.TEAE_WINDOW_DAYS,
            **kwargs,
        )


class EventFormView(ServiceFormMixin, EventMixin, FormView):
    def success_redirect(self, record):
        return redirect("safety:event", pk=self.event.pk)


class AdverseEventEditView(EventFormView):
    permission_required = "safety.change_adverseevent"
    template_name = "safety/ae_form.html"
    success_message = "Adverse event corrected."

    def get_form(self, form_class=None):
        kwargs = self.get_form_kwargs()
        if self.request.method != "POST":
            event = self.event
            kwargs["initial"] = {
                "meddra_code": event.term.meddra_code,
                **{
                    f: getattr(event, f)
                    for f in services.ENTERED
                    if f not in ("term", "awareness_at", "initial_report_at")
                },
                "awareness_at": event.awareness_at and timezone.localtime(event.awareness_at),
                "initial_report_at": event.initial_report_at
                and timezone.localtime(event.initial_report_at),
            }
        return AdverseEventForm(
            patient=self.event.patient, rpi=is_rpi(self.event.patient), with_reason=True, **kwargs
        )

    def save(self, data):
        return services.ae_correct(event=self.event, by=self.request.user, **data)

    def get_context_data(self, **kwargs):
        return super().get_context_data(title=f"Correct {self.event}", astct=ASTCT, **kwargs)


class CausalityView(EventFormView):
    permission_required = "safety.assess_causality"
    template_name = "safety/event_form.html"
    success_message = "Causality assessed."

    def get_form(self, form_class=None):
        kwargs = self.get_form_kwargs()
        proposed = services.proposed_expectedness(self.event)
        kwargs["initial"] = {
            **{f"relationship_{d}": getattr(self.event, f"relationship_{d}") for d in DRUGS},
            **{
                f"expectedness_{d}": (
                    proposed.get(d, "not_assessed")
                    if getattr(self.event, f"expectedness_{d}") == "not_assessed"
                    else getattr(self.event, f"expectedness_{d}")
                )
                for d in DRUGS
            },
        }
        return CausalityForm(rpi=is_rpi(self.event.patient), proposed=proposed, **kwargs)

    def save(self, data):
        return services.ae_assess_causality(event=self.event, by=self.request.user, **data)

    def get_context_data(self, **kwargs):
        return super().get_context_data(title="Relationship to study treatment", **kwargs)


class SaeReportView(EventFormView):
    permission_required = "safety.add_saereport"
    template_name = "safety/event_form.html"
    form_class = SaeReportForm
    success_message = "SAE report recorded."

    def save(self, data):
        return services.sae_report_record(event=self.event, by=self.request.user, **data)

    def get_context_data(self, **kwargs):
        return super().get_context_data(title="SAE follow-up report", **kwargs)


class AdverseEventDetailView(EventMixin, DetailView):
    permission_required = "safety.view_adverseevent"
    template_name = "safety/ae_detail.html"

    def get_object(self):
        return self.event

    def get_context_data(self, **kwargs):
        event = self.event
        due = event.awareness_at and rules.sae_initial_report_due(event.awareness_at)
        return super().get_context_data(
            initial_report_due=due,
            overdue=bool(due)
            and rules.sae_overdue(event.awareness_at, event.initial_report_at, timezone.now()),
            reports=event.reports.select_related("recorded_by"),
            rpi=is_rpi(event.patient),
            susar_label=susar.STATUS_LABELS[event.susar_status],
            susar_clock=event.susar_clock,
            syndrome=crs.syndrome_of(event.term.term, event.specification),
            astct_shown=crs.inputs_shown(event.astct_inputs),
            **kwargs,
        )


class SafetyTablesView(Permission, TemplateView):
    permission_required = "safety.view_safety_tables"
    template_name = "safety/tables.html"

    def get_context_data(self, **kwargs):
        table = selectors.safety_table(self.request.user)
        labels = ARMS if can_see_arms(self.request.user) else {}

        def cells(counts: dict) -> list:
            return [
                {
                    "arm": arm,
                    "patients": counts[arm].patients,
                    "percent": tables.percent(counts[arm].patients, table.population[arm]),
                    "grades": [counts[arm].by_worst_grade[g] for g in tables.GRADES],
                }
                for arm in table.arms
                if arm in counts
            ]

        return super().get_context_data(
            table=table,
            arms=[(arm, labels.get(arm, arm), table.population[arm]) for arm in table.arms],
            summary=[
                (
                    label,
                    [
                        (by_arm[arm], tables.percent(by_arm[arm], table.population[arm]))
                        for arm in table.arms
                    ],
                )
                for _, label, by_arm in table.summary
            ],
            rows=[(row, cells(row.counts)) for row in table.rows],
            infusion=[(row, cells(row.counts)) for row in table.infusion],
            grades=tables.GRADES,
            susars=selectors.susar_listing(self.request.user)
            if self.request.user.has_perm("safety.view_susar_listing")
            else None,
            **kwargs,
        )
