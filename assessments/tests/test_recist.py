"""The response engine: the spec's five examples, then the rules one by one."""

from dataclasses import replace
from datetime import date, timedelta

import pytest

from assessments import recist
from assessments.recist import (
    Baseline,
    Criterion,
    FollowUp,
    Measurement,
    NewLesion,
    NewLesionKind,
    NonTargetLesion,
    NonTargetStatus,
    Options,
    ReadError,
    TargetLesion,
    check_baseline,
    evaluate,
)

ENROLLED = date(2026, 1, 1)
BASE = date(2025, 12, 20)
M = Options(Criterion.MRECIST)
I = Options(Criterion.IRECIST)  # noqa: E741


def visit(k: int) -> date:
    return ENROLLED + timedelta(days=56 * k)


def two_targets(a=40, b=30, **extra) -> Baseline:
    return Baseline(BASE, (TargetLesion("T1", "liver", a), TargetLesion("T2", "lung", b)), **extra)


def fu(k, t1, t2=0.0, **extra) -> FollowUp:
    return FollowUp(visit(k), (Measurement("T1", t1), Measurement("T2", t2)), **extra)


def overall(result):
    return [t.overall for t in result.timepoints]


# --- the spec's examples -------------------------------------------------------------------


def example_1():
    # 40 + 30 = 70 at baseline, then sums 45, 40, 52, 60 (the second target 0 from then on)
    return two_targets(), [fu(1, 45), fu(2, 40), fu(3, 52), fu(4, 60)]


def test_example_1_mrecist():
    baseline, follow_ups = example_1()
    result = evaluate(baseline, follow_ups, options=M, enrolled=ENROLLED)
    assert overall(result) == ["PR", "PR", "PD", "PD"]
    third = result.timepoints[2]
    assert (third.target_sum, third.nadir_before, third.change_from_nadir_pct) == (52, 40, 30.0)
    assert result.progression_date == visit(3)
    assert result.best_overall_response == "PR"
    assert result.first_response_date == visit(1)


def test_example_1_irecist():
    baseline, follow_ups = example_1()
    result = evaluate(baseline, follow_ups, options=I, enrolled=ENROLLED)
    assert overall(result) == ["iPR", "iPR", "iUPD", "iCPD"]
    assert result.progression_date == visit(3)  # U, the 52 mm scan
    assert result.icpd_scan_date == visit(4)
    assert result.best_overall_response == "iPR"


def test_example_2_twenty_percent_but_only_4_mm_is_not_progression():
    baseline = Baseline(BASE, (TargetLesion("T1", "liver", 50),))
    result = evaluate(
        baseline,
        [
            FollowUp(visit(1), (Measurement("T1", 20),)),
            FollowUp(visit(2), (Measurement("T1", 24),)),
        ],
        options=M,
        enrolled=ENROLLED,
    )
    assert overall(result) == ["PR", "PR"]
    assert result.progression_date is None


def test_example_3_targets_gone_but_non_target_present_is_pr_not_cr():
    baseline = two_targets(non_targets=(NonTargetLesion("N1", "peritoneum"),))
    result = evaluate(
        baseline,
        [fu(1, 0, 0, non_targets={"N1": NonTargetStatus.PRESENT})],
        options=M,
        enrolled=ENROLLED,
    )
    assert result.timepoints[0].target == "CR"
    assert overall(result) == ["PR"]


def test_example_4_node_under_10_mm_with_other_targets_gone_is_cr():
    baseline = Baseline(
        BASE, (TargetLesion("T1", "liver", 30), TargetLesion("N1", "lymph node", 18, nodal=True))
    )
    result = evaluate(
        baseline,
        [FollowUp(visit(1), (Measurement("T1", 0), Measurement("N1", 8)))],
        options=M,
        enrolled=ENROLLED,
    )
    assert overall(result) == ["CR"]
    assert result.best_overall_response == "CR"


def test_example_5_irecist_reset_then_a_fresh_iupd():
    baseline = two_targets()
    new = NewLesion("L1", "lung", NewLesionKind.NODULE, 12)
    follow_ups = [
        fu(1, 40, 25),  # 65: SD
        fu(2, 42, 25, new_lesions=(new,)),  # new lesion: iUPD
        fu(3, 40, 24, new_lesions=(NewLesion("L1", "lung", absent=True),)),  # gone: reset
        fu(4, 40, 24, new_lesions=(NewLesion("L2", "bone", NewLesionKind.OTHER, 15),)),
    ]
    result = evaluate(baseline, follow_ups, options=I, enrolled=ENROLLED)
    assert overall(result) == ["iSD", "iUPD", "iSD", "iUPD"]
    assert result.progression_date is None
    assert result.unconfirmed_iupd_date == visit(4)
    assert result.best_overall_response == "iSD"


