"""The casebook matrix on its page and through the API (filters, paging, roles), read from the
records as they are: a query, a source-data verification and a database lock each show in
their cell."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts import roles
from datamanagement import selectors, services
from safety import services as safety
from safety.models import CtcaeTerm

pytestmark = pytest.mark.django_db


def days_ago(n):
    return timezone.localdate() - timedelta(days=n)


@pytest.fixture
def trial(randomized, coordinator):
    """An RPI patient randomized 70 days ago with one adverse event, and an RP patient
    randomized today."""
    rpi = randomized(
        "RPI",
        days_ago=70,
        consent_date=days_ago(80),
        screening_date=days_ago(79),
        prior_progression_date=days_ago(90),
    )
    event = safety.ae_record(
        patient=rpi,
        by=coordinator,
        term=CtcaeTerm.objects.get(term="Fatigue"),
        grade=1,
        onset=days_ago(10),
    )
    rp = randomized("RP")
    return rpi, rp, event


def cells_of(body, study_id) -> dict[str, str]:
    row = next(r for r in body["results"] if r["study_id"] == study_id)
    return {c["column"]: c["state"] for c in row["cells"]}


def test_the_matrix_through_the_api(trial, api_as, coordinator, data_manager, monitor):
    rpi, rp, event = trial
    body = api_as(coordinator).get("/api/casebook/").json()
    assert body["count"] == 2 and body["page"] == 1 and body["next"] is None
    assert [r["study_id"] for r in body["results"]] == sorted([rpi.study_id, rp.study_id])
    keys = [c["key"] for c in body["columns"]]
    assert keys[:3] == ["screening", "randomization", "course-1"] and "scan-1" in keys
    first = cells_of(body, rpi.study_id)
    assert first["screening"] == "entered" and first["randomization"] == "entered"
    assert first["course-1"] == "due"  # no schedule yet: within 90 days of randomization
    assert first["scan-baseline"] == "overdue" and first["qlq-baseline"] == "overdue"
    assert first["scan-1"] == "overdue"  # its window (days 49-63) closed a week ago
    assert first["adverse-events"] == "entered"
    assert cells_of(body, rp.study_id)["course-1"] == "not_applicable"
    assert cells_of(body, rp.study_id)["adverse-events"] == "none"
    # a query on the event, then the monitor's verification of the screening
    query = services.query_raise(record=event, field="grade", question="Grade?", by=data_manager)
    services.source_verify(record=rpi.screening, by=monitor)
    body = api_as(monitor).get("/api/casebook/").json()
    assert cells_of(body, rpi.study_id)["adverse-events"] == "queried"
    assert cells_of(body, rpi.study_id)["screening"] == "verified"
    row = next(r for r in body["results"] if r["study_id"] == rpi.study_id)
    cell = next(c for c in row["cells"] if c["column"] == "adverse-events")
    assert cell["entries"] == [
        {"record": "safety.adverseevent", "id": event.pk, "date": days_ago(10).isoformat()}
    ]
    services.query_cancel(query=query, by=data_manager, reason="Raised on the wrong event")
    body = api_as(monitor).get("/api/casebook/").json()
    assert cells_of(body, rpi.study_id)["adverse-events"] == "entered"


def test_filters_and_paging(trial, enrol, api_as, coordinator, data_manager, monkeypatch):
    rpi, rp, event = trial
    api = api_as(coordinator)
    found = api.get("/api/casebook/", {"search": rp.screening.screening_number}).json()
    assert [r["study_id"] for r in found["results"]] == [rp.study_id]
    imaging = api.get("/api/casebook/", {"group": "imaging"}).json()
    assert {c["group"] for c in imaging["columns"]} == {"imaging"}
    assert all(len(r["cells"]) == len(imaging["columns"]) for r in imaging["results"])
    overdue = api.get("/api/casebook/", {"status": "overdue"}).json()
    assert [r["study_id"] for r in overdue["results"]] == [rpi.study_id]
    assert overdue["count"] == 1
    # any of several states; among the columns shown only
    assert api.get("/api/casebook/", {"status": "queried"}).json()["results"] == []
    services.query_raise(record=event, field="grade", question="Grade?", by=data_manager)
    queried = api.get("/api/casebook/?status=queried&status=locked").json()
    assert [r["study_id"] for r in queried["results"]] == [rpi.study_id]
    both = {"status": "queried", "group": "enrolment"}
    assert api.get("/api/casebook/", both).json()["results"] == []
    # refusals: 400, and a page past the end 404
    assert api.get("/api/casebook/", {"status": "lost"}).status_code == 400
    assert api.get("/api/casebook/", {"page": "0"}).status_code == 400
    assert api.get("/api/casebook/", {"page": "2"}).status_code == 404
    monkeypatch.setattr(selectors, "CASEBOOK_PAGE", 1)
    first = api.get("/api/casebook/").json()
    assert first["count"] == 2 and first["next"].endswith("page=2")
    second = api.get(first["next"]).json()
    assert [r["study_id"] for r in second["results"]] == [rp.study_id]
    assert second["next"] is None and second["previous"] is not None
    # a state filter reads chunk by chunk until the page is full (and one more is found): the
    # count stays unknown until every patient is read
    enrol()
    monkeypatch.setattr(selectors, "CASEBOOK_CHUNK", 1)
    entered = api.get("/api/casebook/", {"status": "entered"}).json()
    assert entered["results"][0]["study_id"] == rpi.study_id and entered["count"] is None
    assert api.get(entered["next"]).json()["count"] == 3


def test_records_frozen_by_a_lock_show_locked(trial, api_as, coordinator, data_manager):
    rpi, rp, event = trial
    services.data_lock(by=data_manager, patient=rpi, cutoff=days_ago(20), reason="Interim")
    body = api_as(coordinator).get("/api/casebook/").json()
    first = cells_of(body, rpi.study_id)
    assert first["screening"] == "locked" and first["randomization"] == "locked"
    assert first["adverse-events"] == "entered"  # its onset is after the frozen date
    assert cells_of(body, rp.study_id)["randomization"] == "entered"
    locked = api_as(coordinator).get("/api/casebook/", {"status": "locked"}).json()
    assert [row["study_id"] for row in locked["results"]] == [rpi.study_id]


def test_the_page_links_each_cell_and_says_its_state_in_words(trial, client_as, coordinator):
    rpi, rp, event = trial
    page = client_as(coordinator).get("/casebook/").content.decode()
    assert 'id="casebook-legend"' in page and "Overdue" in page
    assert f'href="/adverse-events/{event.pk}/history/"' in page
    assert f'href="/patients/{rpi.study_id}/questionnaires/new/"' in page  # the overdue baseline
    assert 'title="iNKT course 1: Not applicable; RP arm: no iNKT cells"' in page
    assert "Imaging: visit 1 (week 8): Overdue; window closed" in page
    filtered = client_as(coordinator).get("/casebook/", {"status": "overdue", "group": "imaging"})
    assert rp.study_id not in filtered.content.decode()
    refused = client_as(coordinator).get("/casebook/", {"status": "lost"}).content.decode()
    assert "Select a valid choice" in refused and rp.study_id in refused
    assert client_as(coordinator).get("/casebook/", {"page": "9"}).status_code == 404
    patients = client_as(coordinator).get("/patients/").content.decode()
    assert 'id="casebook-link" href="/casebook/"' in patients
    assert 'href="/casebook/"' in client_as(coordinator).get("/").content.decode()


@pytest.mark.parametrize("role", [roles.STATISTICIAN, roles.RADIOLOGIST, roles.ADJUDICATOR])
def test_no_matrix_for_the_statistician_or_the_blinded(trial, make_user, api_as, client_as, role):
    user = make_user(role, username=f"{role}-2")
    assert api_as(user).get("/api/casebook/").status_code == 403
    assert client_as(user).get("/casebook/").status_code == 403
    assert "/casebook/" not in client_as(user).get("/patients/").content.decode()


def test_visits_medications_and_the_cell_product_show_in_their_logs(trial, api_as, coordinator):
    from decimal import Decimal

    from enrollment import medication_services
    from safety import visits

    rpi, rp, _ = trial
    visits.visit_record(
        patient=rpi,
        by=coordinator,
        visit_date=days_ago(60),
        kind="screening",
        ecog=1,
        values=[{"test": "alt", "value": "30", "unit": "U/L"}],
    )
    medication_services.medication_record(
        screening=rp.screening,
        by=coordinator,
        name="Entecavir",
        indication="Hepatitis B",
        dose=Decimal("0.5"),
        dose_unit="mg",
        route="oral",
        frequency="once daily",
        start_date=days_ago(200),
        ongoing=True,
    )
    body = api_as(coordinator).get("/api/casebook/").json()
    first, second = cells_of(body, rpi.study_id), cells_of(body, rp.study_id)
    assert (first["visits"], first["medications"], first["history"]) == ("entered", "none", "none")
    assert (second["visits"], second["medications"]) == ("none", "entered")
    assert first["cell-product"] == "none" and second["cell-product"] == "not_applicable"
