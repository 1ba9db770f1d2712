"""The patient's stored state (enrollment.models.CourseState): outdated by each clinical record
saved, in that record's transaction, whichever app the record belongs to, and derived again
once it commits; equal to the state derived from the records, which the patient list shows and
filters by (deriving it where outdated, missing or stored under other rules); checked and
restored by `manage.py course_states`.

The tests' transactions never commit: `committed` runs a write as if it did (the callbacks it
left for its commit, run)."""

import threading
from datetime import timedelta
from unittest import mock

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.utils import timezone

from enrollment import course, status
from enrollment.models import CourseState, Patient, TreatmentEnd
from outcomes import synthetic
from outcomes.tests.test_runs import hand_built
from tests import test_patient_course
from tests.test_patient_course import days_ago, event, pd1

pytestmark = pytest.mark.django_db
patient_of = test_patient_course.patient_of  # the fixture: a randomized patient, baseline scanned


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    def write(call):
        with django_capture_on_commit_callbacks(execute=True):
            return call()

    return write


def stored(patient) -> str | None:
    return course.stored_states([patient.pk]).get(patient.pk)


def derived(patient) -> str:
    return course.state(patient)["state"]


def listed(api, **params) -> set[str]:
    response = api.get("/api/patients/", params)
    assert response.status_code == 200, response.json()
    return {r["study_id"] for r in response.json()["results"]}


def test_the_state_follows_the_records_that_change_it(enrol, patient_of, coordinator, committed):
    waiting = committed(enrol)
    assert stored(waiting) == derived(waiting) == status.ON_STUDY  # the patient's own save
    patient = committed(lambda: patient_of("RP"))
    assert stored(patient) == derived(patient) == status.ON_TREATMENT  # the allocation's save
    committed(lambda: pd1(patient, coordinator, days_ago(30)))
    # an adverse event that withdraws both drugs of the arm: follow-up, with no end recorded
    both = {f"action_{drug}": "withdrawn" for drug in ("pd1", "regorafenib")}
    failure = {"term": "Hepatic failure", "grade": 3, **both}
    committed(lambda: event(patient, coordinator, days_ago(25), **failure))
    assert not TreatmentEnd.objects.filter(patient=patient).exists()
    assert stored(patient) == derived(patient) == status.IN_FOLLOW_UP
    committed(
        lambda: course.status_change_record(
            patient=patient, by=coordinator, kind=status.DEATH, date=days_ago(3), cause="HCC"
        )
    )
    assert stored(patient) == derived(patient) == status.OFF_STUDY_STATE


def test_a_record_outdates_the_state_until_its_transaction_commits(
    patient_of, coordinator, committed, api_as
):
    patient = committed(lambda: patient_of("RPI"))
    assert stored(patient) == status.ON_TREATMENT
    course.status_change_record(  # not committed yet: the stored state is outdated
        patient=patient, by=coordinator, kind=status.DEATH, date=days_ago(3), cause="HCC"
    )
    assert CourseState.objects.get(patient=patient).state == course.OUTDATED
    assert stored(patient) is None
    # meanwhile the list derives it
    api = api_as(coordinator)
    row = api.get("/api/patients/", {"search": patient.study_id}).json()["results"][0]
    assert row["status"] == derived(patient) == status.OFF_STUDY_STATE
    assert listed(api, status=status.OFF_STUDY_STATE) == {patient.study_id}
    course.states_refresh([patient.pk])  # what the commit runs
    assert stored(patient) == status.OFF_STUDY_STATE


def test_progression_on_the_signed_reads_is_stored(randomized, trial_users, committed):
    randomized("RP")  # prepares the allocation sequence
    randomized_on = timezone.localdate() - timedelta(days=200)
    patient = committed(
        lambda: hand_built(trial_users, randomized_on=randomized_on, sums=[45, 70, 80])
    )
    assert course.courses_of([patient])[patient.pk].derived  # progression: no end recorded
    assert stored(patient) == derived(patient) == status.IN_FOLLOW_UP


def test_a_record_rolled_back_leaves_the_state_as_it_was(patient_of, coordinator, committed):
    patient = committed(lambda: patient_of("RPI"))

    def rolled_back():
        with pytest.raises(RuntimeError), transaction.atomic():
            course.status_change_record(
                patient=patient, by=coordinator, kind=status.DEATH, date=days_ago(3), cause="HCC"
            )
            assert stored(patient) is None  # outdated, within the transaction
            raise RuntimeError

    committed(rolled_back)
    assert stored(patient) == derived(patient) == status.ON_TREATMENT


