"""Endpoint runs through the API (tasks run eagerly here; tests/test_worker.py runs them on a
real worker): a synthetic trial plus hand-built patients whose endpoints were worked out by
hand, the per-arm figures against lifelines called directly, exports, masking, comparison."""

import csv
import io
import json
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from lifelines import KaplanMeierFitter
from lifelines.statistics import logrank_test

from assessments import services as imaging
from assessments.models import Read
from conftest import body
from enrollment import course
from outcomes import services, synthetic
from outcomes.exports import months_shown
from outcomes.models import EndpointRun

pytestmark = pytest.mark.django_db


def travel(day, hour=10):
    return time_machine.travel(synthetic._moment(day, hour), tick=False)


def scheduled_scan(patient, users, day):
    with travel(day, 12):
        return imaging.scan_register(
            patient=patient,
            by=users["coordinator"],
            scan_date=day,
            kind="scheduled",
            modality="CT",
            regions=["abdomen"],
        )


def hand_built(users, *, randomized_on, sums, death=None, contact=None):
    """One RP or RPI patient with a baseline read of one 50 mm liver target and follow-up
    scans every 56 days with the sizes given, read alike by both readers."""
    generator = synthetic.Generator(seed=1, today=timezone.localdate(), users=users)
    generator.rng.random = lambda: 0.5  # no screen failure
    values = synthetic.demo_values(randomized_on)
    with travel(randomized_on - timedelta(days=5)):
        screening = synthetic.enrollment.screening_create(values=values, by=users["coordinator"])
    with travel(randomized_on - timedelta(days=3)):
        patient = synthetic.enrollment._enrol(screening, users["investigator"])
        imaging.readers_assign(
            patient=patient,
            by=users["coordinator"],
            reader_1=users["radiologist"],
            reader_2=users["radiologist2"],
        )
    with travel(randomized_on, 9):
        synthetic.randomization.patient_randomize(patient=patient, by=users["coordinator"])
    scans = []
    with travel(randomized_on, 11):
        scans.append(
            (
                imaging.scan_register(
                    patient=patient,
                    by=users["coordinator"],
                    scan_date=randomized_on - timedelta(days=2),
                    kind="baseline",
                    modality="CT",
                    regions=["abdomen"],
                ),
                {"targets": [{"id": "T1", "organ": "liver", "diameter_mm": 50}]},
            )
        )
    for k, size in enumerate(sums, start=1):
        scan = scheduled_scan(patient, users, randomized_on + timedelta(days=56 * k))
        scans.append((scan, {"measurements": [{"lesion_id": "T1", "diameter_mm": size}]}))
    for scan, data in scans:
        with travel(scan.scan_date + timedelta(days=1), 15):
            for reader in (users["radiologist"], users["radiologist2"]):
                read = imaging.read_save(scan=scan, reader=reader, data=data)
                imaging._sign(Read.objects.get(pk=read.pk), reader)
    if contact:
        with travel(contact):
            services.followup_record(
                patient=patient, by=users["coordinator"], kind="contact", date=contact
            )
    if death:
        with travel(death + timedelta(days=1)):
            course.status_change_record(
                patient=patient, by=users["coordinator"], kind="death", date=death, cause="HCC"
            )
    return patient


def rows_of(api, run, table="adtte"):
    text = body(api.get(f"/api/outcomes/runs/{run}/export/{table}/csv/")).decode()
    return list(csv.DictReader(io.StringIO(text)))