# --- baseline rules ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("targets", "message"),
    [
        ([TargetLesion(f"T{i}", f"organ{i}", 20) for i in range(6)], "At most 5 target"),
        ([TargetLesion(f"T{i}", "liver", 20) for i in range(3)], "per organ (3 in liver)"),
        ([TargetLesion("T1", "liver", 9)], "at least 10 mm"),
        ([TargetLesion("N1", "lymph node", 14, nodal=True)], "short axis of at least 15 mm"),
        (
            [TargetLesion("N1", "porta hepatis", 18, nodal=True, porta_hepatis=True)],
            "at least 20 mm",
        ),
        ([TargetLesion("P1", "portal_vein_thrombus", 25)], "never a target"),
        ([TargetLesion("T1", "liver", 30, typical_hcc=True)], "viable diameter"),
    ],
)
def test_baseline_breaking_the_rules_is_refused(targets, message):
    problems = check_baseline(Baseline(BASE, tuple(targets)), Criterion.MRECIST)
    assert any(message in p for p in problems), problems


def test_follow_up_dated_before_baseline_is_refused():
    with pytest.raises(ReadError, match="on or before the baseline"):
        evaluate(
            two_targets(),
            [FollowUp(BASE - timedelta(days=1), (Measurement("T1", 40), Measurement("T2", 30)))],
            options=M,
            enrolled=ENROLLED,
        )


def test_every_baseline_target_must_be_remeasured_or_marked():
    with pytest.raises(ReadError, match="Re-measure every baseline target"):
        evaluate(
            two_targets(),
            [FollowUp(visit(1), (Measurement("T1", 40),))],
            options=M,
            enrolled=ENROLLED,
        )


# --- target rules --------------------------------------------------------------------------


def test_target_not_assessable_makes_the_timepoint_ne():
    result = evaluate(two_targets(), [fu(1, 40, None)], options=M, enrolled=ENROLLED)
    assert overall(result) == ["NE"]


def test_assessed_targets_alone_meeting_pd_make_it_pd():
    result = evaluate(two_targets(), [fu(1, 90, None)], options=M, enrolled=ENROLLED)
    assert overall(result) == ["PD"]


def test_mrecist_uses_the_viable_diameter_of_typical_hcc():
    baseline = Baseline(BASE, (TargetLesion("T1", "liver", 50, typical_hcc=True, viable_mm=40),))
    follow_ups = [FollowUp(visit(1), (Measurement("T1", 50, viable_mm=10),))]
    assert overall(evaluate(baseline, follow_ups, options=M, enrolled=ENROLLED)) == ["PR"]
    assert overall(evaluate(baseline, follow_ups, options=I, enrolled=ENROLLED)) == ["iSD"]


def test_5_mm_floor_can_be_switched_off_for_mrecist():
    baseline = Baseline(BASE, (TargetLesion("T1", "liver", 20),))
    follow_ups = [FollowUp(visit(1), (Measurement("T1", 24),))]  # +20 %, +4 mm
    assert overall(evaluate(baseline, follow_ups, options=M, enrolled=ENROLLED)) == ["SD"]
    no_floor = Options(Criterion.MRECIST, pd_5mm_floor=False)
    assert overall(evaluate(baseline, follow_ups, options=no_floor, enrolled=ENROLLED)) == ["PD"]


def test_pr_is_kept_until_progression():
    # 70 -> 45 (PR) -> 52: 74 % of baseline (SD range), +16 % over the nadir (not PD)
    result = evaluate(two_targets(), [fu(1, 45), fu(2, 52)], options=M, enrolled=ENROLLED)
    assert overall(result) == ["PR", "PR"]


def test_lesion_reappearing_after_complete_response_is_pd():
    result = evaluate(two_targets(), [fu(1, 0, 0), fu(2, 6, 0)], options=M, enrolled=ENROLLED)
    assert overall(result) == ["CR", "PD"]


# --- non-target and new lesions -------------------------------------------------------------


def test_unequivocal_non_target_progression_is_pd():
    baseline = two_targets(non_targets=(NonTargetLesion("N1", "peritoneum"),))
    result = evaluate(
        baseline,
        [fu(1, 40, 30, non_targets={"N1": NonTargetStatus.PROGRESSION})],
        options=M,
        enrolled=ENROLLED,
    )
    assert overall(result) == ["PD"]


def test_non_target_not_assessed_leaves_targets_to_decide():
    baseline = two_targets(non_targets=(NonTargetLesion("N1", "peritoneum"),))
    result = evaluate(baseline, [fu(1, 20, 10)], options=M, enrolled=ENROLLED)
    assert result.timepoints[0].non_target == "NE"
    assert overall(result) == ["PR"]


