"""A database lock freezes a patient's medications by their start date and the medical history
by the screening date (tests/test_data_lock.py's pattern)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from datamanagement import services as datamanagement
from enrollment import medication_services as services
from inkt_trial.errors import DomainError

pytestmark = pytest.mark.django_db


def days_ago(n):
    return timezone.localdate() - timedelta(days=n)


def medication(patient, by, start, **changes):
    return services.medication_record(
        screening=patient.screening,
        by=by,
        **{
            "name": "Rifampicin",
            "indication": "Tuberculosis",
            "dose": Decimal(600),
            "dose_unit": "mg",
            "route": "oral",
            "frequency": "once daily",
            "start_date": start,
            "ongoing": True,
            **changes,
        },
    )


def test_a_lock_freezes_medications_up_to_the_cutoff_and_the_history(
    randomized, coordinator, data_manager
):
    patient = randomized(
        "RP",
        days_ago=40,
        consent_date=days_ago(50),
        screening_date=days_ago(49),
        prior_progression_date=days_ago(60),
    )
    early = medication(patient, coordinator, days_ago(30))
    entry = services.history_record(
        screening=patient.screening, by=coordinator, condition="Hypertension", start="2015"
    )
    lock = datamanagement.data_lock(
        by=data_manager, patient=patient, cutoff=days_ago(20), reason="Interim cleaning done"
    )
    with pytest.raises(DomainError, match="locked"):
        services.medication_correct(
            medication=early, by=coordinator, reason="Dose", dose=Decimal(450)
        )
    with pytest.raises(DomainError, match="locked"):
        medication(patient, coordinator, days_ago(25))
    with pytest.raises(DomainError, match="locked"):  # taken at screening, before the cut-off
        services.history_record(screening=patient.screening, by=coordinator, condition="Gout")
    with pytest.raises(DomainError, match="locked"):
        services.history_correct(entry=entry, by=coordinator, reason="Typo", start="2016")
    later = medication(patient, coordinator, days_ago(10))  # after the cut-off: goes on
    with pytest.raises(DomainError, match="locked"):  # nor moved into the frozen dates
        services.medication_correct(
            medication=later, by=coordinator, reason="Wrong date", start_date=days_ago(21)
        )
    # an ongoing medication started before the cut-off stays frozen: stopping it needs an
    # unfreeze (its record, dated by its start, is what the lock froze)
    with pytest.raises(DomainError, match="locked"):
        services.medication_stop(medication=early, by=coordinator, stop_date=days_ago(1))
    datamanagement.data_unfreeze(lock=lock, by=data_manager, reason="Medication stopped")
    services.medication_stop(medication=early, by=coordinator, stop_date=days_ago(1))
