"""QLQ-C30 scoring: the spec's checks and the scoring manual's rules."""

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
