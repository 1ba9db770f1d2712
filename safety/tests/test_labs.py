"""The lab rules as CTCAE v5.0 writes them (data/ctcae_v5.csv), ALBI as Johnson 2015 defines
it, the AFP response and the units."""

from decimal import Decimal as D

import pytest

from safety import ctcae, labs

TERMS = {t.term: t for t in ctcae.read_terms()}


def g(code, value, **kwargs):
    return labs.grade(code, D(str(value)), **kwargs).grade


# The grade texts each rule was written from, as the shipped CSV has them: a change of the file
# (or a typo in a threshold's source) fails here first.
QUOTED = {
    "Alanine aminotransferase increased": (
        ">ULN - 3.0 x ULN if baseline was normal; 1.5 - 3.0 x baseline if baseline was abnormal",
        ">3.0 - 5.0 x ULN if baseline was normal; >3.0 - 5.0 x baseline if baseline was abnormal",
        ">5.0 - 20.0 x ULN if baseline was normal; >5.0 - 20.0 x baseline if baseline was abnormal",
        ">20.0 x ULN if baseline was normal; >20.0 x baseline if baseline was abnormal",
    ),
    "Alkaline phosphatase increased": (
        ">ULN - 2.5 x ULN if baseline was normal; 2.0 - 2.5 x baseline if baseline was abnormal",
        ">2.5 - 5.0 x ULN if baseline was normal; >2.5 - 5.0 x baseline if baseline was abnormal",
        ">5.0 - 20.0 x ULN if baseline was normal; >5.0 - 20.0 x baseline if baseline was abnormal",
        ">20.0 x ULN if baseline was normal; >20.0 x baseline if baseline was abnormal",
    ),
    "Blood bilirubin increased": (
        ">ULN - 1.5 x ULN if baseline was normal; > 1.0 - 1.5 x baseline if baseline was abnormal",
        ">1.5 - 3.0 x ULN if baseline was normal; >1.5 - 3.0 x baseline if baseline was abnormal",
        ">3.0 - 10.0 x ULN if baseline was normal; >3.0 - 10.0 x baseline if baseline was abnormal",
        ">10.0 x ULN if baseline was normal; >10.0 x baseline if baseline was abnormal",
    ),
    "Creatinine increased": (
        ">ULN - 1.5 x ULN",
        ">1.5 - 3.0 x baseline; >1.5 - 3.0 x ULN",
        ">3.0 x baseline; >3.0 - 6.0 x ULN",
        ">6.0 x ULN",
    ),
    "INR increased": (
        ">1.2 - 1.5; >1 - 1.5 x baseline if on anticoagulation; monitoring only indicated",
        ">1.5 - 2.5; >1.5 - 2.5 x baseline if on anticoagulation; dose adjustment indicated",
        ">2.5; >2.5 x baseline if on anticoagulation; bleeding",
    ),
    "Platelet count decreased": (
        "<LLN - 75,000/mm3; <LLN - 75.0 x 10e9 /L",
        "<75,000 - 50,000/mm3; <75.0 - 50.0 x 10e9 /L",
        "<50,000 - 25,000/mm3; <50.0 - 25.0 x 10e9 /L",
        "<25,000/mm3; <25.0 x 10e9 /L",
    ),
    "Neutrophil count decreased": (
        "<LLN - 1500/mm3; <LLN - 1.5 x 10e9 /L",
        "<1500 - 1000/mm3; <1.5 - 1.0 x 10e9 /L",
        "<1000 - 500/mm3; <1.0 - 0.5 x 10e9 /L",
        "<500/mm3; <0.5 x 10e9 /L",
    ),
    "Lymphocyte count decreased": (
        "<LLN - 800/mm3; <LLN - 0.8 x 10e9/L",
        "<800 - 500/mm3; <0.8 - 0.5 x 10e9 /L",
        "<500 - 200/mm3; <0.5 - 0.2 x 10e9 /L",
        "<200/mm3; <0.2 x 10e9 /L",
    ),
    "White blood cell decreased": (
        "<LLN - 3000/mm3; <LLN - 3.0 x 10e9 /L",
        "<3000 - 2000/mm3; <3.0 - 2.0 x 10e9 /L",
        "<2000 - 1000/mm3; <2.0 - 1.0 x 10e9 /L",
        "<1000/mm3; <1.0 x 10e9 /L",
    ),
    "Anemia": (
        "Hemoglobin (Hgb) <LLN - 10.0 g/dL; <LLN - 6.2 mmol/L; <LLN - 100 g/L",
        "Hgb <10.0 - 8.0 g/dL; <6.2 - 4.9 mmol/L; <100 - 80g/L",
        "Hgb <8.0 g/dL; <4.9 mmol/L; <80 g/L; transfusion indicated",
    ),
    "Hypoalbuminemia": (
        "<LLN - 3 g/dL; <LLN - 30 g/L",
        "<3 - 2 g/dL; <30 - 20 g/L",
        "<2 g/dL; <20 g/L",
    ),
}


