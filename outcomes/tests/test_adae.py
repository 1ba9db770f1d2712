"""ADaM ADAE (pure): OCCDS 1.1 variables, the safety tables' treatment emergence and worst grade
per patient, relationship per drug and the SUSAR flag, masking."""

from datetime import date

from outcomes import adae, adam, sdtm
from outcomes.tests.test_adam import results  # noqa: F401 (the shared fixture)

RELATED = {"inkt": "probable", "pd1": "not_related", "regorafenib": "unlikely"}
EVENTS = [
    sdtm.Event(
        "P-001", "Infusion related reaction", "General disorders", 2, date(2026, 1, 3),
        relationships=RELATED, emergent=True,
    ),
    sdtm.Event(
        "P-001", "Cytokine release syndrome", "Immune system disorders", 3, date(2026, 1, 4),
        relationships=RELATED, emergent=True, astct_grade=3, serious=True,
        susar_drugs=("inkt",),
    ),
    sdtm.Event(
        "P-001", "Hypertension", "Vascular disorders", 3, date(2026, 2, 1), emergent=True,
        shared_emergent=True,
        relationships={"inkt": "possible", "pd1": "unlikely", "regorafenib": "probable"},
        serious=True, susar_drugs=("regorafenib",), resolution=date(2026, 2, 9),
    ),
    sdtm.Event(
        "P-001", "Hypertension", "Vascular disorders", 3, date(2026, 3, 1), emergent=True,
        shared_emergent=True,
    ),
    sdtm.Event("P-001", "Fatigue", "General disorders", 1, date(2025, 12, 31)),  # before dosing
    sdtm.Event(
        "P-002", "Fatigue", "General disorders", 1, date(2026, 2, 3), emergent=True,
        shared_emergent=True,
    ),
    sdtm.Event(
        "P-002", "Fatigue", "General disorders", 2, date(2026, 3, 3), emergent=True,
        shared_emergent=True,
    ),
    sdtm.Event("S-009", "Nausea", "Gastrointestinal disorders", 1, date(2026, 2, 3)),  # not ADSL
]  # fmt: skip


def test_variables_within_transport_v5_and_the_ae_sequence():
    for masked in (False, True):
        assert all(len(v.name) <= 8 and len(v.label) <= 40 for v in adae.variables(masked))
    names = [v.name for v in adae.variables(True)]
    assert "AERELI" not in names and {"AERELP", "AERELR"} <= set(names)


def test_one_record_per_event_of_adsl_with_the_ae_sequence(results):  # noqa: F811
    dataset = adae.adae(results, EVENTS, masked=False)
    assert adam.problems(dataset) == []
    ae = sdtm.ae(EVENTS, masked=False).rows
    seq = {(r["USUBJID"], r["AESEQ"]): r["AEDECOD"] for r in ae if r["USUBJID"] != "S-009"}
    assert {(r["USUBJID"], r["AESEQ"]): r["AEDECOD"] for r in dataset.rows} == seq
    rows = {(r["USUBJID"], r["AESEQ"]): r for r in dataset.rows}
    early, irr, crs, hypertension, later = (rows[("P-001", n)] for n in range(1, 6))
    assert (early["TRTEMFL"], early["ASTDY"]) == ("", -3)  # TRTSDT 2026-01-03
    assert (irr["TRTEMFL"], irr["ASTDY"], irr["ARM"], irr["TRT01A"]) == ("Y", 1, "RPI", "RPI")
    assert (crs["ASTCTGR"], crs["ATOXGRN"], crs["ATOXGR"]) == (3, 3, "3")
    assert irr["ASTCTGR"] is None
    assert (crs["AERELI"], crs["AERELP"], crs["AERELR"]) == (
        "PROBABLY RELATED",
        "NOT RELATED",
        "UNLIKELY RELATED",
    )
    assert (crs["ASUSARFL"], hypertension["ASUSARFL"], later["ASUSARFL"]) == ("Y", "Y", "")
    assert hypertension["AENDT"] == date(2026, 2, 9) and hypertension["AESER"] == "Y"
    assert later["AERELP"] == ""  # not assessed


def test_worst_grade_first_occurrence_as_the_safety_tables_count(results):  # noqa: F811
    rows = adae.adae(results, EVENTS, masked=False).rows
    flagged = [(r["USUBJID"], r["AEDECOD"], r["ASTDT"]) for r in rows if r["AOCCIFL"] == "Y"]
    # P-001's worst is grade 3: the CRS on 4 January comes first
    assert flagged == [
        ("P-001", "Cytokine release syndrome", date(2026, 1, 4)),
        ("P-002", "Fatigue", date(2026, 3, 3)),
    ]
    per_term = [(r["USUBJID"], r["AEDECOD"], r["ATOXGRN"]) for r in rows if r["AOCCPIFL"] == "Y"]
    assert sorted(per_term) == [
        ("P-001", "Cytokine release syndrome", 3),
        ("P-001", "Hypertension", 3),
        ("P-001", "Infusion related reaction", 2),
        ("P-002", "Fatigue", 2),
    ]  # one per patient and term, never the event before the first dose


def test_a_masked_reader_sees_codes_no_inkt_causality_nor_infusion_terms(results):  # noqa: F811
    rows = adae.adae(results, EVENTS, masked=True).rows
    assert {r["ARM"] for r in rows} == {"A", "B"} and {r["TRT01A"] for r in rows} == {"A", "B"}
    assert not {r["AEDECOD"] for r in rows} & set(sdtm.INFUSION_TERMS)
    assert all("AERELI" not in r for r in rows)
    hypertension = next(r for r in rows if r["AEDECOD"] == "Hypertension")
    assert (hypertension["AESEQ"], hypertension["ASUSARFL"]) == (2, "Y")  # regorafenib's
    # the worst grade among what the reader sees
    assert [r["AEDECOD"] for r in rows if r["AOCCIFL"] == "Y"][0] == "Hypertension"


def test_a_masked_reader_counts_emergence_from_the_drugs_both_arms_receive(results):  # noqa: F811
    """P-001's first iNKT course is on 3 January, the first PD-1/regorafenib dose on 5 January:
    an event on 4 January is emergent for an unmasked reader only. Flagged for a masked reader,
    it would come before TRTSDT, which only the iNKT arm can have."""
    between = sdtm.Event(
        "P-001",
        "Nausea",
        "Gastrointestinal disorders",
        1,
        date(2026, 1, 4),
        emergent=True,
        shared_emergent=False,
    )
    after = sdtm.Event(
        "P-001", "Fatigue", "General disorders", 1, date(2026, 1, 6),
        emergent=True, shared_emergent=True,
    )  # fmt: skip
    unmasked = {r["AEDECOD"]: r for r in adae.adae(results, [between, after], masked=False).rows}
    masked = {r["AEDECOD"]: r for r in adae.adae(results, [between, after], masked=True).rows}
    assert (unmasked["Nausea"]["TRTEMFL"], unmasked["Nausea"]["ASTDY"]) == ("Y", 2)
    assert (masked["Nausea"]["TRTEMFL"], masked["Nausea"]["ASTDY"]) == ("", -1)
    assert masked["Fatigue"]["TRTEMFL"] == unmasked["Fatigue"]["TRTEMFL"] == "Y"
    assert masked["Fatigue"]["AOCCIFL"] == "Y" and masked["Nausea"]["AOCCIFL"] == ""
