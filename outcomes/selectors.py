"""What the outcome pages read: the CONSORT flow drawn from the data."""

from collections import Counter

from dosing.models import EndOfTreatment
from dosing.selectors import first_doses
from enrollment import eligibility as el
from outcomes import followup
from outcomes.models import FollowUp
from randomization import selectors as randomization_selectors
from randomization.models import Allocation
from randomization.selectors import arm_shown


def consort_flow(user) -> dict:
    """CONSORT 2010 (Schulz 2010): enrolment (assessed, excluded with reasons), allocation
    (randomized per arm; received the allocated treatment or not), follow-up (treatment
    discontinued with reasons, deaths) and analysis (everyone randomized: intention to treat).
    Arms as the user may see them. A fixed number of queries."""
    base = randomization_selectors.report(user)["consort"]
    allocations = list(Allocation.objects.select_related("slot"))
    treated = first_doses()
    ended = dict(EndOfTreatment.objects.values_list("patient_id", "reason"))
    reasons = dict(EndOfTreatment.REASONS)
    dead = set(FollowUp.objects.filter(kind=followup.DEATH).values_list("patient_id", flat=True))
    lost = set(
        FollowUp.objects.filter(kind__in=(followup.LOST, followup.WITHDRAWAL)).values_list(
            "patient_id", flat=True
        )
    )
    arms: dict[str, dict] = {}
    for allocation in allocations:
        arm = arms.setdefault(
            arm_shown(user, allocation),
            {
                "allocated": 0,
                "received": 0,
                "not_received": 0,
                "discontinued": Counter(),
                "on_treatment": 0,
                "died": 0,
                "lost_or_withdrawn": 0,
                "analysed": 0,
            },
        )
        pid = allocation.patient_id
        arm["allocated"] += 1
        arm["analysed"] += 1
        if pid in treated:
            arm["received"] += 1
        else:
            arm["not_received"] += 1
        if pid in ended:
            arm["discontinued"][reasons[ended[pid]]] += 1
        elif pid in treated:
            arm["on_treatment"] += 1
        arm["died"] += pid in dead
        arm["lost_or_withdrawn"] += pid in lost
    for arm in arms.values():
        arm["discontinued_total"] = sum(arm["discontinued"].values())
        arm["discontinued"] = sorted(arm["discontinued"].items())
    excluded = [
        (el.CRITERIA[code].failure_text if code in el.CRITERIA else code, count)
        for code, count in base["excluded_by_reason"].items()
    ]
    return {**base, "excluded_reasons": excluded, "arms": sorted(arms.items())}
