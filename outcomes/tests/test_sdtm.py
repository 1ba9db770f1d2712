"""SDTM DM, AE and EX (pure): SDTM IG 3.4 names, CDISC controlled terms, masking."""

from datetime import date, datetime

from outcomes import adam, sdtm
from outcomes.tests.test_adam import results  # noqa: F401 (the shared fixture)

EVENTS = [
    sdtm.Event(
        "P-001",
        "Infusion related reaction",
        "General disorders and administration site conditions",
        2,
        date(2026, 1, 3),
        relationships={"inkt": "probable", "pd1": "not_related", "regorafenib": "not_related"},
        actions={"inkt": "interrupted", "pd1": "none", "regorafenib": "none"},
        outcome="recovered",
        resolution=date(2026, 1, 4),
    ),
    sdtm.Event(
        "P-001",
        "Hypertension",
        "Vascular disorders",
        3,
        date(2026, 2, 1),
        specification="systolic 170 mmHg",
        relationships={"inkt": "possible", "pd1": "unlikely", "regorafenib": "unlikely"},
        actions={"inkt": "none", "pd1": "none", "regorafenib": "reduced"},
        outcome="recovering",
        serious=True,
    ),
    sdtm.Event("P-002", "Fatigue", "General disorders", 1, date(2026, 2, 3)),
]
DOSES = [
    sdtm.Dose(
        "P-001", "inkt", datetime(2026, 1, 3, 10, 30), dose=5e8, unit="CELLS", route="iv",
        lot="B-17",
    ),
    sdtm.Dose(
        "P-001", "regorafenib", date(2026, 1, 5), end=date(2026, 1, 25), dose=80, unit="mg",
        route="oral",
    ),
    sdtm.Dose(
        "P-001", "pd1", date(2026, 1, 5), dose=200, unit="mg", route="iv", product="sintilimab"
    ),
    sdtm.Dose("P-002", "regorafenib", date(2026, 2, 2), dose=80, unit="mg", route="oral"),
]  # fmt: skip


def test_variables_named_and_labelled_as_the_sdtm_ig_within_transport_v5():
    for variables in (sdtm.DM_VARIABLES, sdtm.AE_VARIABLES, sdtm.EX_VARIABLES):
        assert [v.name for v in variables[:3]] == ["STUDYID", "DOMAIN", "USUBJID"]
        assert all(len(v.name) <= 8 and len(v.label) <= 40 for v in variables)


def test_dm_from_the_runs_subject_facts(results):  # noqa: F811
    rows = {r["USUBJID"]: r for r in sdtm.dm(results, masked=False).rows}
    assert rows["P-001"]["RFSTDTC"] == "2026-01-01" and rows["P-001"]["DTHFL"] == "Y"
    assert rows["P-001"]["RFXSTDTC"] == "2026-01-03" and rows["P-001"]["ACTARMCD"] == "RPI"
    assert (rows["P-003"]["ACTARM"], rows["P-003"]["ARMNRS"]) == ("", "ASSIGNED, NOT TREATED")
    masked = {r["USUBJID"]: r for r in sdtm.dm(results, masked=True).rows}
    assert (masked["P-001"]["ARMCD"], masked["P-001"]["RFXSTDTC"]) == ("A", "2026-01-05")
    del results["subjects"]  # a run stored before its subject facts
    older = {r["USUBJID"]: r for r in sdtm.dm(results, masked=False).rows}
    assert (older["P-003"]["ARMNRS"], older["P-003"]["ARM"]) == ("", "RP")


def test_ae_terms_causality_action_and_outcome():
    rows = sdtm.ae(EVENTS, masked=False).rows
    assert [(r["USUBJID"], r["AESEQ"]) for r in rows] == [("P-001", 1), ("P-001", 2), ("P-002", 1)]
    reaction, hypertension, fatigue = rows
    assert (reaction["AEREL"], reaction["AEACN"], reaction["AEOUT"]) == (
        "RELATED",
        "MULTIPLE",
        "RECOVERED/RESOLVED",
    )
    assert hypertension["AETERM"] == "Hypertension: systolic 170 mmHg"
    assert (hypertension["AETOXGR"], hypertension["AESER"]) == ("3", "Y")
    assert (fatigue["AEREL"], fatigue["AEACN"]) == ("", "DOSE NOT CHANGED")  # not assessed
    assert reaction["AESTDTC"] == "2026-01-03" and reaction["AEENDTC"] == "2026-01-04"
    assert adam.problems(sdtm.ae(EVENTS, masked=False)) == []


def test_a_masked_reader_sees_no_infusion_term_nor_the_inkt_cells():
    rows = sdtm.ae(EVENTS, masked=True).rows
    assert [r["AEDECOD"] for r in rows] == ["Hypertension", "Fatigue"]
    # the iNKT relationship ("possible") is not shown: the shared drugs' say "unlikely"
    assert (rows[0]["AEREL"], rows[0]["AEACN"]) == ("NOT RELATED", "MULTIPLE")
    assert rows[0]["AESEQ"] == 1
    ex = sdtm.ex(DOSES, masked=True).rows
    assert "INKT CELLS" not in {r["EXTRT"] for r in ex} and len(ex) == 3


def test_ex_one_record_per_administration_or_period():
    rows = sdtm.ex(DOSES, masked=False).rows
    cells, pd1, regorafenib, later = rows
    assert (cells["EXTRT"], cells["EXSTDTC"], cells["EXENDTC"], cells["EXLOT"]) == (
        "INKT CELLS",
        "2026-01-03T10:30",
        "2026-01-03T10:30",
        "B-17",
    )
    assert (pd1["EXTRT"], pd1["EXROUTE"], pd1["EXDOSE"]) == ("SINTILIMAB", "INTRAVENOUS", 200)
    assert (regorafenib["EXSTDTC"], regorafenib["EXENDTC"]) == ("2026-01-05", "2026-01-25")
    assert [r["EXSEQ"] for r in rows] == [1, 2, 3, 1] and later["EXROUTE"] == "ORAL"
