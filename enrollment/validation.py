"""Checks of a screening record's values before anything is derived from them.

Pure module (no Django): the form and the API serializer both call `check_screening`, so a
value refused in the browser is refused with the same message through the API.
"""

from collections.abc import Mapping
from datetime import date
from decimal import Decimal

from enrollment import eligibility as el
from enrollment import protocol

Errors = dict[str, list[str]]


def _fmt(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01')).normalize():f}"


def _check_range(errors: Errors, field: str, value, low: Decimal, high: Decimal, unit: str):
    if value is not None and not low <= value <= high:
        errors.setdefault(field, []).append(
            f"Must be between {_fmt(low)} and {_fmt(high)} {unit}; check the value and its unit."
        )


def _check_converted(errors, field, value, unit, quantity, limits_key):
    """Range check of a value entered in one of several units, quoted in the user's unit."""
    factor = el.TO_CANONICAL[quantity].get(unit)
    if value is None or factor is None:
        return
    low, high = protocol.PLAUSIBLE[limits_key]
    _check_range(errors, field, el.as_decimal(value), low / factor, high / factor, unit)


def check_screening(values: Mapping, *, today: date) -> Errors:
    """Field errors for a complete set of screening values (empty when all is well)."""
    errors: Errors = {}

    def add(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    dob = values.get("date_of_birth")
    consent = values.get("consent_date")
    visit = values.get("screening_date")
    start = values.get("prior_regimen_start")
    progression = values.get("prior_progression_date")

    for field in (
        "date_of_birth",
        "consent_date",
        "screening_date",
        "prior_regimen_start",
        "prior_progression_date",
    ):
        if values.get(field) and values[field] > today:
            add(field, "Cannot be in the future.")
    if dob and consent:
        if dob >= consent:
            add("date_of_birth", "Must be before the consent date.")
        elif el.age_in_years(dob, consent) > 120:
            add("date_of_birth", "Gives an age over 120 years at consent; check the year.")
    if consent and visit and visit < consent:
        add("screening_date", "Screening procedures cannot be dated before consent.")
    if dob and start and start <= dob:
        add("prior_regimen_start", "Must be after the date of birth.")
    if start and progression and progression < start:
        add("prior_progression_date", "Cannot be before the start of the prior regimen.")
    if progression and visit and progression > visit:
        add("prior_progression_date", "Cannot be after the screening date.")
    if values.get("prior_progression") is True and not progression:
        add("prior_progression_date", "Give the date of the documented progression.")
    if values.get("prior_progression") is False and progression:
        add("prior_progression_date", "Progression is answered 'No': leave the date empty.")

    _check_range(
        errors, "height_cm", values.get("height_cm"), *protocol.PLAUSIBLE["height_cm"], "cm"
    )
    _check_range(
        errors, "weight_kg", values.get("weight_kg"), *protocol.PLAUSIBLE["weight_kg"], "kg"
    )
    _check_range(errors, "inr", values.get("inr"), *protocol.PLAUSIBLE["inr"], "")
    _check_range(
        errors,
        "measured_gfr_ml_min",
        values.get("measured_gfr_ml_min"),
        *protocol.PLAUSIBLE["measured_gfr_ml_min"],
        "mL/min",
    )
    unit = values.get("bilirubin_unit")
    _check_converted(
        errors, "bilirubin", values.get("bilirubin"), unit, "bilirubin", "bilirubin_umol_l"
    )
    _check_converted(
        errors,
        "bilirubin_uln",
        values.get("bilirubin_uln"),
        unit,
        "bilirubin",
        "bilirubin_uln_umol_l",
    )
    _check_converted(
        errors,
        "albumin",
        values.get("albumin"),
        values.get("albumin_unit"),
        "albumin",
        "albumin_g_l",
    )
    _check_converted(
        errors,
        "creatinine",
        values.get("creatinine"),
        values.get("creatinine_unit"),
        "creatinine",
        "creatinine_umol_l",
    )

    if values.get("creatinine") is None and values.get("measured_gfr_ml_min") is None:
        add("creatinine", "Give a serum creatinine or a measured GFR.")
    if values.get("sex") == el.Sex.MALE and values.get("pregnancy_lactation") is True:
        add("pregnancy_lactation", "Pregnancy or lactation cannot be 'Yes' for a male patient.")
    return errors
