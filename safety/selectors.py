"""What the safety pages and API read: the safety tables by arm, a patient's events."""

from django.conf import settings

from dosing.selectors import dose_spans
from randomization.models import Allocation
from randomization.protocol import ARM_CODES, ARMS, RPI
from randomization.selectors import arm_shown, can_see_arms
from safety import rules, tables
from safety.models import DRUGS, AdverseEvent


def safety_table(user) -> tables.Table:
    """The treatment-emergent adverse events of the safety population, by arm as this user may
    see it (arm codes for a masked statistician, who then gets no iNKT-only rows). A fixed
    number of queries, whatever the number of patients."""
    doses = dose_spans()
    allocations = Allocation.objects.select_related("slot").filter(patient_id__in=list(doses))
    population = {a.patient_id: arm_shown(user, a) for a in allocations}
    events = [
        tables.Event(
            patient=e.patient_id,
            soc=e.term.soc,
            term=e.term.term,
            grade=e.grade,
            serious=e.serious,
            discontinuation=any(getattr(e, f"action_{d}") == "withdrawn" for d in DRUGS),
        )
        for e in AdverseEvent.objects.filter(patient_id__in=list(population)).select_related("term")
        if emergent(e, doses.get(e.patient_id))
    ]
    unmasked = can_see_arms(user)
    arms = tuple(ARMS) if unmasked else tuple(sorted(set(population.values()))) or ARM_CODES
    return tables.safety_table(
        population,
        events,
        arms=arms,
        infusion_arm=RPI if unmasked else None,
        hidden_terms=() if unmasked else tables.INFUSION_TERMS,
    )


def emergent(event, span) -> bool:
    """Treatment emergence of an event, from the patient's (first, last) dose span."""
    first, last = span or (None, None)
    return rules.treatment_emergent(
        event.onset, first, last, days_after_last_dose=settings.TEAE_WINDOW_DAYS
    )


def patient_events(patient):
    events = list(AdverseEvent.objects.filter(patient=patient).select_related("term", "infusion"))
    span = dose_spans([patient.pk]).get(patient.pk)
    for event in events:
        event._dose_span = span
    return events
