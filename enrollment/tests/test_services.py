from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from conftest import PASSWORD
from enrollment import services
from enrollment.models import Outcome, Patient, Screening
from inkt_trial.audit import history_of
from inkt_trial.errors import DomainError

pytestmark = pytest.mark.django_db


def test_eligible_screening_stores_derived_values_and_number(eligible_screening):
    s = Screening.objects.get(pk=eligible_screening.pk)
    assert s.screening_number == "S-0001"
    assert s.outcome == Outcome.ELIGIBLE
    assert s.failed_criteria == []
    assert (s.child_pugh_points, s.child_pugh_class) == (5, "A")
    assert s.age_years == 58
    assert s.bilirubin_umol_l == Decimal("18.50")
    assert s.egfr is not None and s.egfr > 60


def test_screen_failure_keeps_its_reasons(coordinator, values):
    s = services.screening_create(values=values(bclc_stage="B", hiv_syphilis=True), by=coordinator)
    assert s.outcome == Outcome.SCREEN_FAILURE
    assert s.failed_criteria == ["bclc_c", "hiv_syphilis"]
    assert s.status == "Screen failure"


def test_values_entered_in_mg_dl_are_stored_with_unit_and_conversion(coordinator, values):
    s = services.screening_create(
        values=values(
            bilirubin=Decimal("1.0"), bilirubin_unit="mg/dL", bilirubin_uln=Decimal("1.2")
        ),
        by=coordinator,
    )
    assert (s.bilirubin, s.bilirubin_unit) == (Decimal("1.0"), "mg/dL")
    assert s.bilirubin_umol_l == Decimal("17.10")


def test_screening_numbers_follow_each_other(coordinator, values):
    numbers = [
        services.screening_create(values=values(), by=coordinator).screening_number
        for _ in range(3)
    ]
    assert numbers == ["S-0001", "S-0002", "S-0003"]


def test_invalid_record_is_refused_and_nothing_saved(coordinator, values):
    today = timezone.localdate()
    with pytest.raises(DomainError) as refused:
        services.screening_create(
            values=values(screening_date=today - timedelta(days=10)), by=coordinator
        )
    assert "screening_date" in refused.value.field_errors
    assert not Screening.objects.exists()


def test_update_needs_a_reason(eligible_screening, coordinator):
    with pytest.raises(DomainError) as refused:
        services.screening_update(
            screening=eligible_screening, values={"inr": Decimal("1.9")}, by=coordinator, reason=" "
        )
    assert "reason" in refused.value.field_errors
    assert Screening.objects.get(pk=eligible_screening.pk).inr == Decimal("1.15")


def test_update_recomputes_and_audits_old_and_new_values_with_reason(
    eligible_screening, coordinator
):
    updated = services.screening_update(
        screening=eligible_screening,
        values={"albumin": Decimal("25")},
        by=coordinator,
        reason="Transcription error: lab report says 25 g/L",
    )
    assert updated.child_pugh_points == 7
    rows = history_of(updated)
    assert [r["type"] for r in rows] == ["Changed", "Created"]
    latest = rows[0]
    assert latest["who"] == coordinator.username
    assert latest["reason"] == "Transcription error: lab report says 25 g/L"
    changes = {c["field"]: (c["old"], c["new"]) for c in latest["changes"]}
    assert changes["serum albumin"] == (Decimal("37.00"), Decimal("25.00"))
    assert changes["child pugh points"] == (5, 7)


def test_update_into_screen_failure_lists_the_reason(eligible_screening, coordinator):
    updated = services.screening_update(
        screening=eligible_screening,
        values={"transplant": True},
        by=coordinator,
        reason="Investigator found a liver transplant in the history",
    )
    assert updated.outcome == Outcome.SCREEN_FAILURE
    assert updated.failed_criteria == ["transplant"]


def test_confirmation_with_wrong_password_changes_nothing(eligible_screening, investigator):
    with pytest.raises(DomainError, match="password"):
        services.screening_confirm(
            screening=eligible_screening,
            by=investigator,
            password="wrong",
            version=eligible_screening.version,
        )
    eligible_screening.refresh_from_db()
    assert not eligible_screening.is_confirmed
    assert not Patient.objects.exists()


def test_confirmation_signs_and_enrols_with_a_study_id(eligible_screening, investigator):
    patient = services.screening_confirm(
        screening=eligible_screening,
        by=investigator,
        password=PASSWORD,
        version=eligible_screening.version,
    )
    assert patient.study_id == "INKT-001"
    s = Screening.objects.get(pk=eligible_screening.pk)
    assert s.confirmed_by == investigator
    assert s.confirmed_at is not None
    assert "meets every eligibility criterion" in s.signature_meaning
    assert s.screening_number in s.signature_meaning
    assert s.status == "Enrolled"
    assert history_of(s)[0]["reason"] == "Eligibility confirmed by electronic signature"


