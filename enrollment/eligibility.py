"""Eligibility rules of NCT05962450: derived values and the screening outcome.

Pure module (no Django). Sources:
- the trial's registry record (inclusion and exclusion criteria);
- Child-Pugh score: Pugh RNH et al., Br J Surg 1973;60:646-9 (Pugh modification of Child-Turcotte);
- eGFR: CKD-EPI 2021 race-free creatinine equation, Inker LA et al., N Engl J Med 2021;385:1737-49.

Laboratory values are handled as Decimal so that thresholds quoted in one unit (3 mg/dL) land
exactly on the same side after conversion (51.3 umol/L).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_FLOOR, Decimal
from enum import StrEnum

from enrollment import protocol


class Sex(StrEnum):
    FEMALE = "F"
    MALE = "M"


class Ascites(StrEnum):
    NONE = "none"
    MILD = "mild"
    MODERATE_SEVERE = "moderate_severe"


class Encephalopathy(StrEnum):
    NONE = "none"
    GRADE_1_2 = "grade_1_2"
    GRADE_3_4 = "grade_3_4"


class Confirmation(StrEnum):
    CT = "ct"
    MRI = "mri"
    HISTOPATHOLOGY = "histopathology"


@dataclass(frozen=True)
class Criterion:
    code: str
    kind: str  # "inclusion" or "exclusion"
    text: str

    @property
    def failure_text(self) -> str:
        """How a failed criterion reads in a screening log and the CONSORT reasons."""
        return f"{'Not met' if self.kind == 'inclusion' else 'Excluded'}: {self.text}"

    def as_dict(self) -> dict:
        return {"code": self.code, "kind": self.kind, "text": self.failure_text}


INCLUSION = (
    Criterion("age", "inclusion", "Age 18-75 years at consent"),
    Criterion("bclc_c", "inclusion", "BCLC stage C HCC confirmed by CT, MRI and/or histopathology"),
    Criterion(
        "prior_progression",
        "inclusion",
        "Progressed after an anti-angiogenic targeted drug combined with a PD-1 antibody",
    ),
    Criterion("life_expectancy", "inclusion", "Life expectancy of at least 12 weeks"),
    Criterion("child_pugh", "inclusion", "Child-Pugh class A or B"),
    Criterion("consent", "inclusion", "Written informed consent signed"),
)

# Exclusion criteria answered explicitly (yes = present = excluded), in protocol order.
ANSWERED_EXCLUSIONS = (
    Criterion(
        "hypertension_cardiac", "exclusion", "History of severe hypertension or cardiac disease"
    ),
    Criterion("cns_or_other_malignancy", "exclusion", "Known CNS tumour or another malignancy"),
    Criterion(
        "uncontrolled_immune_infectious",
        "exclusion",
        "Uncontrolled immune system or infectious disease",
    ),
    Criterion("hiv_syphilis", "exclusion", "Known HIV or syphilis infection"),
    Criterion("transplant", "exclusion", "Prior stem-cell transplant or organ allograft"),
    Criterion("immunotherapy_allergy", "exclusion", "Allergy to immunotherapy or related drugs"),
    Criterion(
        "serious_complications",
        "exclusion",
        "Serious complication: moderate/severe infective pleural or peritoneal effusion, "
        "pericardial effusion, upper GI bleeding or hepatic encephalopathy",
    ),
    Criterion("pregnancy_lactation", "exclusion", "Pregnancy or lactation"),
    Criterion(
        "antibody_antiangiogenic_allergy",
        "exclusion",
        "Severe allergy to any monoclonal antibody or anti-angiogenic targeted drug",
    ),
    Criterion(
        "unsuitable_for_cell_therapy",
        "exclusion",
        "Deemed unsuitable for cellular immunotherapy by the investigator",
    ),
)

# Exclusion criteria computed from the record, never asked.
DERIVED_EXCLUSIONS = (
    Criterion("bilirubin_2x_uln", "exclusion", "Total bilirubin at or above 2 x ULN"),
    Criterion("gfr_below_60", "exclusion", "Glomerular filtration rate < 60 mL/min"),
    Criterion(
        "hepatic_encephalopathy",
        "exclusion",
        "Hepatic encephalopathy recorded (serious complication)",
    ),
)

CRITERIA: dict[str, Criterion] = {
    c.code: c for c in INCLUSION + ANSWERED_EXCLUSIONS + DERIVED_EXCLUSIONS
}


def as_decimal(value: Decimal | float | int | str) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


def age_in_years(date_of_birth: date, on: date) -> int:
    """Completed years of age on a date (a birthday on 29 February counts from 1 March)."""
    before_birthday = (on.month, on.day) < (date_of_birth.month, date_of_birth.day)
    return on.year - date_of_birth.year - before_birthday


# Factor from each accepted unit to the canonical one (µmol/L, g/L, µmol/L).
TO_CANONICAL = {
    "bilirubin": {"umol/L": Decimal(1), "mg/dL": protocol.BILIRUBIN_UMOL_L_PER_MG_DL},
    "albumin": {"g/L": Decimal(1), "g/dL": protocol.ALBUMIN_G_L_PER_G_DL},
    "creatinine": {"umol/L": Decimal(1), "mg/dL": protocol.CREATININE_UMOL_L_PER_MG_DL},
}


def to_canonical(quantity: str, value, unit: str) -> Decimal:
    try:
        factor = TO_CANONICAL[quantity][unit]
    except KeyError:
        raise ValueError(f"unknown {quantity} unit {unit!r}") from None
    return as_decimal(value) * factor


def bilirubin_umol_l(value, unit: str) -> Decimal:
    return to_canonical("bilirubin", value, unit)


def albumin_g_l(value, unit: str) -> Decimal:
    return to_canonical("albumin", value, unit)


def creatinine_umol_l(value, unit: str) -> Decimal:
    return to_canonical("creatinine", value, unit)


def creatinine_mg_dl(value, unit: str) -> Decimal:
    return creatinine_umol_l(value, unit) / protocol.CREATININE_UMOL_L_PER_MG_DL


@dataclass(frozen=True)
class ChildPugh:
    bilirubin: int
    albumin: int
    inr: int
    ascites: int
    encephalopathy: int

    @property
    def points(self) -> int:
        return self.bilirubin + self.albumin + self.inr + self.ascites + self.encephalopathy

    @property
    def child_pugh_class(self) -> str:
        return child_pugh_class(self.points)


def child_pugh(
    *,
    bilirubin_umol_l: Decimal,
    albumin_g_l: Decimal,
    inr: Decimal,
    ascites: Ascites | str,
    encephalopathy: Encephalopathy | str,
) -> ChildPugh:
    """Child-Pugh points per parameter (Pugh 1973): bilirubin <34.2 / 34.2-51.3 / >51.3 umol/L,
    albumin >35 / 28-35 / <28 g/L, INR <1.7 / 1.7-2.3 / >2.3, ascites none / mild /
    moderate-severe, encephalopathy none / grade 1-2 / grade 3-4."""
    bili, alb, inr = as_decimal(bilirubin_umol_l), as_decimal(albumin_g_l), as_decimal(inr)
    return ChildPugh(
        bilirubin=1 if bili < Decimal("34.2") else 2 if bili <= Decimal("51.3") else 3,
        albumin=1 if alb > 35 else 2 if alb >= 28 else 3,
        inr=1 if inr < Decimal("1.7") else 2 if inr <= Decimal("2.3") else 3,
        ascites={Ascites.NONE: 1, Ascites.MILD: 2, Ascites.MODERATE_SEVERE: 3}[Ascites(ascites)],
        encephalopathy={
            Encephalopathy.NONE: 1,
            Encephalopathy.GRADE_1_2: 2,
            Encephalopathy.GRADE_3_4: 3,
        }[Encephalopathy(encephalopathy)],
    )


def child_pugh_class(points: int) -> str:
    """Class A = 5-6 points, B = 7-9, C = 10-15."""
    if not 5 <= points <= 15:
        raise ValueError(f"Child-Pugh points must be 5-15, got {points}")
    return "A" if points <= 6 else "B" if points <= 9 else "C"


def egfr_ckd_epi_2021(
    *, creatinine_mg_dl: Decimal | float, age_years: int, sex: Sex | str
) -> float:
    """CKD-EPI 2021 race-free creatinine equation (Inker et al., NEJM 2021), mL/min/1.73 m2:
    142 x min(Scr/k, 1)^a x max(Scr/k, 1)^-1.200 x 0.9938^age [x 1.012 if female],
    k = 0.7 (F) / 0.9 (M), a = -0.241 (F) / -0.302 (M)."""
    scr = float(creatinine_mg_dl)
    if scr <= 0:
        raise ValueError("serum creatinine must be positive")
    female = Sex(sex) is Sex.FEMALE
    kappa, alpha = (0.7, -0.241) if female else (0.9, -0.302)
    ratio = scr / kappa
    egfr = 142 * min(ratio, 1) ** alpha * max(ratio, 1) ** -1.200 * 0.9938**age_years
    return egfr * 1.012 if female else egfr


def bilirubin_x_uln(value, uln) -> Decimal:
    """Total bilirubin as a multiple of the local lab's ULN (both in the same unit)."""
    uln = as_decimal(uln)
    if uln <= 0:
        raise ValueError("the upper limit of normal must be positive")
    return as_decimal(value) / uln


