"""Laboratory values of a clinical visit: units, CTCAE v5.0 grading of the lab terms, the shift
rule that proposes an adverse event, ALBI and the AFP response.

Pure module (no Django). Sources:
- CTCAE v5.0 (NCI, 27 November 2017): the grade texts of each term, as shipped in
  data/ctcae_v5.csv (see ctcae.py); every threshold below is quoted from that file next to the
  code that applies it (safety/tests/test_labs.py reads the texts back and checks them).
- ALBI: Johnson PJ et al. Assessment of liver function in patients with hepatocellular
  carcinoma: a new evidence-based approach - the ALBI grade. J Clin Oncol 2015;33:550-8.
- Child-Pugh: enrollment.eligibility.child_pugh (Pugh 1973), reused as it is.

How the texts are read: "<LLN - 75.0" is below the LLN and at least 75.0; ">3.0 - 5.0 x ULN"
is above 3.0 x ULN and at most 5.0 x ULN; "1.5 - 3.0 x baseline" (no sign) includes 1.5.
A grade's numeric criterion is applied as written even where the site's LLN lies below it (a
lymphocyte count of 0.7 x 10e9/L is grade 2 whatever the LLN). A liver test's baseline is
"abnormal" when it is above the ULN (these are terms of increase). Grades that CTCAE defines
only clinically (anaemia and hypoalbuminaemia grade 4, "life-threatening consequences") are
never given by a lab value.

The default local ranges below are typical adult reference ranges (haemoglobin's LLN is the
female one): a site gives its own LLN/ULN with each value where its laboratory's differ.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from enrollment import eligibility, protocol

D = Decimal


class LabError(ValueError):
    """A value or unit the module refuses, with a message for the user; `field` says which
    ("value" or "unit")."""

    def __init__(self, message: str, field: str = "value"):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Test:
    code: str
    name: str
    unit: str  # the canonical unit every value is stored and graded in
    units: dict[str, Decimal]  # accepted unit -> factor to the canonical unit
    lln: Decimal | None  # default local range, in the canonical unit (site-overridable)
    uln: Decimal | None
    lowest: Decimal  # plausible range, canonical unit: outside it the value is refused
    highest: Decimal
    term: str | None  # the CTCAE v5.0 term it is graded by (None: not graded)
    panel: str

    def to_canonical(self, value, unit: str) -> Decimal:
        """The value in the canonical unit; an unknown unit or an impossible value is refused."""
        try:
            factor = self.units[unit]
        except KeyError:
            accepted = ", ".join(self.units)
            raise LabError(
                f"{self.name}: unit {unit!r} is not accepted ({accepted}).", field="unit"
            ) from None
        number = as_decimal(value, self.name)
        canonical = number * factor
        if canonical < self.lowest or canonical > self.highest:
            raise LabError(
                f"{self.name} {number} {unit} is not a possible value "
                f"(from {_plain(self.lowest / factor)} to {_plain(self.highest / factor)} {unit})."
            )
        return canonical


def _plain(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return text


def as_decimal(value, what: str = "The value") -> Decimal:
    if isinstance(value, bool):
        raise LabError(f"{what}: not a number.")
    try:
        number = value if isinstance(value, Decimal) else D(str(value).strip())
    except (InvalidOperation, ValueError):
        raise LabError(f"{what}: {value!r} is not a number.") from None
    if not number.is_finite():
        raise LabError(f"{what}: not a finite number.")
    if number < 0:
        raise LabError(f"{what}: a concentration or count is never negative.")
    return number


COUNT_UNITS = {"10^9/L": D(1), "10^3/uL": D(1), "/mm3": D("0.001")}

HAEMATOLOGY, LIVER, RENAL, COAGULATION, TUMOUR_MARKER = (
    "Haematology",
    "Liver",
    "Renal",
    "Coagulation",
    "Tumour marker",
)

# fmt: off
TESTS: dict[str, Test] = {
    t.code: t
    for t in (
        Test(
            "haemoglobin", "Haemoglobin", "g/L", {"g/L": D(1), "g/dL": D(10)},
            D(120), D(175), D(10), D(250), "Anemia", HAEMATOLOGY,
        ),
        Test(
            "platelets", "Platelets", "10^9/L", COUNT_UNITS,
            D(150), D(400), D(0), D(3000), "Platelet count decreased", HAEMATOLOGY,
        ),
        Test(
            "neutrophils", "Neutrophils", "10^9/L", COUNT_UNITS,
            D("1.8"), D("7.5"), D(0), D(200), "Neutrophil count decreased", HAEMATOLOGY,
        ),
        Test(
            "lymphocytes", "Lymphocytes", "10^9/L", COUNT_UNITS,
            D("1.0"), D("4.0"), D(0), D(500), "Lymphocyte count decreased", HAEMATOLOGY,
        ),
        Test(
            "wbc", "White blood cells", "10^9/L", COUNT_UNITS,
            D("4.0"), D("10.0"), D(0), D(1000), "White blood cell decreased", HAEMATOLOGY,
        ),
        Test(
            "alt", "ALT", "U/L", {"U/L": D(1), "ukat/L": D(60)},
            D(7), D(40), D(0), D(20000), "Alanine aminotransferase increased", LIVER,
        ),
        Test(
            "ast", "AST", "U/L", {"U/L": D(1), "ukat/L": D(60)},
            D(8), D(40), D(0), D(20000), "Aspartate aminotransferase increased", LIVER,
        ),
        Test(
            "bilirubin", "Total bilirubin", "umol/L",
            {"umol/L": D(1), "mg/dL": protocol.BILIRUBIN_UMOL_L_PER_MG_DL},
            D("3.4"), D(21), D("0.5"), D(1500), "Blood bilirubin increased", LIVER,
        ),
        Test(
            "alp", "Alkaline phosphatase", "U/L", {"U/L": D(1), "ukat/L": D(60)},
            D(40), D(130), D(1), D(10000), "Alkaline phosphatase increased", LIVER,
        ),
        Test(
            "albumin", "Albumin", "g/L", {"g/L": D(1), "g/dL": protocol.ALBUMIN_G_L_PER_G_DL},
            D(35), D(50), D(5), D(70), "Hypoalbuminemia", LIVER,
        ),
        Test(
            "creatinine", "Creatinine", "umol/L",
            {"umol/L": D(1), "mg/dL": protocol.CREATININE_UMOL_L_PER_MG_DL},
            D(45), D(110), D(5), D(3000), "Creatinine increased", RENAL,
        ),
        Test(
            "inr", "INR", "ratio", {"ratio": D(1)},
            D("0.8"), D("1.2"), D("0.5"), D(20), "INR increased", COAGULATION,
        ),
        Test(
            "afp", "Alpha-fetoprotein (AFP)", "ng/mL",
            {"ng/mL": D(1), "ug/L": D(1), "IU/mL": D("1.21")},
            D(0), D(10), D(0), D(10_000_000), None, TUMOUR_MARKER,
        ),
    )
}
# fmt: on
# AFP: 1 IU/mL = 1.21 ng/mL (WHO International Standard 72/225).


def test_of(code: str) -> Test:
    try:
        return TESTS[code]
    except KeyError:
        raise LabError(f"{code!r} is not a laboratory test of this trial.") from None


@dataclass(frozen=True)
class Grading:
    term: str
    grade: int  # 0 = within the range CTCAE does not grade


def _above(ratio: Decimal, uppers: tuple[Decimal, ...]) -> int:
    """Grade 1..n+1 of a ratio above 1.0: the first upper bound (inclusive) it does not pass."""
    for grade, upper in enumerate(uppers, start=1):
        if ratio <= upper:
            return grade
    return len(uppers) + 1


def _below(value: Decimal, lln: Decimal, lowers: tuple[Decimal, ...]) -> int:
    """Grade of a decrease: "<LLN - t1" is 1, "<t1 - t2" is 2, ... each lower bound inclusive."""
    grade = 0
    for g, lower in enumerate(lowers, start=1):
        if value < lower:
            grade = g + 1
    if grade == 0 and value < lln:
        grade = 1
    return grade


# Terms of increase graded in x ULN (normal baseline) or x baseline (abnormal baseline).
# Quoted from data/ctcae_v5.csv:
# ALT/AST increased: G1 ">ULN - 3.0 x ULN if baseline was normal; 1.5 - 3.0 x baseline if
#   baseline was abnormal", G2 ">3.0 - 5.0", G3 ">5.0 - 20.0", G4 ">20.0".
# Alkaline phosphatase increased: G1 ">ULN - 2.5 x ULN ...; 2.0 - 2.5 x baseline ...",
#   G2 ">2.5 - 5.0", G3 ">5.0 - 20.0", G4 ">20.0".
# Blood bilirubin increased: G1 ">ULN - 1.5 x ULN ...; > 1.0 - 1.5 x baseline ...",
#   G2 ">1.5 - 3.0", G3 ">3.0 - 10.0", G4 ">10.0".
@dataclass(frozen=True)
class LiverRule:
    uppers: tuple[Decimal, Decimal, Decimal]  # upper bounds (inclusive) of grades 1, 2, 3
    abnormal_grade1_from: Decimal  # lowest multiple of an abnormal baseline that is grade 1
    abnormal_grade1_inclusive: bool


LIVER_RULES = {
    "alt": LiverRule((D("3.0"), D("5.0"), D("20.0")), D("1.5"), True),
    "ast": LiverRule((D("3.0"), D("5.0"), D("20.0")), D("1.5"), True),
    "alp": LiverRule((D("2.5"), D("5.0"), D("20.0")), D("2.0"), True),
    "bilirubin": LiverRule((D("1.5"), D("3.0"), D("10.0")), D("1.0"), False),
}

# Terms of decrease, lower bounds of grades 1..3 in the canonical unit:
# Platelet count decreased: "<LLN - 75.0 x 10e9 /L", "<75.0 - 50.0", "<50.0 - 25.0", "<25.0".
# Neutrophil count decreased: "<LLN - 1.5 x 10e9 /L", "<1.5 - 1.0", "<1.0 - 0.5", "<0.5".
# Lymphocyte count decreased: "<LLN - 0.8 x 10e9/L", "<0.8 - 0.5", "<0.5 - 0.2", "<0.2".
# White blood cell decreased: "<LLN - 3.0 x 10e9 /L", "<3.0 - 2.0", "<2.0 - 1.0", "<1.0".
# Anemia: "Hemoglobin (Hgb) <LLN - 10.0 g/dL; ... <LLN - 100 g/L", "<100 - 80g/L",
#   "<8.0 g/dL; <80 g/L; transfusion indicated" (grade 4 is clinical only).
# Hypoalbuminemia: "<LLN - 3 g/dL; <LLN - 30 g/L", "<30 - 20 g/L", "<20 g/L" (grade 4 clinical).
DECREASE_RULES = {
    "platelets": (D("75.0"), D("50.0"), D("25.0")),
    "neutrophils": (D("1.5"), D("1.0"), D("0.5")),
    "lymphocytes": (D("0.8"), D("0.5"), D("0.2")),
    "wbc": (D("3.0"), D("2.0"), D("1.0")),
    "haemoglobin": (D(100), D(80)),
    "albumin": (D(30), D(20)),
}


def grade(
    code: str,
    value: Decimal,
    *,
    lln: Decimal | None = None,
    uln: Decimal | None = None,
    baseline: Decimal | None = None,
    on_anticoagulation: bool = False,
) -> Grading | None:
    """The CTCAE v5.0 grade of a value in the test's canonical unit (None: a test CTCAE does
    not grade, AFP). `lln`/`uln` default to the test's; `baseline` is the patient's baseline
    value in the same unit, None when unknown (then graded as if normal at baseline)."""
    test = test_of(code)
    if test.term is None:
        return None
    value = as_decimal(value, test.name)
    lln = test.lln if lln is None else as_decimal(lln, "LLN")
    uln = test.uln if uln is None else as_decimal(uln, "ULN")
    if lln is not None and uln is not None and lln >= uln:
        raise LabError(f"{test.name}: the LLN must be below the ULN.")
    if baseline is not None:
        baseline = as_decimal(baseline, "Baseline")
    if code in LIVER_RULES:
        return Grading(test.term, _liver(LIVER_RULES[code], value, uln, baseline))
    if code in DECREASE_RULES:
        return Grading(test.term, _below(value, lln, DECREASE_RULES[code]))
    if code == "creatinine":
        return Grading(test.term, _creatinine(value, uln, baseline))
    if code == "inr":
        return Grading(test.term, _inr(value, baseline, on_anticoagulation))
    raise LabError(f"{test.name}: no grading rule.")  # pragma: no cover - every term has one


def _liver(rule: LiverRule, value: Decimal, uln: Decimal, baseline: Decimal | None) -> int:
    if uln <= 0:
        raise LabError("The ULN must be above zero.")
    if baseline is None or baseline <= uln:  # "if baseline was normal": in x ULN
        return 0 if value <= uln else _above(value / uln, rule.uppers)
    ratio = value / baseline  # "if baseline was abnormal": in x baseline
    reaches = (
        ratio >= rule.abnormal_grade1_from
        if rule.abnormal_grade1_inclusive
        else ratio > rule.abnormal_grade1_from
    )
    return _above(ratio, rule.uppers) if reaches else 0


def _creatinine(value: Decimal, uln: Decimal, baseline: Decimal | None) -> int:
    """Creatinine increased: G1 ">ULN - 1.5 x ULN", G2 ">1.5 - 3.0 x baseline; >1.5 - 3.0 x
    ULN", G3 ">3.0 x baseline; >3.0 - 6.0 x ULN", G4 ">6.0 x ULN": the higher of the grade by
    ULN and the grade by baseline (the baseline criteria have no "if abnormal" condition)."""
    if uln <= 0:
        raise LabError("The ULN must be above zero.")
    by_uln = 0 if value <= uln else _above(value / uln, (D("1.5"), D("3.0"), D("6.0")))
    by_baseline = 0
    if baseline is not None and baseline > 0:
        ratio = value / baseline
        by_baseline = 3 if ratio > D("3.0") else 2 if ratio > D("1.5") else 0
    return max(by_uln, by_baseline)


def _inr(value: Decimal, baseline: Decimal | None, on_anticoagulation: bool) -> int:
    """INR increased: G1 ">1.2 - 1.5; >1 - 1.5 x baseline if on anticoagulation", G2 ">1.5 -
    2.5; >1.5 - 2.5 x baseline if on anticoagulation", G3 ">2.5; >2.5 x baseline if on
    anticoagulation". Without a baseline, an anticoagulated patient is graded by the INR."""
    if on_anticoagulation and baseline is not None and baseline > 0:
        ratio = value / baseline
        return 0 if ratio <= 1 else _above(ratio, (D("1.5"), D("2.5")))
    return 0 if value <= D("1.2") else _above(value, (D("1.5"), D("2.5")))


