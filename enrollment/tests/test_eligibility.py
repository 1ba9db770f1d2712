"""The pure eligibility rules, from the spec's checks and the published sources."""

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from enrollment import eligibility as el

NO_EXCLUSIONS = {c.code: False for c in el.ANSWERED_EXCLUSIONS}


def eligible_facts(**changes) -> el.ScreeningFacts:
    facts = el.ScreeningFacts(
        date_of_birth=date(1965, 6, 15),
        sex="M",
        consent_date=date(2026, 3, 1),
        bilirubin=Decimal("15"),
        bilirubin_unit="umol/L",
        bilirubin_uln=Decimal("21"),
        albumin=Decimal("38"),
        albumin_unit="g/L",
        inr=Decimal("1.1"),
        ascites="none",
        encephalopathy="none",
        bclc_stage="C",
        bclc_confirmed_by=frozenset({"ct"}),
        prior_progression=True,
        prior_progression_date=date(2026, 1, 20),
        life_expectancy_12_weeks=True,
        exclusions=NO_EXCLUSIONS,
        creatinine=Decimal("70"),
        creatinine_unit="umol/L",
    )
    return replace(facts, **changes)


# --- eGFR, CKD-EPI 2021: the spec's checks -------------------------------------------------


def test_egfr_female_60_years_creatinine_1_is_about_64():
    assert el.egfr_ckd_epi_2021(creatinine_mg_dl=1.0, age_years=60, sex="F") == pytest.approx(
        64, abs=0.5
    )


def test_egfr_male_60_years_creatinine_1_is_about_86():
    assert el.egfr_ckd_epi_2021(creatinine_mg_dl=1.0, age_years=60, sex="M") == pytest.approx(
        86, abs=0.5
    )


def test_egfr_below_kappa_uses_alpha_exponent():
    # Female, 40 years, Scr 0.5 mg/dL: 142 x (0.5/0.7)^-0.241 x 0.9938^40 x 1.012
    expected = 142 * (0.5 / 0.7) ** -0.241 * 0.9938**40 * 1.012
    assert el.egfr_ckd_epi_2021(creatinine_mg_dl=0.5, age_years=40, sex="F") == pytest.approx(
        expected
    )
    assert expected == pytest.approx(121.5, abs=0.1)  # worked by hand


def test_egfr_from_micromoles_converts_with_88_4():
    mg_dl = el.creatinine_mg_dl(Decimal("88.4"), "umol/L")
    assert mg_dl == Decimal(1)


def test_egfr_refuses_zero_creatinine():
    with pytest.raises(ValueError):
        el.egfr_ckd_epi_2021(creatinine_mg_dl=0, age_years=50, sex="M")


# --- Child-Pugh ------------------------------------------------------------------------------


def test_child_pugh_all_normal_is_5_points_class_a():
    cp = el.child_pugh(
        bilirubin_umol_l=Decimal(20),
        albumin_g_l=Decimal(40),
        inr=Decimal("1.0"),
        ascites="none",
        encephalopathy="none",
    )
    assert (cp.points, cp.child_pugh_class) == (5, "A")


@pytest.mark.parametrize(
    ("bilirubin_umol_l", "points"),
    [("34.1", 1), ("34.2", 2), ("51.3", 2), ("51.4", 3)],
)
def test_child_pugh_bilirubin_boundaries(bilirubin_umol_l, points):
    cp = el.child_pugh(
        bilirubin_umol_l=Decimal(bilirubin_umol_l),
        albumin_g_l=Decimal(40),
        inr=Decimal(1),
        ascites="none",
        encephalopathy="none",
    )
    assert cp.bilirubin == points


def test_bilirubin_3_mg_dl_converts_exactly_to_51_3_and_scores_2():
    bili = el.bilirubin_umol_l(Decimal(3), "mg/dL")
    assert bili == Decimal("51.3")
    cp = el.child_pugh(
        bilirubin_umol_l=bili,
        albumin_g_l=Decimal(40),
        inr=Decimal(1),
        ascites="none",
        encephalopathy="none",
    )
    assert cp.bilirubin == 2


