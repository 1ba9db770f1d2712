"""What the follow-up records tell the patient's course (enrollment.evidence), registered in
OutcomesConfig: survival contacts (alive, or confirming the death) and new anticancer therapies."""

from enrollment import status
from outcomes import followup
from outcomes.models import FollowUp


def survival(patient_id: int) -> list[status.Evidence]:
    found = []
    for kind, day, alive, public in FollowUp.objects.filter(patient_id=patient_id).values_list(
        "kind", "date", "alive", "from_public_records"
    ):
        if kind == followup.CONTACT and not alive:
            found.append(
                status.Evidence(day, status.DEATH_CONFIRMED, "a contact confirming the death")
            )
        elif kind == followup.CONTACT and alive:
            what = "a survival contact" + (" (public records)" if public else "")
            found.append(status.Evidence(day, status.SURVIVAL, what, public_records=public))
        elif kind == followup.NEW_THERAPY:
            found.append(status.Evidence(day, status.SURVIVAL, "a new anticancer therapy"))
    return found
