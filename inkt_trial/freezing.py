"""The database lock as the lower apps see it. The data-management app (the top layer) knows
the locks and registers, in its AppConfig.ready, the one provider: `ClinicalRecord.save` asks
it whether a record is frozen, an endpoint run whether the data of its cut-off are locked.
Without a provider (an app used alone) nothing is frozen and no run is locked."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from django.db import connection


@dataclass(frozen=True)
class LockState:
    """Whether the records of a run's patients up to its cut-off are frozen."""

    locked: bool = False  # every patient's records up to the cut-off are frozen
    as_of: datetime | None = None  # since when all of them are (the latest lock that counts)
    locks: tuple[str, ...] = ()  # the locks in force for them
    patients: int = 0
    unlocked: tuple[str, ...] = field(default=())  # study ids of patients not (fully) locked

    def as_dict(self) -> dict:
        return {
            "locked": self.locked,
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "locks": list(self.locks),
            "patients": self.patients,
            "unlocked": len(self.unlocked),
        }


@dataclass
class _Provider:
    refuse_frozen: Callable[[object], None]
    state: Callable[[Iterable[int], date], LockState]


_PROVIDER: list[_Provider] = []


def register(*, refuse_frozen, state) -> None:
    """The data-management app's lock: `refuse_frozen(record)` raises a DomainError for a
    change of a frozen record, `state(patient_ids, cutoff)` tells a run what is locked."""
    _PROVIDER[:] = [_Provider(refuse_frozen, state)]


# One PostgreSQL advisory lock orders the writes of clinical records and the making of a lock:
# every write holds it shared until its transaction ends, a new lock takes it alone, so a lock
# waits for the writes in flight to commit (their history then predates it) and a write that
# comes after sees the lock. SQLite serializes its writers by itself.
_ADVISORY_KEY = 0x494E4B54  # "INKT"


def hold_for_writing() -> None:
    """In the writer's transaction (ClinicalRecord.save): wait while a lock is being made."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock_shared(%s)", [_ADVISORY_KEY])


def hold_for_locking() -> None:
    """In the lock's transaction: wait for the writes in flight, and hold new ones back."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_ADVISORY_KEY])


def refuse_frozen(record) -> None:
    if _PROVIDER:
        _PROVIDER[0].refuse_frozen(record)


def state(patient_ids: Iterable[int], cutoff: date) -> LockState:
    return _PROVIDER[0].state(patient_ids, cutoff) if _PROVIDER else LockState()