def test_mrecist_atypical_liver_nodule_counts_only_after_10_mm_growth():
    first = NewLesion("L1", "liver", NewLesionKind.NODULE, 12)
    grown = NewLesion("L1", "liver", NewLesionKind.NODULE, 21)  # 9 mm more: not yet
    result = evaluate(
        two_targets(),
        [fu(1, 40, 30, new_lesions=(first,)), fu(2, 40, 30, new_lesions=(grown,))],
        options=M,
        enrolled=ENROLLED,
    )
    assert overall(result) == ["SD", "SD"]
    assert result.progression_date is None


def test_mrecist_typical_new_liver_nodule_of_10_mm_is_pd():
    typical = NewLesion("L1", "liver", NewLesionKind.NODULE, 10, typical_hcc=True)
    result = evaluate(
        two_targets(), [fu(1, 40, 30, new_lesions=(typical,))], options=M, enrolled=ENROLLED
    )
    assert overall(result) == ["PD"]


def test_effusion_counts_only_with_positive_cytology():
    plain = NewLesion("E1", "pleura", NewLesionKind.EFFUSION)
    proven = NewLesion("E1", "pleura", NewLesionKind.EFFUSION, cytology_positive=True)
    result = evaluate(
        two_targets(),
        [fu(1, 40, 30, new_lesions=(plain,)), fu(2, 40, 30, new_lesions=(proven,))],
        options=M,
        enrolled=ENROLLED,
    )
    assert overall(result) == ["SD", "PD"]


def test_equivocal_new_lesion_confirmed_later_dates_progression_at_first_sight():
    seen = NewLesion("L1", "bone", NewLesionKind.OTHER, 8, equivocal=True)
    sure = NewLesion("L1", "bone", NewLesionKind.OTHER, 14)
    result = evaluate(
        two_targets(),
        [fu(1, 40, 30, new_lesions=(seen,)), fu(2, 40, 30, new_lesions=(sure,))],
        options=M,
        enrolled=ENROLLED,
    )
    assert overall(result) == ["PD", "PD"]  # the scan of the first sighting is PD too
    assert result.progression_date == visit(1)


# --- best overall response -----------------------------------------------------------------


def test_sd_counts_only_42_days_after_enrolment():
    early = FollowUp(ENROLLED + timedelta(days=30), (Measurement("T1", 40), Measurement("T2", 30)))
    result = evaluate(two_targets(), [early], options=M, enrolled=ENROLLED)
    assert result.best_overall_response == "NE"
    later = evaluate(two_targets(), [fu(1, 40, 30)], options=M, enrolled=ENROLLED)
    assert later.best_overall_response == "SD"


def test_progression_without_qualifying_response_is_best_pd():
    result = evaluate(two_targets(), [fu(1, 90, 40)], options=M, enrolled=ENROLLED)
    assert result.best_overall_response == "PD"


def test_confirmation_of_response_is_optional():
    follow_ups = [fu(1, 20, 10), fu(2, 40, 30)]
    plain = evaluate(two_targets(), follow_ups, options=M, enrolled=ENROLLED)
    assert plain.best_overall_response == "PR"
    confirmed = Options(Criterion.MRECIST, confirm_response_days=28)
    strict = evaluate(two_targets(), follow_ups, options=confirmed, enrolled=ENROLLED)
    # the PR was not confirmed by the next scan: it counts as SD (56 days >= 42)
    assert strict.best_overall_response == "SD"


# --- iRECIST specifics ---------------------------------------------------------------------


def test_scan_under_28_days_after_iupd_is_disregarded():
    early = FollowUp(visit(3) + timedelta(days=14), (Measurement("T1", 70), Measurement("T2", 0)))
    result = evaluate(
        two_targets(), [fu(1, 45), fu(2, 40), fu(3, 52), early], options=I, enrolled=ENROLLED
    )
    assert overall(result)[-1] == "iUPD"
    assert result.progression_date is None and result.unconfirmed_iupd_date == visit(3)


def test_pd_in_a_new_category_confirms_icpd():
    baseline = two_targets(non_targets=(NonTargetLesion("N1", "peritoneum"),))
    follow_ups = [
        fu(1, 45, 0, non_targets={"N1": NonTargetStatus.PRESENT}),
        fu(2, 55, 0, non_targets={"N1": NonTargetStatus.PRESENT}),  # +22 %, +10 mm: iUPD
        fu(3, 55, 0, non_targets={"N1": NonTargetStatus.PROGRESSION}),  # non-target now PD
    ]
    result = evaluate(baseline, follow_ups, options=I, enrolled=ENROLLED)
    assert overall(result) == ["iPR", "iUPD", "iCPD"]
    assert result.progression_date == visit(2)


def test_iupd_that_neither_confirms_nor_resets_stays_iupd():
    result = evaluate(
        two_targets(), [fu(1, 45), fu(2, 40), fu(3, 52), fu(4, 54)], options=I, enrolled=ENROLLED
    )
    assert overall(result) == ["iPR", "iPR", "iUPD", "iUPD"]  # +2 mm only, still over the bar
    assert result.best_overall_response == "iPR"


