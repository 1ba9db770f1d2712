"""What the imaging app tells the apps below it, registered in AssessmentsConfig: the baseline
randomization waits for, the dated scans and questionnaires, progression that stops treatment."""

from django.utils import timezone

from assessments import reads as read_rules
from assessments import series_codec, series_store
from assessments.models import Questionnaire, Scan
from assessments.reads import BASELINE_WINDOW_DAYS
from assessments.recist import ReadError
from enrollment import status
from enrollment.dates import shown
from inkt_trial import memo


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


@memo.per_id
def progression(patient_ids) -> dict[int, list[status.DrugEnd]]:
    """Progression established on the accepted reads stops every drug at its scan (the
    readers' series taken from the stored evaluations where they are); six queries whatever
    the number of patients (services.cases, the stored series), once per request."""
    from assessments.services import accepted_in, cases

    found_cases = cases(patient_ids)
    stored = series_store.evaluations(found_cases)
    found = {}
    details = "accepted reads: mRECIST PD and iRECIST iCPD"
    for pid, case in found_cases.items():
        try:
            accepted = accepted_in(pid, case, stored=stored)
        except ReadError:
            continue
        day = read_rules.progression_stop(accepted)
        if day is not None:
            found[pid] = [
                status.DrugEnd(drug, day, status.PROGRESSION, details) for drug in status.DRUGS
            ]
    return found


progression.rules = series_codec.ENGINE  # the response rules it applies (enrollment.evidence.rules)
