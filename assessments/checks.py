"""What the imaging app tells the apps below it, registered in AssessmentsConfig: the baseline
randomization waits for, the dated scans and questionnaires, progression that stops treatment."""

from collections import defaultdict

from django.utils import timezone

from assessments import reads as read_rules
from assessments import series_store
from assessments.models import Adjudication, Questionnaire, ReaderAssignment, Scan
from assessments.reads import BASELINE_WINDOW_DAYS
from assessments.recist import ReadError
from enrollment import status
from enrollment.dates import shown
from enrollment.models import Patient
from randomization.models import Allocation


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


def progression(patient_ids) -> dict[int, list[status.DrugEnd]]:
    """Progression established on the accepted reads stops every drug at its scan (the
    readers' series taken from the stored evaluations where they are); five queries whatever
    the number of patients."""
    from assessments.services import signed_reads

    pairs = defaultdict(list)
    for pk, pid in (
        ReaderAssignment.objects.filter(patient_id__in=list(patient_ids))
        .order_by("patient_id", "slot")
        .values_list("pk", "patient_id")
    ):
        pairs[pid].append(pk)
    pairs = {pid: pks for pid, pks in pairs.items() if len(pks) == 2}
    if not pairs:
        return {}
    reads = signed_reads([pk for pks in pairs.values() for pk in pks])
    adjudications = defaultdict(list)
    for pid, until, slot in Adjudication.objects.filter(patient_id__in=pairs).values_list(
        "patient_id", "covers_until", "accepted_slot"
    ):
        adjudications[pid].append((until, slot))
    # day 0 of the response rules: randomization, else the enrolment date (services._enrolled)
    day0 = {
        pid: timezone.localdate(moment)
        for pid, moment in Patient.objects.filter(pk__in=pairs).values_list("pk", "enrolled_at")
    }
    for pid, moment in Allocation.objects.filter(patient_id__in=pairs).values_list(
        "patient_id", "randomized_at"
    ):
        day0[pid] = timezone.localdate(moment)
    stored = series_store.evaluations(pairs)
    found = {}
    details = "accepted reads: mRECIST PD and iRECIST iCPD"
    for pid, (first, second) in pairs.items():
        try:
            accepted = read_rules.accepted(
                reads[first],
                reads[second],
                adjudications[pid],
                enrolled=day0[pid],
                evaluate=stored.evaluate,
            )
        except ReadError:
            continue
        day = read_rules.progression_stop(accepted)
        if day is not None:
            found[pid] = [
                status.DrugEnd(drug, day, status.PROGRESSION, details) for drug in status.DRUGS
            ]
    return found
