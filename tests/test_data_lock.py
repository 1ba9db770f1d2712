"""The database lock: the data manager freezes a patient's (or every patient's) records dated
up to a cut-off; nothing there changes until an unfreeze with a reason; an endpoint run says
whether its data were locked, and a run on locked data is the same bit for bit however the
trial goes on."""

from datetime import timedelta

import pytest
from django.apps import apps
from django.utils import timezone

from accounts import roles
from assessments import services as imaging
from assessments.models import Read
from conftest import PASSWORD
from datamanagement import services
from datamanagement.models import DataQuery
from datamanagement.selectors import lock_blockers
from enrollment import services as enrollment
from enrollment.models import Patient
from inkt_trial.audit import ClinicalRecord
from inkt_trial.errors import DomainError
from outcomes import services as outcomes
from outcomes import synthetic
from outcomes.tests.test_runs import hand_built, rows_of
from safety import services as safety
from safety.models import CtcaeTerm

pytestmark = pytest.mark.django_db

# Records a lock never freezes: each says why in its model (ClinicalRecord.freeze_key).
UNDATED = {
    "dosing.infusionschedule",  # a plan; its courses are dated and frozen
    "assessments.readerassignment",  # fixed once made; the reads are dated and frozen
    "randomization.allocationsequence",  # the trial's sequence, no patient's data
    "randomization.enrolmentlimit",  # a trial-wide decision
    # the deviation log's follow-up (classification, corrective action, reporting to the ethics
    # committee) goes on after a lock: it is how the sponsor manages the trial, not its data
    "datamanagement.protocoldeviation",
    "datamanagement.deviationreview",
}


def days_ago(n):
    return timezone.localdate() - timedelta(days=n)


def test_every_clinical_record_decides_how_a_lock_freezes_it():
    undecided = {
        model._meta.label_lower
        for model in apps.get_models()
        if issubclass(model, ClinicalRecord) and "freeze_key" not in vars(model)
    }
    assert undecided == UNDATED


@pytest.fixture
def make_patient(randomized):
    return lambda: randomized(
        "RP",
        days_ago=40,
        consent_date=days_ago(50),
        screening_date=days_ago(49),
        prior_progression_date=days_ago(60),
    )


@pytest.fixture
def patient(make_patient):
    return make_patient()


def fatigue(patient, by, onset, grade=1):
    return safety.ae_record(
        patient=patient,
        by=by,
        term=CtcaeTerm.objects.get(term="Fatigue"),
        grade=grade,
        onset=onset,
    )


def test_a_locked_patient_refuses_every_change_up_to_the_cutoff(
    patient, make_patient, coordinator, data_manager
):
    event = fatigue(patient, coordinator, days_ago(30))
    lock = services.data_lock(
        by=data_manager, patient=patient, cutoff=days_ago(20), reason="Interim cleaning done"
    )
    assert lock.number == "L-0001" and lock.summary["patients"] == 1
    with pytest.raises(DomainError, match=r"locked \(database lock L-0001\)") as refused:
        safety.ae_correct(event=event, by=coordinator, reason="Worse", grade=2)
    assert patient.study_id not in str(refused.value)  # a blinded reader may be the one refused
    with pytest.raises(DomainError, match="can be added"):
        fatigue(patient, coordinator, days_ago(25))
    with pytest.raises(DomainError, match="locked"):
        enrollment.screening_update(
            screening=patient.screening, values={"weight_kg": 70}, by=coordinator, reason="Typo"
        )
    with pytest.raises(DomainError, match="unfreeze them before querying"):
        services.query_raise(record=event, field="grade", question="Grade?", by=data_manager)
    assert (  # an edit check leaves locked data alone
        services.query_raise(
            record=event, field="onset", question="?", by=services.checker(), check="test"
        )
        is None
    )
    later = fatigue(patient, coordinator, days_ago(10))  # after the cut-off: the trial goes on
    with pytest.raises(DomainError, match="locked"):  # nor moved into the frozen dates
        safety.ae_correct(event=later, by=coordinator, reason="Wrong date", onset=days_ago(21))
    other = make_patient()
    fatigue(other, coordinator, days_ago(30))  # another patient's records are not frozen

    services.data_unfreeze(lock=lock, by=data_manager, reason="Site found a transcription error")
    safety.ae_correct(event=event, by=coordinator, reason="Worse, per source", grade=2)
    history = [
        (h.history_change_reason, h.history_user) for h in lock.unfreezes.get().history.all()
    ]
    assert history == [("Unfrozen: Site found a transcription error", data_manager)]
    with pytest.raises(DomainError, match="already unfrozen"):
        services.data_unfreeze(lock=lock, by=data_manager, reason="Again")


