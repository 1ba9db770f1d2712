"""Checks of entered values (pure): clear messages, in the unit the user chose."""

from datetime import date, timedelta
from decimal import Decimal

from enrollment.demo import demo_values
from enrollment.validation import check_screening

TODAY = date(2026, 6, 1)


def errors(**changes):
    return check_screening(demo_values(TODAY, **changes), today=TODAY)


def test_a_plausible_record_has_no_errors():
    assert errors() == {}


def test_future_dates_are_refused():
    assert (
        "Cannot be in the future." in errors(consent_date=TODAY + timedelta(days=1))["consent_date"]
    )


def test_screening_before_consent_is_refused():
    found = errors(screening_date=TODAY - timedelta(days=30))
    assert found["screening_date"] == ["Screening procedures cannot be dated before consent."]


def test_birth_after_consent_is_refused():
    assert "date_of_birth" in errors(date_of_birth=TODAY - timedelta(days=2))


def test_progression_before_regimen_start_is_refused():
    found = errors(prior_progression_date=TODAY - timedelta(days=400))
    assert "prior_progression_date" in found


def test_progression_answer_and_date_must_agree():
    assert "prior_progression_date" in errors(prior_progression_date=None)
    assert "prior_progression_date" in errors(prior_progression=False)


def test_range_message_is_in_the_unit_entered():
    found = errors(bilirubin=Decimal("60"), bilirubin_unit="mg/dL", bilirubin_uln=Decimal("1.2"))
    assert found["bilirubin"] == [
        "Must be between 0.06 and 52.63 mg/dL; check the value and its unit."
    ]


def test_albumin_typed_in_g_l_with_unit_g_dl_is_caught():
    assert "albumin" in errors(albumin=Decimal("38"), albumin_unit="g/dL")


def test_height_and_weight_outside_human_range_are_refused():
    found = errors(height_cm=Decimal("17"), weight_kg=Decimal("640"))
    assert set(found) == {"height_cm", "weight_kg"}


def test_kidney_function_needs_creatinine_or_measured_gfr():
    assert "creatinine" in errors(creatinine=None)
    assert errors(creatinine=None, measured_gfr_ml_min=Decimal("80")) == {}


def test_pregnancy_cannot_be_yes_for_a_man():
    assert "pregnancy_lactation" in errors(sex="M", pregnancy_lactation=True)
    assert errors(sex="F", pregnancy_lactation=True) == {}