# The shift rule: an adverse event is proposed to the coordinator (never recorded) when a value
# reaches grade 3, or rises at least 2 grades above the baseline value's grade.
PROPOSE_FROM_GRADE = 3
PROPOSE_FROM_SHIFT = 2


def proposal_reason(grade: int | None, baseline_grade: int | None) -> str | None:
    """Why a graded value proposes an adverse event, or None when it does not."""
    if grade is None:
        return None
    if grade >= PROPOSE_FROM_GRADE:
        return f"Grade {grade} (grade {PROPOSE_FROM_GRADE} or more)"
    if baseline_grade is not None and grade - baseline_grade >= PROPOSE_FROM_SHIFT:
        return f"Shift from grade {baseline_grade} at baseline to grade {grade}"
    return None


# ALBI (Johnson 2015): linear predictor log10(bilirubin umol/L) x 0.66 + albumin g/L x -0.085;
# grade 1 <= -2.60, grade 2 > -2.60 to <= -1.39, grade 3 > -1.39.
ALBI_GRADE_1_MAX = D("-2.60")
ALBI_GRADE_2_MAX = D("-1.39")


@dataclass(frozen=True)
class Albi:
    score: Decimal  # rounded to 2 decimals for display; graded unrounded
    grade: int


def albi_grade(score: Decimal) -> int:
    return 1 if score <= ALBI_GRADE_1_MAX else 2 if score <= ALBI_GRADE_2_MAX else 3


