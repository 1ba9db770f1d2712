"""The patient's stored state (enrollment.models.CourseState): derived again with each clinical
record saved, in that record's transaction, whichever app the record belongs to; equal to the
state derived from the records, which the patient list shows and filters by; derived again when
stored under other rules; checked and restored by `manage.py course_states`."""

from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django.utils import timezone

from enrollment import course, status
from enrollment.models import CourseState, Patient, TreatmentEnd
from outcomes import synthetic
from outcomes.tests.test_runs import hand_built
from tests import test_patient_course
from tests.test_patient_course import days_ago, event, pd1

pytestmark = pytest.mark.django_db
patient_of = test_patient_course.patient_of  # the fixture: a randomized patient, baseline scanned


def stored(patient) -> str | None:
    return course.stored_states([patient.pk]).get(patient.pk)


def derived(patient) -> str:
    return course.state(patient)["state"]


def listed(api, **params) -> set[str]:
    response = api.get("/api/patients/", params)
    assert response.status_code == 200, response.json()
    return {r["study_id"] for r in response.json()["results"]}


def test_the_state_is_stored_with_the_records_that_change_it(enrol, patient_of, coordinator):
    waiting = enrol()
    assert stored(waiting) == derived(waiting) == status.ON_STUDY  # the patient's own save
    patient = patient_of("RP")
    assert stored(patient) == derived(patient) == status.ON_TREATMENT  # the allocation's save
    pd1(patient, coordinator, days_ago(30))
    # an adverse event that withdraws both drugs of the arm: follow-up, with no end recorded
    event(
        patient,
        coordinator,
        days_ago(25),
        term="Hepatic failure",
        grade=3,
        action_pd1="withdrawn",
        action_regorafenib="withdrawn",
    )
    assert not TreatmentEnd.objects.filter(patient=patient).exists()
    assert stored(patient) == derived(patient) == status.IN_FOLLOW_UP
    course.status_change_record(
        patient=patient, by=coordinator, kind=status.DEATH, date=days_ago(3), cause="HCC"
    )
    assert stored(patient) == derived(patient) == status.OFF_STUDY_STATE


def test_progression_on_the_signed_reads_is_stored(randomized, trial_users):
    randomized("RP")  # prepares the allocation sequence
    randomized_on = timezone.localdate() - timedelta(days=200)
    patient = hand_built(trial_users, randomized_on=randomized_on, sums=[45, 70, 80])
    assert course.courses_of([patient])[patient.pk].derived  # progression: no end recorded
    assert stored(patient) == derived(patient) == status.IN_FOLLOW_UP


def test_a_record_rolled_back_leaves_the_state_as_it_was(patient_of, coordinator):
    patient = patient_of("RPI")
    with pytest.raises(RuntimeError), transaction.atomic():
        course.status_change_record(
            patient=patient, by=coordinator, kind=status.DEATH, date=days_ago(3), cause="HCC"
        )
        assert stored(patient) == status.OFF_STUDY_STATE  # within the transaction
        raise RuntimeError
    assert stored(patient) == derived(patient) == status.ON_TREATMENT


def test_a_synthetic_trial_stores_every_state_the_list_then_shows(trial_users, api_as):
    with transaction.atomic():
        synthetic.generate(seed=11, patients=24, today=timezone.localdate())
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


def test_states_stored_under_other_rules_are_derived_again(trial_users, api_as, capsys):
    with transaction.atomic():
        synthetic.generate(seed=5, patients=8, today=timezone.localdate())
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
    assert f"states stored ({len(patients)} changed)" in capsys.readouterr().out
    call_command("course_states", "--check")
    assert f"{len(patients)} patients' states agree" in capsys.readouterr().out
    first = patients[0]
    wrong = next(s for s in status.STATES if s != states[first.study_id])
    CourseState.objects.filter(patient=first).update(state=wrong)
    with pytest.raises(CommandError, match=f"1 of {len(patients)} stored states differ"):
        call_command("course_states", "--check")
    assert f"patient {first.pk}: stored {wrong}" in capsys.readouterr().out
    call_command("course_states")
    assert "(1 changed)" in capsys.readouterr().out
    assert stored(first) == states[first.study_id]