def test_screen_failure_cannot_be_confirmed(coordinator, investigator, values):
    s = services.screening_create(values=values(bclc_stage="B"), by=coordinator)
    with pytest.raises(DomainError, match="screen failure"):
        services.screening_confirm(
            screening=s, by=investigator, password=PASSWORD, version=s.version
        )


def test_confirmed_screening_cannot_be_confirmed_again_or_edited(
    eligible_screening, investigator, coordinator
):
    services.screening_confirm(
        screening=eligible_screening,
        by=investigator,
        password=PASSWORD,
        version=eligible_screening.version,
    )
    with pytest.raises(DomainError, match="already confirmed"):
        services.screening_confirm(
            screening=eligible_screening,
            by=investigator,
            password=PASSWORD,
            version=eligible_screening.version,
        )
    with pytest.raises(DomainError, match="locked"):
        services.screening_update(
            screening=eligible_screening,
            values={"inr": Decimal("1.2")},
            by=coordinator,
            reason="late correction",
        )
    assert Patient.objects.count() == 1


def test_rescreening_is_a_new_record_linked_to_the_earlier_failure(coordinator, values):
    failure = services.screening_create(values=values(creatinine=Decimal("140")), by=coordinator)
    assert "gfr_below_60" in failure.failed_criteria
    again = services.screening_create(values=values(), by=coordinator, rescreen_of=failure)
    assert again.rescreen_of == failure
    assert again.outcome == Outcome.ELIGIBLE
    failure.refresh_from_db()
    assert failure.failed_criteria == ["gfr_below_60"]


def test_rescreening_refused_for_eligible_twice_or_another_person(coordinator, values):
    eligible = services.screening_create(values=values(), by=coordinator)
    with pytest.raises(DomainError, match="not a screen failure"):
        services.screening_create(values=values(), by=coordinator, rescreen_of=eligible)
    failure = services.screening_create(values=values(bclc_stage="B"), by=coordinator)
    with pytest.raises(DomainError) as other:
        services.screening_create(values=values(sex="F"), by=coordinator, rescreen_of=failure)
    assert "sex" in other.value.field_errors
    services.screening_create(values=values(), by=coordinator, rescreen_of=failure)
    with pytest.raises(DomainError, match="already been re-screened"):
        services.screening_create(values=values(), by=coordinator, rescreen_of=failure)


def test_clinical_records_are_never_deleted(eligible_screening):
    with pytest.raises(DomainError):
        eligible_screening.delete()
    with pytest.raises(DomainError):
        Screening.objects.all().delete()
    with pytest.raises(DomainError):
        Screening.objects.all().update(inr=Decimal(2))
    assert Screening.objects.filter(pk=eligible_screening.pk).exists()


def test_saving_a_changed_record_without_reason_is_refused(eligible_screening):
    eligible_screening.inr = Decimal("1.3")
    with pytest.raises(DomainError, match="reason"):
        eligible_screening.save()


def test_signature_refused_when_the_record_changed_after_it_was_opened(
    eligible_screening, investigator, coordinator
):
    seen = eligible_screening.version
    services.screening_update(
        screening=eligible_screening,
        values={"weight_kg": Decimal("66.0")},
        by=coordinator,
        reason="Weighed again",
    )
    with pytest.raises(DomainError, match="has changed"):
        services.screening_confirm(
            screening=eligible_screening, by=investigator, password=PASSWORD, version=seen
        )
    assert not Patient.objects.exists()


def test_a_superseded_screening_can_be_neither_edited_nor_confirmed(
    coordinator, investigator, values
):
    failure = services.screening_create(values=values(bclc_stage="B"), by=coordinator)
    later = services.screening_create(values=values(), by=coordinator, rescreen_of=failure)
    services.screening_confirm(
        screening=later, by=investigator, password=PASSWORD, version=later.version
    )
    with pytest.raises(DomainError, match="re-screened"):
        services.screening_update(
            screening=failure, values={"bclc_stage": "C"}, by=coordinator, reason="typo"
        )
    assert Patient.objects.count() == 1


def test_stored_derived_values_are_floored_so_they_agree_with_the_outcome(coordinator, values):
    # 39.98 / 20 = 1.999 x ULN: eligible, so it must not read "2.00".
    s = services.screening_create(
        values=values(bilirubin=Decimal("39.98"), bilirubin_uln=Decimal("20")), by=coordinator
    )
    assert s.bilirubin_x_uln == Decimal("1.99")
    assert "bilirubin_2x_uln" not in s.failed_criteria
