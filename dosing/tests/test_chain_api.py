"""The cell product through the API and the pages: who records, who releases, who sees it
(never the statistician, who may be masked, nor the blinded readers), and the bedside check's
refusal as a 400 or a form error."""

from datetime import timedelta

import pytest
from django.utils import timezone

from dosing import services
from dosing.fixtures import PASSING, released_bag
from dosing.models import Infusion, ManufacturingBatch
from dosing.tests.test_api import course_body, rpi  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db


def chain_through_the_api(api, patient, number="INKT-B-0100"):
    today = timezone.localdate()
    apheresis = api.post(
        "/api/dosing/aphereses/",
        {"study_id": patient.study_id, "date": str(today - timedelta(days=18)), "volume_ml": "175"},
        format="json",
    )
    assert apheresis.status_code == 201, apheresis.json()
    batch = api.post(
        "/api/dosing/batches/",
        {
            "apheresis": apheresis.json()["id"],
            "batch_number": number,
            "manufactured_on": str(today - timedelta(days=17)),
            "expires_at": (timezone.now() + timedelta(days=5)).isoformat(),
            "cells_total": "2e9",
            "volume_ml": "100",
        },
        format="json",
    )
    assert batch.status_code == 201, batch.json()
    for assay, result in PASSING.items():
        test = api.post(
            "/api/dosing/release-tests/",
            {
                "batch": batch.json()["id"],
                "assay": assay.value,
                "tested_on": str(today - timedelta(days=16)),
                **{k: str(v) if not isinstance(v, bool) else v for k, v in result.items()},
            },
            format="json",
        )
        assert test.status_code == 201, test.json()
    return batch.json()


def test_coordinator_records_investigator_releases(api_as, coordinator, investigator, rpi):  # noqa: F811
    batch = chain_through_the_api(api_as(coordinator), rpi)
    assert batch["release_status"]["state"] == "not_released"
    url = f"/api/dosing/batches/{batch['id']}/release/"
    assert api_as(coordinator).post(url, {}, format="json").status_code == 403
    released = api_as(investigator).post(url, {}, format="json")
    assert released.status_code == 200, released.json()
    body = released.json()
    assert body["release_status"] == {"state": "released", "text": "Released", "problems": []}
    assert body["released_by"] == "investigator" and len(body["release_tests"]) == 5
    again = api_as(investigator).post(url, {}, format="json")
    assert again.status_code == 400 and "was released on" in str(again.json())


def test_release_refused_as_a_400_with_the_reasons(api_as, coordinator, investigator, rpi):  # noqa: F811
    batch = chain_through_the_api(api_as(coordinator), rpi)
    test = ManufacturingBatch.objects.get(pk=batch["id"]).release_tests.get(assay="viability")
    api = api_as(coordinator)
    url = f"/api/dosing/release-tests/{test.pk}/"
    assert api.patch(url, {"value": "50"}, format="json").status_code == 400  # no reason
    fixed = api.patch(url, {"value": "50", "reason": "Transcription"}, format="json")
    assert fixed.status_code == 200 and fixed.json()["passed"] is False
    refused = api_as(investigator).post(f"/api/dosing/batches/{batch['id']}/release/", {})
    assert refused.status_code == 400
    assert "Viability 50.00 % is below 70 %." in str(refused.json())
    history = api.get(f"{url}history/").json()
    assert history[0]["reason"] == "Transcription"


def test_the_infusion_api_takes_the_bedside_check(api_as, coordinator, rpi):  # noqa: F811
    api = api_as(coordinator)
    wrong = api.post(
        "/api/dosing/infusions/", course_body(rpi, bag_study_id="INKT-404"), format="json"
    )
    assert wrong.status_code == 400
    assert wrong.json()["bag_study_id"] == [
        f"The bag is labelled for INKT-404, not for this patient ({rpi.study_id})."
    ]
    missing = api.post(
        "/api/dosing/infusions/", course_body(rpi, bag_date_of_birth=None), format="json"
    )
    assert missing.status_code == 400 and "bag_date_of_birth" in missing.json()
    given = api.post("/api/dosing/infusions/", course_body(rpi), format="json")
    assert given.status_code == 201 and given.json()["bedside_check"] == "passed"
    assert Infusion.objects.get().batch is not None


def test_corrections_through_the_api_need_a_reason(api_as, coordinator, rpi):  # noqa: F811
    api = api_as(coordinator)
    batch = chain_through_the_api(api, rpi)
    url = f"/api/dosing/batches/{batch['id']}/"
    assert api.patch(url, {"cells_total": "3e9"}, format="json").status_code == 400
    fixed = api.patch(url, {"cells_total": "3e9", "reason": "Per certificate"}, format="json")
    assert fixed.status_code == 200 and fixed.json()["cells_total"] == 3 * 10**9
    apheresis = api.get(f"/api/dosing/aphereses/?study_id={rpi.study_id}").json()
    rows = apheresis["results"] if isinstance(apheresis, dict) else apheresis
    moved = api.patch(
        f"/api/dosing/aphereses/{rows[0]['id']}/",
        {"volume_ml": "160", "reason": "Weighed bag"},
        format="json",
    )
    assert moved.status_code == 200