def test_a_run_of_a_synthetic_trial_with_hand_worked_cases(api_as, trial_users):
    today = timezone.localdate()
    synthetic.generate(seed=7, patients=12, today=today)
    start = today - timedelta(days=300)
    # progression (50 -> 45 -> 70 mm: +55 % over the nadir 45) at day 112, death at day 150
    progressed = hand_built(
        trial_users, randomized_on=start, sums=[45, 70], death=start + timedelta(days=150)
    )
    # stable at days 56 and 112, alive at a contact on day 200: censored
    stable = hand_built(
        trial_users, randomized_on=start, sums=[48, 47], contact=start + timedelta(days=200)
    )
    api = api_as(trial_users["statistician"])
    created = api.post("/api/outcomes/runs/", {"cutoff": str(today)}, format="json")
    assert created.status_code == 201, created.json()
    run = created.json()
    assert run["state"] == "done" and run["patients"] == 14 and run["progress"] == 100
    assert "lifelines" in run["software_version"] and len(run["data_digest"]) == 64
    adtte = {(r["USUBJID"], r["PARAMCD"]): r for r in rows_of(api, run["id"])}
    mine = adtte[(progressed.study_id, "PFS")]
    assert (mine["AVAL"], mine["CNSR"], mine["EVNTDESC"]) == ("112", "0", "progression by mRECIST")
    assert (
        adtte[(progressed.study_id, "OS")]["AVAL"],
        adtte[(progressed.study_id, "OS")]["CNSR"],
    ) == ("150", "0")
    theirs = adtte[(stable.study_id, "PFS")]
    assert (theirs["AVAL"], theirs["CNSR"]) == ("112", "1")
    assert "last adequate assessment" in theirs["CNSDTDSC"]
    assert (adtte[(stable.study_id, "OS")]["AVAL"], adtte[(stable.study_id, "OS")]["CNSR"]) == (
        "200",
        "1",
    )
    assert mine["DCUTDT"] == str(today) and mine["SOFTVER"] == run["software_version"]

    # per-arm figures against lifelines called directly on the exported rows
    results = api.get(f"/api/outcomes/runs/{run['id']}/results/").json()
    os_rows = [r for r in adtte.values() if r["PARAMCD"] == "OS"]
    by_arm = {}
    for r in os_rows:
        days, events = by_arm.setdefault(r["ARM"], ([], []))
        days.append(int(r["AVAL"]))
        events.append(r["CNSR"] == "0")
    for arm, (days, events) in by_arm.items():
        kmf = KaplanMeierFitter().fit(days, events)
        expected = kmf.median_survival_time_
        got = results["survival"]["OS"]["arms"][arm]["median"]
        assert got == (None if expected == float("inf") else pytest.approx(expected))
        assert results["survival"]["OS"]["arms"][arm]["events"] == sum(events)
    assert len(by_arm) == 2  # arm codes here: this statistician is masked
    (da, ea), (db, eb) = by_arm.values()
    p = logrank_test(da, db, ea, eb).p_value
    assert results["survival"]["OS"]["logrank_p"] == pytest.approx(p, abs=1e-6)

    # the same data and cut-off give identical results; the comparison says so
    again = api.post("/api/outcomes/runs/", {"cutoff": str(today)}, format="json").json()
    compared = api.get(f"/api/outcomes/runs/compare/?a={run['id']}&b={again['id']}").json()
    assert compared["same_data"] and compared["identical_results"] and compared["changes"] == []
    earlier = api.post(
        "/api/outcomes/runs/", {"cutoff": str(start + timedelta(days=100))}, format="json"
    ).json()
    compared = api.get(f"/api/outcomes/runs/compare/?a={run['id']}&b={earlier['id']}").json()
    assert not compared["same_data"] and compared["changes"]
    cut = {(r["USUBJID"], r["PARAMCD"]): r for r in rows_of(api, earlier["id"])}
    assert (
        cut[(progressed.study_id, "PFS")]["AVAL"],
        cut[(progressed.study_id, "PFS")]["CNSR"],
    ) == ("56", "1")


def test_exports_masking_and_refusals(api_as, trial_users, data_manager):
    # At local noon, so that "tomorrow" cannot become today while the test runs.
    with travel(timezone.localdate(), hour=12):
        exports_masking_and_refusals(api_as, trial_users)