def albi(*, bilirubin_umol_l, albumin_g_l) -> Albi:
    bilirubin = as_decimal(bilirubin_umol_l, "Bilirubin")
    albumin = as_decimal(albumin_g_l, "Albumin")
    if bilirubin <= 0:
        raise LabError("Bilirubin must be above zero for the ALBI score.")
    score = bilirubin.log10() * D("0.66") + albumin * D("-0.085")
    return Albi(score.quantize(D("0.01")), albi_grade(score))


def child_pugh(*, bilirubin_umol_l, albumin_g_l, inr, ascites, encephalopathy):
    """Child-Pugh at a visit: the eligibility rule itself (enrollment.eligibility.child_pugh)."""
    return eligibility.child_pugh(
        bilirubin_umol_l=bilirubin_umol_l,
        albumin_g_l=albumin_g_l,
        inr=inr,
        ascites=ascites,
        encephalopathy=encephalopathy,
    )


# AFP response: a decrease of at least 20 % (and of at least 50 %) from the baseline AFP.
AFP_RESPONSE_LEVELS = (D(50), D(20))


@dataclass(frozen=True)
class AfpResponse:
    baseline_ng_ml: Decimal
    value_ng_ml: Decimal
    change_percent: Decimal  # negative: a decrease
    decrease_20: bool
    decrease_50: bool

    @property
    def label(self) -> str:
        if self.decrease_50:
            return "decrease ≥ 50 %"
        if self.decrease_20:
            return "decrease ≥ 20 %"
        return "no response"


