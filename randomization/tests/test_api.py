"""The randomization API: randomizing, refusals, concealment and the statistician's CSVs."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from randomization import services
from randomization.models import Allocation

pytestmark = pytest.mark.django_db

SEQ = "/api/randomization/sequences/"
ALLOC = "/api/randomization/allocations/"


@pytest.fixture
def sequence(statistician, data_manager):
    coded = services.sequence_generate(by=statistician, length=84, block_sizes=[2, 4, 6], seed=8)
    services.arm_codes_set(sequence=coded, by=data_manager, code_a_arm="RPI", reason="Mapping")
    return coded


def rows(response):
    return list(csv.DictReader(io.StringIO(response.content.decode())))


def test_coordinator_randomizes_and_sees_arm_date_and_who(api_as, coordinator, enrol, sequence):
    patient = enrol()
    response = api_as(coordinator).post(ALLOC, {"study_id": patient.study_id}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["study_id"] == patient.study_id
    assert body["arm"] in ("RPI", "RP")
    assert body["randomized_by"] == "coordinator"
    assert "position" not in body and "stratum" not in body  # nothing about the sequence


@pytest.mark.parametrize(
    ("study_id", "message"),
    [("INKT-999", "No enrolled patient"), ("", "blank")],
)
def test_unknown_patient_is_refused_and_changes_nothing(
    api_as, coordinator, sequence, study_id, message
):
    response = api_as(coordinator).post(ALLOC, {"study_id": study_id}, format="json")
    assert response.status_code == 400
    assert message in str(response.json())
    assert not Allocation.objects.exists()


def test_twice_is_refused(api_as, coordinator, enrol, sequence):
    patient = enrol()
    api = api_as(coordinator)
    api.post(ALLOC, {"study_id": patient.study_id}, format="json")
    again = api.post(ALLOC, {"study_id": patient.study_id}, format="json")
    assert again.status_code == 400
    assert "already randomized" in again.json()["detail"]
    assert Allocation.objects.count() == 1


def test_only_the_coordinator_randomizes(api_as, investigator, statistician, enrol, sequence):
    patient = enrol()
    for user in (investigator, statistician):
        assert api_as(user).post(ALLOC, {"study_id": patient.study_id}).status_code == 403
    assert not Allocation.objects.exists()


def test_sequence_is_concealed_from_those_who_enrol(api_as, coordinator, investigator, sequence):
    for user in (coordinator, investigator):
        api = api_as(user)
        assert api.get(SEQ).status_code == 403
        assert api.get(f"{SEQ}{sequence.pk}/csv/").status_code == 403
        assert api.get(f"{ALLOC}csv/").status_code == 403
        report = api.get("/api/randomization/report/").json()
        assert "slots" not in str(report) and "remaining" not in str(report)


def test_statistician_downloads_the_sequence_and_the_log(
    api_as, statistician, coordinator, enrol, sequence
):
    services.patient_randomize(patient=enrol(), by=coordinator)
    api = api_as(statistician)
    slots = rows(api.get(f"{SEQ}{sequence.pk}/csv/"))
    assert len(slots) == sequence.slots.count()
    assert [int(r["position"]) for r in slots] == list(range(1, len(slots) + 1))
    log = rows(api.get(f"{ALLOC}csv/"))
    assert len(log) == 1 and log[0]["position"] == "1" and log[0]["arm"] == slots[0]["arm"]


def test_masked_statistician_sees_codes_never_arms(
    api_as, client_as, statistician, data_manager, coordinator, enrol
):
    coded = services.sequence_generate(
        by=statistician, length=84, block_sizes=[2, 4], seed=3, uses_codes=True
    )
    services.arm_codes_set(sequence=coded, by=data_manager, code_a_arm="RPI", reason="mapping")
    patient = enrol()
    services.patient_randomize(patient=patient, by=coordinator)
    api = api_as(statistician)
    assert api.get(f"{SEQ}{coded.pk}/").json()["code_a_arm"] is None
    assert api.get(ALLOC).json()["results"][0]["arm"] in ("A", "B")
    assert rows(api.get(f"{ALLOC}csv/"))[0]["arm"] in ("A", "B")
    report = api.get("/api/randomization/report/").json()
    assert set(report["consort"]["randomized_by_arm"]) <= {"A", "B"}
    assert "RPI" not in str(report) and "RP" not in str(report)
    page = client_as(statistician).get(f"/patients/{patient.study_id}/").content.decode()
    assert 'id="arm">A<' in page or 'id="arm">B<' in page
    admin = api_as(data_manager)
    assert admin.get(f"{SEQ}{coded.pk}/").json()["code_a_arm"] == "RPI"
    assert admin.get(ALLOC).json()["results"][0]["arm"] in ("RPI", "RP")


def test_statistician_cannot_map_codes(api_as, statistician):
    coded = services.sequence_generate(
        by=statistician, length=84, block_sizes=[2, 4], uses_codes=True
    )
    response = api_as(statistician).post(f"{SEQ}{coded.pk}/codes/", {"code_a_arm": "RP"})
    assert response.status_code == 403


def test_generate_and_upload_through_the_api(api_as, statistician, data_manager):
    api = api_as(statistician)
    bad = api.post(SEQ, {"length": 50, "block_sizes": [3]}, format="json")
    assert bad.status_code == 400
    made = api.post(SEQ, {"length": 84, "block_sizes": [2, 4], "seed": 12}, format="json")
    assert made.status_code == 201 and made.json()["seed"] == 12
    text = api.get(f"{SEQ}{made.json()['id']}/csv/").content
    again = api.post(f"{SEQ}upload/", {"file": SimpleUploadedFile("s.csv", text)})
    assert again.status_code == 400  # a sequence is in force: the administrator's job
    replaced = api_as(data_manager).post(
        f"{SEQ}upload/",
        {"file": SimpleUploadedFile("s.csv", text), "reason": "Sequence re-issued on paper"},
    )
    assert replaced.status_code == 201, replaced.json()
    assert replaced.json()["version"] == 2


def test_upload_errors_come_back_per_line(api_as, statistician):
    text = b"stratum,position,block,arm\n,1,1,A\n,2,1,A\n"
    response = api_as(statistician).post(
        f"{SEQ}upload/", {"file": SimpleUploadedFile("s.csv", text)}
    )
    assert response.status_code == 400
    assert any("Block 1" in line and "not balanced" in line for line in response.json()["file"])
    binary = api_as(statistician).post(
        f"{SEQ}upload/", {"file": SimpleUploadedFile("s.csv", b"\xff\xfe\x00")}
    )
    assert binary.status_code == 400


def test_blinded_roles_get_nothing(api_as, make_user, coordinator, enrol, sequence):
    services.patient_randomize(patient=enrol(), by=coordinator)
    for role in ("radiologist", "adjudicator"):
        api = api_as(make_user(role))
        for url in (ALLOC, f"{ALLOC}csv/", SEQ, "/api/randomization/report/"):
            assert api.get(url).status_code == 403, (role, url)