@pytest.mark.parametrize(
    ("albumin_g_l", "points"), [("35.1", 1), ("35", 2), ("28", 2), ("27.9", 3)]
)
def test_child_pugh_albumin_boundaries(albumin_g_l, points):
    cp = el.child_pugh(
        bilirubin_umol_l=Decimal(10),
        albumin_g_l=Decimal(albumin_g_l),
        inr=Decimal(1),
        ascites="none",
        encephalopathy="none",
    )
    assert cp.albumin == points


def test_albumin_in_g_dl_converts_to_g_l():
    assert el.albumin_g_l(Decimal("3.5"), "g/dL") == Decimal(35)


@pytest.mark.parametrize(("inr", "points"), [("1.69", 1), ("1.7", 2), ("2.3", 2), ("2.31", 3)])
def test_child_pugh_inr_boundaries(inr, points):
    cp = el.child_pugh(
        bilirubin_umol_l=Decimal(10),
        albumin_g_l=Decimal(40),
        inr=Decimal(inr),
        ascites="none",
        encephalopathy="none",
    )
    assert cp.inr == points


@pytest.mark.parametrize(
    ("points", "klass"), [(5, "A"), (6, "A"), (7, "B"), (9, "B"), (10, "C"), (15, "C")]
)
def test_child_pugh_class_limits(points, klass):
    assert el.child_pugh_class(points) == klass


def test_child_pugh_class_refuses_impossible_points():
    with pytest.raises(ValueError):
        el.child_pugh_class(4)


def test_child_pugh_worst_case_is_15_class_c():
    cp = el.child_pugh(
        bilirubin_umol_l=Decimal(60),
        albumin_g_l=Decimal(20),
        inr=Decimal(3),
        ascites="moderate_severe",
        encephalopathy="grade_3_4",
    )
    assert (cp.points, cp.child_pugh_class) == (15, "C")


# --- Age ---------------------------------------------------------------------------------------


def test_age_counts_completed_years():
    assert el.age_in_years(date(1950, 6, 15), date(2025, 6, 14)) == 74
    assert el.age_in_years(date(1950, 6, 15), date(2025, 6, 15)) == 75


def test_leap_day_birthday_counts_from_first_of_march():
    assert el.age_in_years(date(2008, 2, 29), date(2026, 2, 28)) == 17
    assert el.age_in_years(date(2008, 2, 29), date(2026, 3, 1)) == 18


@pytest.mark.parametrize(
    ("birth", "eligible"),
    [
        (date(2008, 3, 1), True),  # 18 on the day of consent
        (date(2008, 3, 2), False),  # 17
        (date(1950, 3, 2), True),  # 75
        (date(1950, 3, 1), False),  # 76 on the day of consent
    ],
)
def test_age_18_to_75_inclusive_at_consent(birth, eligible):
    result = el.assess(eligible_facts(date_of_birth=birth, consent_date=date(2026, 3, 1)))
    assert ("age" not in result.failed_codes) is eligible


# --- The outcome -------------------------------------------------------------------------------


def test_a_patient_meeting_everything_is_eligible():
    result = el.assess(eligible_facts())
    assert result.eligible
    assert result.failed == ()
    assert result.child_pugh.child_pugh_class == "A"


def test_bilirubin_at_exactly_twice_uln_excludes():
    result = el.assess(eligible_facts(bilirubin=Decimal("42"), bilirubin_uln=Decimal("21")))
    assert "bilirubin_2x_uln" in result.failed_codes
    assert result.bilirubin_x_uln == Decimal(2)


def test_bilirubin_just_below_twice_uln_does_not_exclude():
    result = el.assess(eligible_facts(bilirubin=Decimal("41.9"), bilirubin_uln=Decimal("21")))
    assert "bilirubin_2x_uln" not in result.failed_codes


