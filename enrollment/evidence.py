"""What the apps above enrollment tell it about a patient, without enrollment importing them:
each app registers, in its AppConfig.ready, functions that enrollment's status rules call.

- `evidence` providers: patient id -> the dated facts of that app's records (enrollment.status
  .Evidence: doses of each drug, scans, questionnaires, adverse events, survival contacts).
- `fatal_dates` providers: patient id -> death dates recorded elsewhere (grade 5 adverse events).
- `stops` providers: patient ids -> {patient id: the ends of treatment another record implies}
  (enrollment.status.DrugEnd: progression on the accepted reads, a drug withdrawn for an
  adverse event, the last iNKT course), derived each time, never stored; for any number of
  patients in a fixed number of queries.
- the `plan` provider (one, randomization's): patient ids -> {patient id: (randomization date,
  drugs of the arm)} for those randomized, in a fixed number of queries.

`rules()` names the rules the patient's state is derived under (enrollment.models.CourseState).
"""

import functools
import hashlib
import inspect
from collections.abc import Callable, Iterable
from datetime import date
from pathlib import Path

from enrollment import status
from enrollment.status import DrugEnd, Evidence
from inkt_trial import memo

_EVIDENCE: list[Callable[[int], Iterable[Evidence]]] = []
_FATAL: list[Callable[[int], Iterable[date]]] = []
_STOPS: list[Callable[[list[int]], dict[int, list[DrugEnd]]]] = []
_PLAN: list[Callable[[list[int]], dict[int, tuple[date, tuple[str, ...]]]]] = []


def _add(registry: list, provider: Callable) -> Callable:
    if provider not in registry:
        registry.append(provider)
    return provider


def register_evidence(provider):
    return _add(_EVIDENCE, provider)


def register_fatal_dates(provider):
    return _add(_FATAL, provider)


def register_stops(provider):
    return _add(_STOPS, provider)


def register_plan(provider):
    if _PLAN and _PLAN[0] is not provider:
        raise RuntimeError("The treatment plan has one provider (randomization).")
    return _add(_PLAN, provider)


def evidence(patient_id: int) -> list[Evidence]:
    return sorted((e for provider in _EVIDENCE for e in provider(patient_id)), key=lambda e: e.date)


def fatal_dates(patient_id: int) -> list[date]:
    return [d for provider in _FATAL for d in provider(patient_id)]


@memo.per_id  # once per request: every box of a patient page asks
def stops_of(patient_ids) -> dict[int, list[DrugEnd]]:
    ids = list(patient_ids)
    found: dict[int, list[DrugEnd]] = {pid: [] for pid in ids}
    for provider in _STOPS:
        for pid, ends in provider(ids).items():
            found[pid].extend(ends)
    return found


def stops(patient_id: int) -> list[DrugEnd]:
    return stops_of([patient_id])[patient_id]


@memo.per_id
def plans_of(patient_ids) -> dict[int, tuple[date, tuple[str, ...]]]:
    """(day 0, drugs) of each randomized patient among them; the others are absent (all are
    with no randomization app)."""
    return _PLAN[0](list(patient_ids)) if _PLAN else {}


def plan(patient_id: int) -> tuple[date, tuple[str, ...]] | None:
    """(day 0, drugs) once randomized; None before (or with no randomization app)."""
    return plans_of([patient_id]).get(patient_id)


def rules() -> str:
    """The version of the rules a patient's state is derived under: the text of enrollment's
    status rules and of each stops and plan provider's module (a change to any of them derives
    every stored state again), with what a provider adds (its `rules` attribute: the response
    engine's version, for progression on the accepted reads)."""
    return _rules(tuple(_STOPS + _PLAN))


@functools.cache
def _rules(providers: tuple) -> str:
    parts = [Path(status.__file__).read_bytes()]
    for provider in providers:
        parts.append(Path(inspect.getsourcefile(inspect.unwrap(provider))).read_bytes())
        parts.append(str(getattr(provider, "rules", "")).encode())
    return hashlib.sha256(b"\0".join(parts)).hexdigest()[:16]
