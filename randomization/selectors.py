"""Reads shared by the pages and the API, with the masking rules applied in one place."""

from django.utils import timezone

from enrollment import status
from enrollment.models import Patient, Screening
from randomization import protocol, reports
from randomization.models import Allocation, AllocationSequence, SequenceAlert


def day_zero(patient):
    """Day 0 of the patient's trial time: the date of randomization (None before it). The
    8-weekly imaging schedule, the day-42 rule for stable disease, the questionnaire visits and
    every endpoint count from it (the protocol's time frames run from randomization)."""
    allocation = getattr(patient, "allocation", None)
    return timezone.localdate(allocation.randomized_at) if allocation is not None else None


def treatment_plans(patient_ids) -> dict:
    """{patient id: (day 0, the drugs of the arm)} of those randomized, in one query: what the
    patient's course (enrollment.course) needs from randomization, registered in
    RandomizationConfig."""
    return {
        pid: (timezone.localdate(moment), status.drugs_of_arm(arm == protocol.RPI))
        for pid, moment, arm in Allocation.objects.filter(
            patient_id__in=list(patient_ids)
        ).values_list("patient_id", "randomized_at", "arm")
    }


def can_see_arms(user) -> bool:
    return user.has_perm("randomization.view_arm")


def arm_shown(user, allocation: Allocation) -> str:
    """The arm as this user may see it: the arm itself, or, for the masked statistician, the
    slot's content (a code A/B when the sequence is coded)."""
    return allocation.arm if can_see_arms(user) else allocation.slot.arm


def arms_shown(patients, user) -> dict[int, str]:
    """{patient id: the arm as this user may see it} of the randomized among the patients, in
    one query (the patient list's arm column)."""
    see = can_see_arms(user)
    return {
        pid: arm if see else code
        for pid, arm, code in Allocation.objects.filter(
            patient_id__in=[p.pk for p in patients]
        ).values_list("patient_id", "arm", "slot__arm")
    }


def arm_choices(user) -> list[tuple[str, str]]:
    """The arms a user may filter the patients by: the arms, or for a masked user the codes
    the allocations carry (the arm names where a sequence holds them)."""
    if can_see_arms(user):
        return [(arm, f"{arm}: {label}") for arm, label in protocol.ARMS.items()]
    codes = Allocation.objects.order_by().values_list("slot__arm", flat=True).distinct()
    return [(code, code) for code in sorted(codes)]


def with_arm(queryset, arm: str, user):
    """The patients randomized to `arm` as the user sees arms: a masked user's value is a code,
    matched against the slots' content, never against the arm itself."""
    if can_see_arms(user):
        return queryset.filter(allocation__arm=arm)
    return queryset.filter(allocation__slot__arm=arm)


def allocation_list():
    return Allocation.objects.select_related("patient", "slot", "slot__sequence", "randomized_by")


def active_sequence() -> AllocationSequence | None:
    return AllocationSequence.objects.filter(is_active=True).first()


def sequence_list():
    return AllocationSequence.objects.select_related("created_by")


def open_alerts():
    return SequenceAlert.objects.filter(resolved=False).select_related("patient", "sequence")


def patients_awaiting_randomization():
    return Patient.objects.filter(allocation__isnull=True).select_related("screening")


def screening_rows(cutoff=None) -> list[reports.ScreeningRow]:
    """Every screening (at a cut-off: screened by then, enrolled only if by then) for the
    CONSORT counts."""
    found = Screening.objects.select_related("patient")
    if cutoff is not None:
        found = found.filter(screening_date__lte=cutoff)
    rows = []
    for s in found:
        enrolled = timezone.localdate(s.patient.enrolled_at) if hasattr(s, "patient") else None
        if cutoff is not None and enrolled is not None and enrolled > cutoff:
            enrolled = None
        rows.append(
            reports.ScreeningRow(
                screening_id=s.pk,
                rescreen_of_id=s.rescreen_of_id,
                eligible=s.outcome == "eligible",
                failed_codes=tuple(s.failed_criteria),
                enrolled_on=enrolled,
            )
        )
    return rows


def report(user) -> dict:
    """Enrolment over time, arm balance and CONSORT counts; arms masked as for the user."""
    allocations = list(allocation_list())
    arms_seen = [arm_shown(user, a) for a in allocations]
    arm_labels = protocol.ARMS if can_see_arms(user) else sorted({a.slot.arm for a in allocations})
    screenings = screening_rows()
    return {
        "enrolment_by_month": reports.enrolment_by_month(
            (r.enrolled_on for r in screenings if r.enrolled_on),
            (timezone.localdate(a.randomized_at) for a in allocations),
        ),
        "arm_balance": reports.arm_balance(
            zip(arms_seen, (a.stratum for a in allocations), strict=True), arm_labels
        ),
        "consort": reports.consort(screenings, arms_seen),
        "target": protocol.TARGET_PATIENTS,
        **enrolment_state(len(allocations)),
    }


def enrolment_state(randomized: int | None = None) -> dict:
    """Randomized so far against the protocol's 84 and the administrator's over-enrolment
    decisions (the latest in force)."""
    from randomization.models import EnrolmentLimit
    from randomization.services import enrolment_limit

    if randomized is None:
        randomized = Allocation.objects.count()
    limit = enrolment_limit()
    return {
        "randomized": randomized,
        "limit": limit,
        "full": randomized >= limit,  # the next randomization is refused
        "beyond_protocol": randomized >= protocol.TARGET_PATIENTS,  # the next is over-enrolment
        "over_enrolment": [
            {
                "patients": d.patients,
                "reason": d.reason,
                "decided_by": d.decided_by.username,
                "decided_at": d.decided_at,
            }
            for d in EnrolmentLimit.objects.select_related("decided_by")
        ],
    }