@pytest.mark.parametrize("term", sorted(QUOTED))
def test_the_rules_quote_the_shipped_term_list(term):
    texts = QUOTED[term]
    assert tuple(TERMS[term].grades[n] for n in range(1, len(texts) + 1)) == texts


def test_every_graded_test_names_a_term_of_the_shipped_list():
    graded = {t.term for t in labs.TESTS.values() if t.term}
    assert graded <= set(TERMS) and graded == set(QUOTED) | {"Aspartate aminotransferase increased"}
    ast = TERMS["Aspartate aminotransferase increased"].grades
    alt = TERMS["Alanine aminotransferase increased"].grades
    assert ast == alt  # AST is graded by ALT's rule


# ALT (and AST), baseline normal, ULN 40: >ULN - 3.0 / >3.0 - 5.0 / >5.0 - 20.0 / >20.0 x ULN
@pytest.mark.parametrize("code", ["alt", "ast"])
@pytest.mark.parametrize(
    "value, expected",
    [(40, 0), (40.01, 1), (120, 1), (120.01, 2), (200, 2), (200.01, 3), (800, 3), (800.01, 4)],
)
def test_transaminase_on_a_normal_baseline_in_x_uln(code, value, expected):
    assert g(code, value, uln=D(40), baseline=D(30)) == expected
    assert g(code, value, uln=D(40)) == expected  # no baseline: as if normal


# ALT, baseline abnormal (60 > ULN 40): 1.5 - 3.0 / >3.0 - 5.0 / >5.0 - 20.0 / >20.0 x baseline
@pytest.mark.parametrize(
    "value, expected",
    [(89.99, 0), (90, 1), (180, 1), (180.01, 2), (300, 2), (300.01, 3), (1200, 3), (1200.01, 4)],
)
def test_alt_on_an_abnormal_baseline_in_x_baseline(value, expected):
    assert g("alt", value, uln=D(40), baseline=D(60)) == expected


def test_alt_above_uln_but_below_1_5_x_an_abnormal_baseline_is_not_graded():
    assert g("alt", 80, uln=D(40), baseline=D(60)) == 0
    assert g("alt", 80, uln=D(40), baseline=D(40)) == 1  # a baseline at the ULN is normal


def test_alt_six_times_uln_on_a_normal_baseline_is_grade_3():
    grading = labs.grade("alt", D(240), uln=D(40), baseline=D(25))
    assert grading == labs.Grading("Alanine aminotransferase increased", 3)


# ALP, normal baseline, ULN 100: >ULN - 2.5 / >2.5 - 5.0 / >5.0 - 20.0 / >20.0 x ULN
@pytest.mark.parametrize(
    "value, expected",
    [(100, 0), (101, 1), (250, 1), (251, 2), (500, 2), (501, 3), (2000, 3), (2001, 4)],
)
def test_alp_on_a_normal_baseline(value, expected):
    assert g("alp", value, uln=D(100), baseline=D(80)) == expected


# ALP, abnormal baseline 200: 2.0 - 2.5 / >2.5 - 5.0 / >5.0 - 20.0 / >20.0 x baseline
@pytest.mark.parametrize(
    "value, expected",
    [(399, 0), (400, 1), (500, 1), (501, 2), (1000, 2), (1001, 3), (4000, 3), (4001, 4)],
)
def test_alp_on_an_abnormal_baseline(value, expected):
    assert g("alp", value, uln=D(100), baseline=D(200)) == expected


