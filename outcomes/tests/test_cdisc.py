"""The CDISC package of a run, read back with an independent reader (pandas' own SAS transport
reader, not the library that wrote it): every variable within the transport v5 limits, every
key unique, ADTTE the product's own ADTTE export, ADSL's arms the CONSORT counts, and nothing
of the arms for a masked statistician."""

import io
import json
import zipfile
from datetime import UTC, date, datetime, timedelta

import pandas as pd
import pytest
from django.utils import timezone

from conftest import body
from enrollment.models import StatusChange
from outcomes import synthetic
from outcomes.models import EndpointRun
from outcomes.selectors import consort_flow
from randomization.models import Allocation
from safety import visits
from safety.models import AdverseEvent

SAS_EPOCH = date(1960, 1, 1)
KEYS = {
    "ADSL": ["USUBJID"],
    "ADTTE": ["USUBJID", "PARAMCD"],
    "ADRS": ["USUBJID", "PARAMCD", "ADT"],
    "ADQS": ["USUBJID", "PARAMCD", "ADT"],
    "ADAE": ["USUBJID", "AESEQ"],
    "DM": ["STUDYID", "USUBJID"],
    "AE": ["STUDYID", "USUBJID", "AESEQ"],
    "EX": ["STUDYID", "USUBJID", "EXSEQ"],
    "DS": ["STUDYID", "USUBJID", "DSSEQ"],
    "QS": ["STUDYID", "USUBJID", "QSTESTCD", "VISITNUM"],
    "LB": ["STUDYID", "USUBJID", "LBSEQ"],
    "TU": ["STUDYID", "USUBJID", "TUSEQ"],
    "TR": ["STUDYID", "USUBJID", "TRSEQ"],
    "RS": ["STUDYID", "USUBJID", "RSSEQ"],
    "SUPPAE": ["STUDYID", "RDOMAIN", "USUBJID", "IDVAR", "IDVARVAL", "QNAM"],
}
LIVER = [
    {"test": "alt", "value": "130", "unit": "U/L"},
    {"test": "bilirubin", "value": "1.0", "unit": "mg/dL"},
    {"test": "platelets", "value": "90", "unit": "10^9/L"},
]


def read_xpt(data: bytes) -> tuple[pd.DataFrame, list[dict]]:
    """(rows, variables with name, label, type and length) as pandas reads the file."""
    reader = pd.read_sas(io.BytesIO(data), format="xport", iterator=True, encoding="ascii")
    fields = [
        {
            "name": f["name"].decode().strip(),
            "label": f["label"].decode().strip(),
            "type": f["ntype"],
            "length": f["field_length"],
        }
        for f in reader.fields
    ]
    frame = reader.read()
    reader.close()
    for field in fields:
        if field["type"] == "numeric":
            # pandas reads an IBM zero as 5.4e-79 (pandas-dev/pandas#50670)
            frame[field["name"]] = frame[field["name"]].mask(frame[field["name"]].abs() < 1e-70, 0)
    return frame, fields


def sas_date(value) -> str:
    return "" if pd.isna(value) else (SAS_EPOCH + timedelta(days=int(value))).isoformat()


def package(api, run_id) -> dict[str, bytes]:
    response = api.get(f"/api/outcomes/runs/{run_id}/cdisc/")
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    return {name: archive.read(name) for name in archive.namelist()}


def record_visits(by) -> dict[str, str]:
    """A week visit with labs for a patient of each arm still in the study, and a course visit
    for the one given the iNKT cells (synthetic trials have no visits): study id -> arm."""
    off = set(StatusChange.objects.values_list("patient_id", flat=True))
    found = {}
    for allocation in Allocation.objects.select_related("patient").order_by("randomized_at"):
        randomized = timezone.localdate(allocation.randomized_at)
        if allocation.patient_id in off or allocation.arm in found.values():
            continue
        if randomized + timedelta(days=14) > timezone.localdate():
            continue
        patient = allocation.patient
        visits.visit_record(
            patient=patient, by=by, visit_date=randomized + timedelta(days=7), kind="week",
            number=1, values=LIVER,
        )  # fmt: skip
        if allocation.arm == "RPI":
            visits.visit_record(
                patient=patient, by=by, visit_date=randomized + timedelta(days=14),
                kind="course", number=1, values=LIVER[:1],
            )  # fmt: skip
        found[patient.study_id] = allocation.arm
    # an SAE narrative over 200 characters (synthetic events have none): SUPPAE splits it
    event = AdverseEvent.objects.order_by("pk").first()
    event.narrative = "Admitted for observation; recovered without sequelae. " * 6
    event.save_with_reason("The SAE narrative received.", by=by)
    return found