# --- cases from the second review --------------------------------------------------------------


def test_equivocal_lesion_after_iupd_does_not_confirm():
    equivocal = NewLesion("B1", "bone", NewLesionKind.OTHER, 6, equivocal=True)
    follow_ups = [fu(1, 45), fu(2, 40), fu(3, 52), fu(4, 53, new_lesions=(equivocal,))]
    result = evaluate(two_targets(), follow_ups, options=I, enrolled=ENROLLED)
    assert overall(result)[-1] == "iUPD"
    assert result.progression_date is None


def test_not_evaluable_scan_keeps_the_iupd_open():
    follow_ups = [fu(1, 45), fu(2, 40), fu(3, 52), fu(4, None), fu(5, 60)]
    result = evaluate(two_targets(), follow_ups, options=I, enrolled=ENROLLED)
    assert overall(result) == ["iPR", "iPR", "iUPD", "NE", "iCPD"]
    assert result.progression_date == visit(3)


def test_exactly_5_mm_over_u_confirms_despite_decimals():
    baseline = Baseline(BASE, (TargetLesion("T1", "liver", 49.1), TargetLesion("T2", "lung", 10)))
    follow_ups = [fu(1, 40, 9.1), fu(2, 49.1, 10), fu(3, 54.1, 10)]  # 49.1, 59.1, 64.1
    result = evaluate(baseline, follow_ups, options=I, enrolled=ENROLLED)
    assert overall(result) == ["iSD", "iUPD", "iCPD"]


def test_without_the_floor_a_zero_nadir_is_not_progression_by_itself():
    baseline = two_targets(non_targets=(NonTargetLesion("N1", "peritoneum"),))
    no_floor = Options(Criterion.MRECIST, pd_5mm_floor=False)
    present = {"N1": NonTargetStatus.PRESENT}
    result = evaluate(
        baseline,
        [fu(1, 0, 0, non_targets=present), fu(2, None, 0, non_targets=present)],
        options=no_floor,
        enrolled=ENROLLED,
    )
    assert overall(result) == ["PR", "NE"]


def test_non_target_reappearing_after_cr_is_pd():
    baseline = two_targets(non_targets=(NonTargetLesion("N1", "peritoneum"),))
    follow_ups = [
        fu(1, 0, 0, non_targets={"N1": NonTargetStatus.ABSENT}),
        fu(2, 0, 0, non_targets={"N1": NonTargetStatus.PRESENT}),
    ]
    assert overall(evaluate(baseline, follow_ups, options=M, enrolled=ENROLLED)) == ["CR", "PD"]


def test_reappearance_after_cr_is_pd_even_after_a_not_evaluable_scan():
    follow_ups = [fu(1, 0, 0), fu(2, None, 0), fu(3, 3, 0)]
    assert overall(evaluate(two_targets(), follow_ups, options=M, enrolled=ENROLLED)) == [
        "CR",
        "NE",
        "PD",
    ]


def test_no_icr_while_a_new_lesion_is_still_there():
    new = NewLesion("L1", "lung", NewLesionKind.NODULE, 12)
    smaller = NewLesion("L1", "lung", NewLesionKind.NODULE, 8)
    follow_ups = [
        fu(1, 40, 25),
        fu(2, 40, 25, new_lesions=(new,)),
        fu(3, 0, 0, new_lesions=(smaller,)),
    ]
    result = evaluate(two_targets(), follow_ups, options=I, enrolled=ENROLLED)
    assert overall(result) == ["iSD", "iUPD", "iPR"]


def test_a_cr_is_confirmed_only_by_a_cr():
    baseline = two_targets(non_targets=(NonTargetLesion("N1", "peritoneum"),))
    follow_ups = [
        fu(1, 0, 0, non_targets={"N1": NonTargetStatus.ABSENT}),
        fu(2, 0, 0, non_targets={"N1": NonTargetStatus.PRESENT}),
    ]
    confirmed = Options(Criterion.MRECIST, confirm_response_days=28)
    # the non-target back after CR is PD; the CR was not confirmed: best SD at 56 days
    result = evaluate(baseline, follow_ups, options=confirmed, enrolled=ENROLLED)
    assert result.best_overall_response == "SD"


def test_unknown_non_target_and_duplicate_ids_are_refused():
    baseline = two_targets(non_targets=(NonTargetLesion("T1", "peritoneum"),))
    assert any("own id" in p for p in check_baseline(baseline, Criterion.MRECIST))
    with pytest.raises(ReadError, match="Unknown non-target"):
        evaluate(
            two_targets(),
            [fu(1, 40, 30, non_targets={"X": NonTargetStatus.PRESENT})],
            options=M,
            enrolled=ENROLLED,
        )


