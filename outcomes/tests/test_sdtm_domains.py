"""SDTM DS, QS and LB (pure): SDTM IG 3.4 names, CDISC controlled terms, masking."""

from datetime import date
from decimal import Decimal as D

from assessments import reads as read_rules
from outcomes import adam, sdtm_domains
from outcomes.sdtm_domains import Answers, Lab, Stop
from outcomes.tests.test_adam import results  # noqa: F401 (the shared fixture)

STOPS = [
    Stop("P-001", "inkt", date(2026, 3, 1), "Completed the 6 courses"),
    Stop("P-001", "regorafenib", date(2026, 4, 1), "Unacceptable toxicity"),
    Stop("P-001", "pd1", date(2026, 5, 31), "Death"),
    Stop("P-002", "pd1", date(2026, 7, 1), "Disease progression"),  # after the cut-off
]
ANSWERS = [
    Answers("P-001", "visit-1", date(2026, 2, 26), {str(i): 2 for i in range(1, 31)}),
    Answers("P-001", "baseline", date(2026, 1, 1), {"1": 1, "29": 6, "30": None}),
    Answers("P-001", "end-of-treatment", date(2026, 4, 2), {"30": 7}),
]
LABS = [
    Lab("P-001", "bilirubin", date(2026, 1, 1), "screening", None, D("1.0"), "mg/dL", D("17.1")),
    Lab("P-001", "alt", date(2026, 1, 20), "course", 2, D("130"), "U/L", D("130"), grade=1,
        uln=D("45")),
    Lab("P-001", "platelets", date(2026, 2, 1), "week", 4, D("60"), "10^9/L", D("60"), grade=2),
    Lab("P-001", "inr", date(2026, 2, 1), "week", 4, D("1.1"), "ratio", D("1.1"), grade=0),
    Lab("P-001", "afp", date(2026, 2, 1), "unscheduled", None, D("400"), "ng/mL", D("400")),
]  # fmt: skip


def test_variables_within_transport_v5():
    for variables in (
        sdtm_domains.DS_VARIABLES,
        sdtm_domains.QS_VARIABLES,
        sdtm_domains.LB_VARIABLES,
    ):
        assert [v.name for v in variables[:3]] == ["STUDYID", "DOMAIN", "USUBJID"]
        assert all(len(v.name) <= 8 and len(v.label) <= 40 for v in variables)


def test_ds_randomization_ends_of_treatment_and_of_study(results):  # noqa: F811
    dataset = sdtm_domains.ds(results, STOPS, masked=False)
    assert adam.problems(dataset) == []
    rows = [r for r in dataset.rows if r["USUBJID"] == "P-001"]
    assert [(r["DSSEQ"], r["DSSCAT"], r["DSDECOD"], r["DSSTDTC"]) for r in rows] == [
        (1, "", "RANDOMIZED", "2026-01-01"),
        (2, "END OF TREATMENT: INKT CELLS", "COMPLETED", "2026-03-01"),
        (3, "END OF TREATMENT: REGORAFENIB", "ADVERSE EVENT", "2026-04-01"),
        (4, "END OF STUDY", "DEATH", "2026-05-31"),
        (5, "END OF TREATMENT: PD-1 ANTIBODY", "DEATH", "2026-05-31"),
    ]
    assert rows[0]["DSCAT"] == "PROTOCOL MILESTONE" and rows[2]["EPOCH"] == "TREATMENT"
    others = {r["USUBJID"]: [] for r in dataset.rows}
    for r in dataset.rows:
        others[r["USUBJID"]].append(r["DSDECOD"])
    assert others["P-002"] == ["RANDOMIZED", "COMPLETED"]  # the stop after the cut-off: out
    assert others["P-003"] == ["RANDOMIZED"]