# Bilirubin, normal baseline, ULN 20: >ULN - 1.5 / >1.5 - 3.0 / >3.0 - 10.0 / >10.0 x ULN
@pytest.mark.parametrize(
    "value, expected",
    [(20, 0), (20.1, 1), (30, 1), (30.1, 2), (60, 2), (60.1, 3), (200, 3), (200.1, 4)],
)
def test_bilirubin_on_a_normal_baseline(value, expected):
    assert g("bilirubin", value, uln=D(20), baseline=D(10)) == expected


# Bilirubin, abnormal baseline 30: > 1.0 - 1.5 / >1.5 - 3.0 / >3.0 - 10.0 / >10.0 x baseline
@pytest.mark.parametrize(
    "value, expected",
    [(30, 0), (30.1, 1), (45, 1), (45.1, 2), (90, 2), (90.1, 3), (300, 3), (300.1, 4)],
)
def test_bilirubin_on_an_abnormal_baseline(value, expected):
    assert g("bilirubin", value, uln=D(20), baseline=D(30)) == expected


# Platelets, LLN 150: <LLN - 75.0 / <75.0 - 50.0 / <50.0 - 25.0 / <25.0 x 10e9/L
@pytest.mark.parametrize(
    "value, expected",
    [(150, 0), (149, 1), (75, 1), (74.9, 2), (50, 2), (49.9, 3), (25, 3), (24.9, 4)],
)
def test_platelet_count_decreased(value, expected):
    assert g("platelets", value, lln=D(150), uln=D(400)) == expected


# Neutrophils, LLN 1.8: <LLN - 1.5 / <1.5 - 1.0 / <1.0 - 0.5 / <0.5
@pytest.mark.parametrize(
    "value, expected",
    [(1.8, 0), (1.79, 1), (1.5, 1), (1.49, 2), (1.0, 2), (0.99, 3), (0.5, 3), (0.49, 4)],
)
def test_neutrophil_count_decreased(value, expected):
    assert g("neutrophils", value) == expected


# Lymphocytes, LLN 1.0: <LLN - 0.8 / <0.8 - 0.5 / <0.5 - 0.2 / <0.2
@pytest.mark.parametrize(
    "value, expected",
    [(1.0, 0), (0.99, 1), (0.8, 1), (0.79, 2), (0.5, 2), (0.49, 3), (0.2, 3), (0.19, 4)],
)
def test_lymphocyte_count_decreased(value, expected):
    assert g("lymphocytes", value) == expected


def test_a_count_below_a_grade_threshold_is_graded_whatever_the_local_lln():
    assert g("lymphocytes", D("0.7"), lln=D("0.6"), uln=D(4)) == 2


# WBC, LLN 4.0: <LLN - 3.0 / <3.0 - 2.0 / <2.0 - 1.0 / <1.0
@pytest.mark.parametrize(
    "value, expected",
    [(4.0, 0), (3.9, 1), (3.0, 1), (2.9, 2), (2.0, 2), (1.9, 3), (1.0, 3), (0.9, 4)],
)
def test_white_blood_cell_decreased(value, expected):
    assert g("wbc", value) == expected


# Anaemia, LLN 120 g/L: <LLN - 100 g/L / <100 - 80 / <80 (grade 4 is clinical)
@pytest.mark.parametrize(
    "value, expected", [(120, 0), (119, 1), (100, 1), (99, 2), (80, 2), (79.9, 3), (30, 3)]
)
def test_anaemia(value, expected):
    assert g("haemoglobin", value) == expected


# Hypoalbuminaemia, LLN 35 g/L: <LLN - 30 g/L / <30 - 20 / <20 (grade 4 is clinical)
@pytest.mark.parametrize(
    "value, expected", [(35, 0), (34.9, 1), (30, 1), (29.9, 2), (20, 2), (19.9, 3), (10, 3)]
)
def test_hypoalbuminaemia(value, expected):
    assert g("albumin", value) == expected


