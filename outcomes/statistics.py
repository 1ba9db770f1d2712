"""Per-arm statistics (pure, no Django): Kaplan-Meier, log-rank and Cox by lifelines; exact
binomial confidence intervals by scipy. Our own code only reads the fitted curves.

Conventions (written into every export, see CONVENTIONS):
- KM confidence intervals: Greenwood's variance with the log-log transform (lifelines' default,
  as SAS LIFETEST; R's survfit defaults to "log").
- A median (or a CI limit) is the first time the curve (or the CI band) is at or below 0.5,
  compared with a tolerance; a curve that never gets there gives "not reached" (None), also
  when lifelines would give a finite number (the band is undefined where S(t) is 0: lifelines
  reports (0, 0) there, which we drop).
- Numbers at risk at t count patients whose time is >= t (as R and survminer do).
- Cox hazard ratio RPI vs RP (HR < 1 favours RPI), Efron ties (lifelines' method); log-rank
  p two-sided.
- ORR and DCR: exact Clopper-Pearson 95 % intervals; the difference between arms with the
  Newcombe hybrid score interval (Wilson limits of each arm).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from lifelines import CoxPHFitter, KaplanMeierFitter
from lifelines.statistics import logrank_test
from scipy.stats import beta, norm

TOLERANCE = 1e-9
MONTH = 30.4375
HR_DIRECTION = "HR RPI vs RP (HR < 1 favours RPI)"
CONVENTIONS = (
    "KM CI: Greenwood variance, log-log transform (lifelines default; SAS LIFETEST). "
    "Median and CI limits: first time S(t) <= 0.5 (tolerance 1e-9); never reached: 'not "
    f"reached'. Numbers at risk at t: time >= t. Cox {HR_DIRECTION}, Efron ties. Log-rank "
    "two-sided. ORR/DCR: Clopper-Pearson exact 95% CI; difference: Newcombe hybrid score."
)


@dataclass(frozen=True)
class Curve:
    """A fitted KM curve as steps: at times[i] the survival becomes survival[i]."""

    times: list[float]
    survival: list[float]
    lower: list[float | None]
    upper: list[float | None]
    censored: list[float]  # times of censorings (for the tick marks)


def fit(days: Sequence[float], events: Sequence[bool], label: str = "km"):
    kmf = KaplanMeierFitter(alpha=0.05)
    kmf.fit(np.asarray(days, dtype=float), np.asarray(events, dtype=bool), label=label)
    return kmf


def curve(kmf, days, events) -> Curve:
    times = [float(t) for t in kmf.survival_function_.index]
    survival = [float(s) for s in kmf.survival_function_.iloc[:, 0]]
    bands = kmf.confidence_interval_
    # Where S(t) is 0 Greenwood's variance is undefined; lifelines gives a band of (0, 0)
    # there, which would make a CI limit of the median finite: no band at those times.
    undefined = [s <= TOLERANCE for s in survival]
    lower = [
        None if math.isnan(v) or u else float(v)
        for v, u in zip(bands.iloc[:, 0], undefined, strict=True)
    ]
    upper = [
        None if math.isnan(v) or u else float(v)
        for v, u in zip(bands.iloc[:, 1], undefined, strict=True)
    ]
    censored = sorted(float(d) for d, e in zip(days, events, strict=True) if not e)
    return Curve(times, survival, lower, upper, censored)


def first_at_or_below_half(times, values) -> float | None:
    for t, v in zip(times, values, strict=True):
        if v is not None and v <= 0.5 + TOLERANCE:
            return t
    return None


def value_at(c: Curve, t: float, values) -> float | None:
    """The step function's value at t. After the last observed time it is not estimable
    (None), unless the curve ended at 0 (everyone had the event): then S stays 0."""
    if not c.times:
        return None
    if t > max(c.times[-1], *(c.censored or [0])):
        ended = c.survival[-1] is not None and c.survival[-1] <= TOLERANCE
        return 0.0 if ended and values is c.survival else None
    found = None
    for time, value in zip(c.times, values, strict=True):
        if time > t:
            break
        found = value
    return found


def at_risk(days: Sequence[float], t: float) -> int:
    return sum(1 for d in days if d >= t)


@dataclass(frozen=True)
class ArmSummary:
    patients: int
    events: int
    median: float | None
    median_lower: float | None
    median_upper: float | None
    rates: dict[int, tuple[float | None, float | None, float | None]]  # months -> (S, lo, hi)
    at_risk: dict[int, int]  # months -> number at risk
    curve: Curve


def km_summary(
    days: Sequence[float],
    events: Sequence[bool],
    *,
    rate_months: Sequence[int] = (6, 12, 24),
    risk_every_months: int = 3,
    horizon_months: int = 36,
) -> ArmSummary:
    if not days:
        empty = Curve([], [], [], [], [])
        return ArmSummary(
            0, 0, None, None, None, {m: (None, None, None) for m in rate_months}, {}, empty
        )
    kmf = fit(days, events)
    c = curve(kmf, days, events)
    rates = {}
    for months in rate_months:
        t = months * MONTH
        rates[months] = (
            value_at(c, t, c.survival),
            value_at(c, t, c.lower),
            value_at(c, t, c.upper),
        )
    marks = range(0, horizon_months + 1, risk_every_months)
    return ArmSummary(
        patients=len(days),
        events=int(sum(bool(e) for e in events)),
        median=first_at_or_below_half(c.times, c.survival),
        median_lower=first_at_or_below_half(c.times, c.lower),
        median_upper=first_at_or_below_half(c.times, c.upper),
        rates=rates,
        at_risk={m: at_risk(days, m * MONTH) for m in marks},
        curve=c,
    )


def log_rank(days_a, events_a, days_b, events_b) -> float | None:
    if not days_a or not days_b or not (any(events_a) or any(events_b)):
        return None
    return float(logrank_test(days_a, days_b, events_a, events_b).p_value)


def cox_hazard_ratio(days_a, events_a, days_b, events_b) -> tuple[float, float, float] | None:
    """Hazard ratio of arm a versus arm b with its 95 % CI (Efron ties); None when it cannot
    be estimated (an arm empty or without events, or no convergence)."""
    if not days_a or not days_b or not any(events_a) or not any(events_b):
        return None
    frame = pd.DataFrame(
        {
            "days": list(days_a) + list(days_b),
            "event": [bool(e) for e in events_a] + [bool(e) for e in events_b],
            "arm_a": [1] * len(days_a) + [0] * len(days_b),
        }
    )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cph = CoxPHFitter().fit(frame, duration_col="days", event_col="event")
    except Exception:  # lifelines raises ConvergenceError and others: not estimable
        return None
    row = cph.summary.loc["arm_a"]
    found = (
        float(row["exp(coef)"]),
        float(row["exp(coef) lower 95%"]),
        float(row["exp(coef) upper 95%"]),
    )
    if not all(math.isfinite(v) and v > 0 for v in found):
        return None  # a degenerate fit (e.g. complete separation): not estimable
    return found


def clopper_pearson(k: int, n: int, level: float = 0.95) -> tuple[float | None, float | None]:
    if n == 0:
        return None, None
    a = (1 - level) / 2
    lower = 0.0 if k == 0 else float(beta.ppf(a, k, n - k + 1))
    upper = 1.0 if k == n else float(beta.ppf(1 - a, k + 1, n - k))
    return lower, upper


def wilson(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    z = norm.ppf(1 - (1 - level) / 2)
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def difference(k1: int, n1: int, k2: int, n2: int, level: float = 0.95):
    """p1 - p2 with the Newcombe hybrid score interval (method 10, Newcombe 1998)."""
    if n1 == 0 or n2 == 0:
        return None, None, None
    p1, p2 = k1 / n1, k2 / n2
    l1, u1 = wilson(k1, n1, level)
    l2, u2 = wilson(k2, n2, level)
    d = p1 - p2
    lower = d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    upper = d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return d, lower, upper