def test_a_lock_of_every_patient_and_one_patient_unfrozen_out_of_it(
    patient, make_patient, coordinator, data_manager, values
):
    other = make_patient()
    lock = services.data_lock(by=data_manager, cutoff=days_ago(1), reason="Primary analysis")
    assert lock.patient is None and lock.summary["patients"] == Patient.objects.count()
    for someone in (patient, other):
        with pytest.raises(DomainError, match="locked"):
            fatigue(someone, coordinator, days_ago(5))
    with pytest.raises(DomainError, match="locked"):  # a screening of nobody enrolled too
        enrollment.screening_create(values=values(), by=coordinator)
    services.data_unfreeze(lock=lock, patient=other, by=data_manager, reason="Query on AE")
    fatigue(other, coordinator, days_ago(5))
    with pytest.raises(DomainError, match="locked"):
        fatigue(patient, coordinator, days_ago(5))
    with pytest.raises(DomainError, match="already unfrozen"):
        services.data_unfreeze(lock=lock, patient=other, by=data_manager, reason="Again")


def test_who_may_lock_and_what_is_refused(patient, coordinator, data_manager, make_user):
    monitor = make_user(roles.MONITOR)
    for someone in (coordinator, monitor):
        with pytest.raises(DomainError, match="Only the data manager"):
            services.data_lock(by=someone, cutoff=days_ago(1), reason="Why not")
    with pytest.raises(DomainError, match="future"):
        services.data_lock(by=data_manager, cutoff=days_ago(-1), reason="Tomorrow")
    with pytest.raises(DomainError, match="Say why"):
        services.data_lock(by=data_manager, cutoff=days_ago(1), reason="  ")
    services.data_lock(by=data_manager, cutoff=days_ago(1), reason="Interim")
    with pytest.raises(DomainError, match="already locked up to"):
        services.data_lock(by=data_manager, patient=patient, cutoff=days_ago(3), reason="Again")


def test_an_open_query_stops_the_lock_until_it_is_closed(patient, coordinator, data_manager):
    event = fatigue(patient, coordinator, days_ago(30))
    query = services.query_raise(
        record=event, field="grade", question="Grade per source?", by=data_manager
    )
    with pytest.raises(DomainError, match=f"{query.number}.*is open") as refused:
        services.data_lock(by=data_manager, patient=patient, cutoff=days_ago(20), reason="x")
    assert "cutoff" in refused.value.field_errors
    services.data_lock(by=data_manager, patient=patient, cutoff=days_ago(31), reason="Before it")
    services.query_answer(query=query, by=coordinator, answer="Grade 1 per source")
    with pytest.raises(DomainError, match="is answered"):
        services.data_lock(by=data_manager, patient=patient, cutoff=days_ago(20), reason="x")
    services.query_close(query=query, by=data_manager)
    services.data_lock(by=data_manager, patient=patient, cutoff=days_ago(20), reason="Clean")
    assert DataQuery.objects.get(pk=query.pk).state == "closed"


def test_unsigned_reads_stop_the_lock_and_a_frozen_scan_cannot_be_read_again(
    patient, coordinator, data_manager, make_user
):
    readers = [make_user(roles.RADIOLOGIST, f"reader{i}") for i in (1, 2)]
    scan = imaging.scan_register(
        patient=patient,
        by=coordinator,
        scan_date=days_ago(42),
        kind="baseline",
        modality="CT",
        regions=["abdomen"],
    )

    def lock(cutoff):
        return services.data_lock(by=data_manager, patient=patient, cutoff=cutoff, reason="x")

    with pytest.raises(DomainError, match="no two readers assigned"):
        lock(days_ago(20))
    imaging.readers_assign(
        patient=patient, by=coordinator, reader_1=readers[0], reader_2=readers[1]
    )
    data = {"targets": [{"id": "T1", "organ": "liver", "diameter_mm": 50}]}
    read = imaging.read_save(scan=scan, reader=readers[0], data=data)
    imaging._sign(Read.objects.get(pk=read.pk), readers[0])
    read = imaging.read_save(scan=scan, reader=readers[1], data=data)  # saved, not signed
    with pytest.raises(DomainError, match=r"1 read\(s\) not signed") as refused:
        lock(days_ago(20))
    assert patient.reader_assignments.get(slot=2).reading_label in str(refused.value)
    lock(days_ago(43))  # before the scan: nothing to settle there
    imaging._sign(Read.objects.get(pk=read.pk), readers[1])
    lock(days_ago(20))
    with pytest.raises(DomainError, match="locked") as refused:
        imaging.read_save(scan=scan, reader=readers[1], data=data, reason="Second look")
    assert patient.study_id not in str(refused.value)  # the reader never learns who it is


