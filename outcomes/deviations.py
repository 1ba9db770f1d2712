"""The protocol deviations the records show, listed per patient: eligibility violations (a
randomized patient whom a corrected screening shows ineligible: major) and the iNKT courses that
deviated from the protocol's schedule or dose (minor, with the coordinator's reason). The full
deviation log (recorded by hand, corrective actions, ethics-committee listing) builds on this."""

from django.utils import timezone

from dosing.models import Infusion
from dosing.rules import DEVIATION_TEXT
from enrollment.models import EligibilityViolation

MAJOR, MINOR = "major", "minor"
HEADER = ["study_id", "date", "category", "classification", "deviation", "reason", "status"]


def deviation_rows() -> list[dict]:
    """Every derived deviation, by patient then date; two queries."""
    rows = []
    for v in EligibilityViolation.objects.select_related("patient"):
        rows.append(
            {
                "study_id": v.patient.study_id,
                "date": v.found_on,
                "category": "Eligibility violation",
                "classification": MAJOR,
                "deviation": "Randomized, but does not meet: "
                + "; ".join(v.failed_criteria_text),
                "reason": v.correction_reason,
                "status": f"resolved {v.resolved_on.isoformat()}: {v.resolution}"
                if v.resolved_on
                else "open",
            }
        )
    for i in Infusion.objects.exclude(deviations=[]).select_related("patient"):
        day = timezone.localdate(i.infused_at) if i.infused_at else i.planned_date
        rows.append(
            {
                "study_id": i.patient.study_id,
                "date": day,
                "category": f"iNKT course {i.course_number}",
                "classification": MINOR,
                "deviation": "; ".join(DEVIATION_TEXT.get(code, code) for code in i.deviations),
                "reason": i.deviation_reason,
                "status": "recorded",
            }
        )
    return sorted(rows, key=lambda r: (r["study_id"], r["date"], r["category"]))
