"""Scans, two blinded readers, locking, discordance, adjudication and agreement."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from assessments import services
from assessments.models import Read
from assessments.recist import Criterion
from conftest import PASSWORD
from inkt_trial import memo
from inkt_trial.errors import DomainError

pytestmark = pytest.mark.django_db

BASELINE = {
    "targets": [
        {"id": "T1", "organ": "liver", "diameter_mm": 40},
        {"id": "T2", "organ": "lung", "diameter_mm": 30},
    ]
}


def follow(t1, t2=0):
    return {
        "measurements": [
            {"lesion_id": "T1", "diameter_mm": t1},
            {"lesion_id": "T2", "diameter_mm": t2},
        ]
    }


def days_ago(n):
    return timezone.localdate() - timedelta(days=n)


@pytest.fixture
def case(randomized, make_user, coordinator):
    """A patient enrolled and randomized 230 days ago, two readers, a baseline scan 7 days
    before randomization and three 8-weekly scans."""
    long_ago = {
        "consent_date": days_ago(240),
        "screening_date": days_ago(239),
        "prior_regimen_start": days_ago(400),
        "prior_progression_date": days_ago(245),
    }
    patient = randomized("RP", days_ago=230, **long_ago)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE enrollment_patient SET enrolled_at = %s WHERE id = %s",
            [timezone.now() - timedelta(days=231), patient.pk],
        )
    patient.refresh_from_db()
    one, two = make_user("radiologist", "rad-a"), make_user("radiologist", "rad-b")
    services.readers_assign(patient=patient, by=coordinator, reader_1=one, reader_2=two)
    scans = [
        services.scan_register(
            patient=patient,
            by=coordinator,
            scan_date=days_ago(237),
            kind="baseline",
            modality="CT",
            regions=["chest", "abdomen"],
        )
    ]
    for k in (1, 2, 3):
        scans.append(
            services.scan_register(
                patient=patient,
                by=coordinator,
                scan_date=days_ago(231 - 56 * k),
                kind="scheduled",
                modality="MRI",
                regions=["abdomen"],
            )
        )
    return patient, one, two, scans


def read_all(reader, scans, sums, lock=True):
    services.read_save(scan=scans[0], reader=reader, data=BASELINE)
    for scan, total in zip(scans[1:], sums, strict=True):
        services.read_save(scan=scan, reader=reader, data=follow(total))
    if lock:
        for read in Read.objects.filter(assignment__reader=reader):
            services.read_lock(read=read, reader=reader, password=PASSWORD)


def discordant_reads(one, two, scans):
    """Both readers sign the baseline and two follow-ups: PR, PR against PR, PD."""
    for reader, sums in ((one, [45, 40]), (two, [45, 56])):
        read_all(reader, scans[:3], sums)


def discordant_last_scan(one, two, scans):
    """Both readers sign the last scan, discordant again."""
    for reader, total in ((one, 52), (two, 70)):
        services.read_save(scan=scans[3], reader=reader, data=follow(total))
        services.read_lock(
            read=Read.objects.get(scan=scans[3], assignment__reader=reader),
            reader=reader,
            password=PASSWORD,
        )


def test_readers_who_agree_give_the_accepted_series(case):
    patient, one, two, scans = case
    read_all(one, scans, [45, 40, 52])
    read_all(two, scans, [45, 40, 52])
    assert services.discordance(patient) == []
    accepted = services.accepted_series(patient, Criterion.MRECIST)
    assert [t.overall for t in accepted.timepoints] == ["PR", "PR", "PD"]
    irecist = services.accepted_series(patient, Criterion.IRECIST)
    assert [t.overall for t in irecist.timepoints] == ["iPR", "iPR", "iUPD"]


def test_disagreement_goes_to_the_adjudicator_whose_choice_is_accepted(case, make_user):
    patient, one, two, scans = case
    read_all(one, scans, [45, 40, 52])
    read_all(two, scans, [45, 40, 47])
    found = services.discordance(patient)
    assert any("PD vs PR" in f for f in found)
    assert services.accepted_series(patient, Criterion.MRECIST) is None
    adjudicator = make_user("adjudicator")
    with pytest.raises(DomainError):
        services.adjudicate(patient=patient, by=adjudicator, accepted_slot=2, reason=" ")
    services.adjudicate(
        patient=patient,
        by=adjudicator,
        accepted_slot=2,
        reason="Reader 2 measured T1 on the arterial phase",
    )
    accepted = services.accepted_series(patient, Criterion.MRECIST)
    assert [t.overall for t in accepted.timepoints] == ["PR", "PR", "PR"]
    agreement = services.agreement()
    # mRECIST: PR/PR, PR/PR, PD/PR: 2 of 3 agree
    assert agreement["mrecist"]["timepoints"] == 3 and agreement["mrecist"]["agreement"] == 0.667


def test_reads_break_no_rule_and_stay_with_their_reader(case, make_user):
    patient, one, two, scans = case
    too_many = {"targets": [{"id": f"T{i}", "organ": f"o{i}", "diameter_mm": 20} for i in range(6)]}
    with pytest.raises(DomainError) as refused:
        services.read_save(scan=scans[0], reader=one, data=too_many)
    assert any("At most 5 target" in p for p in refused.value.field_errors["data"])
    with pytest.raises(DomainError) as refused:
        services.read_save(scan=scans[1], reader=one, data=follow(40))
    assert refused.value.field_errors["data"] == ["Read the baseline scan first."]
    stranger = make_user("radiologist", "rad-c")
    with pytest.raises(DomainError, match="not on your worklist"):
        services.read_save(scan=scans[0], reader=stranger, data=BASELINE)


def test_correction_needs_a_reason_and_a_locked_read_never_changes(case):
    patient, one, two, scans = case
    services.read_save(scan=scans[0], reader=one, data=BASELINE)
    changed = {"targets": [{"id": "T1", "organ": "liver", "diameter_mm": 42}]}
    with pytest.raises(DomainError, match="reason"):
        services.read_save(scan=scans[0], reader=one, data=changed)
    services.read_save(scan=scans[0], reader=one, data=changed, reason="Remeasured T1")
    read = Read.objects.get(assignment__reader=one)
    with pytest.raises(DomainError, match="password"):
        services.read_lock(read=read, reader=one, password="wrong")
    services.read_lock(read=read, reader=one, password=PASSWORD)
    with pytest.raises(DomainError, match="locked"):
        services.read_save(scan=scans[0], reader=one, data=BASELINE, reason="again")


def test_scan_registration_rules(case, coordinator):
    patient, *_ = case
    with pytest.raises(DomainError) as refused:
        services.scan_register(
            patient=patient,
            by=coordinator,
            scan_date=days_ago(-1),
            kind="unscheduled",
            modality="CT",
            regions=["chest"],
        )
    assert "scan_date" in refused.value.field_errors
    with pytest.raises(DomainError) as refused:
        services.scan_register(
            patient=patient,
            by=coordinator,
            scan_date=days_ago(10),
            kind="baseline",
            modality="CT",
            regions=["chest"],
        )
    assert "kind" in refused.value.field_errors


# --- through the API, as the blinded readers see it -------------------------------------------


def test_worklist_and_reads_reveal_no_patient(case, api_as):
    patient, one, two, scans = case
    api = api_as(one)
    worklist = api.get("/api/reading/worklist/").json()
    assert len(worklist) == 4
    assert patient.study_id not in str(worklist)
    fields = {"scan_id", "reading_label", "scan_date", "kind", "modality", "regions", "status"}
    assert all(set(row) == fields for row in worklist)  # nothing about the patient or arm
    response = api.put(f"/api/reading/scans/{scans[0].pk}/read/", {"data": BASELINE}, format="json")
    assert response.status_code == 200
    assert patient.study_id not in response.content.decode()
    assert api.get(f"/api/reading/scans/{scans[1].pk}/read/").json()["data"] is None
    for url in (
        "/api/imaging/scans/",
        "/api/patients/",
        "/api/screenings/",
        f"/api/imaging/responses/{patient.study_id}/",
        "/api/randomization/allocations/",
    ):
        assert api.get(url).status_code == 403, url


def test_reader_cannot_see_the_other_readers_work_before_adjudication(case, api_as):
    patient, one, two, scans = case
    read_all(one, scans, [45, 40, 52], lock=False)
    other = api_as(two).get(f"/api/reading/scans/{scans[1].pk}/read/").json()
    assert other["data"] is None  # reader 2 sees their own (empty) read only
    label = api_as(one).get("/api/reading/worklist/").json()[0]["reading_label"]
    assert api_as(two).get("/api/reading/exchange/", {"reading_label": label}).status_code == 404


def test_workstation_exchange_round_trip(case, api_as):
    patient, one, two, scans = case
    label = api_as(one).get("/api/reading/worklist/").json()[0]["reading_label"]
    payload = {
        "reading_label": label,
        "reads": [
            {"scan_date": str(scans[0].scan_date), "data": BASELINE},
            {"scan_date": str(scans[1].scan_date), "data": follow(45)},
        ],
    }
    imported = api_as(one).post("/api/reading/exchange/", payload, format="json")
    assert imported.status_code == 200, imported.json()
    exported = api_as(one).get("/api/reading/exchange/", {"reading_label": label}).json()
    first, second = exported["reads"]
    assert [t["diameter_mm"] for t in first["data"]["targets"]] == [40.0, 30.0]
    assert [m["diameter_mm"] for m in second["data"]["measurements"]] == [45.0, 0.0]
    bad = {"reading_label": label, "reads": [{"scan_date": "2001-01-01", "data": BASELINE}]}
    assert api_as(one).post("/api/reading/exchange/", bad, format="json").status_code == 400


def test_adjudicator_sees_both_series_blind_and_decides(case, api_as, make_user):
    patient, one, two, scans = case
    read_all(one, scans, [45, 40, 52])
    read_all(two, scans, [45, 40, 47])
    api = api_as(make_user("adjudicator"))
    cases = api.get("/api/adjudication/").json()
    assert len(cases) == 1 and patient.study_id not in str(cases)
    label = cases[0]["case_label"]
    detail = api.get(f"/api/adjudication/{label}/").json()
    assert [r["slot"] for r in detail["readers"]] == [1, 2]
    assert patient.study_id not in str(detail) and "RPI" not in str(detail)
    decided = api.post(
        f"/api/adjudication/{label}/",
        {"accepted_slot": 1, "reason": "Reader 1 is right"},
        format="json",
    )
    assert decided.status_code == 201
    assert api.get("/api/adjudication/").json() == []


def test_coordinator_sees_accepted_responses(case, api_as, coordinator):
    patient, one, two, scans = case
    read_all(one, scans, [45, 40, 52])
    read_all(two, scans, [45, 40, 52])
    body = api_as(coordinator).get(f"/api/imaging/responses/{patient.study_id}/").json()
    assert body["status"] == "agreed"
    assert body["mrecist"]["best_overall_response"] == "PR"
    assert body["irecist"]["timepoints"][2]["overall"] == "iUPD"


def test_reading_page_refuses_a_bad_read_and_keeps_what_was_typed(case, client_as):
    patient, one, two, scans = case
    client = client_as(one)
    response = client.post(
        f"/reading/scans/{scans[0].pk}/",
        {
            "t1_organ": "liver",
            "t1_diameter": "8",
            "t2_organ": "lung",
            "t2_diameter": "30",
        },
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "Lesion T1: a target needs at least 10 mm (8 mm)." in page
    assert 'value="8.0"' in page or 'value="8"' in page
    assert not Read.objects.exists()
    saved = client.post(
        f"/reading/scans/{scans[0].pk}/",
        {
            "t1_organ": "liver",
            "t1_diameter": "18",
            "t2_organ": "lung",
            "t2_diameter": "30",
        },
    )
    assert saved.status_code == 302
    assert Read.objects.get().data["targets"][0]["diameter_mm"] == 18.0
    other = client_as(two).get(f"/reading/scans/{scans[0].pk}/").content.decode()
    assert 'value="18.0"' not in other  # the other reader never sees it


def test_reads_are_signed_in_order_and_signed_responses_never_change(case):
    patient, one, two, scans = case
    services.read_save(scan=scans[0], reader=one, data=BASELINE)
    services.read_save(scan=scans[1], reader=one, data=follow(45))
    later = Read.objects.get(assignment__reader=one, scan=scans[1])
    with pytest.raises(DomainError, match="earlier scans"):
        services.read_lock(read=later, reader=one, password=PASSWORD)
    for read in Read.objects.filter(assignment__reader=one):
        services.read_lock(read=read, reader=one, password=PASSWORD)
    with pytest.raises(DomainError, match="locked"):
        services.read_save(scan=scans[0], reader=one, data=BASELINE, reason="fix")


def test_no_earlier_read_is_added_under_a_signed_one(case):
    patient, one, two, scans = case
    services.read_save(scan=scans[0], reader=one, data=BASELINE)
    services.read_save(scan=scans[2], reader=one, data=follow(45))  # skipping scan 1
    for read in Read.objects.filter(assignment__reader=one).order_by("scan__scan_date")[:1]:
        services.read_lock(read=read, reader=one, password=PASSWORD)
    with pytest.raises(DomainError, match="earlier scans"):
        services.read_lock(
            read=Read.objects.get(scan=scans[2], assignment__reader=one),
            reader=one,
            password=PASSWORD,
        )


def test_json_flags_must_be_booleans_and_stray_keys_are_dropped(case):
    patient, one, two, scans = case
    node = {"targets": [{"id": "T1", "organ": "liver", "diameter_mm": 30, "nodal": "false"}]}
    with pytest.raises(DomainError) as refused:
        services.read_save(scan=scans[0], reader=one, data=node)
    assert "Target 1: nodal must be true or false." in refused.value.field_errors["data"]
    stray = {"targets": [{"id": " T1 ", "organ": "liver", "diameter_mm": 30, "note": "x"}]}
    read = services.read_save(scan=scans[0], reader=one, data=stray)
    assert read.data["targets"][0]["id"] == "T1" and "note" not in read.data["targets"][0]


def test_signature_locks_after_repeated_wrong_passwords(case):
    patient, one, two, scans = case
    read = services.read_save(scan=scans[0], reader=one, data=BASELINE)
    for _ in range(5):
        with pytest.raises(DomainError):
            services.read_lock(read=read, reader=one, password="guess")
    with pytest.raises(DomainError, match="Too many wrong passwords"):
        services.read_lock(read=read, reader=one, password=PASSWORD)


def test_a_new_discordance_after_adjudication_is_adjudicated_again(case, make_user):
    patient, one, two, scans = case
    adjudicator = make_user("adjudicator")
    discordant_reads(one, two, scans)
    assert services.pending_adjudication(patient)
    services.adjudicate(patient=patient, by=adjudicator, accepted_slot=1, reason="Reader 1")
    assert services.imaging_status(patient) == "adjudicated"
    discordant_last_scan(one, two, scans)
    assert services.pending_adjudication(patient)
    assert services.accepted_series(patient, Criterion.MRECIST) is None
    with pytest.raises(DomainError, match="reader of this case"):
        services.adjudicate(patient=patient, by=one, accepted_slot=1, reason="mine")


def test_the_imaging_schedule_stops_at_death(case, coordinator):
    from assessments.selectors import imaging_schedule
    from enrollment import course

    patient = case[0]
    today = timezone.localdate()
    before = imaging_schedule(patient, today=today)
    assert [row["state"] for row in before][-1] in ("Planned", "Overdue")
    course.status_change_record(
        patient=patient, by=coordinator, kind="death", date=days_ago(1), cause="Liver failure"
    )
    after = imaging_schedule(patient, today=today)
    assert len(after) < len(before)
    assert all(row["start"] <= days_ago(1) for row in after)


def test_reading_labels_never_collide(randomized, make_user, coordinator, monkeypatch):
    from assessments import models
    from assessments import services as imaging

    labels = iter(["R-SAME01", "R-SAME02", "R-SAME01", "R-SAME02", "R-OTHER1", "R-OTHER2"])
    monkeypatch.setattr(models, "new_reading_label", lambda: next(labels))
    monkeypatch.setattr(imaging, "new_reading_label", lambda: next(labels))
    one, two = make_user("radiologist", "r-1"), make_user("radiologist", "r-2")
    first = imaging.readers_assign(
        patient=randomized("RP"), by=coordinator, reader_1=one, reader_2=two
    )
    second = imaging.readers_assign(
        patient=randomized("RP"), by=coordinator, reader_1=one, reader_2=two
    )
    assert [a.reading_label for a in first] == ["R-SAME01", "R-SAME02"]
    assert [a.reading_label for a in second] == ["R-OTHER1", "R-OTHER2"]


WARNED_BASELINE = {
    "targets": [
        {"id": "T1", "organ": "liver", "diameter_mm": 40, "typical_hcc": True, "viable_mm": 8},
        {
            "id": "N1",
            "organ": "porta hepatis",
            "diameter_mm": 17,
            "nodal": True,
            "porta_hepatis": True,
        },
    ]
}


def test_baseline_warnings_on_the_reading_page_and_through_the_api(case, api_as, client_as):
    patient, one, two, scans = case
    api = api_as(one)
    saved = api.put(
        f"/api/reading/scans/{scans[0].pk}/read/", {"data": WARNED_BASELINE}, format="json"
    )
    assert saved.status_code == 200
    warnings = saved.json()["warnings"]
    assert [w.split(":")[0] for w in warnings] == ["Lesion T1", "Lesion N1"]
    # the baseline's warnings hold for the whole case: shown with every scan of it
    assert api.get(f"/api/reading/scans/{scans[1].pk}/read/").json()["warnings"] == warnings
    page = client_as(one).get(f"/reading/scans/{scans[0].pk}/").content.decode()
    assert 'id="read-warnings"' in page and "not measurable by mRECIST" in page
    api_two = api_as(two)
    api_two.put(f"/api/reading/scans/{scans[0].pk}/read/", {"data": BASELINE}, format="json")
    assert api_two.get(f"/api/reading/scans/{scans[0].pk}/read/").json()["warnings"] == []
    assert (
        'id="read-warnings"'
        not in client_as(two).get(f"/reading/scans/{scans[0].pk}/").content.decode()
    )


def test_reading_form_records_a_new_porta_hepatis_node(case, client_as):
    patient, one, two, scans = case
    services.read_save(scan=scans[0], reader=one, data=BASELINE)
    client = client_as(one)
    posted = client.post(
        f"/reading/scans/{scans[1].pk}/",
        {
            "m_T1_diameter": "40",
            "m_T2_diameter": "30",
            "new1_id": "P1",
            "new1_organ": "porta hepatis",
            "new1_kind": "lymph_node",
            "new1_diameter": "15",
            "new1_porta": "on",
        },
    )
    assert posted.status_code == 302
    (lesion,) = Read.objects.get(scan=scans[1], assignment__reader=one).data["new_lesions"]
    assert lesion["porta_hepatis"] is True
    page = client.get(f"/reading/scans/{scans[1].pk}/").content.decode()
    assert 'name="new1_porta" checked' in page


def test_routine_imaging_before_consent_may_be_the_baseline_flagged_so(enrol, coordinator, api_as):
    """The spec allows routine imaging within the 28 days before randomization as the baseline,
    also when it was done before consent: accepted and flagged; no other scan before consent."""
    patient = enrol(
        consent_date=days_ago(10),
        screening_date=days_ago(9),
        prior_progression_date=days_ago(40),
    )
    scan = dict(patient=patient, by=coordinator, modality="CT", regions=["abdomen"])
    with pytest.raises(DomainError) as too_old:
        services.scan_register(**scan, scan_date=days_ago(30), kind="baseline")
    assert "28 days" in str(too_old.value.field_errors)
    baseline = services.scan_register(**scan, scan_date=days_ago(20), kind="baseline")
    assert baseline.before_consent
    shown = api_as(coordinator).get(f"/api/imaging/scans/{baseline.pk}/").json()
    assert shown["before_consent"] is True
    with pytest.raises(DomainError) as refused:
        services.scan_register(**scan, scan_date=days_ago(15), kind="unscheduled")
    assert "before consent" in str(refused.value.field_errors)


def test_within_a_request_the_reads_give_what_they_give_without_the_memo(case, make_user):
    """inkt_trial/memo.py: the discordance, the adjudication awaited, the status, the accepted
    series and progression read once per request are those read without it, at every step."""
    patient, one, two, scans = case

    def facts():
        return (
            services.discordance(patient),
            services.pending_adjudication(patient),
            services.imaging_status(patient),
            {c: services.accepted_series(patient, c) for c in Criterion},
            services.progression_stop(patient),
        )

    def compared():
        uncached = facts()
        with memo.request_scope():
            assert facts() == uncached
            assert facts() == uncached  # remembered
        return uncached

    assert compared()[2] == "not yet read by both readers"
    discordant_reads(one, two, scans)
    assert compared()[1:3] == (True, "awaiting adjudication")
    services.adjudicate(patient=patient, by=make_user("adjudicator"), accepted_slot=2, reason="2")
    assert compared()[2] == "adjudicated"
    discordant_last_scan(one, two, scans)
    assert compared()[1] is True