def test_ds_for_a_masked_reader_ends_only_the_backbone(results):  # noqa: F811
    rows = sdtm_domains.ds(results, STOPS, masked=True).rows
    assert not any("INKT" in r["DSSCAT"] or "COURSES" in r["DSTERM"] for r in rows)
    assert sum(r["DSSCAT"].startswith("END OF TREATMENT") for r in rows) == 2


def test_qs_one_record_per_item_per_visit():
    dataset = sdtm_domains.qs(ANSWERS)
    assert adam.problems(dataset) == [] and len(dataset.rows) == 90
    first = dataset.rows[0]
    assert (first["QSTESTCD"], first["VISITNUM"], first["VISIT"], first["QSORRES"]) == (
        "Q01",
        0,
        "BASELINE",
        "1",
    )
    by = {(r["VISITNUM"], r["QSTESTCD"]): r for r in dataset.rows}
    assert (by[(0, "Q30")]["QSSTAT"], by[(0, "Q30")]["QSSTRESN"]) == ("NOT DONE", None)
    assert by[(0, "Q29")]["QSSTRESN"] == 6.0 and by[(1, "Q02")]["VISIT"] == "VISIT 1 (WEEK 8)"
    assert by[(99, "Q30")]["QSORRES"] == "7" and by[(99, "Q30")]["VISIT"] == "END OF TREATMENT"
    assert [r["QSSEQ"] for r in dataset.rows] == list(range(1, 91))


def test_lb_terms_units_ranges_and_grades():
    dataset = sdtm_domains.lb(LABS, masked=False)
    assert adam.problems(dataset) == []
    bili, alt, platelets, inr, afp = dataset.rows
    assert (bili["LBTESTCD"], bili["LBORRES"], bili["LBORRESU"]) == ("BILI", "1", "mg/dL")
    assert (bili["LBSTRESN"], bili["LBSTRESU"], bili["LBNRIND"]) == (17.1, "umol/L", "NORMAL")
    # the range in the unit entered: 3.4-21 umol/L is 0.1988-1.2281 mg/dL (17.1 umol/L a mg/dL)
    assert (bili["LBSTNRLO"], bili["LBSTNRHI"]) == (3.4, 21.0)
    assert (bili["LBORNRLO"], bili["LBORNRHI"], bili["VISIT"]) == ("0.1988", "1.2281", "SCREENING")
    assert (alt["LBNRIND"], alt["LBSTNRHI"], alt["LBTOXGR"]) == ("HIGH", 45.0, "1")
    assert (alt["VISIT"], alt["VISITNUM"]) == ("COURSE 2", 102)
    assert (platelets["LBTESTCD"], platelets["LBNRIND"], platelets["LBTOXGR"]) == (
        "PLAT",
        "LOW",
        "2",
    )
    assert (platelets["VISIT"], platelets["VISITNUM"]) == ("WEEK 4", 4)
    assert (inr["LBSTRESU"], inr["LBTOXGR"], inr["LBTEST"]) == (
        "",
        "0",
        "Prothrombin Intl. Normalized Ratio",
    )
    assert (afp["LBTOXGR"], afp["VISIT"], afp["VISITNUM"]) == ("", "UNSCHEDULED", None)
    assert [r["LBSEQ"] for r in dataset.rows] == [1, 2, 3, 4, 5]


def test_lb_a_masked_reader_sees_no_course_visit():
    rows = sdtm_domains.lb(LABS, masked=True).rows
    assert (rows[1]["VISIT"], rows[1]["VISITNUM"]) == ("UNSCHEDULED", None)
    assert not any("COURSE" in r["VISIT"] for r in rows)


BASE = {
    "targets": [
        {"id": "T1", "organ": "liver", "diameter_mm": 40, "typical_hcc": True, "viable_mm": 30},
        {"id": "T2", "organ": "lymph node", "diameter_mm": 20, "nodal": True},
    ],
    "non_targets": [{"id": "N1", "organ": "lung"}],
}
WEEK_8 = {
    "measurements": [
        {"lesion_id": "T1", "diameter_mm": 38, "viable_mm": 12},
        {"lesion_id": "T2", "diameter_mm": None},
    ],
    "non_targets": {"N1": "present"},
    "new_lesions": [{"id": "L9", "organ": "bone", "kind": "other"}],
}


