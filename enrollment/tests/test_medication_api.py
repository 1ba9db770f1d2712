"""The API of the medical history and concomitant medications: records with their warnings,
corrections with a reason, who may read and write (never the blinded readers)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts import roles

pytestmark = pytest.mark.django_db
MEDS, HISTORY = "/api/medications/", "/api/medical-history/"


def day(n):
    return (timezone.localdate() - timedelta(days=n)).isoformat()


def clarithromycin(screening_id, **changes):
    return {
        "screening": screening_id,
        "name": "Clarithromycin 500 mg",
        "indication": "Pneumonia",
        "dose": "500",
        "dose_unit": "mg",
        "route": "oral",
        "frequency": "BID",
        "start_date": day(1),
        "ongoing": True,
        "atc_code": "J01FA09",
        **changes,
    }


def test_a_strong_inhibitor_comes_back_with_its_warning(api_as, coordinator, enrol):
    patient = enrol()
    api = api_as(coordinator)
    created = api.post(MEDS, clarithromycin(patient.screening_id), format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["study_id"] == patient.study_id and body["prior_to_study"] is False
    assert [w["code"] for w in body["warnings"]] == ["strong_cyp3a4_inhibitor"]
    assert "Stivarga" in body["warnings"][0]["source"]
    listed = api.get(MEDS, {"screening__patient__study_id": patient.study_id}).json()["results"]
    assert [m["warnings"][0]["code"] for m in listed] == ["strong_cyp3a4_inhibitor"]


def test_correct_with_a_reason_stop_and_history(api_as, coordinator, investigator, enrol):
    patient = enrol()
    api = api_as(coordinator)
    pk = api.post(MEDS, clarithromycin(patient.screening_id), format="json").json()["id"]
    no_reason = api.patch(f"{MEDS}{pk}/", {"dose": "250"}, format="json")
    assert no_reason.status_code == 400 and "reason" in no_reason.json()
    corrected = api_as(investigator).patch(
        f"{MEDS}{pk}/", {"dose": "250", "reason": "Per prescription"}, format="json"
    )
    assert corrected.status_code == 200 and corrected.json()["dose"] == "250.000"
    moved = api.patch(
        f"{MEDS}{pk}/", {"screening": patient.screening_id + 99, "reason": "x"}, format="json"
    )
    assert moved.status_code == 400
    stopped = api.post(f"{MEDS}{pk}/stop/", {"stop_date": day(0)}, format="json")
    assert stopped.status_code == 200 and stopped.json()["ongoing"] is False
    again = api.post(f"{MEDS}{pk}/stop/", {"stop_date": day(0)}, format="json")
    assert again.status_code == 400
    trail = api.get(f"{MEDS}{pk}/history/").json()
    assert [t["reason"] for t in trail][:2] == [trail[0]["reason"], "Per prescription"]
    assert trail[0]["reason"].startswith("Stopped on")


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"ongoing": False}, "stop_date"),
        ({"stop_date": day(2)}, "stop_date"),
        ({"start_date": day(-3)}, "start_date"),
        ({"atc_code": "J01FA9"}, "atc_code"),
        ({"route": "mouth"}, "route"),
        ({"start_date": "yesterday"}, "start_date"),
        ({"dose": "NaN"}, "dose"),
    ],
)
def test_refusals_are_400_with_the_field(api_as, coordinator, eligible_screening, changes, field):
    response = api_as(coordinator).post(
        MEDS, clarithromycin(eligible_screening.pk, **changes), format="json"
    )
    assert response.status_code == 400 and field in response.json(), response.json()


def test_hbv_history_carries_the_antiviral_warning(api_as, coordinator, eligible_screening):
    api = api_as(coordinator)
    created = api.post(
        HISTORY,
        {"screening": eligible_screening.pk, "condition": "Chronic hepatitis B", "start": "2008"},
        format="json",
    )
    assert created.status_code == 201, created.json()
    assert [w["code"] for w in created.json()["warnings"]] == ["hbv_no_antiviral"]
    assert created.json()["study_id"] is None  # before enrolment
    partial = api.post(
        HISTORY,
        {"screening": eligible_screening.pk, "condition": "Asthma", "start": "2008-14"},
        format="json",
    )
    assert partial.status_code == 400 and "start" in partial.json()
    pk = created.json()["id"]
    corrected = api.patch(f"{HISTORY}{pk}/", {"ongoing": False, "reason": "Resolved"})
    assert corrected.status_code == 200 and corrected.json()["warnings"] == []


@pytest.mark.parametrize(
    "role, reads, writes",
    [
        (roles.COORDINATOR, True, True),
        (roles.INVESTIGATOR, True, True),
        (roles.DATA_MANAGER, True, False),
        (roles.MONITOR, True, False),
        (roles.STATISTICIAN, True, False),
        (roles.RADIOLOGIST, False, False),
        (roles.ADJUDICATOR, False, False),
    ],
)
def test_who_reads_and_who_writes(api_as, make_user, eligible_screening, role, reads, writes):
    api = api_as(make_user(role, username=f"u-{role}"))
    for url in (MEDS, HISTORY):
        assert (api.get(url).status_code == 200) is reads
    created = api.post(MEDS, clarithromycin(eligible_screening.pk), format="json")
    assert (created.status_code == 201) is writes


def test_no_arm_in_what_the_statistician_reads(api_as, statistician, coordinator, randomized):
    patient = randomized("RPI")
    api_as(coordinator).post(MEDS, clarithromycin(patient.screening_id), format="json")
    text = api_as(statistician).get(MEDS).content.decode()
    assert "RPI" not in text and "iNKT" not in text and '"arm"' not in text
