"""Source-data verification (SDV) by the monitor: a record's current version marked verified,
un-verified by any later change with nothing to update, progress per patient and per form; the
monitor sees what the coordinator sees and raises queries, and writes no clinical record."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts import roles
from datamanagement import selectors, services
from inkt_trial.errors import DomainError
from safety import services as safety
from safety.models import CtcaeTerm

pytestmark = pytest.mark.django_db


def days_ago(n):
    return timezone.localdate() - timedelta(days=n)


@pytest.fixture
def events(randomized, coordinator):
    patient = randomized("RP", days_ago=20, consent_date=days_ago(30), screening_date=days_ago(29))
    return [
        safety.ae_record(
            patient=patient,
            by=coordinator,
            term=CtcaeTerm.objects.get(term=term),
            grade=1,
            onset=days_ago(10),
        )
        for term in ("Fatigue", "Nausea")
    ]


def test_verified_until_the_record_changes(events, monitor, coordinator):
    event = events[0]
    with pytest.raises(DomainError, match="Only a monitor"):
        services.source_verify(record=event, by=coordinator)
    assert selectors.verification_of(event)["state"] == "not verified"
    done = services.source_verify(record=event, by=monitor)
    assert done.patient == event.patient
    assert selectors.verification_of(event)["state"] == "verified"
    with pytest.raises(DomainError, match="already verified"):
        services.source_verify(record=event, by=monitor)
    safety.ae_correct(event=event, by=coordinator, reason="Grade from the note", grade=2)
    assert selectors.verification_of(event)["state"] == "changed since verified"
    services.source_verify(record=event, by=monitor)
    assert selectors.verification_of(event)["state"] == "verified"


def test_progress_per_patient_and_form(events, monitor, coordinator):
    services.source_verify(record=events[0], by=monitor)
    progress = selectors.sdv_progress()
    patient = events[0].patient_id
    assert progress["patients"][patient]["adverse event"] == {"records": 2, "verified": 1}
    safety.ae_correct(
        event=events[0], by=coordinator, reason="Onset per the note", onset=days_ago(9)
    )
    assert selectors.sdv_progress()["patients"][patient]["adverse event"]["verified"] == 0


def test_the_monitor_through_the_api_and_the_pages(events, monitor, coordinator, api_as, client_as):
    event = events[0]
    body = {"record": "safety.adverseevent", "record_id": event.pk}
    assert api_as(coordinator).post("/api/sdv/", body, format="json").status_code == 403
    made = api_as(monitor).post("/api/sdv/", body, format="json")
    assert made.status_code == 201 and made.json()["verified_by"] == "monitor"
    again = api_as(monitor).post("/api/sdv/", body, format="json")
    assert again.status_code == 400
    progress = {row["study_id"]: row for row in api_as(monitor).get("/api/sdv/progress/").json()}
    assert progress[event.patient.study_id] == {
        "study_id": event.patient.study_id,
        "forms": [
            {"form": "adverse event", "records": 2, "verified": 1},
            {"form": "patient", "records": 1, "verified": 0},
            {"form": "screening", "records": 1, "verified": 0},
        ],
    }
    stale = api_as(monitor).post(
        "/api/sdv/",
        {**body, "record": "safety.adverseevent", "record_id": events[1].pk, "version": 1},
        format="json",
    )
    assert stale.status_code == 400 and "changed" in str(stale.json())
    # the monitor raises a query, and may not write a clinical record
    query = services.query_raise(record=event, field="grade", question="Grade?", by=monitor)
    assert query.raised_by == monitor
    browser = client_as(monitor)
    assert browser.get(f"/patients/{event.patient.study_id}/").status_code == 200
    assert browser.get(f"/patients/{event.patient.study_id}/adverse-events/new/").status_code == 403
    history = browser.get(f"/adverse-events/{events[1].pk}/history/").content.decode()
    assert "Mark source-data verified" in history
    verified = browser.post(
        "/source-verification/verify/",
        {"record": "safety.adverseevent", "id": events[1].pk, "next": "/source-verification/"},
    )
    assert verified.status_code == 302
    assert selectors.verification_of(events[1])["state"] == "verified"
    page = browser.get("/source-verification/").content.decode()
    assert "2/2" in page
    assert (
        browser.post("/source-verification/verify/", {"record": "x", "id": "1"}).status_code == 404
    )


def test_only_the_raiser_or_a_data_manager_closes(
    events, monitor, make_user, data_manager, coordinator
):
    other = make_user(roles.MONITOR, "monitor-2")
    query = services.query_raise(record=events[0], field="grade", question="?", by=data_manager)
    services.query_answer(query=query, by=coordinator, answer="Checked")
    with pytest.raises(DomainError, match="Only the one who raised"):
        services.query_close(query=query, by=other)
    mine = services.query_raise(record=events[1], field="grade", question="?", by=monitor)
    services.query_cancel(query=mine, by=monitor, reason="Mine, raised twice")
    assert services.query_close(query=query, by=data_manager).state == "closed"
