"""Database lock rules (datamanagement/locks.py): what a lock freezes, and when a run's data
are locked."""

from datetime import UTC, date, datetime

from datamanagement import locks

T1 = datetime(2026, 11, 1, 9, tzinfo=UTC)
T2 = datetime(2026, 11, 20, 9, tzinfo=UTC)
T3 = datetime(2026, 11, 25, 9, tzinfo=UTC)


def lock(number, patient_id, cutoff, at=T1, **kwargs):
    return locks.Lock(number, patient_id, cutoff, at, **kwargs)


def test_a_lock_of_every_patient_covers_screenings_of_nobody_enrolled_too():
    every = lock("L-0001", None, date(2026, 10, 31))
    assert every.covers(7) and every.covers(None)
    assert locks.frozen_until([every], None) == date(2026, 10, 31)


def test_a_patient_lock_covers_that_patient_only():
    own = lock("L-0001", 7, date(2026, 10, 31))
    assert own.covers(7) and not own.covers(8) and not own.covers(None)
    assert locks.frozen_until([own], 8) is None


def test_a_record_dated_on_the_cutoff_is_frozen_the_day_after_is_not():
    rows = [lock("L-0001", 7, date(2026, 10, 31))]
    assert locks.freezing_lock(rows, 7, date(2026, 10, 31)).number == "L-0001"
    assert locks.freezing_lock(rows, 7, date(2026, 11, 1)) is None


def test_the_latest_cutoff_in_force_freezes():
    rows = [
        lock("L-0001", None, date(2026, 6, 30)),
        lock("L-0002", 7, date(2026, 10, 31), at=T2),
    ]
    assert locks.frozen_until(rows, 7) == date(2026, 10, 31)
    assert locks.frozen_until(rows, 8) == date(2026, 6, 30)
    assert locks.freezing_lock(rows, 7, date(2026, 5, 1)).number == "L-0002"


def test_an_unfrozen_lock_freezes_nothing():
    rows = [lock("L-0001", None, date(2026, 10, 31), unfrozen=True)]
    assert locks.frozen_until(rows, 7) is None and locks.frozen_until(rows, None) is None


def test_one_patient_unfrozen_out_of_a_lock_of_every_patient():
    rows = [lock("L-0001", None, date(2026, 10, 31), unfrozen_for=frozenset({7}))]
    assert locks.frozen_until(rows, 7) is None
    assert locks.frozen_until(rows, 8) == date(2026, 10, 31)
    assert locks.frozen_until(rows, None) == date(2026, 10, 31)  # screenings stay frozen


def test_a_run_is_locked_when_every_patient_is_locked_up_to_its_cutoff():
    rows = [lock("L-0001", None, date(2026, 10, 31))]
    state = locks.run_state({7: "INKT-001", 8: "INKT-002"}, date(2026, 10, 31), rows)
    assert state.locked and state.as_of == T1 and state.locks == ("L-0001",)
    assert state.patients == 2 and state.unlocked == ()


def test_a_lock_before_the_runs_cutoff_does_not_lock_the_run():
    rows = [lock("L-0001", None, date(2026, 10, 30))]
    state = locks.run_state({7: "INKT-001"}, date(2026, 10, 31), rows)
    assert not state.locked and state.as_of is None and state.unlocked == ("INKT-001",)


def test_one_patient_not_locked_leaves_the_run_unlocked_and_is_named():
    rows = [lock("L-0001", 7, date(2026, 10, 31))]
    state = locks.run_state({7: "INKT-001", 8: "INKT-002"}, date(2026, 10, 31), rows)
    assert not state.locked and state.unlocked == ("INKT-002",) and state.locks == ()


def test_the_data_are_locked_since_the_latest_of_the_patients_first_locks():
    rows = [
        lock("L-0001", 7, date(2026, 10, 31), at=T1),
        lock("L-0002", 8, date(2026, 10, 31), at=T2),
        lock("L-0003", 7, date(2026, 11, 15), at=T3),  # a later lock changes nothing for 7
    ]
    state = locks.run_state({7: "INKT-001", 8: "INKT-002"}, date(2026, 10, 31), rows)
    assert state.locked and state.as_of == T2 and state.locks == ("L-0001", "L-0002")


def test_a_patient_unfrozen_and_locked_again_counts_from_the_new_lock():
    rows = [
        lock("L-0001", None, date(2026, 10, 31), at=T1, unfrozen_for=frozenset({7})),
        lock("L-0002", 7, date(2026, 10, 31), at=T3),
    ]
    state = locks.run_state({7: "INKT-001", 8: "INKT-002"}, date(2026, 10, 31), rows)
    assert state.locked and state.as_of == T3 and state.locks == ("L-0001", "L-0002")


def test_no_patient_no_locked_run():
    assert not locks.run_state(
        {}, date(2026, 10, 31), [lock("L-0001", None, date(2026, 11, 1))]
    ).locked