def test_a_synthetic_trial_stores_every_state_the_list_then_shows(trial_users, api_as, committed):
    committed(lambda: synthetic.generate(seed=11, patients=24, today=timezone.localdate()))
    patients = list(Patient.objects.all())
    assert course.states_compared([p.pk for p in patients]) == []
    states = {p.pk: course.state(p)["state"] for p in patients}
    assert len(set(states.values())) >= 3  # a trial with patients in several states
    api = api_as(trial_users["coordinator"])
    rows = api.get("/api/patients/").json()["results"]
    by_id = {p.study_id: states[p.pk] for p in patients}
    assert {r["study_id"]: r["status"] for r in rows} == by_id
    for state in status.STATES:
        assert listed(api, status=state) == {s for s, found in by_id.items() if found == state}


def test_states_stored_under_other_rules_are_derived_again(trial_users, api_as, capsys, committed):
    committed(lambda: synthetic.generate(seed=5, patients=8, today=timezone.localdate()))
    patients = list(Patient.objects.order_by("pk"))
    states = {p.study_id: course.state(p)["state"] for p in patients}
    CourseState.objects.update(rules="older rules")
    assert course.stored_states([p.pk for p in patients]) == {}
    api = api_as(trial_users["coordinator"])
    rows = api.get("/api/patients/").json()["results"]
    assert {r["study_id"]: r["status"] for r in rows} == states  # derived meanwhile
    for state in status.STATES:
        assert listed(api, status=state) == {s for s, found in states.items() if found == state}
    with pytest.raises(CommandError, match=f"{len(patients)} of {len(patients)} stored"):
        call_command("course_states", "--check")
    assert "stored nothing under the current rules" in capsys.readouterr().out
    call_command("course_states")
    n = len(patients)
    assert (
        f"{n} of {n} patients' states derived and stored ({n} changed)" in capsys.readouterr().out
    )
    call_command("course_states", "--check")
    assert f"{len(patients)} patients' states agree" in capsys.readouterr().out
    first = patients[0]
    wrong = next(s for s in status.STATES if s != states[first.study_id])
    CourseState.objects.filter(patient=first).update(state=wrong)
    with pytest.raises(CommandError, match=f"1 of {len(patients)} stored states differ"):
        call_command("course_states", "--check")
    assert f"patient {first.pk}: stored {wrong}" in capsys.readouterr().out
    call_command("course_states")  # only those it cannot read: none
    assert f"0 of {n} patients' states derived" in capsys.readouterr().out
    call_command("course_states", "--all")
    assert f"{n} of {n} patients' states derived and stored (1 changed)" in capsys.readouterr().out
    assert stored(first) == states[first.study_id]


def test_the_bulk_path_outdates_its_patients_states_and_stores_them_once_committed(
    trial_users, committed
):
    with transaction.atomic():
        synthetic.generate(seed=9, patients=12, today=timezone.localdate(), bulk=True)
        ids = list(Patient.objects.values_list("pk", flat=True))
        assert set(CourseState.objects.values_list("patient_id", flat=True)) == set(ids)
        assert course.stored_states(ids) == {}  # every state outdated until the commit
    committed(
        lambda: synthetic.generate(seed=9, patients=12, today=timezone.localdate(), bulk=True)
    )
    ids = list(Patient.objects.values_list("pk", flat=True))
    assert len(course.stored_states(ids)) == len(ids)
    assert course.states_compared(ids) == []


@pytest.mark.django_db(transaction=True)
def test_a_record_written_during_a_refresh_is_derived_after_it(randomized, coordinator):
    """A refresh that read the records before a death was recorded stores its state first; the
    death's transaction waits for it, marks the state outdated, and derives it again."""
    patient = randomized("RP")  # committed: its state stored
    assert stored(patient) == status.ON_TREATMENT
    derived_before, release = threading.Event(), threading.Event()
    original = course.courses_of

    def paused(patients):
        found = original(patients)
        if threading.current_thread().name == "refresh":
            derived_before.set()
            release.wait(20)
        return found

    def run(call):
        try:
            call()
        finally:
            connection.close()

    refresh = threading.Thread(
        target=run, args=(lambda: course.states_refresh([patient.pk]),), name="refresh"
    )
    death = threading.Thread(
        target=run,
        args=(
            lambda: course.status_change_record(
                patient=patient,
                by=coordinator,
                kind=status.DEATH,
                date=timezone.localdate(),
                cause="HCC",
            ),
        ),
    )
    with mock.patch.object(course, "courses_of", paused):
        refresh.start()
        assert derived_before.wait(20)
        death.start()
        death.join(1)
        assert death.is_alive()  # waiting for the refresh's lock on the stored state
        release.set()
        refresh.join(20)
        death.join(20)
    assert stored(patient) == derived(patient) == status.OFF_STUDY_STATE