# --- iRECIST reset after an iUPD opened by new lesions (Seymour 2017, Table 3) ---------------

NEW_L1 = NewLesion("L1", "lung", NewLesionKind.NODULE, 12)


def test_new_lesion_iupd_resets_when_targets_shrink_below_u_and_the_lesion_is_unchanged():
    follow_ups = [
        fu(1, 40, 25),  # 65: iSD
        fu(2, 42, 25, new_lesions=(NEW_L1,)),  # 67 with a new lesion: iUPD, U
        fu(3, 38, 22, new_lesions=(NEW_L1,)),  # 60 < 67 at U, the lesion unchanged: reset
        fu(4, 38, 22, new_lesions=(NEW_L1,)),  # known at the reset: no fresh iUPD
        fu(5, 38, 22, new_lesions=(replace(NEW_L1, increased=True),)),  # unless it grows
    ]
    result = evaluate(two_targets(), follow_ups, options=I, enrolled=ENROLLED)
    assert overall(result) == ["iSD", "iUPD", "iSD", "iSD", "iUPD"]
    assert result.unconfirmed_iupd_date == visit(5)


def test_reset_while_the_new_lesion_is_still_there_is_never_icr():
    follow_ups = [
        fu(1, 40, 25),
        fu(2, 42, 25, new_lesions=(NEW_L1,)),
        fu(3, 0, 0, new_lesions=(NEW_L1,)),
    ]
    result = evaluate(two_targets(), follow_ups, options=I, enrolled=ENROLLED)
    assert overall(result) == ["iSD", "iUPD", "iPR"]


def test_new_lesion_iupd_stays_when_targets_have_not_shrunk_or_the_lesion_has_grown():
    grown = replace(NEW_L1, diameter_mm=14)  # 2 mm more: no confirmation, but not unchanged
    for third in (fu(3, 42, 25, new_lesions=(NEW_L1,)), fu(3, 38, 22, new_lesions=(grown,))):
        follow_ups = [fu(1, 40, 25), fu(2, 42, 25, new_lesions=(NEW_L1,)), third]
        result = evaluate(two_targets(), follow_ups, options=I, enrolled=ENROLLED)
        assert overall(result) == ["iSD", "iUPD", "iUPD"]


def test_iupd_opened_by_targets_is_kept_open_by_an_unchanged_new_lesion():
    # the shrinkage reset is for an iUPD opened by new lesions alone
    follow_ups = [
        fu(1, 45),
        fu(2, 40),
        fu(3, 52, new_lesions=(NEW_L1,)),  # target PD and a new lesion
        fu(4, 44, new_lesions=(NEW_L1,)),  # targets under the bar, the lesion unchanged
    ]
    result = evaluate(two_targets(), follow_ups, options=I, enrolled=ENROLLED)
    assert overall(result)[-1] == "iUPD"


# --- porta-hepatis lymph nodes (Lencioni & Llovet 2010: malignant from 20 mm short axis) -------


def _new_lesion_series(lesion: NewLesion, options: Options):
    return evaluate(
        two_targets(), [fu(1, 40, 30, new_lesions=(lesion,))], options=options, enrolled=ENROLLED
    )


def test_new_porta_hepatis_node_counts_only_from_20_mm_under_mrecist():
    porta = NewLesion("P1", "porta hepatis", NewLesionKind.LYMPH_NODE, 19, porta_hepatis=True)
    assert overall(_new_lesion_series(porta, M)) == ["SD"]
    assert overall(_new_lesion_series(replace(porta, diameter_mm=20), M)) == ["PD"]
    other = NewLesion("P2", "mediastinum", NewLesionKind.LYMPH_NODE, 10)
    assert overall(_new_lesion_series(other, M)) == ["PD"]  # any other node from 10 mm
    assert overall(_new_lesion_series(replace(other, diameter_mm=9), M)) == ["SD"]


def test_new_porta_hepatis_node_counts_as_any_node_under_irecist():
    porta = NewLesion("P1", "porta hepatis", NewLesionKind.LYMPH_NODE, 12, porta_hepatis=True)
    assert overall(_new_lesion_series(porta, I)) == ["iUPD"]


def porta_node(mm: float) -> TargetLesion:
    return TargetLesion("N1", "porta hepatis", mm, nodal=True, porta_hepatis=True)


def test_porta_hepatis_target_node_needs_20_mm_under_mrecist_only():
    eighteen = Baseline(BASE, (porta_node(18),))
    assert check_baseline(eighteen, Criterion.IRECIST) == []
    assert any("at least 20 mm" in p for p in check_baseline(eighteen, Criterion.MRECIST))
    fourteen = Baseline(BASE, (porta_node(14),))
    assert any("at least 15 mm" in p for p in check_baseline(fourteen, Criterion.IRECIST))


