"""Medical history and concomitant medications: what the services accept and refuse, the audit
trail of a correction, the warnings read back (enrollment/medication_services.py, selectors)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from enrollment import medication_services as services
from enrollment import medications as rules
from enrollment import selectors
from enrollment import services as screening_services
from enrollment.models import ConcomitantMedication
from inkt_trial.audit import AuditReasonRequired, DeletionRefused
from inkt_trial.errors import DomainError

pytestmark = pytest.mark.django_db


def days_ago(n):
    return timezone.localdate() - timedelta(days=n)


def clarithromycin(screening, by, **changes):
    data = dict(
        name="Clarithromycin",
        indication="Pneumonia",
        dose=Decimal(500),
        dose_unit="mg",
        route="oral",
        frequency="BID",
        start_date=days_ago(2),
        ongoing=True,
        atc_code="j01fa09",
    )
    return services.medication_record(screening=screening, by=by, **{**data, **changes})


def test_a_medication_is_recorded_at_screening_and_audited(eligible_screening, coordinator):
    medication = clarithromycin(eligible_screening, coordinator)
    assert medication.atc_code == "J01FA09"
    assert medication.prior_to_study is False  # consent 6 days ago, started 2 days ago
    assert medication.freeze_key() == (None, days_ago(2))  # nobody enrolled yet
    history = medication.history.get()
    assert (history.history_type, history.history_user) == ("+", coordinator)
    earlier = clarithromycin(eligible_screening, coordinator, start_date=days_ago(30))
    assert earlier.prior_to_study is True


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"ongoing": False}, "stop_date"),  # neither ongoing nor stopped
        ({"stop_date": "x"}, "stop_date"),
        ({"stop_date": days_ago(1)}, "stop_date"),  # ongoing and stopped
        ({"ongoing": False, "stop_date": days_ago(3)}, "stop_date"),  # before the start
        ({"start_date": days_ago(-1)}, "start_date"),  # in the future
        ({"start_date": days_ago(365 * 70)}, "start_date"),  # before birth
        ({"atc_code": "J1FA09"}, "atc_code"),
        ({"route": "by mouth"}, "route"),
        ({"dose_unit": "bucket"}, "dose_unit"),
        ({"name": "  "}, "name"),
        ({"dose": Decimal("1e12")}, "dose"),
        ({"dose": Decimal(0)}, "dose"),
        ({"dose": "many"}, "dose"),
    ],
)
def test_what_a_medication_refuses(eligible_screening, coordinator, changes, field):
    with pytest.raises(DomainError) as refused:
        clarithromycin(eligible_screening, coordinator, **changes)
    assert field in refused.value.field_errors
    assert ConcomitantMedication.objects.count() == 0


def test_a_correction_needs_a_reason_and_is_kept(eligible_screening, coordinator, investigator):
    medication = clarithromycin(eligible_screening, coordinator)
    with pytest.raises(AuditReasonRequired):
        services.medication_correct(
            medication=medication, by=investigator, reason="", dose=Decimal(250)
        )
    services.medication_correct(
        medication=medication, by=investigator, reason="Per prescription", dose=Decimal(250)
    )
    latest = medication.history.order_by("-history_id").first()
    assert (latest.dose, latest.history_change_reason, latest.history_user) == (
        Decimal(250),
        "Per prescription",
        investigator,
    )
    with pytest.raises(DomainError, match="Cannot be changed"):
        services.medication_correct(
            medication=medication, by=investigator, reason="Move", screening=None
        )
    with pytest.raises(DeletionRefused):
        medication.delete()


def test_stopping_an_ongoing_medication(eligible_screening, coordinator):
    medication = clarithromycin(eligible_screening, coordinator)
    stopped = services.medication_stop(medication=medication, by=coordinator, stop_date=days_ago(1))
    assert (stopped.ongoing, stopped.stop_date) == (False, days_ago(1))
    assert (
        stopped.history.order_by("-history_id")
        .first()
        .history_change_reason.startswith("Stopped on")
    )
    with pytest.raises(DomainError, match="already stopped"):
        services.medication_stop(medication=stopped, by=coordinator, stop_date=days_ago(1))


def test_a_medical_history_with_partial_dates(eligible_screening, coordinator):
    entry = services.history_record(
        screening=eligible_screening, by=coordinator, condition="Chronic hepatitis B", start="2009"
    )
    assert entry.freeze_key() == (None, eligible_screening.screening_date)
    for start, message in (("2009-13", "calendar"), ("1900", "birth"), ("9999", "future")):
        with pytest.raises(DomainError, match="not saved") as refused:
            services.history_record(
                screening=eligible_screening, by=coordinator, condition="Asthma", start=start
            )
        assert message in str(refused.value.field_errors["start"])
    with pytest.raises(DomainError):
        services.history_record(screening=eligible_screening, by=coordinator, condition=" ")
    services.history_correct(entry=entry, by=coordinator, reason="Per records", start="2009-05")
    assert entry.history.order_by("-history_id").first().history_change_reason == "Per records"


def test_a_rescreened_screening_takes_no_new_records(coordinator, values):
    failed = screening_services.screening_create(values=values(bclc_stage="A"), by=coordinator)
    screening_services.screening_create(values=values(), by=coordinator, rescreen_of=failed)
    with pytest.raises(DomainError, match="re-screened"):
        clarithromycin(failed, coordinator)


def test_warnings_are_read_from_the_pure_rules(enrol, coordinator):
    patient = enrol()
    screening = patient.screening
    clarithromycin(screening, coordinator)
    services.history_record(screening=screening, by=coordinator, condition="HBV infection")
    panel = selectors.medication_panel(screening)
    assert [w.code for w in panel["medications"][0].warnings] == [rules.STRONG_INHIBITOR]
    assert [w.code for w in panel["patient_warnings"]] == [rules.HBV_NO_ANTIVIRAL]
    services.medication_record(
        screening=screening,
        by=coordinator,
        name="Entecavir",
        indication="Chronic hepatitis B",
        dose=Decimal("0.5"),
        dose_unit="mg",
        route="oral",
        frequency="once daily",
        start_date=days_ago(400),
        ongoing=True,
    )
    assert selectors.medication_panel(screening)["patient_warnings"] == []
    # enrolled: the freeze key names the patient
    assert ConcomitantMedication.objects.first().freeze_key()[0] == patient.pk


def test_a_medication_after_a_withdrawal_of_all_data_is_refused(enrol, coordinator):
    from django.db import connection

    from enrollment import course

    patient = enrol()
    with connection.cursor() as cursor:  # enrolled 10 days ago: set up, not an edit
        cursor.execute(
            "UPDATE enrollment_patient SET enrolled_at = %s WHERE id = %s",
            [timezone.now() - timedelta(days=10), patient.pk],
        )
    course.status_change_record(
        patient=patient, by=coordinator, kind="withdrawal_all", date=days_ago(3)
    )
    with pytest.raises(DomainError) as refused:
        clarithromycin(patient.screening, coordinator, start_date=days_ago(1))
    assert "withdrawn" in refused.value.field_errors["start_date"][0]
    clarithromycin(patient.screening, coordinator, start_date=days_ago(4))