def afp_response(*, baseline_ng_ml, value_ng_ml) -> AfpResponse | None:
    """The change from the baseline AFP (None when the baseline is zero: no decrease can be
    measured from it)."""
    baseline = as_decimal(baseline_ng_ml, "Baseline AFP")
    value = as_decimal(value_ng_ml, "AFP")
    if baseline == 0:
        return None
    change = (value - baseline) / baseline * 100
    return AfpResponse(
        baseline,
        value,
        change.quantize(D("0.1")),
        decrease_20=change <= -AFP_RESPONSE_LEVELS[1],
        decrease_50=change <= -AFP_RESPONSE_LEVELS[0],
    )


# Vital signs and ECOG: plausible ranges (outside them a value is refused as a typing error).
VITAL_RANGES = {
    "systolic_bp_mmhg": (D(50), D(260)),
    "diastolic_bp_mmhg": (D(20), D(160)),
    "heart_rate_bpm": (D(20), D(250)),
    "temperature_c": (D(30), D(43)),
    "weight_kg": (D(25), D(250)),
    "respiratory_rate_per_min": (D(4), D(60)),
    "spo2_percent": (D(50), D(100)),
}
ECOG = (0, 1, 2, 3, 4)


def vital_problems(values: dict) -> dict[str, list[str]]:
    """The vital signs outside their plausible range, and a diastolic not below the systolic."""
    errors: dict[str, list[str]] = {}
    for name, (low, high) in VITAL_RANGES.items():
        value = values.get(name)
        if value is None:
            continue
        try:
            number = as_decimal(value)
        except LabError as error:
            errors[name] = [str(error)]
            continue
        if not low <= number <= high:
            errors[name] = [f"Not a plausible value (from {low} to {high})."]
    systolic, diastolic = values.get("systolic_bp_mmhg"), values.get("diastolic_bp_mmhg")
    if (
        systolic is not None
        and diastolic is not None
        and "systolic_bp_mmhg" not in errors
        and "diastolic_bp_mmhg" not in errors
        and D(str(diastolic)) >= D(str(systolic))
    ):
        errors["diastolic_bp_mmhg"] = ["The diastolic pressure must be below the systolic."]
    ecog = values.get("ecog")
    if ecog is not None and ecog not in ECOG:
        errors["ecog"] = ["ECOG performance status is 0 to 4."]
    return errors