def exports_masking_and_refusals(api_as, trial_users):
    today = timezone.localdate()
    synthetic.generate(seed=3, patients=6, today=today)
    api = api_as(trial_users["statistician"])
    run = api.post("/api/outcomes/runs/", {"cutoff": str(today)}, format="json").json()
    # `?arms=codes` shows what the slots carry: a coded sequence (the default), so the codes
    masked = api.get(f"/api/outcomes/runs/{run['id']}/export/summary/csv/?arms=codes")
    assert masked.status_code == 200
    assert ",A vs B," in masked.content.decode() and "RPI" not in masked.content.decode()
    summary = api.get(f"/api/outcomes/runs/{run['id']}/export/summary/json/").json()
    assert summary["cutoff"] == str(today) and summary["rows"][0]["DCUTDT"] == str(today)
    responses = rows_of(api, run["id"], "responses")
    assert {r["CRITERION"] for r in responses} == {"mRECIST", "iRECIST"}
    assert any(r["TIMEPOINT"] == "BEST" for r in responses)
    future = api.post(
        "/api/outcomes/runs/", {"cutoff": str(today + timedelta(days=1))}, format="json"
    )
    assert future.status_code == 400 and "future" in future.json()["cutoff"][0]
    queued = EndpointRun.objects.create(cutoff=today, requested_by=trial_users["statistician"])
    waiting = api.get(f"/api/outcomes/runs/{queued.pk}/results/")
    assert waiting.status_code == 400 and "queued" in waiting.json()["detail"]
    assert api.post(f"/api/outcomes/runs/{run['id']}/retry/").status_code == 400
    assert api.get("/api/outcomes/runs/compare/?a=x").status_code == 400
    coordinator = api_as(trial_users["coordinator"])
    assert coordinator.get("/api/outcomes/runs/").status_code == 403


def test_a_stalled_or_failed_run_can_be_retried(api_as, trial_users, randomized):
    randomized("RP", days_ago=3)
    api = api_as(trial_users["statistician"])
    stalled = EndpointRun.objects.create(
        cutoff=timezone.localdate(),
        requested_by=trial_users["statistician"],
        status=EndpointRun.RUNNING,
        started_at=timezone.now() - timedelta(minutes=30),
        heartbeat_at=timezone.now() - timedelta(minutes=20),
    )
    shown = api.get(f"/api/outcomes/runs/{stalled.pk}/").json()
    assert shown["state"] == "stalled"
    retried = api.post(f"/api/outcomes/runs/{stalled.pk}/retry/").json()
    assert retried["state"] == "done" and retried["attempts"] == 1
    assert [e["event"] for e in retried["log"]] == ["retry", "started", "done"]
    assert retried["log"][0]["after"] == "stalled"
    waiting = EndpointRun.objects.create(
        cutoff=timezone.localdate(), requested_by=trial_users["statistician"]
    )
    EndpointRun.objects.filter(pk=waiting.pk).update(
        requested_at=timezone.now() - timedelta(minutes=30)
    )
    assert api.get(f"/api/outcomes/runs/{waiting.pk}/").json()["state"] == "waiting"
    assert api.post(f"/api/outcomes/runs/{waiting.pk}/retry/").json()["state"] == "done"
    empty = api.post("/api/outcomes/runs/", {"cutoff": "2001-01-01"}, format="json")
    assert (
        empty.status_code == 400 and "No patient had been randomized" in empty.json()["cutoff"][0]
    )


def test_a_failing_run_says_why(api_as, trial_users, monkeypatch, randomized):
    from outcomes import analysis

    randomized("RP", days_ago=3)

    def broken(*args, **kwargs):
        raise ZeroDivisionError("division by zero in a survival fit")

    monkeypatch.setattr(analysis, "analyse", broken)
    api = api_as(trial_users["statistician"])
    run = api.post("/api/outcomes/runs/", {"cutoff": str(timezone.localdate())}, format="json")
    assert run.status_code == 201
    shown = run.json()
    assert shown["state"] == "failed"
    assert shown["error"] == "ZeroDivisionError: division by zero in a survival fit"
    assert shown["log"][-1]["error"] == shown["error"]  # kept when the run is retried
    retried = api.post(f"/api/outcomes/runs/{shown['id']}/retry/").json()
    assert retried["log"][-3]["after"] == shown["error"]


def test_plot_pages_refuse_what_does_not_exist(client_as, trial_users, randomized):
    randomized("RP", days_ago=3)
    run = services.run_start(cutoff=timezone.localdate(), by=trial_users["statistician"])
    client = client_as(trial_users["investigator"])
    assert client.get(f"/outcomes/runs/{run.pk}/km/OS.png").status_code == 200
    assert client.get(f"/outcomes/runs/{run.pk}/km/OS.gif").status_code == 404
    assert client.get(f"/outcomes/runs/{run.pk}/km/XYZ.svg").status_code == 404
    assert client.get(f"/outcomes/runs/{run.pk}/?param=XYZ").status_code == 200