def test_porta_hepatis_target_of_15_to_20_mm_is_left_out_by_mrecist_and_kept_by_irecist():
    baseline = Baseline(BASE, (TargetLesion("T1", "liver", 40), porta_node(18)))
    follow_ups = [FollowUp(visit(1), (Measurement("T1", 40), Measurement("N1", 30)))]
    by_m = evaluate(baseline, follow_ups, options=M, enrolled=ENROLLED)
    assert by_m.baseline_sum == 40 and by_m.timepoints[0].target_sum == 40  # the node ignored
    assert overall(by_m) == ["SD"]
    by_i = evaluate(baseline, follow_ups, options=I, enrolled=ENROLLED)
    assert by_i.baseline_sum == 58 and overall(by_i) == ["iUPD"]  # 70: +12 mm, +21 %


def test_porta_hepatis_target_under_15_mm_is_refused_once_for_both_criteria():
    baseline = Baseline(BASE, (TargetLesion("T1", "liver", 40), porta_node(14)))
    for options in (M, I):
        with pytest.raises(ReadError, match="at least 15 mm") as refused:
            evaluate(baseline, [], options=options, enrolled=ENROLLED)
        assert len(refused.value.problems) == 1, refused.value.problems


# --- baseline warnings (mRECIST measurability) -------------------------------------------------


def test_typical_hcc_target_with_viable_diameter_under_10_mm_gets_a_baseline_warning():
    baseline = Baseline(
        BASE,
        (
            TargetLesion("T1", "liver", 30, typical_hcc=True, viable_mm=8),
            TargetLesion("T2", "liver", 30, typical_hcc=True, viable_mm=10),
        ),
    )
    warnings = recist.baseline_warnings(baseline)
    assert len(warnings) == 1 and warnings[0].startswith("Lesion T1:"), warnings
    assert "under 10 mm" in warnings[0]
    # it stays a target: its viable diameter is in the mRECIST sum
    assert evaluate(baseline, [], options=M, enrolled=ENROLLED).baseline_sum == 18


def test_porta_hepatis_target_node_of_15_to_20_mm_gets_a_baseline_warning():
    warnings = recist.baseline_warnings(Baseline(BASE, (porta_node(18),)))
    assert len(warnings) == 1 and "iRECIST only" in warnings[0], warnings
    assert recist.baseline_warnings(Baseline(BASE, (porta_node(20),))) == []
    plain_node = TargetLesion("N1", "lymph node", 18, nodal=True)
    assert recist.baseline_warnings(Baseline(BASE, (plain_node,))) == []


# --- equivocal lesions confirmed later: progression dated back (RECIST 1.1) --------------------


def test_mrecist_atypical_liver_nodule_that_grows_10_mm_dates_progression_at_first_sight():
    first = NewLesion("L1", "liver", NewLesionKind.NODULE, 12)
    grown = NewLesion("L1", "liver", NewLesionKind.NODULE, 22)
    result = evaluate(
        two_targets(),
        [fu(1, 40, 30, new_lesions=(first,)), fu(2, 40, 30, new_lesions=(grown,))],
        options=M,
        enrolled=ENROLLED,
    )
    assert overall(result) == ["PD", "PD"]
    assert result.progression_date == visit(1)
    assert result.best_overall_response == "PD"


def test_back_dated_progression_makes_the_earlier_scans_pd_and_best_response_stops_there():
    seen = NewLesion("B1", "bone", NewLesionKind.OTHER, 8, equivocal=True)
    sure = NewLesion("B1", "bone", NewLesionKind.OTHER, 14)
    follow_ups = [
        fu(1, 40, 25),  # 65: SD
        fu(2, 45, new_lesions=(seen,)),  # PR, with an equivocal lesion
        fu(3, 45, new_lesions=(seen,)),
        fu(4, 45, new_lesions=(sure,)),  # now unequivocal: PD since its first sighting
    ]
    result = evaluate(two_targets(), follow_ups, options=M, enrolled=ENROLLED)
    assert overall(result) == ["SD", "PD", "PD", "PD"]
    assert [t.new_lesion for t in result.timepoints] == [False, True, True, True]
    assert result.progression_date == visit(2)
    assert result.best_overall_response == "SD"  # the PR of visit 2 is progression now
    assert result.first_response_date is None


def test_lesion_confirmed_after_a_first_pd_still_dates_progression_at_its_first_sight():
    seen = NewLesion("B1", "bone", NewLesionKind.OTHER, 8, equivocal=True)
    sure = NewLesion("B1", "bone", NewLesionKind.OTHER, 14)
    follow_ups = [fu(1, 45, new_lesions=(seen,)), fu(2, 60), fu(3, 60, new_lesions=(sure,))]
    result = evaluate(two_targets(), follow_ups, options=M, enrolled=ENROLLED)
    assert overall(result) == ["PD", "PD", "PD"]
    assert result.progression_date == visit(1)


