"""Screening values for demo data and tests: a plausible eligible patient, changed per case."""

from datetime import timedelta
from decimal import Decimal

from enrollment import eligibility as el


def demo_values(today, **changes) -> dict:
    """An eligible screening; `changes` turn it into the case wanted."""
    values = {
        "date_of_birth": today.replace(year=today.year - 58) - timedelta(days=40),
        "sex": "M",
        "consent_date": today - timedelta(days=6),
        "screening_date": today - timedelta(days=5),
        "height_cm": Decimal("168.0"),
        "weight_kg": Decimal("64.5"),
        "bilirubin": Decimal("18.5"),
        "bilirubin_unit": "umol/L",
        "bilirubin_uln": Decimal("21"),
        "albumin": Decimal("37"),
        "albumin_unit": "g/L",
        "inr": Decimal("1.15"),
        "creatinine": Decimal("76"),
        "creatinine_unit": "umol/L",
        "measured_gfr_ml_min": None,
        "ascites": "none",
        "encephalopathy": "none",
        "bclc_stage": "C",
        "bclc_by_ct": True,
        "bclc_by_mri": False,
        "bclc_by_histopathology": False,
        "prior_regimen": "Lenvatinib + sintilimab",
        "prior_regimen_start": today - timedelta(days=300),
        "prior_progression": True,
        "prior_progression_date": today - timedelta(days=30),
        "life_expectancy_12_weeks": True,
        **{c.code: False for c in el.ANSWERED_EXCLUSIONS},
    }
    values.update(changes)
    return values