@dataclass(frozen=True)
class ScreeningFacts:
    """What a screening record holds, in the units the site entered."""

    date_of_birth: date
    sex: Sex | str
    consent_date: date | None
    bilirubin: Decimal
    bilirubin_unit: str
    bilirubin_uln: Decimal  # same unit as bilirubin
    albumin: Decimal
    albumin_unit: str
    inr: Decimal
    ascites: Ascites | str
    encephalopathy: Encephalopathy | str
    bclc_stage: str
    bclc_confirmed_by: frozenset[str]
    prior_progression: bool  # progressed on anti-angiogenic drug + PD-1 antibody
    prior_progression_date: date | None
    life_expectancy_12_weeks: bool
    exclusions: Mapping[str, bool]  # explicit answer per ANSWERED_EXCLUSIONS code
    creatinine: Decimal | None = None
    creatinine_unit: str = "umol/L"
    measured_gfr_ml_min: Decimal | None = None


@dataclass(frozen=True)
class Assessment:
    age_years: int
    child_pugh: ChildPugh
    bilirubin_umol_l: Decimal
    albumin_g_l: Decimal
    bilirubin_x_uln: Decimal
    egfr: float | None  # CKD-EPI 2021, when creatinine was given
    gfr_ml_min: float  # the GFR the criterion used: measured if given, else eGFR
    gfr_is_measured: bool
    failed: tuple[Criterion, ...]

    @property
    def eligible(self) -> bool:
        return not self.failed

    @property
    def failed_codes(self) -> list[str]:
        return [c.code for c in self.failed]