def test_irecist_back_dated_iupd_starts_at_first_sight_and_its_window_at_the_finding():
    seen = NewLesion("B1", "bone", NewLesionKind.OTHER, 8, equivocal=True)
    sure = NewLesion("B1", "bone", NewLesionKind.OTHER, 14)
    further = NewLesion("B2", "bone", NewLesionKind.OTHER, 10)
    follow_ups = [
        fu(1, 40, 25, new_lesions=(seen,)),
        fu(2, 40, 25, new_lesions=(sure,)),  # the finding scan: U dated back to visit 1
        fu(3, 40, 25, new_lesions=(sure, further)),  # 56 days after the finding: confirms
    ]
    result = evaluate(two_targets(), follow_ups, options=I, enrolled=ENROLLED)
    assert overall(result) == ["iUPD", "iUPD", "iCPD"]
    assert result.progression_date == visit(1)
    assert result.icpd_scan_date == visit(3)
    assert result.best_overall_response == "iCPD"


# --- confirmation of response (RECIST 1.1, Table 3) and best overall response -----------------

STRICT = Options(Criterion.MRECIST, confirm_response_days=28)


def one_target_series(*sums: float, options: Options):
    baseline = Baseline(BASE, (TargetLesion("T1", "liver", 100),))
    follow_ups = [FollowUp(visit(k), (Measurement("T1", s),)) for k, s in enumerate(sums, 1)]
    return evaluate(baseline, follow_ups, options=options, enrolled=ENROLLED)


def test_with_confirmation_required_a_scan_no_longer_meeting_pr_is_sd_and_does_not_confirm():
    strict = one_target_series(65, 74, options=STRICT)  # -35 %, then -26 % (+14 % over nadir)
    assert overall(strict) == ["PR", "SD"]
    assert (strict.best_overall_response, strict.first_response_date) == ("SD", None)
    strict_i = one_target_series(
        65, 74, options=Options(Criterion.IRECIST, confirm_response_days=28)
    )
    assert overall(strict_i) == ["iPR", "iSD"]
    assert strict_i.best_overall_response == "iSD"
    # without confirmation (the randomized trial) the PR is kept until progression
    plain = one_target_series(65, 74, options=M)
    assert overall(plain) == ["PR", "PR"]
    assert (plain.best_overall_response, plain.first_response_date) == ("PR", visit(1))


def test_with_confirmation_required_pr_met_again_28_days_later_is_confirmed():
    confirmed = one_target_series(65, 69, options=STRICT)
    assert overall(confirmed) == ["PR", "PR"]
    assert (confirmed.best_overall_response, confirmed.first_response_date) == ("PR", visit(1))


def test_best_overall_is_derived_from_the_timepoints_it_is_given():
    def best(timepoints, criterion=Criterion.MRECIST, options=M):
        return recist.best_overall(
            timepoints, criterion=criterion, enrolled=ENROLLED, options=options
        )

    early = ENROLLED + timedelta(days=30)
    assert best([(visit(1), "SD"), (visit(2), "PR"), (visit(3), "PD")]) == ("PR", visit(2))
    assert best([(visit(1), "SD")]) == ("SD", None)  # cut before the PR
    assert best([(visit(1), "PD"), (visit(2), "PR")]) == ("PD", None)  # nothing after PD
    assert best([(early, "SD"), (visit(1), "PD")]) == ("PD", None)  # SD too early
    assert best([(early, "SD")]) == ("NE", None)
    assert best([]) == ("NE", None)
    i = {"criterion": Criterion.IRECIST, "options": I}
    assert best([(visit(1), "iUPD")], **i) == ("iUPD", None)
    assert best([(visit(1), "iUPD"), (visit(2), "iCPD")], **i) == ("iCPD", None)
    assert best([(visit(1), "iUPD"), (visit(2), "iPR"), (visit(3), "iUPD")], **i) == (
        "iPR",
        visit(2),
    )
    assert best([(visit(1), "iCPD"), (visit(2), "iPR")], **i) == ("iCPD", None)
    # confirmation (RECIST 1.1, Table 3): from the list given, and nothing after it
    assert best([(visit(1), "PR"), (visit(2), "PR")], options=STRICT) == ("PR", visit(1))
    assert best([(visit(1), "PR")], options=STRICT) == ("SD", None)
    assert best([(visit(1), "CR"), (visit(2), "CR")], options=STRICT) == ("CR", visit(1))
    assert best([(visit(1), "CR"), (visit(2), "PR")], options=STRICT) == ("PR", visit(1))
    assert best([(visit(1), "PR"), (visit(1) + timedelta(days=14), "PR")], options=STRICT) == (
        "SD",
        None,
    )


