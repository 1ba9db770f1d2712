"""QLQ-C30 scoring: the spec's checks and the scoring manual's rules."""

from datetime import date, timedelta

import pytest

from assessments import qlqc30


def all_answers(four: int, seven: int) -> dict:
    return {i: (seven if i in (29, 30) else four) for i in range(1, 31)}


def test_every_item_1_gives_functional_100_symptoms_0_ql2_0_summary_100():
    scores = qlqc30.score(all_answers(1, 1))
    for code in ("PF2", "RF2", "EF", "CF", "SF"):
        assert scores[code] == 100
    for code in ("FA", "NV", "PA", "DY", "SL", "AP", "CO", "DI", "FI"):
        assert scores[code] == 0
    assert scores["QL2"] == 0
    assert scores["SUM"] == 100


def test_worst_answers_give_functional_0_symptoms_100_ql2_100_summary_0():
    scores = qlqc30.score(all_answers(4, 7))
    assert scores["PF2"] == 0 and scores["FA"] == 100 and scores["QL2"] == 100
    assert scores["SUM"] == 0


def test_pf2_with_three_of_five_items_answered_2():
    answers = {1: 2, 2: 2, 3: 2}
    assert qlqc30.score(answers)["PF2"] == pytest.approx(66.6667, abs=1e-4)


def test_half_items_rule():
    assert qlqc30.score({1: 2, 2: 2})["PF2"] is None  # 2 of 5: fewer than half
    assert qlqc30.score({21: 3, 22: 3})["EF"] == pytest.approx(33.3333, abs=1e-4)  # 2 of 4
    assert qlqc30.score({29: 4})["QL2"] == 50  # 1 of 2: (4 - 1) / 6
    assert qlqc30.score({})["DY"] is None


def test_summary_needs_all_13_scales_and_leaves_out_ql2_and_fi():
    answers = all_answers(1, 1)
    answers[28] = None  # FI blank: the summary does not use it
    answers[29] = answers[30] = None  # QL2 blank: not used either
    assert qlqc30.score(answers)["SUM"] == 100
    answers[8] = None  # DY blank: summary missing
    assert qlqc30.score(answers)["SUM"] is None


def test_a_hand_worked_mixed_questionnaire():
    answers = all_answers(2, 5)
    answers[9], answers[19] = 4, 3  # pain 3.5 -> 100 x 2.5 / 3 = 83.33
    scores = qlqc30.score(answers)
    assert scores["PA"] == pytest.approx(83.3333, abs=1e-4)
    assert scores["PF2"] == pytest.approx(66.6667, abs=1e-4)  # 100 x (1 - 1/3)
    assert scores["QL2"] == pytest.approx(66.6667, abs=1e-4)  # 100 x 4 / 6
    # summary: 5 functional at 66.67, 7 symptoms at 33.33 -> 66.67, pain 83.33 -> 16.67
    expected = (5 * (200 / 3) + 7 * (200 / 3) + (100 - 250 / 3)) / 13
    assert scores["SUM"] == pytest.approx(expected)


@pytest.mark.parametrize(("item", "value"), [(1, 5), (1, 0), (29, 8), (30, "7"), (12, True)])
def test_answers_outside_the_scale_are_refused(item, value):
    with pytest.raises(qlqc30.AnswerError) as refused:
        qlqc30.score({item: value})
    assert item in refused.value.problems


def test_unknown_item_is_refused():
    with pytest.raises(qlqc30.AnswerError):
        qlqc30.score({31: 1})


def test_direction_of_improvement():
    assert qlqc30.higher_is_better("QL2") and qlqc30.higher_is_better("PF2")
    assert qlqc30.higher_is_better("SUM") and not qlqc30.higher_is_better("FA")


# --- time to deterioration --------------------------------------------------------------------

ENROLLED = date(2026, 1, 1)


def on(days):
    return ENROLLED + timedelta(days=days)


def ttd(code, values, **kwargs):
    scores = [(on(-3), values[0])] + [(on(56 * k), v) for k, v in enumerate(values[1:], start=1)]
    return qlqc30.time_to_deterioration(code, scores, enrolled=ENROLLED, randomized=on(0), **kwargs)


def test_a_drop_of_10_maintained_twice_is_an_event_dated_at_the_first():
    result = ttd("QL2", [70, 65, 60, 58])
    assert (result.days, result.event) == (112, True)


def test_a_drop_not_maintained_is_not_an_event():
    result = ttd("QL2", [70, 60, 68, 66])
    assert (result.days, result.event, result.reason) == (168, False, "no deterioration")


def test_symptom_scales_deteriorate_upwards():
    assert ttd("FA", [20, 30, 35]).event
    assert not ttd("FA", [40, 30, 20]).event


def test_a_deteriorated_last_assessment_is_censored_there():
    result = ttd("PF2", [80, 78, 65])
    assert (result.days, result.event, result.reason) == (112, False, "unconfirmed deterioration")


def test_no_baseline_is_censored_at_day_0_and_no_follow_up_at_day_1():
    scores = [(on(10), 50.0), (on(66), 30.0)]
    no_base = qlqc30.time_to_deterioration("QL2", scores, enrolled=ENROLLED, randomized=on(0))
    assert (no_base.days, no_base.event) == (0, False)
    assert "on or before randomization (the first score is of 2026-01-11)" in no_base.reason
    assert (ttd("QL2", [70]).days, ttd("QL2", [70]).event) == (1, False)