def test_a_masked_statistician_learns_nothing_of_the_arms(
    api_as, client_as, trial_users, data_manager
):
    from randomization import services as randomization

    sequence = randomization.sequence_generate(
        by=trial_users["statistician"], length=100, block_sizes=[2, 4], seed=9, uses_codes=True
    )
    randomization.arm_codes_set(
        sequence=sequence, by=data_manager, code_a_arm="RP", reason="Mapping for the trial"
    )
    synthetic.generate(seed=13, patients=16, today=timezone.localdate())
    statistician = api_as(trial_users["statistician"])
    run = statistician.post(
        "/api/outcomes/runs/", {"cutoff": str(timezone.localdate())}, format="json"
    ).json()
    masked = statistician.get(f"/api/outcomes/runs/{run['id']}/results/").json()
    unmasked = api_as(data_manager).get(f"/api/outcomes/runs/{run['id']}/results/").json()
    assert masked["arms"] == ["A", "B"] and masked["comparison"] == "A vs B"
    assert unmasked["arms"] == ["RPI", "RP"] and unmasked["comparison"] == "RPI vs RP"
    # A is RP here: the masked hazard ratio is the other way round, so its order says nothing
    hr, hr_masked = (
        unmasked["survival"]["PFS"]["hazard_ratio"],
        masked["survival"]["PFS"]["hazard_ratio"],
    )
    assert hr_masked[0] == pytest.approx(1 / hr[0], rel=1e-5)
    assert masked["survival"]["PFS"]["arms"]["A"] == unmasked["survival"]["PFS"]["arms"]["RP"]
    seen = [str(masked)]
    for table in ("adtte", "responses", "summary"):
        for kind in ("csv", "json"):
            seen.append(
                body(
                    statistician.get(f"/api/outcomes/runs/{run['id']}/export/{table}/{kind}/")
                ).decode()
            )
    client = client_as(trial_users["statistician"])
    seen.append(client.get(f"/outcomes/runs/{run['id']}/").content.decode())
    seen.append(client.get(f"/outcomes/runs/{run['id']}/km/PFS.svg").content.decode())
    seen.append(statistician.get(f"/api/outcomes/runs/{run['id']}/conventions/").content.decode())
    for text in seen:
        assert "RPI" not in text and "iNKT" not in text and ">RP<" not in text
    assert "HR A vs B" in seen[-2]  # the plot


def test_the_hazard_ratio_has_one_direction_everywhere(
    api_as, client_as, trial_users, data_manager
):
    """Page, plot, summary CSV and JSON, results, conventions and README all say the same:
    RPI vs RP, HR < 1 favours RPI (or, masked, the first code listed)."""
    from pathlib import Path

    from django.conf import settings

    today = timezone.localdate()
    synthetic.generate(seed=5, patients=24, today=today)
    run = api_as(data_manager).post("/api/outcomes/runs/", {"cutoff": str(today)}).json()
    readme = (Path(settings.BASE_DIR) / "README.md").read_text()
    assert "HR RPI vs RP (HR < 1 favours RPI)" in readme
    for user, expected in (
        (data_manager, "HR RPI vs RP (HR < 1 favours RPI)"),
        (trial_users["statistician"], "HR A vs B (HR < 1 favours A)"),
    ):
        api, client = api_as(user), client_as(user)
        base = f"/api/outcomes/runs/{run['id']}"
        results = api.get(f"{base}/results/").json()
        assert results["hazard_ratio_direction"] == expected
        assert expected in results["conventions"]
        hr = results["survival"]["OS"]["hazard_ratio"]
        assert hr is not None
        summary = rows_of(api, run["id"], "summary")
        os_row = next(r for r in summary if r["PARAMCD"] == "OS")
        assert os_row["HR_DIRECTION"] == expected
        assert float(os_row["HR"]) == pytest.approx(hr[0])
        as_json = api.get(f"{base}/export/summary/json/").json()
        assert expected in as_json["conventions"]
        assert api.get(f"{base}/conventions/").json()["hazard_ratio_direction"] == expected
        page = client.get(f"/outcomes/runs/{run['id']}/").content.decode().replace("&lt;", "<")
        assert f"{expected}: estimate" in page and f"{hr[0]:.2f} (" in page
        plot = client.get(f"/outcomes/runs/{run['id']}/km/OS.svg").content.decode()
        assert f"{expected}: {hr[0]:.2f}" in plot.replace("&lt;", "<")
        for km in results["survival"]["OS"]["arms"].values():  # one rounding of the months
            if km["median"] is not None:
                shown = months_shown(km["median"])
                assert f"{shown} [{km['median']:.0f}]" in page and f"median {shown} mo" in plot
    # an unmasked reader asking for codes gets the companion that goes with that CSV
    coded = api_as(data_manager).get(
        f"/api/outcomes/runs/{run['id']}/export/summary/csv/?arms=codes"
    )
    assert coded["Link"].split(">")[0].endswith("/conventions/?arms=codes")
    companion = api_as(data_manager).get(f"/api/outcomes/runs/{run['id']}/conventions/?arms=codes")
    assert companion.json()["hazard_ratio_direction"] == "HR A vs B (HR < 1 favours A)"