def settle_queries(by):
    """The edit checks' queries of a synthetic trial, cancelled so that it can be locked."""
    for query in DataQuery.objects.filter(state__in=("open", "answered")):
        services.query_cancel(query=query, by=by, reason="Synthetic trial: not a real finding")


def run(api, cutoff):
    made = api.post("/api/outcomes/runs/", {"cutoff": str(cutoff)}, format="json")
    assert made.status_code == 201, made.json()
    return made.json()


def test_a_run_on_locked_data_is_the_same_bit_for_bit_however_the_trial_goes_on(
    api_as, trial_users, data_manager
):
    today = timezone.localdate()
    synthetic.generate(seed=11, patients=4, today=today)  # the sequence and some company
    start = today - timedelta(days=300)
    cutoff = today - timedelta(days=60)
    stable = hand_built(
        trial_users, randomized_on=start, sums=[48, 47], contact=start + timedelta(days=200)
    )
    settle_queries(data_manager)
    lock = services.data_lock(by=data_manager, cutoff=cutoff, reason="Interim analysis")
    api = api_as(trial_users["statistician"])
    first = run(api, cutoff)
    assert first["data_lock"]["locked"] and first["data_lock"]["locks"] == [lock.number]
    assert first["data_lock"]["unlocked"] == 0

    coordinator = trial_users["coordinator"]
    contact = stable.follow_ups.get()
    with pytest.raises(DomainError, match="locked"):  # nothing up to the cut-off changes
        outcomes.followup_correct(
            record=contact, by=coordinator, reason="Date", date=contact.date + timedelta(days=1)
        )
    outcomes.followup_record(  # the trial goes on: a sign of life after the cut-off
        patient=stable, by=coordinator, kind="contact", date=cutoff + timedelta(days=10)
    )
    second = run(api, cutoff)
    compared = api.get(f"/api/outcomes/runs/compare/?a={first['id']}&b={second['id']}").json()
    assert compared["same_data"] and compared["identical_results"]
    assert compared["a"]["data_lock"] == compared["b"]["data_lock"]
    os_row = {r["USUBJID"]: r for r in rows_of(api, second["id"]) if r["PARAMCD"] == "OS"}
    assert (os_row[stable.study_id]["AVAL"], os_row[stable.study_id]["CNSR"]) == ("200", "1")

    # unfrozen, the same cut-off reads what came since: the patient known alive after it
    services.data_unfreeze(lock=lock, by=data_manager, reason="Late survival data to add")
    third = run(api, cutoff)
    assert not third["data_lock"]["locked"] and third["data_lock"]["unlocked"] == 5
    compared = api.get(f"/api/outcomes/runs/compare/?a={first['id']}&b={third['id']}").json()
    assert not compared["identical_results"]
    os_row = {r["USUBJID"]: r for r in rows_of(api, third["id"]) if r["PARAMCD"] == "OS"}
    assert (os_row[stable.study_id]["AVAL"], os_row[stable.study_id]["CNSR"]) == ("240", "1")


def test_locks_through_the_api(patient, coordinator, data_manager, api_as, statistician):
    event = fatigue(patient, coordinator, days_ago(30))
    query = services.query_raise(
        record=event, field="grade", question="Per source?", by=data_manager
    )
    api = api_as(data_manager)
    body = {"study_id": patient.study_id, "cutoff": str(days_ago(20)), "reason": "Cleaned"}
    blockers = api.get(
        f"/api/data-locks/blockers/?cutoff={days_ago(20)}&study_id={patient.study_id}"
    )
    assert blockers.status_code == 200 and query.number in blockers.json()["blockers"][0]
    refused = api.post("/api/data-locks/", body, format="json")
    assert refused.status_code == 400 and query.number in str(refused.json())
    services.query_cancel(query=query, by=data_manager, reason="Raised by mistake")
    assert api_as(coordinator).post("/api/data-locks/", body, format="json").status_code == 403
    assert (
        api.post("/api/data-locks/", {**body, "study_id": "INKT-999"}, format="json").status_code
        == 400
    )
    made = api.post("/api/data-locks/", body, format="json")
    assert made.status_code == 201, made.json()
    lock = made.json()
    assert lock["number"] == "L-0001" and lock["in_force"] and lock["study_id"] == patient.study_id
    seen = api_as(statistician).get("/api/data-locks/").json()["results"]
    assert [row["number"] for row in seen] == ["L-0001"]
    assert api.post(f"/api/data-locks/{lock['id']}/unfreeze/", {}, format="json").status_code == 400
    undone = api.post(
        f"/api/data-locks/{lock['id']}/unfreeze/", {"reason": "Correction requested"}, format="json"
    )
    assert undone.status_code == 200 and not undone.json()["in_force"]
    assert undone.json()["unfreezes"][0]["reason"] == "Correction requested"