def test_baseline_is_the_last_score_on_or_before_randomization():
    scores = [(on(-20), 90.0), (on(-3), 70.0), (on(56), 60.0), (on(112), 60.0)]
    result = qlqc30.time_to_deterioration("QL2", scores, enrolled=ENROLLED, randomized=on(0))
    assert (result.days, result.event) == (56, True)  # from 70, not from 90


def test_death_counts_only_when_asked():
    assert not ttd("QL2", [70, 70], death=on(80)).event
    result = ttd("QL2", [70, 70], death=on(80), death_is_event=True)
    assert (result.days, result.event, result.reason) == (80, True, "death")


def test_visits_and_their_order():
    visits = ["end-of-treatment", "visit-2", "baseline", "visit-10", "visit-1"]
    assert sorted(visits, key=qlqc30.visit_order) == [
        "baseline",
        "visit-1",
        "visit-2",
        "visit-10",
        "end-of-treatment",
    ]
    assert qlqc30.visit_name("visit-3") == "Visit 3 (week 24)"
    for bad in ("visit-0", "visit-01", "visit-", "week-8", "", "visit-41", "visit-99999999999999"):
        with pytest.raises(ValueError):
            qlqc30.visit_order(bad)


def test_questionnaire_dates():
    day = date(2026, 3, 1)
    known = dict(
        consent=day,
        today=day + timedelta(days=100),
        randomized=day + timedelta(days=10),
        first_dose=day + timedelta(days=12),
        end_of_treatment=None,
    )
    assert qlqc30.check_date("baseline", day + timedelta(days=10), **known) == []
    assert (
        "on or before randomization (11 Mar 2026)"
        in qlqc30.check_date("baseline", day + timedelta(days=11), **known)[0]
    )
    dosed_first = {**known, "randomized": None}
    assert "first dose" in qlqc30.check_date("baseline", day + timedelta(days=13), **dosed_first)[0]
    assert "consent" in qlqc30.check_date("baseline", day - timedelta(days=1), **known)[0]
    assert "future" in qlqc30.check_date("visit-1", day + timedelta(days=101), **known)[0]
    assert (
        "follow randomization" in qlqc30.check_date("visit-1", day + timedelta(days=10), **known)[0]
    )
    assert qlqc30.check_date("visit-1", day + timedelta(days=66), **known) == []
    assert (
        "end of treatment first"
        in qlqc30.check_date("end-of-treatment", day + timedelta(days=60), **known)[0]
    )
    ended = {**known, "end_of_treatment": day + timedelta(days=70)}
    assert (
        "Before the end"
        in qlqc30.check_date("end-of-treatment", day + timedelta(days=60), **ended)[0]
    )
    assert qlqc30.check_date("end-of-treatment", day + timedelta(days=70), **ended) == []
    unrandomized = {**known, "randomized": None, "first_dose": None}
    assert qlqc30.check_date("baseline", day + timedelta(days=5), **unrandomized) == []
    assert (
        "before randomization"
        in qlqc30.check_date("visit-1", day + timedelta(days=5), **unrandomized)[0]
    )


def test_change_from_baseline_and_labels():
    assert qlqc30.change_from_baseline({"QL2": 50.0, "PF2": None}, {"QL2": 25.0, "PF2": 80.0}) == {
        "QL2": -25.0,
        "PF2": None,
    }
    assert qlqc30.change_from_baseline(None, {"QL2": 25.0}) == {"QL2": None}
    labels = qlqc30.item_labels({29: "Licensed wording of item 29"})
    assert labels[29] == "Licensed wording of item 29" and labels[1] == qlqc30.ITEM_LABELS[1]
    assert list(qlqc30.answer_choices(30)) == list(range(1, 8))
    assert list(qlqc30.answer_choices(28)) == [1, 2, 3, 4]


def test_item_numbers_as_text_and_unknown_items():
    assert qlqc30.check_answers({"1": 2, "30": None})[1] == 2
    with pytest.raises(qlqc30.AnswerError) as refused:
        qlqc30.check_answers({"31": 1, "x": 2, 2: 5})
    assert set(refused.value.problems) == {"31", "x", 2}
    for odd in ("²", "0" * 40 + "1", "-1", " 1"):
        with pytest.raises(qlqc30.AnswerError):
            qlqc30.check_answers({odd: 1})
    with pytest.raises(qlqc30.AnswerError, match="answered twice"):
        qlqc30.check_answers({"1": 1, "01": 4})


def test_visits_keep_their_order_and_open_with_their_window():
    day = date(2026, 3, 1)
    known = dict(
        consent=day,
        today=day + timedelta(days=300),
        randomized=day,
        first_dose=day + timedelta(days=1),
        end_of_treatment=None,
    )
    # visit 2: 112 days from randomization, window opens 7 days before
    assert (
        "due from 14 Jun 2026"
        in qlqc30.check_date("visit-2", day + timedelta(days=104), **known)[0]
    )
    assert qlqc30.check_date("visit-2", day + timedelta(days=105), **known) == []
    others = [
        ("baseline", day),
        ("visit-1", day + timedelta(days=60)),
        ("visit-3", day + timedelta(days=170)),
    ]
    assert (
        "after the Visit 1 (week 8)"
        in qlqc30.check_date("visit-2", day + timedelta(days=60), **known, others=others)[-1]
    )
    assert (
        "before the Visit 3 (week 24)"
        in qlqc30.check_date("visit-2", day + timedelta(days=171), **known, others=others)[-1]
    )
    assert qlqc30.check_date("visit-2", day + timedelta(days=112), **known, others=others) == []
