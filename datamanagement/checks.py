"""The automatic edit checks: one declarative list, each check a code, what it looks for, the
records whose saving runs it, and its finder (patient ids, today -> findings). They run when
one of those records is saved (for its patient) and every night (Celery beat) for everyone;
a check raises its query once per record and field, never again (datamanagement.services)."""

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from assessments.models import Questionnaire, Scan
from assessments.selectors import imaging_schedules
from datamanagement import rules
from dosing.models import Infusion
from enrollment.dates import shown
from enrollment.models import Patient, Screening
from safety.models import AdverseEvent


@dataclass(frozen=True)
class Finding:
    record: object
    field: str
    question: str


@dataclass(frozen=True)
class Check:
    code: str
    looks_for: str
    on_save_of: tuple[type, ...]  # the records whose saving runs it ((): nightly only)
    find: Callable[[list[int], object], Iterable[Finding]]


def _ae_before_consent(ids, today):
    for event in AdverseEvent.objects.filter(patient_id__in=ids).select_related(
        "patient__screening", "term"
    ):
        consent = event.patient.screening.consent_date
        if event.onset < consent:
            yield Finding(
                event,
                "onset",
                f"The onset ({shown(event.onset)}) is before the informed consent "
                f"({shown(consent)}): medical history, or a wrong date?",
            )


def _weight_change(ids, today):
    courses: dict = {}
    by_number = {}
    for infusion in Infusion.objects.filter(patient_id__in=ids, status=Infusion.GIVEN).order_by(
        "patient_id", "course_number"
    ):
        courses.setdefault(infusion.patient_id, []).append(
            (infusion.course_number, infusion.weight_kg)
        )
        by_number[infusion.patient_id, infusion.course_number] = infusion
    for pid, series in courses.items():
        for number, before, now in rules.weight_changes(series):
            yield Finding(
                by_number[pid, number],
                "weight_kg",
                f"The weight changed by more than 10 % since the previous course ({before} kg "
                f"→ {now} kg): is it right?",
            )


def _deviation_without_reason(ids, today):
    for infusion in Infusion.objects.filter(patient_id__in=ids, deviation_reason="").exclude(
        deviations=[]
    ):
        yield Finding(
            infusion,
            "deviation_reason",
            f"Course {infusion.course_number} deviates from the protocol "
            f"({'; '.join(infusion.deviation_texts)}) without a reason.",
        )


def _visits(ids, today):
    """Each patient's imaging visits begun by today, (number, end, scanned), from one
    reading of their schedules (assessments.selectors.imaging_schedules)."""
    patients = list(Patient.objects.filter(pk__in=ids).select_related("allocation"))
    schedules = imaging_schedules(patients, today=today)
    for patient in patients:
        yield (
            patient,
            [
                (row["number"], row["end"], row["scan"] is not None)
                for row in schedules.get(patient.pk, [])
                if row["start"] <= today
            ],
        )


def _missing_scan(ids, today):
    for patient, visits in _visits(ids, today):
        for number, end in rules.missing_scans(visits, today):
            yield Finding(
                patient,
                f"scan-visit-{number}",
                f"The scan of visit {number} (window closed {shown(end)}) is missing: "
                "when was it done, or why not?",
            )


def _missing_questionnaire(ids, today):
    done = defaultdict(set)
    for patient_id, visit in Questionnaire.objects.filter(patient_id__in=ids).values_list(
        "patient_id", "visit"
    ):
        if visit.startswith("visit-") and visit[6:].isdigit():
            done[patient_id].add(int(visit[6:]))
    for patient, visits in _visits(ids, today):
        for number, end in rules.missing_questionnaires(visits, done[patient.pk], today):
            yield Finding(
                patient,
                f"qlq-visit-{number}",
                f"The QLQ-C30 of visit {number} (window closed {shown(end)}) is missing.",
            )


CHECKS = (
    Check(
        "ae-before-consent",
        "An adverse event's onset before the informed consent",
        (AdverseEvent, Screening),
        _ae_before_consent,
    ),
    Check(
        "weight-change",
        "A weight change of more than 10 % between iNKT courses",
        (Infusion,),
        _weight_change,
    ),
    Check(
        "course-deviation-without-reason",
        "An iNKT course outside its window or dose without a deviation reason",
        (Infusion,),
        _deviation_without_reason,
    ),
    Check(
        "scan-missing",
        "A scan still missing 14 days after its visit's window closed",
        (),
        _missing_scan,
    ),
    Check(
        "qlq-missing",
        "A QLQ-C30 missing at an assessment visit held",
        (Questionnaire, Scan),
        _missing_questionnaire,
    ),
)