@pytest.fixture
def trial_run(api_as, trial_users):
    synthetic.generate(seed=5, patients=14, today=timezone.localdate())
    assert len(record_visits(trial_users["coordinator"])) == 2
    api = api_as(trial_users["statistician"])
    run = api.post("/api/outcomes/runs/", {"cutoff": str(timezone.localdate())}, format="json")
    assert run.json()["state"] == "done"
    return run.json()["id"]


def test_the_package_reads_back_within_the_transport_v5_limits(
    trial_run, api_as, trial_users, data_manager
):
    files = package(api_as(data_manager), trial_run)
    assert set(files) == {f"{name.lower()}.{kind}" for name in KEYS for kind in ("xpt", "csv")} | {
        "define.json",
        "README.txt",
    }
    define = json.loads(files["define.json"])
    assert define["run"] == trial_run and define["cutoff"] == str(timezone.localdate())
    for meta in define["datasets"]:
        name = meta["name"]
        frame, fields = read_xpt(files[f"{name.lower()}.xpt"])
        assert [f["name"] for f in fields] == [v["name"] for v in meta["variables"]]
        assert meta["keys"] == KEYS[name] and len(frame) == meta["records"] > 0
        for field, variable in zip(fields, meta["variables"], strict=True):
            assert len(field["name"]) <= 8 and field["name"].isupper()
            assert 0 < len(field["label"]) <= 40 and field["label"] == variable["label"]
            assert field["type"] == ("numeric" if variable["type"] == "Num" else "char")
            if field["type"] == "char":
                assert field["length"] <= 200
                assert frame[field["name"]].map(len).max() <= 200
            if variable["format"] == "DATE9.":
                assert field["type"] == "numeric"
        keys = frame[KEYS[name]].astype(str).apply(tuple, axis=1)
        assert keys.is_unique, f"{name}: key not unique"
        csv = pd.read_csv(io.BytesIO(files[f"{name.lower()}.csv"]), keep_default_na=False)
        assert list(csv.columns) == [v["name"] for v in meta["variables"]]
        assert len(csv) == len(frame)

    adsl, _ = read_xpt(files["adsl.xpt"])
    assert set(adsl["ITTFL"]) == {"Y"} and set(adsl["ARM"]) == {"RPI", "RP"}
    assert adsl["AGE"].between(18, 100).all() and set(adsl["SEX"]) <= {"F", "M"}
    assert all(sas_date(d) <= str(timezone.localdate()) for d in adsl["RANDDT"])
    died = adsl[adsl["DTHFL"] == "Y"]
    assert died["DTHDT"].notna().all() and (died["EOSSTT"] == "DISCONTINUED").all()
    treated = adsl[adsl["SAFFL"] == "Y"]
    assert treated["TRTSDT"].notna().all() and (treated["TRT01A"] == treated["TRT01P"]).all()
    assert (treated["TRTSDT"] >= treated["RANDDT"]).all()
    dm, _ = read_xpt(files["dm.xpt"])
    assert list(dm["USUBJID"]) == list(adsl["USUBJID"]) and list(dm["ARM"]) == list(adsl["ARM"])
    assert list(dm["RFSTDTC"]) == [sas_date(d) for d in adsl["RANDDT"]]
    ex, _ = read_xpt(files["ex.xpt"])
    assert "INKT CELLS" in set(ex["EXTRT"]) and set(ex["USUBJID"]) <= set(adsl["USUBJID"])
    first = ex.groupby("USUBJID")["EXSTDTC"].min().str[:10].to_dict()
    assert first == {
        row.USUBJID: sas_date(row.TRTSDT) for row in treated.itertuples()
    }  # ADSL's first exposure is EX's first record
    adqs, _ = read_xpt(files["adqs.xpt"])
    assert adqs["AVAL"].between(0, 100).all() and "QL2" in set(adqs["PARAMCD"])
    after = adqs[adqs["CHG"].notna()]
    assert (after["CHG"] - (after["AVAL"] - after["BASE"])).abs().max() < 1e-6
    assert (
        adqs.groupby(["USUBJID", "PARAMCD"])["ABLFL"].apply(lambda f: (f == "Y").sum()) <= 1
    ).all()
    ae, _ = read_xpt(files["ae.xpt"])
    assert len(ae) > 0 and set(ae["AESER"]) <= {"Y", "N"}
    assert set(ae["AETOXGR"]) <= {"1", "2", "3", "4", "5"}