def assess(facts: ScreeningFacts) -> Assessment:
    """Derive every computed value and the outcome: eligible only when every inclusion is met
    and no exclusion applies; otherwise the list of failed criteria (in protocol order)."""
    missing = [
        code for code in (c.code for c in ANSWERED_EXCLUSIONS) if facts.exclusions.get(code) is None
    ]
    if missing:
        raise ValueError(f"exclusion criteria not answered: {', '.join(missing)}")
    if facts.creatinine is None and facts.measured_gfr_ml_min is None:
        raise ValueError("a creatinine value or a measured GFR is required")

    reference_date = facts.consent_date or date.today()
    age = age_in_years(facts.date_of_birth, reference_date)
    bili = bilirubin_umol_l(facts.bilirubin, facts.bilirubin_unit)
    alb = albumin_g_l(facts.albumin, facts.albumin_unit)
    cp = child_pugh(
        bilirubin_umol_l=bili,
        albumin_g_l=alb,
        inr=facts.inr,
        ascites=facts.ascites,
        encephalopathy=facts.encephalopathy,
    )
    egfr = None
    if facts.creatinine is not None:
        egfr = egfr_ckd_epi_2021(
            creatinine_mg_dl=creatinine_mg_dl(facts.creatinine, facts.creatinine_unit),
            age_years=age,
            sex=facts.sex,
        )
    measured = facts.measured_gfr_ml_min is not None
    gfr = float(facts.measured_gfr_ml_min) if measured else egfr
    x_uln = bilirubin_x_uln(facts.bilirubin, facts.bilirubin_uln)

    fails = {
        "age": not protocol.AGE_MIN_YEARS <= age <= protocol.AGE_MAX_YEARS,
        "bclc_c": facts.bclc_stage != "C" or not facts.bclc_confirmed_by,
        "prior_progression": not (facts.prior_progression and facts.prior_progression_date),
        "life_expectancy": not facts.life_expectancy_12_weeks,
        "child_pugh": cp.child_pugh_class not in protocol.CHILD_PUGH_ELIGIBLE_CLASSES,
        "consent": facts.consent_date is None,
        **{c.code: bool(facts.exclusions[c.code]) for c in ANSWERED_EXCLUSIONS},
        "bilirubin_2x_uln": as_decimal(facts.bilirubin)
        >= protocol.BILIRUBIN_ULN_EXCLUSION_MULTIPLE * as_decimal(facts.bilirubin_uln),
        "gfr_below_60": gfr < protocol.GFR_MIN_ML_MIN,
        "hepatic_encephalopathy": Encephalopathy(facts.encephalopathy) is not Encephalopathy.NONE,
    }
    failed = tuple(CRITERIA[code] for code in CRITERIA if fails[code])
    return Assessment(
        age_years=age,
        child_pugh=cp,
        bilirubin_umol_l=bili,
        albumin_g_l=alb,
        bilirubin_x_uln=x_uln,
        egfr=egfr,
        gfr_ml_min=gfr,
        gfr_is_measured=measured,
        failed=failed,
    )


