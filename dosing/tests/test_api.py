from datetime import timedelta

import pytest
from django.utils import timezone

from dosing import services
from dosing.fixtures import released_bag
from dosing.models import Infusion

pytestmark = pytest.mark.django_db
TARGET = 5 * 10**8


@pytest.fixture
def rpi(randomized, coordinator):
    patient = randomized("RPI", days_ago=20)
    services.schedule_create(
        patient=patient,
        by=coordinator,
        first_planned_date=timezone.localdate() - timedelta(days=14),
        target_cells_per_m2=TARGET,
    )
    return patient


def course_body(patient, **changes):
    infused_at = timezone.now() - timedelta(days=14)
    bag = released_bag(patient=patient, by=patient.allocation.randomized_by, infused_at=infused_at)
    return {
        "study_id": patient.study_id,
        "infused_at": infused_at.isoformat(),
        "weight_kg": "64.0",
        "target_cells_per_m2": "5e8",
        "cells_infused": "8.7e8",
        **bag,
        "bag_date_of_birth": bag["bag_date_of_birth"].isoformat(),
        **changes,
    }


def test_record_a_course_through_the_api(api_as, coordinator, rpi):
    response = api_as(coordinator).post("/api/dosing/infusions/", course_body(rpi), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["course_number"] == 1
    assert body["bsa_m2"] == "1.7282"
    assert body["computed_dose_cells"] == 864_100_000
    assert body["deviations"] == []


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"cells_infused": "lots"}, "cells_infused"),
        ({"weight_kg": "-3"}, "weight_kg"),
        ({"infused_at": "yesterday"}, "infused_at"),
        ({"study_id": "INKT-999"}, "study_id"),
        ({"status": "maybe"}, "status"),
    ],
)
def test_bad_input_is_400(api_as, coordinator, rpi, changes, field):
    response = api_as(coordinator).post(
        "/api/dosing/infusions/", course_body(rpi, **changes), format="json"
    )
    assert response.status_code == 400
    assert field in response.json()
    assert not Infusion.objects.exists()


def test_out_of_range_dose_is_400_with_the_reason_asked_for(api_as, coordinator, rpi):
    response = api_as(coordinator).post(
        "/api/dosing/infusions/",
        course_body(rpi, target_cells_per_m2="2e9", cells_infused="3e9"),
        format="json",
    )
    assert response.status_code == 400
    assert "deviation_reason" in response.json()


def test_exposure_and_calendar(api_as, coordinator, investigator, rpi):
    api_as(coordinator).post("/api/dosing/infusions/", course_body(rpi), format="json")
    exposure = api_as(investigator).get(f"/api/dosing/exposure/{rpi.study_id}/").json()
    assert exposure["courses_given"] == 1 and exposure["cumulative_cells"] == 870_000_000
    calendar = api_as(investigator).get("/api/dosing/calendar/").json()
    assert [(r["study_id"], r["course"]) for r in calendar] == [(rpi.study_id, 2)]


def test_preview_computes_bsa_and_dose(api_as, coordinator, rpi):
    body = (
        api_as(coordinator)
        .post(
            "/api/dosing/preview/",
            {"study_id": rpi.study_id, "weight_kg": "70", "target_cells_per_m2": "1e9"},
            format="json",
        )
        .json()
    )
    assert body["bsa_m2"] == pytest.approx(1.8074)  # sqrt(168 x 70 / 3600)
    assert body["computed_dose_cells"] == 1_807_400_000


def test_masked_statistician_and_blinded_roles_see_no_treatment(api_as, make_user, rpi):
    for role in ("statistician", "radiologist", "adjudicator"):
        api = api_as(make_user(role, username=f"other-{role}"))
        for url in (
            "/api/dosing/infusions/",
            "/api/dosing/schedules/",
            f"/api/dosing/exposure/{rpi.study_id}/",
            "/api/dosing/calendar/",
            "/api/dosing/drug-exposures/",
        ):
            assert api.get(url).status_code == 403, (role, url)


def test_correction_through_the_api_needs_a_reason(api_as, coordinator, rpi):
    api = api_as(coordinator)
    course = api.post("/api/dosing/infusions/", course_body(rpi), format="json").json()
    url = f"/api/dosing/infusions/{course['id']}/"
    assert api.patch(url, {"weight_kg": "70.0"}, format="json").status_code == 400
    fixed = api.patch(url, {"weight_kg": "70.0", "reason": "Scale misread"}, format="json")
    assert fixed.status_code == 200 and fixed.json()["bsa_m2"] == "1.8074"
    history = api.get(f"{url}history/").json()
    assert history[0]["reason"] == "Scale misread"


def test_preview_for_an_unknown_patient_is_400(api_as, coordinator):
    response = api_as(coordinator).post(
        "/api/dosing/preview/",
        {"study_id": "INKT-999", "weight_kg": "70", "target_cells_per_m2": "1e9"},
        format="json",
    )
    assert response.status_code == 400
