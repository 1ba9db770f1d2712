"""Evaluated series kept once computed (pure): the key of one evaluation (the engine's version,
the criterion, day 0 and the reads, as content), the series as stored (JSON) and back, and
`Evaluations`, which answers an evaluation from what is stored and evaluates (and remembers)
only what is not.

The key is the content of everything the evaluation depends on, so a stored series can never
be stale: a changed read, day 0, criterion or engine is another key, evaluated afresh. The
engine's version is a digest of the rule modules' own source (recist.py, reads.py): any change
to the rules makes every stored series a miss, never a wrong answer."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import asdict
from datetime import date
from pathlib import Path

from assessments import reads as read_rules
from assessments.recist import Criterion, SeriesResult, TimepointResult

ENGINE = hashlib.sha256(
    b"".join((Path(__file__).parent / name).read_bytes() for name in ("recist.py", "reads.py"))
).hexdigest()[:16]

_DATES = ("first_response_date", "progression_date", "icpd_scan_date", "unconfirmed_iupd_date")


def key(reads: list[tuple[date, dict]], *, enrolled: date, criterion: Criterion) -> str:
    """The evaluation's identity: equal inputs (and engine), equal key. The SHA-256 of
    [engine, criterion, day 0, reads] as compact sorted JSON."""
    return keys(reads, enrolled=enrolled, criteria=(criterion,))[criterion]


def keys(
    reads: list[tuple[date, dict]], *, enrolled: date, criteria=tuple(Criterion)
) -> dict[Criterion, str]:
    """`key` for each of the criteria, the reads written out once: the JSON of a list is its
    items' JSON joined by commas, so the text after the criterion is shared."""
    tail = json.dumps(
        [enrolled.isoformat(), [[d.isoformat(), x] for d, x in reads]],
        sort_keys=True,
        separators=(",", ":"),
    )[1:]
    head = f"[{json.dumps(ENGINE)},"
    return {
        c: hashlib.sha256(f"{head}{json.dumps(str(c))},{tail}".encode()).hexdigest()
        for c in criteria
    }


def dump(series: SeriesResult) -> dict:
    found = asdict(series)
    found["criterion"] = str(series.criterion)
    for name in _DATES:
        found[name] = _iso(found[name])
    found["timepoints"] = [{**t, "date": t["date"].isoformat()} for t in found["timepoints"]]
    return found


def load(stored: Mapping) -> SeriesResult:
    return SeriesResult(
        criterion=Criterion(stored["criterion"]),
        baseline_sum=stored["baseline_sum"],
        timepoints=tuple(
            TimepointResult(**{**t, "date": date.fromisoformat(t["date"])})
            for t in stored["timepoints"]
        ),
        best_overall_response=stored["best_overall_response"],
        **{name: _day(stored.get(name)) for name in _DATES},
    )


def _iso(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


def _day(text: str | None) -> date | None:
    return None if text is None else date.fromisoformat(text)


Evaluate = Callable[..., SeriesResult]


class Evaluations:
    """Series by key as stored (`stored`: key -> dumped series); `evaluate` (the signature of
    reads.evaluate_series) and `evaluate_criteria` (of reads.evaluate_criteria) evaluate only
    what is not stored, remembering it in `new` (key -> (owner, criterion, dumped series)) for
    the caller to store. `owner` tags what is evaluated next (the patient) so the caller knows
    whose it is."""

    def __init__(self, stored: Mapping[str, Mapping] | None = None):
        self._stored = dict(stored or {})
        self._loaded: dict[str, SeriesResult] = {}
        self.new: dict[str, tuple[object, str, dict]] = {}
        self.owner: object = None
        self.hits = self.misses = 0

    def _known(self, found_key: str) -> SeriesResult | None:
        if found_key not in self._loaded and found_key in self._stored:
            self._loaded[found_key] = load(self._stored[found_key])
        return self._loaded.get(found_key)

    def _remember(self, found_key: str, series: SeriesResult) -> SeriesResult:
        self.misses += 1
        self.new[found_key] = (self.owner, str(series.criterion), dump(series))
        self._loaded[found_key] = series
        return series

    def evaluate(
        self, reads: list[tuple[date, dict]], *, enrolled: date, criterion: Criterion
    ) -> SeriesResult:
        found_key = key(reads, enrolled=enrolled, criterion=criterion)
        known = self._known(found_key)
        if known is not None:
            self.hits += 1
            return known
        series = read_rules.evaluate_series(reads, enrolled=enrolled, criterion=criterion)
        return self._remember(found_key, series)

    def evaluate_criteria(
        self, reads: list[tuple[date, dict]], *, enrolled: date
    ) -> dict[Criterion, SeriesResult]:
        found = keys(reads, enrolled=enrolled, criteria=tuple(Criterion))
        known = {c: self._known(k) for c, k in found.items()}
        if all(series is not None for series in known.values()):
            self.hits += len(known)
            return known
        evaluated = read_rules.evaluate_criteria(reads, enrolled=enrolled)
        return {c: self._remember(found[c], series) for c, series in evaluated.items()}
