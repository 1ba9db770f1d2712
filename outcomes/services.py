"""Every write of the outcomes app: keyword-only functions, one transaction each."""

from django.db import transaction
from django.utils import timezone

from assessments.models import Questionnaire, Scan
from dosing.models import DrugExposure, Infusion
from enrollment.models import Patient
from inkt_trial.errors import DomainError
from outcomes import followup
from outcomes.models import FollowUp
from safety.models import AdverseEvent

ENTERED = ("kind", "date", "alive", "cause", "therapy", "notes")


def alive_dates(patient: Patient) -> list:
    """Dates on which the rest of the record shows the patient alive."""
    dates = [timezone.localdate(patient.enrolled_at)]
    dates += [
        timezone.localdate(moment)
        for moment in Infusion.objects.filter(patient=patient, status=Infusion.GIVEN)
        .exclude(infused_at=None)
        .values_list("infused_at", flat=True)
    ]
    dates += DrugExposure.objects.filter(patient=patient).values_list("start_date", flat=True)
    dates += Scan.objects.filter(patient=patient).values_list("scan_date", flat=True)
    dates += Questionnaire.objects.filter(patient=patient).values_list("completed_on", flat=True)
    dates += AdverseEvent.objects.filter(patient=patient).values_list("onset", flat=True)
    return dates


def _check(record: FollowUp) -> None:
    patient = Patient.objects.get(pk=record.patient_id)
    others = [o.as_rule() for o in FollowUp.objects.filter(patient=patient).exclude(pk=record.pk)]
    errors = followup.check(
        record.as_rule(),
        others,
        enrolled=timezone.localdate(patient.enrolled_at),
        today=timezone.localdate(),
        alive_dates=alive_dates(patient),
        fatal_event_dates=AdverseEvent.objects.filter(patient=patient, grade=5)
        .exclude(death_date=None)
        .values_list("death_date", flat=True),
    )
    if errors:
        raise DomainError("The follow-up record was not saved.", field_errors=errors)


@transaction.atomic
def followup_record(*, patient: Patient, by, **data) -> FollowUp:
    Patient.objects.select_for_update().get(pk=patient.pk)  # one death, checked in turn
    record = FollowUp(
        patient=patient, recorded_by=by, **{k: v for k, v in data.items() if k in ENTERED}
    )
    _check(record)
    record._history_user = by
    record.save()
    return record


@transaction.atomic
def followup_correct(*, record: FollowUp, by, reason: str, **changes) -> FollowUp:
    Patient.objects.select_for_update().get(pk=record.patient_id)
    record = FollowUp.objects.get(pk=record.pk)
    unknown = sorted(set(changes) - set(ENTERED))
    if unknown:
        raise DomainError(field_errors={f: ["Cannot be changed here."] for f in unknown})
    for field, value in changes.items():
        setattr(record, field, value)
    _check(record)
    record.save_with_reason(reason, by=by)
    return record


def recorded_death(patient: Patient):
    """The death date of the follow-up record, if any."""
    return (
        FollowUp.objects.filter(patient=patient, kind=followup.DEATH)
        .values_list("date", flat=True)
        .first()
    )
