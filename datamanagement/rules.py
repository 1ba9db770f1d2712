"""The edit checks' rules (pure, no Django): what in the recorded values raises a query."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal

WEIGHT_CHANGE = Decimal("0.10")  # more than 10 % between consecutive courses
MISSING_AFTER_DAYS = 14  # a scan still missing this long after its visit's window closed


def weight_changes(courses: Iterable[tuple[int, Decimal]]) -> list[tuple[int, Decimal, Decimal]]:
    """(course number, previous weight, weight) where the weight of the day differs by more
    than 10 % from the previous course's; courses in order, given ones only."""
    found, previous = [], None
    for number, weight in courses:
        if previous and weight is not None and abs(weight - previous) / previous > WEIGHT_CHANGE:
            found.append((number, previous, weight))
        if weight is not None:
            previous = weight
    return found


def missing_scans(visits: Iterable[tuple[int, date, bool]], today: date) -> list[tuple[int, date]]:
    """(visit number, window end) of the visits whose scan is missing 14 days after their
    window closed: `visits` as (number, window end, scan done)."""
    return [
        (number, end)
        for number, end, done in visits
        if not done and today > end + timedelta(days=MISSING_AFTER_DAYS)
    ]


def missing_questionnaires(
    visits: Iterable[tuple[int, date, bool]], done: set[int], today: date
) -> list[tuple[int, date]]:
    """(visit number, window end) of the assessment visits held (their scan done) whose
    QLQ-C30 is missing once the window has closed: the questionnaire goes with each visit."""
    return [
        (number, end)
        for number, end, scanned in visits
        if scanned and number not in done and today > end
    ]
