"""BSA, cell dose, schedule, deviations and exposure: the spec's checks and hand counts."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from dosing import rules
from dosing.rules import CourseRecord, Deviation


def test_mosteller_170_cm_70_kg_is_1_8181():
    assert rules.bsa_m2(height_cm=170, weight_kg=70) == Decimal("1.8181")


def test_dubois_170_cm_70_kg_is_1_8097():
    assert rules.bsa_m2(height_cm=170, weight_kg=70, formula="dubois") == Decimal("1.8097")


def test_mosteller_by_hand_for_another_patient():
    # sqrt(160 x 55 / 3600) = sqrt(2.44444) = 1.5635
    assert rules.bsa_m2(height_cm=160, weight_kg=55) == Decimal("1.5635")


def test_bsa_refuses_zero():
    with pytest.raises(ValueError):
        rules.bsa_m2(height_cm=0, weight_kg=70)


def test_dose_is_target_times_bsa():
    assert rules.cell_dose(target_cells_per_m2=5 * 10**8, bsa=Decimal("1.8181")) == 909_050_000


@pytest.mark.parametrize(
    ("target", "ok"), [(10**8 - 1, False), (10**8, True), (10**9, True), (10**9 + 1, False)]
)
def test_target_range_is_10e8_to_10e9_inclusive(target, ok):
    assert rules.target_in_range(target) is ok


def test_implausible_body_measurements_are_named():
    assert rules.body_problems(height_cm=170, weight_kg=70) == []
    problems = rules.body_problems(height_cm=17, weight_kg=700)
    assert len(problems) == 2 and "Height 17 cm" in problems[0]


def test_schedule_every_14_days_with_a_window():
    courses = rules.schedule(anchor=date(2026, 3, 2), window_days=3)
    assert [c.planned for c in courses] == [
        date(2026, 3, 2) + timedelta(days=14 * k) for k in range(6)
    ]
    assert courses[1].window_start == date(2026, 3, 13) and courses[1].window_end == date(
        2026, 3, 19
    )
    assert len(rules.schedule(anchor=date(2026, 3, 2), courses=6)) == 6


def course(n=2, planned=date(2026, 3, 16), window=3):
    return rules.PlannedCourse(
        n, planned, planned - timedelta(days=window), planned + timedelta(days=window)
    )


def dev(
    given_on=date(2026, 3, 16),
    computed=909_050_000,
    infused=909_050_000,
    target=5 * 10**8,
    bsa=Decimal("1.8181"),
    body_ok=True,
):
    return rules.deviations(
        course=course(),
        given_on=given_on,
        computed_dose=computed,
        cells_infused=infused,
        target_cells_per_m2=target,
        bsa=bsa,
        body_ok=body_ok,
    )


def test_a_course_on_time_at_full_dose_has_no_deviation():
    assert dev() == []
    assert dev(given_on=date(2026, 3, 19)) == []  # last day of the window


def test_late_course_is_delayed_and_outside_window():
    assert dev(given_on=date(2026, 3, 20)) == [Deviation.DELAYED, Deviation.OUTSIDE_WINDOW]


def test_early_course_is_outside_window_only():
    assert dev(given_on=date(2026, 3, 12)) == [Deviation.OUTSIDE_WINDOW]


def test_reduced_dose_below_90_percent():
    assert dev(infused=818_145_000) == []  # exactly 90%
    assert dev(infused=818_144_999) == [Deviation.REDUCED_DOSE]


def test_dose_out_of_range_by_target_or_by_cells_per_m2():
    assert Deviation.DOSE_OUT_OF_RANGE in dev(target=2 * 10**9, computed=None)
    # 2.0e9 cells on 1.8181 m2 = 1.1e9 /m2, above the range though the target was in it
    assert Deviation.DOSE_OUT_OF_RANGE in dev(infused=2 * 10**9)


def test_missed_course():
    assert dev(given_on=None) == [Deviation.MISSED]


def test_exposure_matches_a_hand_count():
    records = [
        CourseRecord(1, date(2026, 1, 1), date(2026, 1, 1), 900_000_000),
        CourseRecord(2, date(2026, 1, 15), date(2026, 1, 15), 800_000_000),
        CourseRecord(3, date(2026, 1, 29), None, 0),
        CourseRecord(4, date(2026, 2, 12), date(2026, 2, 15), 900_000_000),
    ]
    result = rules.exposure(records, reference_dose=909_000_000)
    assert (result.courses_given, result.courses_missed) == (3, 1)
    assert result.cumulative_cells == 2_600_000_000
    # (2.6e9 / 59 days) / (9.09e8 / 14 days) = 36.4 / 53.631 = 0.6787
    assert result.relative_dose_intensity == Decimal("0.679")


def test_full_exposure_on_schedule_has_rdi_1():
    days = [date(2026, 1, 1) + timedelta(days=14 * (k - 1)) for k in range(1, 7)]
    records = [CourseRecord(k, day, day, 10**9) for k, day in enumerate(days, start=1)]
    assert rules.exposure(records, reference_dose=10**9).relative_dose_intensity == Decimal("1.000")


def test_missed_courses_after_the_last_given_lower_the_rdi():
    # one course of 1e9 then five missed: 1e9 over 70 + 14 = 84 days vs 1e9 per 14 days
    days = [date(2026, 1, 1) + timedelta(days=14 * (k - 1)) for k in range(1, 7)]
    records = [CourseRecord(1, days[0], days[0], 10**9)]
    records += [CourseRecord(k, days[k - 1], None, 0) for k in range(2, 7)]
    assert rules.exposure(records, reference_dose=10**9).relative_dose_intensity == Decimal("0.167")


def test_overdose_is_a_deviation():
    assert dev(infused=1_000_000_001) == [Deviation.INCREASED_DOSE]  # > 110 % of 9.0905e8


def test_no_course_given_has_no_rdi():
    assert rules.exposure([], reference_dose=10**9).relative_dose_intensity is None


@pytest.mark.parametrize(
    ("typed", "cells"),
    [
        ("500000000", 5 * 10**8),
        ("5e8", 5 * 10**8),
        ("5E8", 5 * 10**8),
        ("5x10^8", 5 * 10**8),
        ("5×10^8", 5 * 10**8),
        ("9.09e8", 909_000_000),
        ("1,000,000,000", 10**9),
    ],
)
def test_cell_counts_as_typed(typed, cells):
    assert rules.parse_cells(typed) == cells


@pytest.mark.parametrize("typed", ["abc", "5.5", "-5e8", "1e20", "NaN", "inf", "", "5x10^8x10^2"])
def test_bad_cell_counts_are_refused(typed):
    with pytest.raises(ValueError):
        rules.parse_cells(typed)


def test_pending_course_states():
    course = rules.schedule(anchor=date(2026, 3, 2), window_days=3)[1]  # planned 16 March
    assert rules.pending_state(course, date(2026, 3, 12)) == "planned"
    assert rules.pending_state(course, date(2026, 3, 13)) == "due"  # 3 days before
    assert rules.pending_state(course, date(2026, 3, 19)) == "due"  # last day of the window
    assert rules.pending_state(course, date(2026, 3, 20)) == "overdue"


def test_a_course_is_missed_only_once_its_window_opened():
    from datetime import date

    course = rules.PlannedCourse(2, date(2026, 3, 15), date(2026, 3, 12), date(2026, 3, 18))
    assert rules.missed_too_early(course, date(2026, 3, 12)) is None
    assert "before its window opens" in rules.missed_too_early(course, date(2026, 3, 11))


@pytest.mark.parametrize(
    ("cells", "shown"),
    [
        (864_100_000, "8.641 × 10⁸"),
        (850_500_000, "8.505 × 10⁸"),
        (5 * 10**8, "5 × 10⁸"),
        (999_990_000, "1 × 10⁹"),  # rounds up into the next power of ten
        (1.2e9, "1.2 × 10⁹"),
        (42, "42"),
        (0, "0"),
    ],
)
def test_cell_counts_are_shown_as_powers_of_ten(cells, shown):
    assert rules.cell_count(cells) == shown


def test_courses_owed_stop_where_the_inkt_cells_stopped_and_a_window_open_then_closes_there():
    anchor = date(2026, 3, 2)
    every = rules.planned_courses(anchor=anchor, window_days=3)
    assert [c.number for c in every] == [1, 2, 3, 4, 5, 6]
    # stopped on day 15: course 2's window (days 11-17) was open, it closes on the stop
    owed = rules.planned_courses(anchor=anchor, window_days=3, stop=anchor + timedelta(15))
    assert [(c.number, c.window_end) for c in owed] == [
        (1, anchor + timedelta(3)),
        (2, anchor + timedelta(15)),
    ]
    assert rules.owed_window(anchor + timedelta(25), anchor + timedelta(31), anchor) is None