REQUIRED_FACTS = (
    "date_of_birth",
    "sex",
    "bilirubin",
    "bilirubin_unit",
    "bilirubin_uln",
    "albumin",
    "albumin_unit",
    "inr",
    "ascites",
    "encephalopathy",
    "bclc_stage",
    "prior_progression",
    "life_expectancy_12_weeks",
)


def facts_from(values: Mapping) -> ScreeningFacts:
    """ScreeningFacts from a mapping of screening record fields (form, API or model values).
    Raises KeyError naming the first required value that is missing."""
    for key in REQUIRED_FACTS:
        if values.get(key) in (None, ""):
            raise KeyError(key)
    return ScreeningFacts(
        date_of_birth=values["date_of_birth"],
        sex=values["sex"],
        consent_date=values.get("consent_date"),
        bilirubin=values["bilirubin"],
        bilirubin_unit=values["bilirubin_unit"],
        bilirubin_uln=values["bilirubin_uln"],
        albumin=values["albumin"],
        albumin_unit=values["albumin_unit"],
        inr=values["inr"],
        ascites=values["ascites"],
        encephalopathy=values["encephalopathy"],
        bclc_stage=values["bclc_stage"],
        bclc_confirmed_by=frozenset(
            method.value for method in Confirmation if values.get(f"bclc_by_{method.value}")
        ),
        prior_progression=bool(values.get("prior_progression")),
        prior_progression_date=values.get("prior_progression_date"),
        life_expectancy_12_weeks=values["life_expectancy_12_weeks"],
        exclusions={c.code: values.get(c.code) for c in ANSWERED_EXCLUSIONS},
        creatinine=values.get("creatinine"),
        creatinine_unit=values.get("creatinine_unit") or "umol/L",
        measured_gfr_ml_min=values.get("measured_gfr_ml_min"),
    )


def floor_to(value, places: int) -> Decimal:
    """Round towards minus infinity for display: a stored 59.9 is below 60 exactly when the
    unrounded eGFR is, and a stored 1.99 x ULN is below 2 exactly when the ratio is."""
    return as_decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_FLOOR)


def _attempt(compute):
    """A derived value for the preview, or None while its inputs are not (yet) usable."""
    try:
        return compute()
    except (KeyError, TypeError, ValueError, ArithmeticError):
        return None


def preview(values: Mapping) -> dict:
    """Whatever can be derived from a partly filled record, for the form as the user types.
    Each value appears once its inputs are usable; the outcome only when all are."""
    v = values
    derived = {
        "age_years": _attempt(
            lambda: (
                age_in_years(v["date_of_birth"], v["consent_date"])
                if v["date_of_birth"] < v["consent_date"]
                else None
            )
        ),
        "bilirubin_umol_l": _attempt(lambda: bilirubin_umol_l(v["bilirubin"], v["bilirubin_unit"])),
        "bilirubin_x_uln": _attempt(
            lambda: floor_to(bilirubin_x_uln(v["bilirubin"], v["bilirubin_uln"]), 2)
        ),
        "albumin_g_l": _attempt(lambda: albumin_g_l(v["albumin"], v["albumin_unit"])),
    }
    derived["egfr"] = _attempt(
        lambda: floor_to(
            egfr_ckd_epi_2021(
                creatinine_mg_dl=creatinine_mg_dl(
                    v["creatinine"], v.get("creatinine_unit") or "umol/L"
                ),
                age_years=derived["age_years"],
                sex=v["sex"],
            ),
            1,
        )
    )
    cp = _attempt(
        lambda: child_pugh(
            bilirubin_umol_l=derived["bilirubin_umol_l"],
            albumin_g_l=derived["albumin_g_l"],
            inr=v["inr"],
            ascites=v["ascites"],
            encephalopathy=v["encephalopathy"],
        )
    )
    if cp is not None:
        derived["child_pugh_points"], derived["child_pugh_class"] = cp.points, cp.child_pugh_class
    result = _attempt(lambda: assess(facts_from(v)))
    if result is not None:
        derived["outcome"] = "eligible" if result.eligible else "screen_failure"
        derived["failed_criteria"] = [c.as_dict() for c in result.failed]
    return {key: value for key, value in derived.items() if value is not None}
