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
    b"".join(
        (Path(__file__).parent / name).read_bytes() for name in ("recist.py", "reads.py")
    )
).hexdigest()[:16]

_DATES = ("first_response_date", "progression_date", "icpd_scan_date", "unconfirmed_iupd_date")


def key(reads: list[tuple[date, dict]], *, enrolled: date, criterion: Criterion) -> str:
    """The evaluation's identity: equal inputs (and engine), equal key."""
    text = json.dumps(
        [ENGINE, str(criterion), enrolled.isoformat(), [[d.isoformat(), x] for d, x in reads]],
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(text.encode()).hexdigest()


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
    """Series by key as stored (`stored`: key -> dumped series); `evaluate` has the signature
    of reads.evaluate_series and evaluates only a key not stored, remembering it in `new`
    (key -> (owner, criterion, dumped series)) for the caller to store. `owner` tags what is
    evaluated next (the patient) so the caller knows whose it is."""

    def __init__(self, stored: Mapping[str, Mapping] | None = None):
        self._stored = dict(stored or {})
        self._loaded: dict[str, SeriesResult] = {}
        self.new: dict[str, tuple[object, str, dict]] = {}
        self.owner: object = None
        self.hits = self.misses = 0

    def evaluate(
        self, reads: list[tuple[date, dict]], *, enrolled: date, criterion: Criterion
    ) -> SeriesResult:
        found_key = key(reads, enrolled=enrolled, criterion=criterion)
        if found_key in self._loaded:
            self.hits += 1
            return self._loaded[found_key]
        if found_key in self._stored:
            self.hits += 1
            series = load(self._stored[found_key])
        else:
            self.misses += 1
            series = read_rules.evaluate_series(reads, enrolled=enrolled, criterion=criterion)
            self.new[found_key] = (self.owner, str(criterion), dump(series))
        self._loaded[found_key] = series
        return series
