"""The safety and questionnaire pages, through Django's test client: what is refused goes back
on the form with the service's message; what is saved is audited."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from assessments.models import Questionnaire
from inkt_trial.audit import history_of
from safety.models import AdverseEvent, CtcaeTerm

pytestmark = pytest.mark.django_db


def days_ago(n):
    return timezone.localdate() - timedelta(days=n)


def code(name):
    return CtcaeTerm.objects.get(term=name).meddra_code


@pytest.fixture
def rp(randomized, start_regorafenib):
    patient = randomized("RP", days_ago=3)
    start_regorafenib(patient, days_ago(2))
    return patient


def ae_form(**changes):
    return {
        "meddra_code": code("Fatigue"),
        "grade": 2,
        "onset": str(days_ago(1)),
        "outcome": "not_recovered",
        "action_pd1": "none",
        "action_regorafenib": "none",
        **changes,
    }


def test_record_refuse_and_correct_an_event(client_as, coordinator, rp):
    client = client_as(coordinator)
    url = f"/patients/{rp.study_id}/adverse-events/new/"
    refused = client.post(url, ae_form(grade=5))
    assert refused.status_code == 200
    assert "CTCAE v5.0 defines grades 1, 2, 3 for this term." in refused.content.decode()
    # the grades offered are the term's own, with their definitions
    assert refused.content.decode().count('name="grade"') == 3
    assert "Fatigue relieved by rest" in refused.content.decode()
    unknown = client.post(url, ae_form(meddra_code=1))
    assert "Not a CTCAE v5.0 term." in unknown.content.decode()
    saved = client.post(url, ae_form())
    assert saved.status_code == 302
    event = AdverseEvent.objects.get(patient=rp)
    assert event.treatment_emergent and event.grade == 2
    edit = f"/adverse-events/{event.pk}/edit/"
    assert re.search(r"value=\"2\"[^>]* checked", client.get(edit).content.decode())
    no_reason = client.post(edit, ae_form(grade=3))
    assert "This field is required." in no_reason.content.decode()
    corrected = client.post(edit, ae_form(grade=3, reason="Worse than first recorded"))
    assert corrected.status_code == 302
    event.refresh_from_db()
    assert event.grade == 3 and history_of(event)[0]["reason"] == "Worse than first recorded"
    page = client.get(f"/patients/{rp.study_id}/").content.decode()
    assert f"/adverse-events/{event.pk}/" in page and "Fatigue" in page


def test_causality_and_follow_up_report_pages(client_as, coordinator, investigator, rp):
    client = client_as(coordinator)
    aware = timezone.localtime() - timedelta(hours=2)
    client.post(
        f"/patients/{rp.study_id}/adverse-events/new/",
        ae_form(
            meddra_code=code("Anemia"),
            grade=3,
            serious_criteria=["hospitalization"],
            awareness_at=aware.strftime("%Y-%m-%dT%H:%M"),
            initial_report_at=aware.strftime("%Y-%m-%dT%H:%M"),
        ),
    )
    event = AdverseEvent.objects.get(patient=rp)
    assert event.serious
    report = {"kind": "follow_up", "sent_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M")}
    assert client.post(f"/adverse-events/{event.pk}/reports/new/", report).status_code == 200
    done = client.post(
        f"/adverse-events/{event.pk}/reports/new/", {**report, "information": "Transfused."}
    )
    assert done.status_code == 302 and event.reports.count() == 1
    assert "Transfused." in client.get(f"/adverse-events/{event.pk}/").content.decode()
    assert client.get(f"/adverse-events/{event.pk}/causality/").status_code == 403
    investigator_client = client_as(investigator)
    form = investigator_client.get(f"/adverse-events/{event.pk}/causality/").content.decode()
    assert "relationship_inkt" not in form  # an RP patient receives no iNKT cells
    assessed = investigator_client.post(
        f"/adverse-events/{event.pk}/causality/",
        {"relationship_pd1": "possible", "relationship_regorafenib": "probable"},
    )
    assert assessed.status_code == 302
    event.refresh_from_db()
    assert (event.relationship_pd1, event.relationship_regorafenib) == ("possible", "probable")


def test_questionnaire_pages(client_as, coordinator, rp):
    client = client_as(coordinator)
    url = f"/patients/{rp.study_id}/questionnaires/new/"
    body = {"visit": "baseline", "completed_on": str(days_ago(3)), "item_29": "7", "item_30": "7"}
    assert "Questionnaire saved" not in client.post(url, {**body, "item_30": "9"}).content.decode()
    saved = client.post(url, body)
    assert saved.status_code == 302
    questionnaire = Questionnaire.objects.get(patient=rp)
    assert questionnaire.scores["QL2"] == 100 and questionnaire.answers["1"] is None
    again = client.post(url, body).content.decode()
    assert "already recorded" in again
    late = client.post(url, {**body, "completed_on": str(days_ago(2))}).content.decode()
    assert "on or before randomization" in late
    edit = f"/questionnaires/{questionnaire.pk}/edit/"
    assert client.post(edit, {**body, "item_30": "1"}).status_code == 200  # no reason
    fixed = client.post(edit, {**body, "item_30": "1", "reason": "Transcription error"})
    assert fixed.status_code == 302
    questionnaire.refresh_from_db()
    assert questionnaire.scores["QL2"] == 50
    detail = client.get(f"/questionnaires/{questionnaire.pk}/").content.decode()
    assert "50.0" in detail and "missing" in detail


def test_odd_input_is_refused_never_a_500(client_as, api_as, coordinator, rp):
    client = client_as(coordinator)
    client.raise_request_exception = False
    for code_typed in ("²", "9" * 30):
        page = client.post(
            f"/patients/{rp.study_id}/adverse-events/new/", ae_form(meddra_code=code_typed)
        )
        shown = page.content.decode()
        assert page.status_code == 200
        assert "Not a CTCAE v5.0 term." in shown or "Enter a whole number." in shown
    api = api_as(coordinator)
    api.raise_request_exception = False
    for q in ("²", "9" * 30):
        assert api.get("/api/safety/ctcae-terms/", {"q": q}).status_code == 200
    scored = api.post(
        "/api/quality-of-life/questionnaires/score/", {"answers": {"²": 1}}, format="json"
    )
    assert scored.status_code == 400 and "no such item" in scored.json()["answers"][0]
