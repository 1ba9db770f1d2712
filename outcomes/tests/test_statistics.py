"""Per-arm statistics against hand-worked values and published examples."""

import pytest
from lifelines import KaplanMeierFitter
from lifelines.utils import median_survival_times

from outcomes import statistics as st


def test_kaplan_meier_by_hand():
    # S: 4/5 = 0.8 after day 10; 0.8 x 3/4 = 0.6 after day 20; 0.6 x 1/2 = 0.3 after day 40
    days, events = [10, 20, 30, 40, 50], [True, True, False, True, False]
    summary = st.km_summary(days, events, rate_months=(1,), horizon_months=3)
    assert summary.curve.survival[-3:] == pytest.approx([0.6, 0.3, 0.3])
    assert summary.median == 40
    assert summary.events == 3 and summary.patients == 5
    assert summary.rates[1][0] == pytest.approx(0.6)  # 30.4 days: after day 20, before 40
    assert summary.at_risk == {0: 5, 3: 0}
    assert summary.curve.censored == [30, 50]


def test_median_ci_agrees_with_lifelines_and_guards_not_reached():
    days = [5, 8, 12, 12, 15, 20, 22, 30, 31, 40, 41, 50]
    events = [1, 1, 1, 0, 1, 1, 0, 1, 0, 1, 0, 0]
    summary = st.km_summary(days, [bool(e) for e in events])
    kmf = KaplanMeierFitter().fit(days, events)
    assert summary.median == kmf.median_survival_time_
    limits = median_survival_times(kmf.confidence_interval_)
    assert summary.median_lower == limits.iloc[0, 0]
    expected_upper = limits.iloc[0, 1]
    assert summary.median_upper == (None if expected_upper == float("inf") else expected_upper)
    never = st.km_summary([10, 20, 30], [True, False, False])
    assert never.median is None and never.median_upper is None  # S never reaches 0.5


def test_median_exactly_one_half_with_floating_point():
    # S after day 2: (1 - 1/6)(1 - 1/5)(1 - 1/4) = 0.5 in floating point only approximately
    days, events = [1, 1.5, 2, 3, 4, 5], [True, True, True, False, False, False]
    assert st.km_summary(days, events).median == 2


def test_rate_after_the_last_observation_is_not_estimable():
    summary = st.km_summary([10, 20], [True, False], rate_months=(6,))
    assert summary.rates[6] == (None, None, None)
    everyone = st.km_summary([10, 20], [True, True], rate_months=(6,))
    assert everyone.rates[6][0] == 0.0  # the curve ended at 0: it stays there


def test_numbers_at_risk_count_times_at_or_after_the_mark():
    assert st.at_risk([0, 91.3125, 91.3124, 200], 3 * st.MONTH) == 2


def test_log_rank_and_cox_against_lifelines():
    import pandas as pd
    from lifelines import CoxPHFitter
    from lifelines.statistics import logrank_test

    a_days, a_events = [5, 10, 15, 20, 25, 30, 35], [1, 1, 0, 1, 0, 1, 0]
    b_days, b_events = [3, 4, 6, 8, 9, 12, 14], [1, 1, 1, 1, 0, 1, 1]
    p = st.log_rank(a_days, a_events, b_days, b_events)
    assert p == pytest.approx(logrank_test(a_days, b_days, a_events, b_events).p_value)
    hr, lower, upper = st.cox_hazard_ratio(a_days, a_events, b_days, b_events)
    frame = pd.DataFrame({"t": a_days + b_days, "e": a_events + b_events, "x": [1] * 7 + [0] * 7})
    direct = CoxPHFitter().fit(frame, "t", "e").summary.loc["x"]
    assert hr == pytest.approx(direct["exp(coef)"]) and hr < 1
    assert (lower, upper) == pytest.approx(
        (direct["exp(coef) lower 95%"], direct["exp(coef) upper 95%"])
    )
    assert st.cox_hazard_ratio(a_days, [0] * 7, b_days, b_events) is None


def test_exact_and_difference_intervals_from_published_examples():
    # Clopper-Pearson, 3 of 10: (0.0667, 0.6525)
    assert st.clopper_pearson(3, 10) == pytest.approx((0.0667, 0.6525), abs=1e-4)
    assert st.clopper_pearson(0, 10)[0] == 0 and st.clopper_pearson(10, 10)[1] == 1
    assert st.clopper_pearson(0, 0) == (None, None)
    # Newcombe (1998) example: 56/70 vs 48/80 -> 0.2000 (0.0524, 0.3339)
    d, lower, upper = st.difference(56, 70, 48, 80)
    assert (d, lower, upper) == pytest.approx((0.2, 0.0524, 0.3339), abs=1e-4)


def test_median_ci_not_reached_when_only_the_last_event_brings_the_band_down():
    summary = st.km_summary([1, 2, 3, 4], [True, True, True, True])
    assert summary.median == 2
    assert summary.median_upper is None  # the band reaches 0.5 only where S(t) = 0
    assert summary.curve.upper[-1] is None and summary.curve.survival[-1] == 0
