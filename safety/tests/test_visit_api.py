"""The API of clinical visits, lab values and proposed adverse events."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts import roles
from safety.models import AdverseEvent, ProposedAdverseEvent

pytestmark = pytest.mark.django_db


def days_ago(n):
    return (timezone.localdate() - timedelta(days=n)).isoformat()


@pytest.fixture
def rpi(randomized):
    return randomized("RPI", days_ago=20, consent_date=timezone.localdate() - timedelta(days=30))


def enter(api, patient, **changes):
    body = {
        "study_id": patient.study_id,
        "visit_date": days_ago(25),
        "kind": "screening",
        "ecog": 0,
        "systolic_bp_mmhg": 125,
        "diastolic_bp_mmhg": 78,
        "values": [
            {"test": "alt", "value": "25", "unit": "U/L"},
            {"test": "bilirubin", "value": "12", "unit": "umol/L"},
            {"test": "albumin", "value": "40", "unit": "g/L"},
            {"test": "inr", "value": "1.0"},
            {"test": "afp", "value": "800", "unit": "ng/mL"},
        ],
        **changes,
    }
    return api.post("/api/safety/visits/", body, format="json")


def test_coordinator_enters_a_visit_and_accepts_the_proposed_event(api_as, coordinator, rpi):
    api = api_as(coordinator)
    response = enter(api, rpi)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["label"], body["child_pugh_class"], body["albi_grade"]) == ("Screening", "A", 1)
    assert {lab["test"]: lab["grade"] for lab in body["labs"]}["alt"] == 0
    response = enter(
        api,
        rpi,
        visit_date=days_ago(5),
        kind="course",
        number=2,
        values=[
            {"test": "alt", "value": "240", "unit": "U/L"},
            {"test": "afp", "value": "300", "unit": "ng/mL"},
        ],
    )
    assert response.status_code == 201, response.json()
    visit = response.json()
    assert (visit["label"], visit["afp_response"], visit["afp_change_percent"]) == (
        "Course 2",
        "decrease ≥ 50 %",
        -62.5,
    )
    listed = api.get(f"/api/safety/proposed-adverse-events/?study_id={rpi.study_id}").json()
    (proposal,) = listed["results"]
    assert (proposal["term_name"], proposal["grade"], proposal["state"]) == (
        "Alanine aminotransferase increased",
        3,
        "proposed",
    )
    response = api.post(f"/api/safety/proposed-adverse-events/{proposal['id']}/accept/", {})
    assert response.status_code == 200, response.json()
    assert response.json()["grade"] == 3 and response.json()["onset"] == days_ago(5)
    assert AdverseEvent.objects.get().term.term == "Alanine aminotransferase increased"
    again = api.post(f"/api/safety/proposed-adverse-events/{proposal['id']}/accept/", {})
    assert again.status_code == 400 and "already accepted" in again.json()["detail"]
    history = api.get(f"/api/safety/proposed-adverse-events/{proposal['id']}/history/").json()
    assert history[0]["reason"].startswith("Accepted")


def test_corrections_and_dismissal_through_the_api(api_as, coordinator, rpi):
    api = api_as(coordinator)
    enter(api, rpi)
    visit = enter(
        api, rpi, visit_date=days_ago(5), kind="unscheduled",
        values=[{"test": "platelets", "value": "20000", "unit": "/mm3"}],
    ).json()  # fmt: skip
    lab = visit["labs"][0]
    assert (lab["value"], lab["unit"], lab["grade"]) == ("20.0000", "10^9/L", 4)
    response = api.patch(f"/api/safety/lab-values/{lab['id']}/", {"value_entered": "90000"})
    assert response.status_code == 400 and "reason" in response.json()
    response = api.patch(
        f"/api/safety/lab-values/{lab['id']}/",
        {"value_entered": "90000", "reason": "Clumped sample, repeated"},
        format="json",
    )
    assert response.status_code == 200 and response.json()["grade"] == 1
    proposal = ProposedAdverseEvent.objects.get()
    assert proposal.state == "dismissed"  # withdrawn by the correction
    response = api.patch(
        f"/api/safety/visits/{visit['id']}/",
        {"ecog": 2, "reason": "ECOG per source", "values": [{"test": "inr", "value": "2.6"}]},
        format="json",
    )
    assert response.status_code == 200, response.json()
    corrected = response.json()
    assert corrected["ecog"] == 2
    assert {lab["test"]: lab["grade"] for lab in corrected["labs"]}["inr"] == 3
    pending = ProposedAdverseEvent.objects.get(state="proposed")
    url = f"/api/safety/proposed-adverse-events/{pending.pk}/dismiss/"
    assert api.post(url, {"reason": ""}).status_code == 400
    response = api.post(url, {"reason": "Already recorded as an AE"})
    assert response.status_code == 200 and response.json()["state"] == "dismissed"


def test_refusals_are_400_with_the_field(api_as, coordinator, rpi):
    api = api_as(coordinator)
    response = enter(api, rpi, values=[{"test": "alt", "value": "25", "unit": "furlongs"}])
    assert response.status_code == 400 and "not accepted" in response.json()["alt_unit"][0]
    response = enter(api, rpi, values=[{"test": "spleen", "value": "1"}])
    assert response.status_code == 400
    response = enter(api, rpi, spo2_percent=140)
    assert response.status_code == 400 and "spo2_percent" in response.json()


def test_statistician_reads_without_the_arm_and_blinded_readers_get_nothing(
    api_as, coordinator, rpi, statistician, make_user
):
    enter(api_as(coordinator), rpi)
    enter(
        api_as(coordinator), rpi, visit_date=days_ago(5), kind="course", number=1,
        values=[{"test": "alt", "value": "240", "unit": "U/L"}],
    )  # fmt: skip
    stat = api_as(statistician)
    listed = stat.get(f"/api/safety/visits/?study_id={rpi.study_id}").json()["results"]
    # 5 days ago, randomized 20 days ago: day 15, week 2, as the RP arm's visits by study week
    assert [(v["kind"], v["number"], v["label"]) for v in listed][1] == ("week", 2, "Week 2")
    assert "RPI" not in str(listed) and "ourse" not in str(listed)
    exported = stat.get(f"/api/safety/visits/csv/?study_id={rpi.study_id}")
    assert exported.status_code == 200 and exported["Content-Type"].startswith("text/csv")
    lines = exported.content.decode().splitlines()
    assert lines[0].startswith("study_id,visit_date,visit,ecog,")
    assert len(lines) == 1 + 5 + 1  # the screening's 5 values, the course visit's ALT
    assert "Week 2" in lines[-1] and "Course" not in exported.content.decode()
    assert "Alanine aminotransferase increased,3," in lines[-1]
    assert stat.get("/api/safety/proposed-adverse-events/").status_code == 403
    assert enter(stat, rpi, visit_date=days_ago(3)).status_code == 403
    for role in (roles.RADIOLOGIST, roles.ADJUDICATOR):
        reader = api_as(make_user(role))
        for url in ("visits", "lab-values", "proposed-adverse-events"):
            assert reader.get(f"/api/safety/{url}/").status_code == 403