# Creatinine, ULN 100: >ULN - 1.5 x ULN / >1.5 - 3.0 x ULN / >3.0 - 6.0 x ULN / >6.0 x ULN
@pytest.mark.parametrize(
    "value, expected",
    [(100, 0), (101, 1), (150, 1), (151, 2), (300, 2), (301, 3), (600, 3), (601, 4)],
)
def test_creatinine_in_x_uln(value, expected):
    assert g("creatinine", value, uln=D(100)) == expected


# ... and >1.5 - 3.0 x baseline is grade 2, >3.0 x baseline grade 3 (the higher grade counts)
@pytest.mark.parametrize(
    "value, expected", [(60, 0), (61, 2), (120, 2), (121, 3), (150, 3), (601, 4)]
)
def test_creatinine_in_x_baseline(value, expected):
    assert g("creatinine", value, uln=D(100), baseline=D(40)) == expected


# INR: >1.2 - 1.5 / >1.5 - 2.5 / >2.5; on anticoagulation >1 - 1.5 / >1.5 - 2.5 / >2.5 x baseline
@pytest.mark.parametrize(
    "value, expected", [(1.2, 0), (1.21, 1), (1.5, 1), (1.51, 2), (2.5, 2), (2.51, 3)]
)
def test_inr_increased(value, expected):
    assert g("inr", value) == expected
    assert g("inr", value, baseline=D("1.0")) == expected  # not anticoagulated: no baseline rule


@pytest.mark.parametrize(
    "value, expected", [(2.0, 0), (2.01, 1), (3.0, 1), (3.01, 2), (5.0, 2), (5.01, 3)]
)
def test_inr_increased_on_anticoagulation_in_x_baseline(value, expected):
    assert g("inr", value, baseline=D("2.0"), on_anticoagulation=True) == expected


def test_afp_is_not_graded():
    assert labs.grade("afp", D(5000)) is None


@pytest.mark.parametrize(
    "grade, baseline, proposed",
    [(3, None, True), (4, 4, True), (2, 0, True), (2, None, False), (1, 0, False), (3, 1, True)],
)
def test_a_grade_3_or_a_shift_of_2_grades_proposes_an_adverse_event(grade, baseline, proposed):
    assert (labs.proposal_reason(grade, baseline) is not None) is proposed
    assert labs.proposal_reason(None, None) is None


def test_shift_reason_reads_as_a_person_says_it():
    assert labs.proposal_reason(2, 0) == "Shift from grade 0 at baseline to grade 2"
    assert labs.proposal_reason(3, 0) == "Grade 3 (grade 3 or more)"


# Units -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "code, value, unit, canonical",
    [
        ("bilirubin", "1", "mg/dL", D("17.1")),
        ("bilirubin", "17.1", "umol/L", D("17.1")),
        ("albumin", "3.5", "g/dL", D(35)),
        ("creatinine", "1", "mg/dL", D("88.4")),
        ("haemoglobin", "10.0", "g/dL", D(100)),
        ("platelets", "75000", "/mm3", D(75)),
        ("neutrophils", "1500", "/mm3", D("1.5")),
        ("platelets", "75", "10^3/uL", D(75)),
        ("afp", "100", "IU/mL", D(121)),
        ("alt", "1", "ukat/L", D(60)),
        ("inr", "1.1", "ratio", D("1.1")),
    ],
)
def test_units_convert_to_the_canonical_one(code, value, unit, canonical):
    assert labs.TESTS[code].to_canonical(value, unit) == canonical


def test_thresholds_land_on_the_same_side_in_either_unit():
    # 75,000/mm3 is exactly 75.0 x 10e9/L: grade 1, not 2; 10.0 g/dL exactly 100 g/L
    assert g("platelets", labs.TESTS["platelets"].to_canonical("75000", "/mm3")) == 1
    assert g("haemoglobin", labs.TESTS["haemoglobin"].to_canonical("10.0", "g/dL")) == 1


