"""Odd input answered with a clear 4xx, never a 500: long reasons, a required field left out,
NUL characters, deeply nested JSON, oversized bodies; API routes always answer JSON."""

import json
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.utils import timezone

from inkt_trial.audit import MAX_REASON_CHARS, history_of
from inkt_trial.hardening import FORM, MAX_JSON_DEPTH, json_depth
from outcomes.models import FollowUp

pytestmark = pytest.mark.django_db


def days_ago(n):
    return timezone.localdate() - timedelta(days=n)


@pytest.fixture
def patient(randomized):
    return randomized("RP", days_ago=20, consent_date=days_ago(30), screening_date=days_ago(29))


@pytest.fixture
def api(api_as, coordinator):
    api = api_as(coordinator)
    api.raise_request_exception = False
    return api


def test_a_realistic_correction_reason_is_kept_whole_and_a_longer_one_refused(api, patient):
    body = {"study_id": patient.study_id, "kind": "new_therapy", "date": str(days_ago(2))}
    created = api.post("/api/follow-up/", {**body, "therapy": "TACE"}, format="json").json()
    url = f"/api/follow-up/{created['id']}/"
    long = ("The site monitor found the therapy name transcribed from the wrong letter. " * 14)[
        :MAX_REASON_CHARS
    ]
    assert len(long) == 1000
    kept = api.patch(url, {"therapy": "TACE x2", "reason": long}, format="json")
    assert kept.status_code == 200, kept.content
    assert history_of(FollowUp.objects.get(pk=created["id"]))[0]["reason"] == long.strip()
    too_long = api.patch(url, {"therapy": "TACE x3", "reason": long + "!"}, format="json")
    assert too_long.status_code == 400
    assert "At most 1,000 characters (1,001)" in too_long.json()["reason"][0]
    assert FollowUp.objects.get(pk=created["id"]).therapy == "TACE x2"  # nothing changed


def test_an_sae_report_without_its_kind_is_refused_by_the_schema(api):
    response = api.post(
        "/api/safety/sae-reports/",
        {"event": 1, "sent_at": timezone.now().isoformat(), "information": "Transfused."},
        format="json",
    )
    assert response.status_code == 400 and "kind" in response.json()


@pytest.mark.parametrize(
    "url",
    [
        "/api/safety/ctcae-terms/?q=fati%00gue",
        "/api/patients/?study_id=%00",
        "/patients/INKT-%00/",
        "/api/imaging/responses/INKT%00/",
    ],
)
def test_a_nul_character_in_an_address_is_refused(api, client_as, coordinator, url):
    got = api.get(url) if url.startswith("/api/") else client_as(coordinator).get(url)
    assert got.status_code == 400
    if url.startswith("/api/"):
        assert "NUL" in got.json()["detail"]


def test_a_nul_character_in_json_or_a_form_is_refused(api, client_as, coordinator, patient):
    text = '{"study_id": "%s", "kind": "new_therapy", "date": "%s", "therapy": "TA\\u0000CE"}'
    body = text % (patient.study_id, days_ago(2))
    got = api.generic("POST", "/api/follow-up/", body, content_type="application/json")
    assert got.status_code == 400 and "NUL" in got.json()["detail"]
    form = {"kind": "new_therapy", "date": str(days_ago(1)), "therapy": "TA\x00CE"}
    client = client_as(coordinator)
    url = f"/patients/{patient.study_id}/follow-up/new/"
    as_browser = client.post(url, urlencode(form), content_type=FORM)  # what a browser sends
    assert as_browser.status_code == 400
    multipart = client.post(url, form)  # Django's forms refuse it with the field's message
    assert multipart.status_code == 200 and "Null characters are not allowed" in (
        multipart.content.decode()
    )
    assert not FollowUp.objects.exists()


def test_json_nested_deeper_than_any_record_is_refused(api):
    deep = "[" * 1000 + "]" * 1000
    got = api.generic("POST", "/api/follow-up/", deep, content_type="application/json")
    assert got.status_code == 400 and "nested deeper" in got.json()["detail"]
    assert json_depth(json.dumps({"a": [{"b": ["x]["]}]})) == 4  # brackets in strings: text
    assert json_depth("[" * 5000) == MAX_JSON_DEPTH + 1  # counts no further than it must


def test_the_parser_itself_answers_deep_json_with_a_parse_error():
    import io

    from rest_framework.exceptions import ParseError

    from inkt_trial.hardening import SafeJSONParser

    with pytest.raises(ParseError, match="nested deeper"):
        SafeJSONParser().parse(io.BytesIO(b"[" * 100_000 + b"]" * 100_000))


def test_api_routes_answer_json_for_oversized_bodies_and_unknown_routes(api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    big = json.dumps({"notes": "x" * 5000})
    got = api.generic("POST", "/api/follow-up/", big, content_type="application/json")
    assert got.status_code == 400 and got["Content-Type"] == "application/json"
    assert "detail" in got.json()
    missing = api.get("/api/no-such-route/")
    assert missing.status_code == 404 and missing.json() == {"detail": "Not found."}


def test_the_audit_trail_shows_what_changed_inside_answers_and_scores(
    client_as, coordinator, patient
):
    from assessments import services as quality_of_life
    from inkt_trial.audit import shown_change

    assert shown_change({"1": 2, "30": 7}, {"1": 2, "30": 1}) == ["30: 7 → 1"]
    assert shown_change({"PF2": 66.66666666666667}, {"PF2": 33.333333333333336}) == [
        "PF2: 66.67 → 33.33"
    ]
    assert shown_change(None, "x") == ["– → x"]
    answers = {str(i): 2 for i in range(1, 29)} | {"29": 7, "30": 7}
    record = quality_of_life.questionnaire_record(
        patient=patient,
        by=coordinator,
        visit="baseline",
        completed_on=days_ago(20),
        answers=answers,
    )
    quality_of_life.questionnaire_correct(
        questionnaire=record, by=coordinator, reason="Transcription", answers={**answers, "30": 1}
    )
    page = client_as(coordinator).get(f"/questionnaires/{record.pk}/history/").content.decode()
    assert "30: 7 → 1" in page and "QL2: 100 → 50" in page
    assert "{" not in page.split('id="history"')[1] and "66.66666" not in page