def imaging():
    reads = [
        read_rules.SignedRead(1, date(2026, 1, 1), True, BASE),
        read_rules.SignedRead(2, date(2026, 2, 26), False, WEEK_8),
    ]
    pairs = [(r.scan_date, r.data) for r in reads]
    series = {
        c: read_rules.evaluate_series(pairs, enrolled=date(2026, 1, 1), criterion=c)
        for c in read_rules.Criterion
    }
    return sdtm_domains.Imaging("P-001", reads, series)


def test_tu_tr_rs_from_the_accepted_series():
    tu, tr, rs = sdtm_domains.tumours([imaging()])
    for dataset in (tu, tr, rs):
        assert adam.problems(dataset) == [] and dataset.rows
        assert all(len(v.name) <= 8 and len(v.label) <= 40 for v in dataset.variables)
    assert [(r["TULNKID"], r["TUORRES"], r["TULOC"]) for r in tu.rows] == [
        ("T1", "TARGET", "LIVER"),
        ("T2", "TARGET", "LYMPH NODE"),
        ("N1", "NON-TARGET", "LUNG"),
        ("L9", "NEW", "BONE"),
    ]
    measured = [(r["TRDTC"], r["TRLNKID"], r["TRTESTCD"], r["TRSTRESN"]) for r in tr.rows]
    assert measured[:3] == [
        ("2026-01-01", "T1", "LDIAM", 40.0),
        ("2026-01-01", "T1", "VIABDIAM", 30.0),
        ("2026-01-01", "T2", "SAXIS", 20.0),
    ]
    not_done = next(r for r in tr.rows if r["TRLNKID"] == "T2" and r["TRDTC"] == "2026-02-26")
    assert (not_done["TRSTAT"], not_done["TRSTRESN"]) == ("NOT DONE", None)
    state = next(r for r in tr.rows if r["TRTESTCD"] == "TUMSTATE")
    assert (state["TRLNKID"], state["TRORRES"]) == ("N1", "PRESENT")
    overall = {(r["RSCAT"], r["RSTESTCD"]): r["RSORRES"] for r in rs.rows}
    want = imaging().series
    assert (
        overall[("mRECIST", "OVRLRESP")] == want[read_rules.Criterion.MRECIST].timepoints[0].overall
    )
    assert (
        overall[("iRECIST", "BESTRSP")] == want[read_rules.Criterion.IRECIST].best_overall_response
    )
    assert [r["RSSEQ"] for r in rs.rows] == list(range(1, len(rs.rows) + 1))


def test_suppae_holds_the_narrative_in_pieces_of_200_characters():
    from outcomes import sdtm

    long = "Admitted on day 3 with grade 3 hypertension \u2265 170 mmHg. " * 8
    events = [
        sdtm.Event("P-001", "Fatigue", "General", 1, date(2026, 1, 2)),
        sdtm.Event("P-001", "Hypertension", "Vascular", 3, date(2026, 2, 1), narrative=long),
    ]
    dataset = sdtm.suppae(events, masked=False)
    assert adam.problems(dataset) == []
    assert [r["QNAM"] for r in dataset.rows] == ["AENARR", "AENARR1", "AENARR2"]
    assert {r["IDVARVAL"] for r in dataset.rows} == {"2"}  # the event's AESEQ
    assert "".join(r["QVAL"] for r in dataset.rows) == long.strip().replace("\u2265", ">=")
    assert all(len(r["QVAL"]) <= 200 for r in dataset.rows)
    assert sdtm.suppae(events, masked=True) is None  # free text may name the iNKT cells
    assert sdtm.suppae(events[:1], masked=False) is None
