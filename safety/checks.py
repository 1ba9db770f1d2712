"""What the safety records tell the patient's course (enrollment.evidence), registered in
SafetyConfig: adverse events' onsets and resolutions, the death dates of fatal events, and the
drugs withdrawn for an adverse event."""

from dosing.checks import doses_of
from enrollment import status
from safety.models import DRUGS, AdverseEvent
from safety.selectors import events_of


def onsets_and_resolutions(patient_id: int) -> list[status.Evidence]:
    """Each adverse event's onset and resolution: the patient was seen on both days (an event
    does not resolve after a death, nor after the patient left the study)."""
    found = []
    for onset, resolution in AdverseEvent.objects.filter(patient_id=patient_id).values_list(
        "onset", "resolution"
    ):
        found.append(status.Evidence(onset, status.CLINICAL, "an adverse event"))
        if resolution is not None:
            found.append(
                status.Evidence(resolution, status.CLINICAL, "an adverse event's resolution")
            )
    return found


def fatal_dates(patient_id: int) -> list:
    return list(
        AdverseEvent.objects.filter(patient_id=patient_id, grade=5)
        .exclude(death_date=None)
        .values_list("death_date", flat=True)
    )


def withdrawn_for_toxicity(patient_ids) -> dict[int, list[status.DrugEnd]]:
    """A drug withdrawn for an adverse event (its action "withdrawn") stops at the event's
    onset, or at the last dose given if that was later (the decision follows the event); three
    queries whatever the number of patients (the events once per request)."""
    events = [
        event
        for found in events_of(list(patient_ids)).values()
        for event in found  # by onset
        if any(getattr(event, f"action_{drug}") == "withdrawn" for drug in DRUGS)
    ]
    if not events:
        return {}
    doses = doses_of({e.patient_id for e in events})
    found: dict[int, dict[str, status.DrugEnd]] = {}
    for event in events:
        stops = found.setdefault(event.patient_id, {})
        for drug in DRUGS:
            if getattr(event, f"action_{drug}") != "withdrawn" or drug in stops:
                continue
            given = [
                d.date for d in doses[event.patient_id] if d.drug == drug and d.date >= event.onset
            ]
            stops[drug] = status.DrugEnd(
                drug,
                max([event.onset, *given]),
                status.TOXICITY,
                f"{event.term.term} grade {event.grade}, drug withdrawn",
            )
    return {pid: list(stops.values()) for pid, stops in found.items()}