@pytest.mark.parametrize(
    "code, value, unit, message",
    [
        ("alt", "40", "mmol/L", "unit 'mmol/L' is not accepted"),
        ("alt", "-3", "U/L", "never negative"),
        ("alt", "abc", "U/L", "not a number"),
        ("alt", "NaN", "U/L", "not a finite number"),
        ("haemoglobin", "150", "g/dL", "not a possible value"),
        ("spleen", "1", "U/L", "not a laboratory test"),
    ],
)
def test_unknown_units_and_impossible_values_are_refused(code, value, unit, message):
    with pytest.raises(labs.LabError, match=message):
        labs.test_of(code).to_canonical(value, unit)


def test_an_lln_above_the_uln_is_refused():
    with pytest.raises(labs.LabError, match="LLN must be below the ULN"):
        labs.grade("alt", D(50), lln=D(60), uln=D(40))


# ALBI (Johnson 2015): log10(bilirubin umol/L) x 0.66 + albumin g/L x -0.085 ----------------


def test_albi_as_the_paper_defines_it():
    # bilirubin 10 umol/L, albumin 40 g/L: 1 x 0.66 - 3.4 = -2.74, grade 1
    assert labs.albi(bilirubin_umol_l=10, albumin_g_l=40) == labs.Albi(D("-2.74"), 1)
    # bilirubin 17 umol/L, albumin 40 g/L: 1.2304 x 0.66 - 3.4 = -2.59, grade 2 (just over -2.60)
    assert labs.albi(bilirubin_umol_l=17, albumin_g_l=40) == labs.Albi(D("-2.59"), 2)
    # bilirubin 100 umol/L, albumin 25 g/L: 2 x 0.66 - 2.125 = -0.805, grade 3
    assert labs.albi(bilirubin_umol_l=100, albumin_g_l=25).grade == 3


@pytest.mark.parametrize(
    "score, grade",
    [("-2.61", 1), ("-2.60", 1), ("-2.5999", 2), ("-1.39", 2), ("-1.3899", 3), ("0", 3)],
)
def test_albi_grade_cut_points(score, grade):
    assert labs.albi_grade(D(score)) == grade


def test_albi_needs_a_bilirubin_above_zero():
    with pytest.raises(labs.LabError, match="above zero"):
        labs.albi(bilirubin_umol_l=0, albumin_g_l=40)


def test_child_pugh_at_a_visit_is_the_eligibility_rule():
    from enrollment import eligibility

    score = labs.child_pugh(
        bilirubin_umol_l=D(40), albumin_g_l=D(30), inr=D("1.1"), ascites="mild",
        encephalopathy="none",
    )  # fmt: skip
    assert isinstance(score, eligibility.ChildPugh)
    assert (score.points, score.child_pugh_class) == (2 + 2 + 1 + 2 + 1, "B")


# AFP response: >= 20 % and >= 50 % decrease from baseline ----------------------------------


@pytest.mark.parametrize(
    "value, change, d20, d50, label",
    [
        (81, "-19.0", False, False, "no response"),
        (80, "-20.0", True, False, "decrease ≥ 20 %"),
        (51, "-49.0", True, False, "decrease ≥ 20 %"),
        (50, "-50.0", True, True, "decrease ≥ 50 %"),
        (150, "50.0", False, False, "no response"),
    ],
)
def test_afp_response(value, change, d20, d50, label):
    response = labs.afp_response(baseline_ng_ml=D(100), value_ng_ml=D(value))
    assert (response.change_percent, response.decrease_20, response.decrease_50) == (
        D(change),
        d20,
        d50,
    )
    assert response.label == label


def test_afp_response_needs_a_baseline_above_zero():
    assert labs.afp_response(baseline_ng_ml=D(0), value_ng_ml=D(5)) is None


# Vital signs and ECOG -----------------------------------------------------------------------


def test_vital_signs_outside_plausible_ranges_are_refused():
    assert labs.vital_problems({"systolic_bp_mmhg": 120, "diastolic_bp_mmhg": 80}) == {}
    problems = labs.vital_problems(
        {"systolic_bp_mmhg": 80, "diastolic_bp_mmhg": 90, "spo2_percent": 101, "ecog": 5}
    )
    assert set(problems) == {"diastolic_bp_mmhg", "spo2_percent", "ecog"}
    assert labs.vital_problems({"temperature_c": "x"})["temperature_c"]