# --- iRECIST confirmation: 28 days after U at least, the next assessment in time ----------------


def _after_u(days: int, t1: float, **extra) -> FollowUp:
    return FollowUp(
        visit(3) + timedelta(days=days), (Measurement("T1", t1), Measurement("T2", 0)), **extra
    )


def test_iupd_iupd_then_icpd_as_in_seymour_table_3():
    """Seymour 2017, Table 3: iUPD not confirmed at the next assessment stays iUPD, and a later
    assessment confirms it (5 mm over the sum at U)."""
    follow_ups = [fu(1, 45), fu(2, 40), fu(3, 52), fu(4, 54), fu(5, 60)]
    result = evaluate(two_targets(), follow_ups, options=I, enrolled=ENROLLED)
    assert overall(result) == ["iPR", "iPR", "iUPD", "iUPD", "iCPD"]
    assert (result.progression_date, result.icpd_scan_date) == (visit(3), visit(5))


def test_scans_at_the_edges_of_their_windows_still_confirm():
    """U scanned 7 days early, the next visit 7 days late: 70 days apart, both in the 8-weekly
    schedule's +/- 7-day windows."""
    follow_ups = [fu(1, 45), fu(2, 40), _after_u(-7, 52), _after_u(63, 60)]
    result = evaluate(two_targets(), follow_ups, options=I, enrolled=ENROLLED)
    assert overall(result)[-1] == "iCPD"
    assert result.progression_date == visit(3) - timedelta(days=7)


def test_an_assessment_after_a_missed_visit_does_not_confirm_icpd():
    """More than 70 days after the block's previous assessment: not the next assessment 4-8
    weeks on; the iUPD stays unconfirmed there, and the next assessment in time confirms."""
    late = [fu(1, 45), fu(2, 40), fu(3, 52), _after_u(71, 60)]
    result = evaluate(two_targets(), late, options=I, enrolled=ENROLLED)
    assert overall(result) == ["iPR", "iPR", "iUPD", "iUPD"]
    assert result.progression_date is None and result.icpd_scan_date is None
    assert result.unconfirmed_iupd_date == visit(3)
    assert result.best_overall_response == "iPR"
    then = evaluate(two_targets(), [*late, _after_u(71 + 56, 66)], options=I, enrolled=ENROLLED)
    assert overall(then)[-1] == "iCPD"
    assert (then.progression_date, then.icpd_scan_date) == (visit(3), visit(3) + timedelta(127))


def test_a_late_scan_still_resets():
    follow_ups = [fu(1, 45), fu(2, 40), fu(3, 52), _after_u(80, 40)]
    result = evaluate(two_targets(), follow_ups, options=I, enrolled=ENROLLED)
    assert overall(result)[-1] == "iPR"
    assert result.unconfirmed_iupd_date is None


def test_a_further_new_lesion_never_resets_an_iupd():
    """Seymour 2017, Table 2: a new lesion is progression; a late scan that shows one, with the
    targets shrunk, stays iUPD, and the lesion's growth later confirms it."""
    bone = NewLesion("L2", "bone", NewLesionKind.OTHER, 15)
    grown = NewLesion("L2", "bone", NewLesionKind.OTHER, 40, increased=True)
    follow_ups = [
        fu(1, 45),
        fu(2, 40),
        fu(3, 52),  # U: target progression
        _after_u(80, 44, new_lesions=(bone,)),  # late: no confirmation, but no reset either
        _after_u(80 + 56, 44, new_lesions=(grown,)),
    ]
    result = evaluate(two_targets(), follow_ups, options=I, enrolled=ENROLLED)
    assert overall(result) == ["iPR", "iPR", "iUPD", "iUPD", "iCPD"]
    assert result.progression_date == visit(3)


def test_a_known_new_target_lesion_that_grows_after_a_reset_opens_iupd_again():
    small = NewLesion("L1", "lung", NewLesionKind.NODULE, 12, target=True)
    follow_ups = [
        fu(1, 40, 25),  # 65: SD
        fu(2, 40, 25, new_lesions=(small,)),  # new target lesion: iUPD
        fu(3, 35, 20, new_lesions=(small,)),  # targets shrink, L1 unchanged: reset
        fu(4, 35, 20, new_lesions=(replace(small, diameter_mm=30),)),  # +18 mm: iUPD again
        fu(5, 35, 20, new_lesions=(replace(small, diameter_mm=45),)),  # +15 mm over U: iCPD
    ]
    result = evaluate(two_targets(), follow_ups, options=I, enrolled=ENROLLED)
    assert overall(result) == ["iSD", "iUPD", "iSD", "iUPD", "iCPD"]
    assert (result.progression_date, result.icpd_scan_date) == (visit(4), visit(5))
