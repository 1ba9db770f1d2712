"""What the dosing records tell the patient's course (enrollment.evidence), registered in
DosingConfig: each dose given, by drug."""

from django.utils import timezone

from dosing import protocol
from dosing.models import DrugExposure, Infusion
from enrollment import status


def doses(patient_id: int) -> list[status.Evidence]:
    return doses_of([patient_id])[patient_id]


def doses_of(patient_ids) -> dict[int, list[status.Evidence]]:
    """Each dose given, by patient, for any number of patients in two queries."""
    ids = list(patient_ids)
    found: dict[int, list[status.Evidence]] = {pid: [] for pid in ids}
    for pid, number, moment in (
        Infusion.objects.filter(patient_id__in=ids, status=Infusion.GIVEN)
        .exclude(infused_at=None)
        .values_list("patient_id", "course_number", "infused_at")
    ):
        found[pid].append(
            status.Evidence(
                timezone.localdate(moment),
                status.TREATMENT,
                f"course {number} of iNKT cells",
                drug=status.INKT,
            )
        )
    names = {status.PD1: "a dose of the PD-1 antibody", status.REGORAFENIB: "regorafenib"}
    for pid, drug, start, end in (
        DrugExposure.objects.filter(patient_id__in=ids)
        .exclude(event="interruption")
        .values_list("patient_id", "drug", "start_date", "end_date")
    ):
        what = names[drug]
        found[pid].append(status.Evidence(start, status.TREATMENT, what, drug=drug))
        if end is not None:
            found[pid].append(status.Evidence(end, status.TREATMENT, what, drug=drug))
    return found


def courses_completed(patient_ids) -> dict[int, list[status.DrugEnd]]:
    """The 6th course recorded (given or missed) ends the iNKT treatment ("up to six
    courses"), on its date; one query."""
    found = {}
    for pid, infused_at, planned, given in (
        Infusion.objects.filter(
            patient_id__in=list(patient_ids), course_number=protocol.MAX_COURSES
        )
        .order_by()  # one a patient
        .values_list("patient_id", "infused_at", "planned_date", "status")
    ):
        day = timezone.localdate(infused_at) if infused_at else planned
        how = "given" if given == Infusion.GIVEN else "missed"
        found[pid] = [
            status.DrugEnd(
                status.INKT, day, status.COMPLETED, f"course {protocol.MAX_COURSES} {how}"
            )
        ]
    return found