def test_adtte_is_the_products_own_adtte_export(trial_run, api_as, trial_users, data_manager):
    for api in (api_as(data_manager), api_as(trial_users["statistician"])):
        export = json.loads(body(api.get(f"/api/outcomes/runs/{trial_run}/export/adtte/json/")))[
            "rows"
        ]
        adtte, _ = read_xpt(package(api, trial_run)["adtte.xpt"])
        assert len(adtte) == len(export)
        for row, (_, got) in zip(export, adtte.iterrows(), strict=True):
            for name, value in row.items():
                if name in ("STARTDT", "ADT", "DCUTDT"):
                    assert sas_date(got[name]) == value
                elif name == "COMPDTM":
                    moment = datetime.fromisoformat(value).astimezone(UTC)
                    seconds = (moment.replace(tzinfo=None) - datetime(1960, 1, 1)).total_seconds()
                    assert got[name] == pytest.approx(seconds, abs=1)
                elif isinstance(value, int | float):
                    assert got[name] == pytest.approx(value), name
                else:
                    assert got[name] == value, name
            assert got["TRT01P"] == row["ARM"]


def test_adsl_arms_are_the_consort_counts(trial_run, api_as, trial_users, data_manager):
    for user in (data_manager, trial_users["statistician"]):
        adsl, _ = read_xpt(package(api_as(user), trial_run)["adsl.xpt"])
        counts = adsl["ARM"].value_counts().to_dict()
        flow = consort_flow(user)
        assert counts == {arm: a["allocated"] for arm, a in flow["arms"]}
        assert len(adsl) == flow["randomized"]


def test_a_masked_statistician_sees_no_arm_in_any_file(trial_run, api_as, trial_users):
    files = package(api_as(trial_users["statistician"]), trial_run)
    for name, data in files.items():
        text = data.decode("latin-1")
        assert "RPI" not in text and "iNKT" not in text, name
    for name in ("adsl", "adtte", "adrs", "adqs", "adae"):
        frame, _ = read_xpt(files[f"{name}.xpt"])
        for column in ("ARM", "ARMCD", "TRT01P" if name != "adae" else "TRT01A"):
            assert set(frame[column]) == {"A", "B"}, (name, column)
        csv = pd.read_csv(io.BytesIO(files[f"{name}.csv"]), keep_default_na=False)
        assert set(csv["ARM"]) == {"A", "B"}
    dm, _ = read_xpt(files["dm.xpt"])
    assert set(dm["ARMCD"]) == {"A", "B"} and set(dm["ACTARMCD"]) <= {"A", "B", ""}
    ex, _ = read_xpt(files["ex.xpt"])  # the iNKT cells are the RPI arm's alone
    assert "INKT CELLS" not in set(ex["EXTRT"]) and len(ex) > 0
    assert json.loads(files["define.json"])["arms"] == ["A", "B"]
    # an unmasked reader sees the arms, and the codes when asking for them (?arms=codes)
    coded = package(api_as(trial_users["datamanager"]), trial_run)
    api = api_as(trial_users["datamanager"])
    response = api.get(f"/api/outcomes/runs/{trial_run}/cdisc/?arms=codes")
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert b"RPI" not in archive.read("adsl.csv") and b"RPI" in coded["adsl.csv"]


def test_a_run_not_done_has_no_package_and_the_run_page_offers_it(
    trial_run, api_as, client_as, trial_users
):
    api = api_as(trial_users["statistician"])
    queued = EndpointRun.objects.create(
        cutoff=timezone.localdate(), requested_by=trial_users["statistician"]
    )
    refused = api.get(f"/api/outcomes/runs/{queued.pk}/cdisc/")
    assert refused.status_code == 400 and "queued" in refused.json()["detail"]
    assert api.get("/api/outcomes/runs/999999/cdisc/").status_code == 404
    assert (
        api_as(trial_users["coordinator"]).get(f"/api/outcomes/runs/{trial_run}/cdisc/").status_code
        == 403
    )
    page = client_as(trial_users["statistician"]).get(f"/outcomes/runs/{trial_run}/")
    assert f'href="/api/outcomes/runs/{trial_run}/cdisc/"' in page.content.decode()
    # the page's session reaches the package (no token needed)
    download = client_as(trial_users["statistician"]).get(f"/api/outcomes/runs/{trial_run}/cdisc/")
    assert download.status_code == 200 and download["Content-Type"] == "application/zip"