def test_odd_input_is_a_400_not_a_500(api_as, coordinator, rpi):  # noqa: F811
    api = api_as(coordinator)
    batch = chain_through_the_api(api, rpi)
    for url, body in (
        ("/api/dosing/aphereses/", {"study_id": rpi.study_id, "date": "x", "volume_ml": "-1"}),
        ("/api/dosing/batches/", {"apheresis": 999999, "batch_number": "X"}),
        ("/api/dosing/batches/", {**batch, "batch_number": "inkt-b-0100", "cells_total": "2e9"}),
        ("/api/dosing/release-tests/", {"batch": batch["id"], "assay": "potency"}),
        (
            "/api/dosing/release-tests/",
            {"batch": batch["id"], "assay": "sterility", "tested_on": "2020-01-01"},
        ),
    ):
        assert api.post(url, body, format="json").status_code == 400, (url, body)


def test_rp_patient_gets_no_apheresis_through_the_api(api_as, coordinator, randomized):
    rp = randomized("RP", days_ago=5)
    response = api_as(coordinator).post(
        "/api/dosing/aphereses/",
        {"study_id": rp.study_id, "date": str(timezone.localdate()), "volume_ml": "150"},
        format="json",
    )
    assert response.status_code == 400 and "RP arm" in str(response.json())


def test_the_masked_statistician_and_blinded_roles_never_see_the_cell_product(
    api_as,
    client_as,
    coordinator,
    investigator,
    make_user,
    statistician,
    rpi,  # noqa: F811
):
    assert not statistician.has_perm("randomization.view_arm")  # masked
    bag = released_bag(patient=rpi, by=investigator, infused_at=timezone.now())
    batch = ManufacturingBatch.objects.get(batch_number=bag["batch_number"])
    users = [statistician] + [
        make_user(r, username=f"x-{r}") for r in ("radiologist", "adjudicator")
    ]
    for user in users:
        api = api_as(user)
        for url in (
            "/api/dosing/aphereses/",
            "/api/dosing/batches/",
            f"/api/dosing/batches/{batch.pk}/",
            f"/api/dosing/batches/{batch.pk}/history/",
            "/api/dosing/release-tests/",
        ):
            assert api.get(url).status_code == 403, (user, url)
        assert api.post(f"/api/dosing/batches/{batch.pk}/release/").status_code == 403
    page = client_as(statistician).get(f"/patients/{rpi.study_id}/")
    assert page.status_code == 200
    assert bag["batch_number"] not in page.content.decode()
    assert "cell-product" not in page.content.decode()


def test_the_patient_page_shows_the_chain_and_the_bedside_check(
    client_as,
    coordinator,
    investigator,
    rpi,  # noqa: F811
):
    bag = released_bag(patient=rpi, by=investigator, infused_at=timezone.now())
    services.infusion_record(
        patient=rpi,
        by=coordinator,
        infused_at=timezone.now() - timedelta(days=14),
        weight_kg=64,
        target_cells_per_m2=5 * 10**8,
        cells_infused=864_100_000,
        **bag,
    )
    page = client_as(coordinator).get(f"/patients/{rpi.study_id}/").content.decode()
    assert 'id="cell-product"' in page and bag["batch_number"] in page
    assert "Infused (course 1)" in page
    assert f"✓ bag {rpi.study_id}, batch {bag['batch_number']}" in page
    assert "Record an apheresis" in page
    assert "Release</a>" not in page  # the investigator releases


def test_the_release_page_and_the_infusion_form_refuse_clearly(
    client_as,
    coordinator,
    investigator,
    rpi,  # noqa: F811
):
    batch = chain_through_the_api_as_pages(client_as(coordinator), rpi)
    client = client_as(investigator)
    page = client.get(f"/batches/{batch.pk}/release/")
    assert page.status_code == 200 and "Viability" in page.content.decode()
    done = client.post(f"/batches/{batch.pk}/release/", {"released_at": ""})
    assert done.status_code == 302
    batch.refresh_from_db()
    assert batch.released_by == investigator
    client = client_as(coordinator)
    form = client.post(
        f"/patients/{rpi.study_id}/infusions/new/",
        {
            "status": "given",
            "infused_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "weight_kg": "64.0",
            "bsa_formula": "mosteller",
            "target_cells_per_m2": "5e8",
            "cells_infused": "8.641e8",
            "bag_study_id": "INKT-999",
            "bag_date_of_birth": str(rpi.screening.date_of_birth),
            "batch_number": batch.batch_number,
            "deviation_reason": "Late",
        },
    )
    assert form.status_code == 200
    assert "The bag is labelled for INKT-999" in form.content.decode()
    assert not Infusion.objects.exists()


def chain_through_the_api_as_pages(client, patient) -> ManufacturingBatch:
    """Apheresis, batch and release tests through the coordinator's forms."""
    today = timezone.localdate()
    response = client.post(
        f"/patients/{patient.study_id}/apheresis/new/",
        {"date": str(today - timedelta(days=18)), "volume_ml": "175", "site": "Unit 3"},
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    apheresis = patient.aphereses.get()
    response = client.post(
        f"/patients/{patient.study_id}/batches/new/",
        {
            "apheresis": apheresis.pk,
            "batch_number": "INKT-B-0200",
            "manufactured_on": str(today - timedelta(days=17)),
            "expires_at": (timezone.localtime() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M"),
            "cells_total": "2e9",
            "volume_ml": "100",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    batch = ManufacturingBatch.objects.get(batch_number="INKT-B-0200")
    for assay, result in PASSING.items():
        data = {"assay": assay.value, "tested_on": str(today - timedelta(days=16))}
        if "result_passed" in result:
            data["result_passed"] = "true"
        else:
            data["value"] = str(result["value"])
        response = client.post(f"/batches/{batch.pk}/tests/new/", data)
        assert response.status_code == 302, response.content.decode()[:3000]
    return batch
