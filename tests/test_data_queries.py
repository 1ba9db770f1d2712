"""Data queries through the services, the API and the pages: raised by the data manager on a
field of a record, answered by the coordinator with a correction (whose audit trail gives the
query as the reason) or an explanation, closed, reopened, cancelled; never seen by the blinded
readers nor by the statistician."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts import roles
from datamanagement import services
from datamanagement.models import DataQuery
from inkt_trial.audit import history_of
from inkt_trial.errors import DomainError
from safety import services as safety
from safety.models import CtcaeTerm

pytestmark = pytest.mark.django_db


def days_ago(n):
    return timezone.localdate() - timedelta(days=n)


@pytest.fixture
def event(randomized, coordinator):
    patient = randomized("RP", days_ago=20, consent_date=days_ago(30), screening_date=days_ago(29))
    return safety.ae_record(
        patient=patient,
        by=coordinator,
        term=CtcaeTerm.objects.get(term="Fatigue"),
        grade=2,
        onset=days_ago(10),
    )


def test_raise_answer_with_a_correction_close_reopen_cancel(event, coordinator, data_manager):
    with pytest.raises(DomainError, match="Only the data manager"):
        services.query_raise(record=event, field="grade", question="?", by=coordinator)
    with pytest.raises(DomainError) as refused:
        services.query_raise(record=event, field="recorded_by", question="Who?", by=data_manager)
    assert "field" in refused.value.field_errors
    query = services.query_raise(
        record=event, field="grade", question="Source says grade 1?", by=data_manager
    )
    assert (query.number, query.state, query.patient) == ("Q-0001", "open", event.patient)
    with pytest.raises(DomainError, match="Only an answered query is closed"):
        services.query_close(query=query, by=data_manager)
    with pytest.raises(DomainError, match="Only the coordinator"):
        services.query_answer(query=query, by=data_manager, answer="x")
    answered = services.query_answer(
        query=query, by=coordinator, answer="Grade 1 per the clinic note", value=1, correct=True
    )
    assert answered.state == "answered" and answered.corrected
    event.refresh_from_db()
    assert event.grade == 1
    assert history_of(event)[0]["reason"] == "Query Q-0001: Grade 1 per the clinic note"
    closed = services.query_close(query=answered, by=data_manager)
    assert closed.state == "closed" and closed.closed_by == data_manager
    reopened = services.query_reopen(query=closed, by=data_manager, reason="Check the date too")
    assert reopened.state == "open" and reopened.closed_at is None
    cancelled = services.query_cancel(query=reopened, by=data_manager, reason="Raised twice")
    assert cancelled.state == "cancelled"
    steps = [row["reason"] for row in history_of(cancelled)]
    assert steps == [
        "Cancelled: Raised twice",
        "Reopened: Check the date too",
        "Closed",
        "Answered with a correction",
        "Raised",
    ]


def test_a_refused_correction_leaves_the_query_open(event, coordinator, data_manager):
    query = services.query_raise(
        record=event, field="onset", question="Onset date?", by=data_manager
    )
    with pytest.raises(DomainError) as refused:
        services.query_answer(
            query=query,
            by=coordinator,
            answer="Moved",
            value=timezone.localdate() + timedelta(days=3),
            correct=True,
        )
    assert "future" in " ".join(refused.value.field_errors["value"]).lower()
    assert DataQuery.objects.get().state == "open"


def test_the_api_lists_raises_and_answers(event, coordinator, data_manager, api_as, make_user):
    dm = api_as(data_manager)
    made = dm.post(
        "/api/queries/",
        {
            "record": "safety.adverseevent",
            "record_id": event.pk,
            "field": "onset",
            "question": "The onset in the source is earlier",
        },
        format="json",
    )
    assert made.status_code == 201, made.json()
    query = made.json()
    assert (query["study_id"], query["state"], query["age_days"]) == (
        event.patient.study_id,
        "open",
        0,
    )
    coordinator_api = api_as(coordinator)
    assert coordinator_api.post("/api/queries/", {}, format="json").status_code == 403
    answer = coordinator_api.post(
        f"/api/queries/{query['id']}/answer/",
        {"answer": "Corrected from the nurse's note", "correct": True, "value": str(days_ago(12))},
        format="json",
    )
    assert answer.status_code == 200, answer.json()
    event.refresh_from_db()
    assert event.onset == days_ago(12)
    listed = dm.get("/api/queries/", {"state": "answered", "study_id": event.patient.study_id})
    assert [q["number"] for q in listed.json()["results"]] == ["Q-0001"]
    assert dm.get("/api/queries/", {"older_than_days": 3}).json()["results"] == []
    assert dm.get("/api/queries/", {"older_than_days": -1}).status_code == 400
    assert dm.get("/api/queries/", {"older_than_days": "many"}).status_code == 400
    assert dm.get("/api/queries/", {"state": "open"}).json()["results"] == []
    for role in (roles.RADIOLOGIST, roles.ADJUDICATOR, roles.STATISTICIAN):
        assert api_as(make_user(role, f"x-{role}")).get("/api/queries/").status_code == 403


def test_the_pages_raise_answer_and_flag(event, coordinator, data_manager, client_as):
    dm = client_as(data_manager)
    history = dm.get(f"/adverse-events/{event.pk}/history/").content.decode()
    assert "Raise a query" in history
    raised = dm.post(
        f"/queries/new/?record=safety.adverseevent&id={event.pk}",
        {"field": "grade", "question": "Grade 3 in the source?"},
    )
    assert raised.status_code == 302
    query = DataQuery.objects.get()
    page = client_as(coordinator).get(f"/patients/{event.patient.study_id}/").content.decode()
    assert "Q-0001" in page
    dashboard = client_as(coordinator).get("/").content.decode()
    assert "Grade 3 in the source?" in dashboard
    answered = client_as(coordinator).post(
        f"/queries/{query.pk}/", {"answer": "Yes, grade 3", "correct": "on", "value": "3"}
    )
    assert answered.status_code == 302, answered.content.decode()[-3000:]
    event.refresh_from_db()
    assert event.grade == 3
    closed = client_as(data_manager).post(f"/queries/{query.pk}/", {"close": "1"})
    assert closed.status_code == 302
    assert DataQuery.objects.get().state == "closed"
    assert dm.get("/queries/?state=closed").status_code == 200
    assert dm.get("/queries/new/?record=safety.adverseevent&id=x").status_code == 404
    assert dm.get("/queries/new/?record=auth.user&id=1").status_code == 404


def test_odd_corrections_are_refused_not_failed(
    event, coordinator, data_manager, api_as, client_as
):
    api = api_as(coordinator)
    onset = services.query_raise(record=event, field="onset", question="?", by=data_manager)
    for value in (20240101, True, 7.5, [1], {"a": 1}):
        answer = api.post(
            f"/api/queries/{onset.pk}/answer/",
            {"answer": "x", "correct": True, "value": value},
            format="json",
        )
        assert answer.status_code == 400, (value, answer.content)
    criteria = services.query_raise(
        record=event, field="serious_criteria", question="?", by=data_manager
    )
    assert (onset.number, criteria.number) == ("Q-0001", "Q-0002")  # numbered in turn
    refused = api.post(
        f"/api/queries/{criteria.pk}/answer/",
        {"answer": "x", "correct": True, "value": '{"hospitalization": 1}'},
        format="json",
    )
    assert refused.status_code == 400 and "own page" in str(refused.json())
    text = services.query_raise(
        record=event, field="specification", question="Which site?", by=data_manager
    )
    assert client_as(coordinator).get(f"/queries/{text.pk}/").status_code == 200
    assert client_as(coordinator).get(f"/queries/{criteria.pk}/").status_code == 200
    assert (
        client_as(data_manager)
        .post("/source-verification/verify/", {"record": "safety.adverseevent", "id": event.pk})
        .status_code
        == 403
    )  # not a monitor


def test_the_dashboard_lists_the_oldest_open_queries_and_counts_the_rest(
    event, coordinator, data_manager, client_as, monkeypatch
):
    from datamanagement.templatetags import query_tags

    monkeypatch.setattr(query_tags, "DASHBOARD_QUERIES", 2)
    for field in ("grade", "onset", "outcome"):
        services.query_raise(record=event, field=field, question=f"{field}?", by=data_manager)
    dashboard = client_as(coordinator).get("/").content.decode()
    assert "grade?" in dashboard and "onset?" in dashboard and "outcome?" not in dashboard
    assert "The 2 oldest of 3 open queries" in dashboard
    assert 'href="/queries/?state=open">all open queries' in dashboard
    DataQuery.objects.filter(question="outcome?").update(state="cancelled")
    dashboard = client_as(coordinator).get("/").content.decode()
    assert "grade?" in dashboard and "onset?" in dashboard and "oldest of" not in dashboard
