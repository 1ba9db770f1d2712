from datetime import date

from randomization import reports
from randomization.reports import ScreeningRow


def test_enrolment_by_month_with_cumulative_counts():
    rows = reports.enrolment_by_month(
        [date(2026, 1, 5), date(2026, 1, 20), date(2026, 3, 2)],
        [date(2026, 1, 21), date(2026, 3, 3)],
    )
    assert rows == [
        {
            "month": "2026-01",
            "enrolled": 2,
            "randomized": 1,
            "cumulative_enrolled": 2,
            "cumulative_randomized": 1,
        },
        {
            "month": "2026-03",
            "enrolled": 1,
            "randomized": 1,
            "cumulative_enrolled": 3,
            "cumulative_randomized": 2,
        },
    ]


def test_arm_balance_overall_and_per_stratum():
    balance = reports.arm_balance(
        [("RPI", "A"), ("RP", "A"), ("RPI", "B"), ("RPI", "B")], ["RPI", "RP"]
    )
    assert balance["overall"] == {"RPI": 3, "RP": 1}
    assert balance["by_stratum"] == {"A": {"RPI": 1, "RP": 1}, "B": {"RPI": 2, "RP": 0}}


def test_consort_counts_persons_not_screenings():
    rows = [
        ScreeningRow(1, None, False, ("gfr_below_60",), None),  # failed, then re-screened as 2
        ScreeningRow(2, 1, True, (), date(2026, 1, 3)),
        ScreeningRow(3, None, False, ("bclc_c", "hiv_syphilis"), None),
        ScreeningRow(4, None, True, (), None),  # eligible, not signed yet
        ScreeningRow(5, None, True, (), date(2026, 1, 9)),
    ]
    counts = reports.consort(rows, ["RPI"])
    assert counts["assessed_for_eligibility"] == 4
    assert counts["rescreened"] == 1
    assert counts["excluded"] == 1
    assert counts["excluded_by_reason"] == {"bclc_c": 1, "hiv_syphilis": 1}
    assert counts["eligible_awaiting_confirmation"] == 1
    assert counts["enrolled"] == 2
    assert counts["randomized"] == 1
    assert counts["randomized_by_arm"] == {"RPI": 1}
    assert counts["enrolled_not_randomized"] == 1
