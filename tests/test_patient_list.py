"""The patient list: search by study ID or screening number, and the columns the apps register
(arm, status, open queries) with their filters, as each role may see them: arms for those who
see arms, codes for the masked statistician, no status or query for her."""

import pytest
from django.utils import timezone

from datamanagement import services
from safety import services as safety
from safety.models import CtcaeTerm

pytestmark = pytest.mark.django_db


@pytest.fixture
def trial(randomized, coordinator):
    """An RPI patient with an adverse event, and an RP patient."""
    rpi, rp = randomized("RPI"), randomized("RP")
    event = safety.ae_record(
        patient=rpi,
        by=coordinator,
        term=CtcaeTerm.objects.get(term="Fatigue"),
        grade=1,
        onset=timezone.localdate(),
    )
    return rpi, rp, event


def test_the_patient_list_searches_and_shows_columns_by_role(
    trial, api_as, client_as, coordinator, statistician, data_manager
):
    rpi, rp, event = trial
    services.query_raise(record=event, field="grade", question="Grade?", by=data_manager)
    rows = {r["study_id"]: r for r in api_as(coordinator).get("/api/patients/").json()["results"]}
    assert rows[rpi.study_id]["arm"] == "RPI" and rows[rp.study_id]["arm"] == "RP"
    assert rows[rpi.study_id]["status"] == "on_treatment"
    assert rows[rpi.study_id]["open_queries"] == 1 and rows[rp.study_id]["open_queries"] == 0
    masked = {
        r["study_id"]: r for r in api_as(statistician).get("/api/patients/").json()["results"]
    }
    assert {masked[rpi.study_id]["arm"], masked[rp.study_id]["arm"]} == {"A", "B"}
    assert masked[rpi.study_id]["status"] is None and masked[rpi.study_id]["open_queries"] is None
    page = client_as(statistician).get("/patients/").content.decode()
    assert "RPI" not in page and "Open queries" not in page and "On treatment" not in page
    page = client_as(data_manager).get("/patients/").content.decode()
    assert f"/queries/?study_id={rpi.study_id}&amp;state=open" in page
    for text in (rp.study_id, rp.screening.screening_number, rp.screening.screening_number[2:]):
        found = api_as(coordinator).get("/api/patients/", {"search": text}).json()
        assert [r["study_id"] for r in found["results"]] == [rp.study_id], text
    page = client_as(coordinator).get("/patients/", {"search": rpi.study_id}).content.decode()
    assert rpi.study_id in page and rp.study_id not in page
    assert api_as(coordinator).get(f"/api/patients/{rp.study_id}/").json()["arm"] == "RP"


def test_the_patient_list_filters_by_arm_and_status_without_unmasking(
    trial, enrol, api_as, client_as, coordinator, statistician
):
    rpi, rp, event = trial
    waiting = enrol()

    def study_ids(user, **params):
        response = api_as(user).get("/api/patients/", params)
        assert response.status_code == 200, response.json()
        return {r["study_id"] for r in response.json()["results"]}

    assert study_ids(coordinator, arm="RP") == {rp.study_id}
    assert study_ids(coordinator, status="on_study") == {waiting.study_id}
    assert study_ids(coordinator, status="on_treatment") == {rpi.study_id, rp.study_id}
    assert study_ids(coordinator, status="off_study") == set()
    code = api_as(statistician).get(f"/api/patients/{rpi.study_id}/").json()["arm"]
    assert study_ids(statistician, arm=code) == {rpi.study_id}
    # the masked statistician filters by codes only, and not by status
    assert api_as(statistician).get("/api/patients/", {"arm": "RPI"}).status_code == 400
    assert api_as(statistician).get("/api/patients/", {"status": "on_study"}).status_code == 400
    form = client_as(statistician).get("/patients/").content.decode()
    assert '<select name="arm"' in form and 'value="RPI"' not in form
    assert '<select name="status"' not in form


def test_the_patient_list_pages_counts_and_finds_a_patient_on_any_page(
    trial, enrol, client_as, coordinator, monkeypatch
):
    """Paged (25 a page in the product, 2 here), the total shown; the search reaches a patient
    beyond the first page."""
    from enrollment.views import PatientListView

    rpi, rp, event = trial
    waiting = enrol()
    monkeypatch.setattr(PatientListView, "paginate_by", 2)
    client = client_as(coordinator)
    first = client.get("/patients/").content.decode()
    assert "3 patients, 1–2 shown" in first and "Page 1 of 2" in first
    second = client.get("/patients/", {"page": 2}).content.decode()
    assert "3 patients, 3–3 shown" in second
    shown_first = {p.study_id for p in (rpi, rp, waiting) if f">{p.study_id}</a>" in first}
    shown_second = {p.study_id for p in (rpi, rp, waiting) if f">{p.study_id}</a>" in second}
    assert len(shown_first) == 2 and len(shown_second) == 1
    assert shown_first | shown_second == {rpi.study_id, rp.study_id, waiting.study_id}
    (last,) = shown_second
    found = client.get("/patients/", {"search": last}).content.decode()
    assert "1 patient found" in found and f">{last}</a>" in found
    assert "Page 1 of" not in found  # one page: no pager
