"""What the safety pages and API read: the safety tables by arm, a patient's events."""

from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.utils import timezone

from dosing.selectors import dose_spans
from inkt_trial import memo
from randomization.models import Allocation
from randomization.protocol import ARM_CODES, ARMS, RPI
from randomization.selectors import arm_shown, can_see_arms
from safety import rules, susar, tables
from safety.models import DRUGS, AdverseEvent


def safety_table(user) -> tables.Table:
    """The treatment-emergent adverse events of the safety population, by arm as this user may
    see it (arm codes for a masked statistician, who then gets no iNKT-only rows and whose
    safety population and treatment emergence count from the drugs both arms receive: an event
    emergent only because of an iNKT infusion would name the arm). A fixed number of queries,
    whatever the number of patients."""
    unmasked = can_see_arms(user)
    doses = dose_spans(shared_only=not unmasked)
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


@memo.per_id
def events_of(patient_ids) -> dict[int, list[AdverseEvent]]:
    """Each patient's adverse events by onset, with their term and infusion, in one query; once
    per request (the safety box, the course's stops and the deviations read the same: read
    them, never change them)."""
    found: dict[int, list[AdverseEvent]] = {}
    for event in (
        AdverseEvent.objects.filter(patient_id__in=list(patient_ids))
        .select_related("term", "infusion")
        .order_by("onset", "pk")
    ):
        found.setdefault(event.patient_id, []).append(event)
    return found


def patient_events(patient):
    events = events_of([patient.pk]).get(patient.pk, [])
    span = dose_spans([patient.pk]).get(patient.pk)
    for event in events:
        event._dose_span = span
    return events


@dataclass(frozen=True)
class SusarRow:
    """One SUSAR and its expedited-report clock, as this user may see it."""

    event: int
    study_id: str
    arm: str
    term: str  # withheld from a masked reader
    onset: date
    fatal_or_life_threatening: bool
    suspected: tuple[str, ...]  # the suspected drugs; empty for a masked reader
    day0: date
    due: date
    reported: date | None
    overdue: bool
    follow_up_due: date | None
    followed_up: date | None
    follow_up_overdue: bool

    @property
    def suspected_shown(self) -> str:
        return ", ".join(susar.DRUG_NAMES[d] for d in self.suspected)


WITHHELD = "(withheld while masked)"


def susar_listing(user) -> list[SusarRow]:
    """Every SUSAR with its clock. A masked reader (the masked statistician) gets the arm codes,
    no suspected drug (expectedness lists per drug would reveal iNKT exposure) and no term (CRS,
    infusion reactions and ICANS are the iNKT arm's own; withholding only those would single
    them out)."""
    unmasked = can_see_arms(user)
    events = AdverseEvent.objects.filter(susar_status=susar.SUSAR).select_related(
        "patient__allocation__slot", "term"
    )
    rows = []
    for e in events.order_by("awareness_at", "pk"):
        clock = e.susar_clock
        if clock is None:
            continue
        allocation = getattr(e.patient, "allocation", None)
        term = e.term.term + (f": {e.specification}" if e.specification else "")
        rows.append(
            SusarRow(
                event=e.pk,
                study_id=e.patient.study_id,
                arm=arm_shown(user, allocation) if allocation else "",
                term=term if unmasked else WITHHELD,
                onset=e.onset,
                fatal_or_life_threatening=e.fatal_or_life_threatening,
                suspected=susar.suspected_drugs({d: getattr(e, f"relationship_{d}") for d in DRUGS})
                if unmasked
                else (),
                day0=clock.day0,
                due=clock.due,
                reported=e.susar_report_at and timezone.localdate(e.susar_report_at),
                overdue=clock.overdue,
                follow_up_due=clock.follow_up_due,
                followed_up=e.susar_follow_up_at and timezone.localdate(e.susar_follow_up_at),
                follow_up_overdue=clock.follow_up_overdue,
            )
        )
    return rows


def overdue_susars(user) -> list[SusarRow]:
    """SUSARs whose expedited report (or complete report) is due and not sent."""
    return [
        row
        for row in susar_listing(user)
        if (row.overdue and row.reported is None)
        or (row.follow_up_overdue and row.followed_up is None)
    ]
