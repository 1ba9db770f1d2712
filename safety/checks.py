"""What the safety records tell the patient's course (enrollment.evidence), registered in
SafetyConfig: adverse events' onsets, the death dates of fatal events, and the drugs withdrawn
for an adverse event."""

from enrollment import status
from safety.models import DRUGS, AdverseEvent


def onsets(patient_id: int) -> list[status.Evidence]:
    return [
        status.Evidence(day, status.CLINICAL, "an adverse event")
        for day in AdverseEvent.objects.filter(patient_id=patient_id).values_list(
            "onset", flat=True
        )
    ]


def fatal_dates(patient_id: int) -> list:
    return list(
        AdverseEvent.objects.filter(patient_id=patient_id, grade=5)
        .exclude(death_date=None)
        .values_list("death_date", flat=True)
    )


def withdrawn_for_toxicity(patient_id: int) -> list[status.DrugEnd]:
    """A drug withdrawn for an adverse event (its action "withdrawn") stops at the event's
    onset, or at the last dose given if that was later (the decision follows the event)."""
    from enrollment import evidence

    events = list(AdverseEvent.objects.filter(patient_id=patient_id).select_related("term"))
    withdrawn = [
        (drug, event)
        for event in events
        for drug in DRUGS
        if getattr(event, f"action_{drug}") == "withdrawn"
    ]
    if not withdrawn:
        return []
    doses = [e for e in evidence.evidence(patient_id) if e.category == status.TREATMENT]
    stops = {}
    for drug, event in sorted(withdrawn, key=lambda w: w[1].onset):
        if drug in stops:
            continue
        given = [d.date for d in doses if d.drug == drug and d.date >= event.onset]
        day = max([event.onset, *given])
        stops[drug] = status.DrugEnd(
            drug, day, status.TOXICITY, f"{event.term.term} grade {event.grade}, drug withdrawn"
        )
    return list(stops.values())
