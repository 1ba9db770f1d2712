"""Enrolment, arm balance and CONSORT counts (pure: records in, counts out).

CONSORT 2010 flow (Schulz KF et al., BMJ 2010;340:c332): assessed for eligibility, excluded
with reasons, randomized, allocated to each arm.
"""

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class ScreeningRow:
    screening_id: int
    rescreen_of_id: int | None
    eligible: bool
    failed_codes: tuple[str, ...]
    enrolled_on: date | None


def enrolment_by_month(enrolled: Iterable[date], randomized: Iterable[date]) -> list[dict]:
    enrolled_per, randomized_per = Counter(), Counter()
    for day in enrolled:
        enrolled_per[(day.year, day.month)] += 1
    for day in randomized:
        randomized_per[(day.year, day.month)] += 1
    months = sorted(set(enrolled_per) | set(randomized_per))
    rows, total_enrolled, total_randomized = [], 0, 0
    for month in months:
        total_enrolled += enrolled_per[month]
        total_randomized += randomized_per[month]
        rows.append(
            {
                "month": f"{month[0]:04d}-{month[1]:02d}",
                "enrolled": enrolled_per[month],
                "randomized": randomized_per[month],
                "cumulative_enrolled": total_enrolled,
                "cumulative_randomized": total_randomized,
            }
        )
    return rows


def arm_balance(allocations: Iterable[tuple[str, str]], arms: Iterable[str]) -> dict:
    """Counts per arm, overall and per stratum, from (arm, stratum) pairs."""
    arms = list(arms)
    overall = Counter({arm: 0 for arm in arms})
    by_stratum: dict[str, Counter] = {}
    for arm, stratum in allocations:
        overall[arm] += 1
        by_stratum.setdefault(stratum, Counter({a: 0 for a in arms}))[arm] += 1
    return {
        "overall": dict(overall),
        "by_stratum": {s: dict(c) for s, c in sorted(by_stratum.items()) if s},
    }


def consort(screenings: Iterable[ScreeningRow], randomized_arms: Iterable[str]) -> dict:
    """Persons, not screenings: a re-screened person counts once, by the latest screening."""
    rows = list(screenings)
    superseded = {r.rescreen_of_id for r in rows if r.rescreen_of_id}
    latest = [r for r in rows if r.screening_id not in superseded]
    failures = [r for r in latest if not r.eligible and not r.enrolled_on]
    reasons = Counter(code for r in failures for code in r.failed_codes)
    randomized = Counter(randomized_arms)
    enrolled = sum(1 for r in latest if r.enrolled_on)
    return {
        "assessed_for_eligibility": len(latest),
        "rescreened": len(superseded),
        "excluded": len(failures),
        "excluded_by_reason": dict(reasons.most_common()),
        "eligible_awaiting_confirmation": sum(
            1 for r in latest if r.eligible and not r.enrolled_on
        ),
        "enrolled": enrolled,
        # enrolled, then shown ineligible by a corrected screening (eligibility violations)
        "enrolled_ineligible": sum(1 for r in latest if r.enrolled_on and not r.eligible),
        "randomized": sum(randomized.values()),
        "randomized_by_arm": dict(sorted(randomized.items())),
        "enrolled_not_randomized": enrolled - sum(randomized.values()),
    }