def test_locks_in_the_pages(patient, coordinator, data_manager, client_as, make_user):
    fatigue(patient, coordinator, days_ago(30))
    page = client_as(data_manager)
    form = {"study_id": patient.study_id, "cutoff": str(days_ago(20)), "reason": "Cleaned"}
    refused = page.post("/data-lock/", {**form, "study_id": "INKT-999"})
    assert "No patient has this study ID." in refused.content.decode()
    done = page.post("/data-lock/", form)
    assert done.status_code == 302
    shown = page.get(f"/patients/{patient.study_id}/").content.decode()
    assert "Records dated up to" in shown and "L-0001" in shown
    lock = patient.data_locks.get()
    assert page.post(f"/data-lock/{lock.pk}/unfreeze/", {"reason": ""}).status_code == 200
    assert (
        page.post(f"/data-lock/{lock.pk}/unfreeze/", {"reason": "Source corrected"}).status_code
        == 302
    )
    assert "Records dated up to" not in page.get(f"/patients/{patient.study_id}/").content.decode()
    monitor = client_as(make_user(roles.MONITOR)).get("/data-lock/").content.decode()
    assert "L-0001" in monitor and 'id="lock-form"' not in monitor and "Unfreeze" not in monitor


@pytest.mark.django_db(transaction=True)
def test_a_write_in_flight_commits_before_a_lock_is_made(
    patient, coordinator, data_manager, monkeypatch
):
    """The adverse event has passed the lock check but not committed when the data manager
    locks: the lock waits for it, so its history predates the lock (a locked run reads it)."""
    import threading

    from django.db import connection

    from inkt_trial import freezing
    from safety.models import AdverseEvent

    checked, go, locked = threading.Event(), threading.Event(), threading.Event()
    check = freezing.refuse_frozen

    def paused(record):
        check(record)
        if threading.current_thread().name == "writer":
            checked.set()
            go.wait(10)

    monkeypatch.setattr(freezing, "refuse_frozen", paused)
    made = {}

    def write():
        try:
            fatigue(patient, coordinator, days_ago(30))
        finally:
            connection.close()

    def lock():
        try:
            made["lock"] = services.data_lock(
                by=data_manager, patient=patient, cutoff=days_ago(20), reason="Interim"
            )
            locked.set()
        finally:
            connection.close()

    writer = threading.Thread(target=write, name="writer")
    writer.start()
    assert checked.wait(10)
    locker = threading.Thread(target=lock, name="locker")
    locker.start()
    assert not locked.wait(1)  # the lock waits for the write in flight
    go.set()
    writer.join(10)
    locker.join(10)
    event = AdverseEvent.objects.get(patient=patient)
    assert event.history.earliest().history_date < made["lock"].locked_at


def test_a_query_on_a_record_no_lock_freezes_does_not_stop_a_lock(
    randomized, coordinator, data_manager
):
    from dosing import services as dosing

    rpi = randomized(
        "RPI",
        days_ago=40,
        consent_date=days_ago(50),
        screening_date=days_ago(49),
        prior_progression_date=days_ago(60),
    )
    schedule = dosing.schedule_create(
        patient=rpi, by=coordinator, first_planned_date=days_ago(1), target_cells_per_m2=5 * 10**8
    )
    services.query_raise(
        record=schedule, field="target_cells_per_m2", question="Target?", by=data_manager
    )
    assert lock_blockers(cutoff=days_ago(20), patient_ids=[rpi.pk]) == []


def test_a_screening_awaiting_its_signature_and_its_queries_stop_a_lock(
    coordinator, investigator, data_manager, values
):
    pending = enrollment.screening_create(values=values(), by=coordinator)
    query = services.query_raise(
        record=pending, field="weight_kg", question="Weight per source?", by=data_manager
    )
    blockers = " ".join(lock_blockers(cutoff=timezone.localdate()))
    assert f"Screening {pending.screening_number}" in blockers and "signature" in blockers
    assert query.number in blockers
    enrolled = enrollment.screening_confirm(
        screening=pending, by=investigator, password=PASSWORD, version=pending.version
    )
    blockers = " ".join(lock_blockers(cutoff=timezone.localdate(), patient_ids=[enrolled.pk]))
    assert query.number in blockers  # raised before enrolment: on the patient's screening
    assert "signature" not in blockers
