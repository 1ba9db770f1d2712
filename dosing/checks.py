"""What the dosing records tell the patient's course (enrollment.evidence), registered in
DosingConfig: each dose given, by drug."""

from django.utils import timezone

from dosing import protocol
from dosing.models import DrugExposure, Infusion
from enrollment import status


def doses(patient_id: int) -> list[status.Evidence]:
    found = [
        status.Evidence(
            timezone.localdate(moment),
            status.TREATMENT,
            f"course {number} of iNKT cells",
            drug=status.INKT,
        )
        for number, moment in Infusion.objects.filter(
            patient_id=patient_id, status=Infusion.GIVEN
        )
        .exclude(infused_at=None)
        .values_list("course_number", "infused_at")
    ]
    names = {status.PD1: "a dose of the PD-1 antibody", status.REGORAFENIB: "regorafenib"}
    for drug, start, end in (
        DrugExposure.objects.filter(patient_id=patient_id)
        .exclude(event="interruption")
        .values_list("drug", "start_date", "end_date")
    ):
        what = names[drug]
        found.append(status.Evidence(start, status.TREATMENT, what, drug=drug))
        if end is not None:
            found.append(status.Evidence(end, status.TREATMENT, what, drug=drug))
    return found


def courses_completed(patient_id: int) -> list[status.DrugEnd]:
    """The 6th course recorded (given or missed) ends the iNKT treatment ("up to six
    courses"), on its date."""
    last = (
        Infusion.objects.filter(patient_id=patient_id, course_number=protocol.MAX_COURSES)
        .values_list("infused_at", "planned_date", "status")
        .first()
    )
    if last is None:
        return []
    infused_at, planned, given = last
    day = timezone.localdate(infused_at) if infused_at else planned
    details = f"course {protocol.MAX_COURSES} {'given' if given == Infusion.GIVEN else 'missed'}"
    return [status.DrugEnd(status.INKT, day, status.COMPLETED, details)]
