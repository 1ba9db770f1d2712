"""Database lock (pure): which records a lock freezes, and whether the data of an endpoint
run's cut-off are locked.

A lock freezes, for one patient or for every patient (and every screening, enrolled or not),
each clinical record dated on or before its cut-off (the record's clinical date: a scan's date,
an adverse event's onset, a course's infusion day...; `ClinicalRecord.freeze_key`). A frozen
record is neither changed nor added, nor moved into or out of the frozen dates, until a data
manager unfreezes it with a reason: a whole lock, or one patient out of a lock of every patient.
This is the "hard lock" of ICH E6(R3) 4.2/4.3 practice: data cleaned, then frozen for the
analysis (FDA, Guidance for Industry: Electronic Source Data in Clinical Investigations, 2013;
and the audit-trail rules of 21 CFR 11.10(e)).

An endpoint run's data are locked when every patient in it has a lock in force whose cut-off
is on or after the run's. From the moment the last of those locks was made, nothing the run
reads up to its cut-off can change; what it reads after the cut-off (whether a patient was
known alive then) it reads as it stood at that moment, so the same run is the same, bit for
bit, however the trial goes on."""

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from inkt_trial.freezing import LockState


@dataclass(frozen=True)
class Lock:
    number: str
    patient_id: int | None  # None: every patient, and every screening
    cutoff: date
    locked_at: datetime
    unfrozen: bool = False  # unfrozen altogether
    unfrozen_for: frozenset[int] = field(default_factory=frozenset)  # out of an all-patient lock

    def covers(self, patient_id: int | None) -> bool:
        """In force for the patient's records (None: a screening of nobody enrolled)."""
        if self.unfrozen:
            return False
        if self.patient_id is None:
            return patient_id is None or patient_id not in self.unfrozen_for
        return self.patient_id == patient_id


def by_patient(locks: Iterable[Lock]):
    """patient id -> the locks that may concern it (its own and those of every patient), for
    many patients without looking at every lock each time."""
    general, own = [], defaultdict(list)
    for lock in locks:
        (general if lock.patient_id is None else own[lock.patient_id]).append(lock)
    return lambda patient_id: general + own.get(patient_id, [])


def frozen_until(locks: Iterable[Lock], patient_id: int | None) -> date | None:
    """The last date of the patient's records that the locks in force freeze."""
    return max((lock.cutoff for lock in locks if lock.covers(patient_id)), default=None)


def freezing_lock(locks: Iterable[Lock], patient_id: int | None, day: date) -> Lock | None:
    """The lock that freezes a record of the patient dated `day` (the latest cut-off), or None."""
    found = [lock for lock in locks if lock.covers(patient_id) and day <= lock.cutoff]
    return max(found, key=lambda lock: (lock.cutoff, lock.locked_at), default=None)


def run_state(patients: Mapping[int, str], cutoff: date, locks: Iterable[Lock]) -> LockState:
    """Whether every patient's records up to `cutoff` are frozen (`patients`: id -> study id),
    since when (for each patient the earliest lock in force that covers the cut-off; the
    latest of those over the patients), and by which locks."""
    concerning = by_patient(locks)
    since, used, unlocked = [], set(), []
    for patient_id, study_id in patients.items():
        covering = [
            lock
            for lock in concerning(patient_id)
            if lock.covers(patient_id) and lock.cutoff >= cutoff
        ]
        if not covering:
            unlocked.append(study_id)
            continue
        first = min(covering, key=lambda lock: (lock.locked_at, lock.number))
        since.append(first.locked_at)
        used.add(first.number)
    locked = bool(patients) and not unlocked
    return LockState(
        locked=locked,
        as_of=max(since) if locked else None,
        locks=tuple(sorted(used)) if locked else (),
        patients=len(patients),
        unlocked=tuple(sorted(unlocked)),
    )
