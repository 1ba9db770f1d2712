"""The facts a page reads once per request (inkt_trial/memo.py, issue 16): the same facts as
the uncached selectors, nothing remembered outside a GET request nor after it."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from assessments import checks
from assessments import services as imaging
from assessments.recist import Criterion
from enrollment import course, evidence
from enrollment.models import Patient
from inkt_trial import memo
from outcomes import synthetic


class Reads:
    """A read of ids -> {id: value} that counts the ids it was asked for."""

    def __init__(self):
        self.asked = []

    def __call__(self, ids):
        ids = list(ids)
        self.asked.append(ids)
        return {i: [i * 10] for i in ids if i != 3}  # nothing for 3


def test_outside_a_request_every_call_reads():
    reads = Reads()
    cached = memo.per_id(reads)
    assert cached([1, 2]) == {1: [10], 2: [20]}
    assert cached([1, 2]) == {1: [10], 2: [20]}
    assert reads.asked == [[1, 2], [1, 2]]
    assert not memo.active()


def test_within_a_request_each_id_is_read_once_and_only_the_missing_ones():
    reads = Reads()
    cached = memo.per_id(reads)
    with memo.request_scope():
        assert cached([1, 2, 3]) == {1: [10], 2: [20]}
        assert cached({2, 3, 4}) == {2: [20], 4: [40]}
        assert cached([1]) == {1: [10]}
    assert reads.asked == [[1, 2, 3], [4]]
    cached([1])  # the request is over: read again
    assert reads.asked[-1] == [1]


def test_a_caller_changing_what_it_got_changes_nothing_remembered():
    cached = memo.per_id(Reads())
    with memo.request_scope():
        got = cached([1])
        got[1].append("changed")
        got[2] = ["added"]
        assert cached([1, 2]) == {1: [10], 2: [20]}
        kept = memo.remember("key", lambda: ["a"])
        kept.append("b")
        assert memo.remember("key", lambda: ["other"]) == ["a"]


def test_a_failure_is_not_remembered():
    calls = []

    def fails():
        calls.append(1)
        raise ValueError("no")

    with memo.request_scope():
        for _ in range(2):
            with pytest.raises(ValueError):
                memo.remember("failing", fails)
    assert len(calls) == 2


@pytest.fixture
def trial(trial_users):
    synthetic.generate(seed=21, patients=12, today=timezone.localdate())
    return list(Patient.objects.order_by("pk"))


def facts(patients):
    """Every course fact the patient page's boxes share, as plain values."""
    ids = [p.pk for p in patients]
    found = {
        "stops": evidence.stops_of(ids),
        "plans": evidence.plans_of(ids),
        "treatment_stops": course.treatment_stops_of(ids),
        "progression": checks.progression(ids),
        "cases": imaging.cases(ids),
    }
    for patient in patients:
        found[patient.pk] = {
            "state": course.state(patient)["transitions"],
            "discordance": imaging.discordance(patient),
            "pending": imaging.pending_adjudication(patient),
            "status": imaging.imaging_status(patient),
            "accepted": {c: imaging.accepted_series(patient, c) for c in Criterion},
            "progression_stop": imaging.progression_stop(patient),
        }
    return found


@pytest.mark.django_db
def test_the_memo_gives_the_facts_of_the_uncached_selectors(trial):
    uncached = facts(trial)
    assert any(uncached["progression"].values())  # the trial has progression to compare
    with memo.request_scope():
        one_by_one = {}
        for patient in reversed(trial):  # each patient first, then all of them together
            one_by_one.update(facts([patient]))
        together = facts(trial)
        again = facts(trial)
    assert together == uncached
    assert again == uncached
    for patient in trial:
        assert one_by_one[patient.pk] == uncached[patient.pk]


@pytest.mark.django_db
def test_the_second_read_within_a_request_costs_no_query(trial):
    ids = [p.pk for p in trial]
    with memo.request_scope():
        facts(trial)
        with CaptureQueriesContext(connection) as captured:
            evidence.stops_of(ids)
            course.treatment_stops_of(ids)
            checks.progression(ids)
            imaging.cases(ids)
    assert len(captured) == 0


@pytest.mark.django_db
def test_the_memo_is_open_for_a_get_only_and_closed_after_it(client_as, trial, trial_users):
    client = client_as(trial_users["coordinator"])
    patient = trial[0]
    with CaptureQueriesContext(connection) as first:
        assert client.get(f"/patients/{patient.study_id}/").status_code == 200
    with CaptureQueriesContext(connection) as second:
        assert client.get(f"/patients/{patient.study_id}/").status_code == 200
    assert len(second) == len(first)  # nothing carried over from the first request
    assert not memo.active()

    seen = []
    middleware = memo.RequestMemoMiddleware(lambda request: seen.append(memo.active()) or "ok")
    for method in ("GET", "HEAD", "POST"):
        request = type("Request", (), {"method": method})()
        assert middleware(request) == "ok"
    assert seen == [True, True, False]
    assert not memo.active()


NOW = timezone.now()


def records(patients):
    """The records the patient page's boxes and its deviations share, as plain values, and
    what is derived from them (the dose spans, the deviations' facts, the toxicity stops)."""
    from assessments.selectors import scans_of
    from datamanagement.deviation_selectors import patient_facts
    from dosing.selectors import dose_spans, exposures_of
    from safety.checks import withdrawn_for_toxicity
    from safety.selectors import events_of

    ids = [p.pk for p in patients]
    return {
        "scans": {pid: [s.pk for s in found] for pid, found in scans_of(ids).items()},
        "events": {pid: [e.pk for e in found] for pid, found in events_of(ids).items()},
        "exposures": {pid: [x.pk for x in found] for pid, found in exposures_of(ids).items()},
        "spans": dose_spans(ids),
        "toxicity": withdrawn_for_toxicity(ids),
        "facts": patient_facts(
            Patient.objects.filter(pk__in=ids).order_by("pk"),
            today=timezone.localdate(NOW),
            now=timezone.localtime(NOW),
        ),
    }


@pytest.mark.django_db
def test_the_shared_records_are_what_each_box_read_itself(trial):
    from assessments.models import Scan
    from dosing.models import DrugExposure
    from safety.models import AdverseEvent

    uncached = records(trial)
    ids = [p.pk for p in trial]
    assert uncached["scans"] == {
        pid: list(
            Scan.objects.filter(patient_id=pid)
            .order_by("scan_date", "pk")
            .values_list("pk", flat=True)
        )
        for pid in ids
        if Scan.objects.filter(patient_id=pid).exists()
    }
    assert sorted(pk for found in uncached["events"].values() for pk in found) == sorted(
        AdverseEvent.objects.filter(patient_id__in=ids).values_list("pk", flat=True)
    )
    assert sorted(pk for found in uncached["exposures"].values() for pk in found) == sorted(
        DrugExposure.objects.filter(patient_id__in=ids).values_list("pk", flat=True)
    )
    assert uncached["spans"] and uncached["facts"]
    with memo.request_scope():
        one_by_one = [records([patient]) for patient in reversed(trial)]
        together = records(trial)
    assert together == uncached
    for patient, alone in zip(reversed(trial), one_by_one, strict=True):
        for name in ("scans", "events", "exposures", "spans", "toxicity"):
            assert alone[name] == {
                pid: v for pid, v in uncached[name].items() if pid == patient.pk
            }, name
        assert alone["facts"] == [f for f in uncached["facts"] if f.patient_id == patient.pk]
