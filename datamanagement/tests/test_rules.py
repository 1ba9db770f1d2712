from datetime import date
from decimal import Decimal

from datamanagement import rules


def test_a_weight_change_of_more_than_ten_percent():
    courses = [
        (1, Decimal(70)),
        (2, Decimal(77)),
        (3, Decimal("84.8")),
        (4, None),
        (5, Decimal(70)),
    ]
    # 70 -> 77 is exactly 10 %: not more; 77 -> 84.8 is 10.1 %; course 4 has no weight; the
    # 5th compares with the 3rd: 84.8 -> 70 is 17.5 %
    assert rules.weight_changes(courses) == [
        (3, Decimal(77), Decimal("84.8")),
        (5, Decimal("84.8"), Decimal(70)),
    ]
    assert rules.weight_changes([(1, Decimal(70))]) == []


def test_a_scan_missing_14_days_after_its_window():
    end = date(2026, 3, 10)
    visits = [(1, end, False), (2, date(2026, 5, 5), False), (3, end, True)]
    assert rules.missing_scans(visits, date(2026, 3, 24)) == []  # 14 days: not yet
    assert rules.missing_scans(visits, date(2026, 3, 25)) == [(1, end)]


def test_a_questionnaire_missing_at_a_visit_held():
    end = date(2026, 3, 10)
    visits = [(1, end, True), (2, end, True), (3, end, False), (4, date(2026, 5, 1), True)]
    assert rules.missing_questionnaires(visits, {2}, date(2026, 3, 11)) == [(1, end)]
    assert rules.missing_questionnaires(visits, {2}, date(2026, 3, 10)) == []
