"""Writes of the medical history and the concomitant medications: keyword-only functions, one
transaction each, checked by the pure rules of enrollment/medications.py. Both are recorded
against the screening (the history is taken there, before enrolment; medications from then on)."""

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from enrollment import course
from enrollment import medications as rules
from enrollment.dates import shown
from enrollment.models import ConcomitantMedication, MedicalHistory, Screening
from inkt_trial.audit import apply_changes
from inkt_trial.errors import DomainError

MEDICATION_FIELDS = (
    "name",
    "indication",
    "dose",
    "dose_unit",
    "route",
    "frequency",
    "start_date",
    "stop_date",
    "ongoing",
    "atc_code",
)
HISTORY_FIELDS = ("condition", "start", "ongoing", "details")


def _refuse_rescreened(screening: Screening) -> None:
    if hasattr(screening, "rescreened_by"):
        raise DomainError(
            f"Screening {screening} was re-screened: record on the newer screening "
            f"{screening.rescreened_by}."
        )


def _model_checks(record, errors: dict) -> None:
    """Lengths, choices and digits as the model declares them (the API and a form check them
    too; a service called otherwise must not reach the database with them)."""
    try:
        record.full_clean(exclude=["screening", "recorded_by"], validate_constraints=False)
    except ValidationError as error:
        for field, messages in error.message_dict.items():
            errors.setdefault(field, []).extend(
                m for m in messages if m not in errors.get(field, [])
            )


def _check_medication(medication: ConcomitantMedication) -> None:
    medication.name = (medication.name or "").strip()
    medication.atc_code = (medication.atc_code or "").strip().upper()
    screening = medication.screening
    errors = {}
    if not isinstance(medication.start_date, date):
        errors["start_date"] = ["A date."]
    elif medication.stop_date is not None and not isinstance(medication.stop_date, date):
        errors["stop_date"] = ["A date."]
    else:
        errors = rules.medication_problems(
            start=medication.start_date,
            stop=medication.stop_date,
            ongoing=bool(medication.ongoing),
            born=screening.date_of_birth,
            today=timezone.localdate(),
            atc=medication.atc_code,
        )
        patient = getattr(screening, "patient", None)
        if patient is not None and not errors:
            for field in ("start_date", "stop_date"):
                day = getattr(medication, field)
                if refused := course.refusal(patient.pk, day, what="medication"):
                    errors.setdefault(field, []).append(refused)
    if not medication.name:
        errors.setdefault("name", []).append("Name the medication.")
    _model_checks(medication, errors)
    if "dose" not in errors and medication.dose is not None and medication.dose <= 0:
        errors["dose"] = ["A dose above zero."]
    if errors:
        raise DomainError("The medication was not saved.", field_errors=errors)


def _screening(screening: Screening) -> Screening:
    return (
        Screening.objects.select_related("patient")
        .select_for_update(of=("self",))
        .get(pk=screening.pk)
    )


@transaction.atomic
def medication_record(*, screening: Screening, by, **data) -> ConcomitantMedication:
    screening = _screening(screening)
    _refuse_rescreened(screening)
    medication = ConcomitantMedication(
        screening=screening,
        recorded_by=by,
        **{k: v for k, v in data.items() if k in MEDICATION_FIELDS},
    )
    _check_medication(medication)
    medication._history_user = by
    medication.save()
    return medication


@transaction.atomic
def medication_correct(
    *, medication: ConcomitantMedication, by, reason: str, **changes
) -> ConcomitantMedication:
    """Correct a medication (any entered field), with the reason kept in its audit trail."""
    medication = ConcomitantMedication.objects.select_related("screening__patient").get(
        pk=medication.pk
    )
    apply_changes(medication, changes, MEDICATION_FIELDS)
    _check_medication(medication)
    medication.save_with_reason(reason, by=by)
    return medication


@transaction.atomic
def medication_stop(
    *, medication: ConcomitantMedication, by, stop_date: date, reason: str = ""
) -> ConcomitantMedication:
    """An ongoing medication stopped on `stop_date` (not a correction: the course of things)."""
    medication = ConcomitantMedication.objects.select_related("screening__patient").get(
        pk=medication.pk
    )
    if not medication.ongoing:
        raise DomainError(
            f"{medication.name} already stopped on {shown(medication.stop_date)}: correct it.",
            field_errors={"stop_date": ["Already stopped."]},
        )
    medication.ongoing, medication.stop_date = False, stop_date
    _check_medication(medication)
    medication.save_with_reason(
        reason or f"Stopped on {shown(stop_date)}", by=by, note="" if not reason else "Stopped: "
    )
    return medication


def _check_history(entry: MedicalHistory) -> None:
    entry.condition = (entry.condition or "").strip()
    entry.start = (entry.start or "").strip()
    errors = {}
    if not entry.condition:
        errors["condition"] = ["Name the condition."]
    if entry.start:
        problems = rules.partial_date_problems(
            entry.start, born=entry.screening.date_of_birth, today=timezone.localdate()
        )
        if problems:
            errors["start"] = problems
    _model_checks(entry, errors)
    if errors:
        raise DomainError("The medical history entry was not saved.", field_errors=errors)


@transaction.atomic
def history_record(*, screening: Screening, by, **data) -> MedicalHistory:
    screening = _screening(screening)
    _refuse_rescreened(screening)
    entry = MedicalHistory(
        screening=screening,
        recorded_by=by,
        **{k: v for k, v in data.items() if k in HISTORY_FIELDS},
    )
    _check_history(entry)
    entry._history_user = by
    entry.save()
    return entry


@transaction.atomic
def history_correct(*, entry: MedicalHistory, by, reason: str, **changes) -> MedicalHistory:
    entry = MedicalHistory.objects.select_related("screening__patient").get(pk=entry.pk)
    apply_changes(entry, changes, HISTORY_FIELDS)
    _check_history(entry)
    entry.save_with_reason(reason, by=by)
    return entry