def test_bilirubin_uln_compared_in_the_entered_unit():
    result = el.assess(
        eligible_facts(
            bilirubin=Decimal("2.4"), bilirubin_unit="mg/dL", bilirubin_uln=Decimal("1.2")
        )
    )
    assert "bilirubin_2x_uln" in result.failed_codes


def test_egfr_below_60_excludes():
    # Male, 60 at consent, creatinine 1.3 mg/dL -> eGFR about 62; 1.4 mg/dL -> about 57.
    older = date(1966, 3, 1)
    ok = el.assess(
        eligible_facts(date_of_birth=older, creatinine=Decimal("1.3"), creatinine_unit="mg/dL")
    )
    low = el.assess(
        eligible_facts(date_of_birth=older, creatinine=Decimal("1.4"), creatinine_unit="mg/dL")
    )
    assert ok.gfr_ml_min >= 60 and "gfr_below_60" not in ok.failed_codes
    assert low.gfr_ml_min < 60 and "gfr_below_60" in low.failed_codes


def test_measured_gfr_takes_precedence_over_estimate():
    result = el.assess(eligible_facts(measured_gfr_ml_min=Decimal("55")))
    assert result.gfr_is_measured
    assert result.gfr_ml_min == 55
    assert result.egfr is not None and result.egfr > 60
    assert "gfr_below_60" in result.failed_codes


def test_child_pugh_c_fails_and_b_passes():
    b = el.assess(eligible_facts(albumin=Decimal("30"), inr=Decimal("1.8"), ascites="mild"))
    assert b.child_pugh.points == 8 and "child_pugh" not in b.failed_codes
    c = el.assess(
        eligible_facts(
            bilirubin=Decimal("40"),
            bilirubin_uln=Decimal("21"),
            albumin=Decimal("25"),
            inr=Decimal("2.5"),
            ascites="moderate_severe",
        )
    )
    assert c.child_pugh.child_pugh_class == "C" and "child_pugh" in c.failed_codes


def test_hepatic_encephalopathy_is_a_serious_complication_that_excludes():
    result = el.assess(eligible_facts(encephalopathy="grade_1_2"))
    assert "hepatic_encephalopathy" in result.failed_codes


def test_bclc_stage_b_or_unconfirmed_fails():
    assert "bclc_c" in el.assess(eligible_facts(bclc_stage="B")).failed_codes
    assert "bclc_c" in el.assess(eligible_facts(bclc_confirmed_by=frozenset())).failed_codes


def test_no_documented_progression_fails():
    result = el.assess(eligible_facts(prior_progression=True, prior_progression_date=None))
    assert "prior_progression" in result.failed_codes


def test_every_answered_exclusion_excludes_on_its_own():
    for criterion in el.ANSWERED_EXCLUSIONS:
        answers = {**NO_EXCLUSIONS, criterion.code: True}
        assert el.assess(eligible_facts(exclusions=answers)).failed_codes == [criterion.code]


def test_failed_criteria_are_listed_in_protocol_order():
    result = el.assess(
        eligible_facts(
            life_expectancy_12_weeks=False,
            bclc_stage="B",
            exclusions={**NO_EXCLUSIONS, "transplant": True},
        )
    )
    assert result.failed_codes == ["bclc_c", "life_expectancy", "transplant"]


def test_unanswered_exclusion_is_refused_not_assumed():
    answers = dict(NO_EXCLUSIONS)
    del answers["hiv_syphilis"]
    with pytest.raises(ValueError, match="hiv_syphilis"):
        el.assess(eligible_facts(exclusions=answers))


def test_missing_creatinine_and_measured_gfr_is_refused():
    with pytest.raises(ValueError):
        el.assess(eligible_facts(creatinine=None, measured_gfr_ml_min=None))


def test_missing_consent_fails_consent_criterion():
    result = el.assess(eligible_facts(consent_date=None))
    assert "consent" in result.failed_codes
