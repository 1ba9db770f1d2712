"""What the imaging app tells the apps below it, registered in AssessmentsConfig: the baseline
randomization waits for, the dated scans and questionnaires, progression that stops treatment."""

from django.utils import timezone

from assessments.models import Questionnaire, Scan
from assessments.reads import BASELINE_WINDOW_DAYS
from enrollment import status
from enrollment.dates import shown
from enrollment.models import Patient


def baseline_recent_enough(patient) -> str | None:
    """Randomization waits for a repeat of a baseline scan more than 28 days old."""
    baseline = Scan.objects.filter(patient=patient, kind=Scan.BASELINE).first()
    if baseline is not None and (timezone.localdate() - baseline.scan_date).days > (
        BASELINE_WINDOW_DAYS
    ):
        return (
            f"The baseline scan of {shown(baseline.scan_date)} is more than "
            f"{BASELINE_WINDOW_DAYS} days old: repeat the baseline imaging before randomizing."
        )
    return None


def records(patient_id: int) -> list[status.Evidence]:
    """Scans and questionnaires, for the patient's course (enrollment.evidence)."""
    found = [
        status.Evidence(day, status.CLINICAL, "a scan")
        for day in Scan.objects.filter(patient_id=patient_id).values_list("scan_date", flat=True)
    ]
    found += [
        status.Evidence(day, status.CLINICAL, "a questionnaire")
        for day in Questionnaire.objects.filter(patient_id=patient_id)
        .exclude(completed_on=None)
        .values_list("completed_on", flat=True)
    ]
    return found


def progression(patient_id: int) -> list[status.DrugEnd]:
    """Progression established on the accepted reads stops every drug at its scan."""
    from assessments.services import progression_stop

    patient = Patient.objects.filter(pk=patient_id).first()
    day = progression_stop(patient) if patient is not None else None
    if day is None:
        return []
    details = "accepted reads: mRECIST PD and iRECIST iCPD"
    return [status.DrugEnd(drug, day, status.PROGRESSION, details) for drug in status.DRUGS]
