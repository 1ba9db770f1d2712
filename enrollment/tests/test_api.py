import json
import re
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from conftest import PASSWORD
from enrollment.models import Patient, Screening

pytestmark = pytest.mark.django_db
URL = "/api/screenings/"


def as_json(values: dict) -> dict:
    return json.loads(json.dumps(values, default=str))


def test_create_returns_derived_values(api_as, coordinator, values):
    response = api_as(coordinator).post(URL, as_json(values()), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["screening_number"] == "S-0001"
    assert body["outcome"] == "eligible"
    assert body["child_pugh_class"] == "A"
    assert body["age_years"] == 58
    assert body["failed_criteria"] == []


def test_screen_failure_through_the_api_lists_failed_criteria(api_as, coordinator, values):
    response = api_as(coordinator).post(
        URL, as_json(values(bclc_stage="B", creatinine="150")), format="json"
    )
    assert response.status_code == 201
    assert [c["code"] for c in response.json()["failed_criteria"]] == ["bclc_c", "gfr_below_60"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"bilirubin_unit": "mmol/L"}, "bilirubin_unit"),
        ({"height_cm": "17.0"}, "height_cm"),
        ({"albumin": "38", "albumin_unit": "g/dL"}, "albumin"),
        ({"hiv_syphilis": None}, "hiv_syphilis"),
        ({"inr": "abc"}, "inr"),
        ({"date_of_birth": "not a date"}, "date_of_birth"),
        ({"sex": "M", "pregnancy_lactation": True}, "pregnancy_lactation"),
        ({"creatinine": None, "measured_gfr_ml_min": None}, "creatinine"),
    ],
)
def test_bad_input_is_400_with_field_errors(api_as, coordinator, values, changes, field):
    body = {**as_json(values()), **changes}
    response = api_as(coordinator).post(URL, body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not Screening.objects.exists()


def test_dates_in_the_future_or_before_consent_are_refused(api_as, coordinator, values):
    today = timezone.localdate()
    body = as_json(values(consent_date=today + timedelta(days=1)))
    response = api_as(coordinator).post(URL, body, format="json")
    assert response.status_code == 400
    assert "consent_date" in response.json()


def test_garbage_bodies_are_400_not_500(api_as, coordinator):
    api = api_as(coordinator)
    for body in ([1, 2], "text", {"date_of_birth": 12}):
        assert api.post(URL, body, format="json").status_code == 400
    raw = api.generic("POST", URL, "{not json", content_type="application/json")
    assert raw.status_code == 400


def test_change_needs_a_reason_and_is_in_the_history(api_as, coordinator, eligible_screening):
    api = api_as(coordinator)
    url = f"{URL}{eligible_screening.pk}/"
    refused = api.patch(url, {"inr": "1.9"}, format="json")
    assert refused.status_code == 400
    assert "reason" in refused.json()
    accepted = api.patch(url, {"inr": "1.9", "reason": "Repeat INR on the same day"}, format="json")
    assert accepted.status_code == 200
    assert accepted.json()["child_pugh_points"] == 6
    history = api.get(f"{url}history/").json()
    assert history[0]["reason"] == "Repeat INR on the same day"
    assert {"field": "INR", "old": "1.15", "new": "1.90"} in history[0]["changes"]


def test_delete_is_not_offered(api_as, make_user, eligible_screening):
    dm = make_user("data_manager", is_staff=True)
    response = api_as(dm).delete(f"{URL}{eligible_screening.pk}/")
    assert response.status_code in (403, 405)
    assert Screening.objects.filter(pk=eligible_screening.pk).exists()


def test_investigator_confirms_with_password(api_as, investigator, eligible_screening):
    api = api_as(investigator)
    url = f"{URL}{eligible_screening.pk}/confirm/"
    version = api.get(f"{URL}{eligible_screening.pk}/").json()["version"]
    signer = {"username": investigator.username}  # an API request gives both components
    wrong = api.post(url, {**signer, "password": "nope", "version": version}, format="json")
    assert wrong.status_code == 400
    assert "password" in wrong.json()
    response = api.post(url, {**signer, "password": PASSWORD, "version": version}, format="json")
    assert response.status_code == 201
    assert response.json()["study_id"] == "INKT-001"
    again = api.post(url, {**signer, "password": PASSWORD, "version": version + 1}, format="json")
    assert again.status_code == 400
    assert again.json()["detail"]


def test_coordinator_cannot_confirm(api_as, coordinator, eligible_screening):
    response = api_as(coordinator).post(
        f"{URL}{eligible_screening.pk}/confirm/", {"password": PASSWORD}, format="json"
    )
    assert response.status_code == 403
    assert not Patient.objects.exists()


def test_preview_names_an_implausible_value_and_derives_nothing_from_it(api_as, coordinator):
    body = {
        "date_of_birth": "1960-01-10",
        "consent_date": "2026-01-09",
        "bilirubin": "9999",
        "bilirubin_unit": "umol/L",
        "albumin": "35",
        "albumin_unit": "g/L",
    }
    shown = api_as(coordinator).post(f"{URL}preview/", body, format="json").json()
    assert (
        "bilirubin" in shown["problems"] and "Must be between" in shown["problems"]["bilirubin"][0]
    )
    assert shown.get("bilirubin_umol_l") is None and shown.get("child_pugh_class") is None
    assert shown["albumin_g_l"] == pytest.approx(35)  # the plausible values still derive
    assert shown["age_years"] == 65


def test_preview_derives_from_a_partial_record(api_as, coordinator):
    response = api_as(coordinator).post(
        f"{URL}preview/",
        {
            "date_of_birth": "1960-01-10",
            "consent_date": "2026-01-09",
            "sex": "F",
            "creatinine": "1.0",
            "creatinine_unit": "mg/dL",
            "bilirubin": "3",
            "bilirubin_unit": "mg/dL",
        },
        format="json",
    )
    assert response.status_code == 200
    body = response.json()
    assert body["age_years"] == 65
    assert body["bilirubin_umol_l"] == pytest.approx(51.3)
    # CKD-EPI 2021, female, 65 years, 1.0 mg/dL, worked by hand:
    # 142 x (1/0.7)^-1.2 x 0.9938^65 x 1.012 = 142 x 0.6518 x 0.6675 x 1.012 = 62.5
    assert body["egfr"] == pytest.approx(62.5, abs=0.1)
    assert "outcome" not in body
    assert not Screening.objects.exists()


def test_list_is_paginated_and_filtered(api_as, coordinator, values):
    from enrollment import services

    services.screening_create(values=values(), by=coordinator)
    services.screening_create(values=values(bclc_stage="B"), by=coordinator)
    api = api_as(coordinator)
    page = api.get(URL).json()
    assert page["count"] == 2 and len(page["results"]) == 2
    failures = api.get(URL, {"status": "screen_failure"}).json()
    assert [s["outcome"] for s in failures["results"]] == ["screen_failure"]
    assert api.get(URL, {"status": "bogus"}).status_code == 400


def test_token_authentication(coordinator, eligible_screening):
    token = Token.objects.create(user=coordinator)
    api = APIClient()
    assert api.get(URL).status_code in (401, 403)
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert api.get(URL).json()["count"] == 1


def test_token_is_issued_for_username_and_password(client, coordinator):
    response = client.post(
        "/api/auth/token/",
        {"username": "coordinator", "password": PASSWORD},
        REMOTE_ADDR="127.0.0.9",
    )
    assert response.status_code == 200
    assert response.json()["token"] == Token.objects.get(user=coordinator).key


def test_schema_and_docs_are_served_without_a_cdn(client_as, coordinator):
    client = client_as(coordinator)
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/screenings/preview/" in schema.content  # what a coordinator may call
    docs = client.get("/api/docs/").content.decode()
    assert "swagger-ui" in docs
    # every asset from this site: no src or href to another host (a CDN)
    assert not re.search(r'(src|href)=["\'](https?:)?//', docs)
    assert "https://" not in docs
    asset = docs.split('src="')[1].split('"')[0]
    assert client.get(asset).status_code == 200


BAD_VALUES = [
    "",
    "abc",
    -1,
    0,
    1e308,
    "9" * 40,
    [],
    {"a": 1},
    None,
    True,
    "2026-02-30",
    "NaN",
    "-5",
]


@pytest.mark.parametrize("bad", BAD_VALUES, ids=repr)
def test_no_value_in_any_field_makes_a_500(api_as, client_as, coordinator, values, bad):
    """Every entered field, given each kind of nonsense, through the API and the form."""
    from enrollment.services import ENTERED_FIELDS

    api = api_as(coordinator)
    good = as_json(values())
    for field in ENTERED_FIELDS:
        response = api.post(URL, {**good, field: bad}, format="json")
        assert response.status_code in (201, 400), (field, bad, response.status_code)
    screening = api.post(URL, good, format="json").json()["id"]
    for field in ENTERED_FIELDS:
        preview = api.post(f"{URL}preview/", {**good, field: bad}, format="json")
        assert preview.status_code == 200, (field, bad)
        patch = api.patch(f"{URL}{screening}/", {field: bad, "reason": "fuzz"}, format="json")
        assert patch.status_code in (200, 400), (field, bad, patch.status_code)
    form = client_as(coordinator)
    for field in ENTERED_FIELDS:
        body = {k: v for k, v in good.items() if v is not None}
        body[field] = "" if bad is None else str(bad)
        assert form.post("/screenings/new/", body).status_code in (200, 302), (field, bad)