def test_times_in_days_and_months_and_the_csv_conventions_in_a_companion(
    api_as, client_as, trial_users
):
    today = timezone.localdate()
    synthetic.generate(seed=3, patients=10, today=today)
    api = api_as(trial_users["statistician"])
    run = api.post("/api/outcomes/runs/", {"cutoff": str(today)}, format="json").json()
    base = f"/api/outcomes/runs/{run['id']}"
    summary = rows_of(api, run["id"], "summary")
    medians = [r for r in summary if r.get("MEDIAN_DAYS") not in (None, "", "NR")]
    assert medians
    for row in medians:
        assert float(row["MEDIAN_MONTHS"]) == round(float(row["MEDIAN_DAYS"]) / 30.4375, 2)
    for table in ("adtte", "responses", "summary"):
        response = api.get(f"{base}/export/{table}/csv/")
        text = body(response).decode()
        assert not any(line.startswith("#") for line in text.splitlines())
        assert f"{base}/conventions/" in response["Link"]
        as_json = json.loads(body(api.get(f"{base}/export/{table}/json/")))
        assert "Greenwood" in as_json["conventions"]
    companion = api.get(f"{base}/conventions/").json()
    assert "Greenwood" in companion["conventions"] and companion["cutoff"] == str(today)
    assert "months = days / 30.4375" in companion["time_units"]
    page = client_as(trial_users["statistician"]).get(f"/outcomes/runs/{run['id']}/")
    assert "median months [days]" in page.content.decode()


def test_a_run_names_the_patients_awaiting_adjudication(api_as, client_as, trial_users):
    """Two readers disagree on the last scan up to the cut-off and no adjudicator has ruled:
    the run says so at run level (count and patients)."""
    today = timezone.localdate()
    synthetic.generate(seed=11, patients=4, today=today)  # the sequence and some company
    start = today - timedelta(days=200)
    agreed = hand_built(trial_users, randomized_on=start, sums=[48])
    pending = hand_built(trial_users, randomized_on=start, sums=[48])
    day = start + timedelta(days=112)
    scan = scheduled_scan(pending, trial_users, day)
    with travel(day + timedelta(days=1), 15):
        for reader, size in ((trial_users["radiologist"], 47), (trial_users["radiologist2"], 90)):
            data = {"measurements": [{"lesion_id": "T1", "diameter_mm": size}]}
            read = imaging.read_save(scan=scan, reader=reader, data=data)
            imaging._sign(Read.objects.get(pk=read.pk), reader)
    api = api_as(trial_users["statistician"])
    run = api.post("/api/outcomes/runs/", {"cutoff": str(today)}, format="json").json()
    results = api.get(f"/api/outcomes/runs/{run['id']}/results/").json()
    assert results["pending_adjudication"] == {"count": 1, "patients": [pending.study_id]}
    assert agreed.study_id not in results["pending_adjudication"]["patients"]
    page = client_as(trial_users["statistician"]).get(f"/outcomes/runs/{run['id']}/")
    assert f"awaiting adjudication ({pending.study_id})" in page.content.decode()
    adtte = {(r["USUBJID"], r["PARAMCD"]): r for r in rows_of(api, run["id"])}
    assert adtte[(pending.study_id, "PFS")]["AVAL"] == "56"  # the settled extent
