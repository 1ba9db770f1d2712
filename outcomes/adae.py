"""The CDISC ADaM ADAE dataset of an endpoint run (pure, no Django): one record per adverse event
up to the cut-off, as one reader may see it.

Source: CDISC ADaM Structure for Occurrence Data (OCCDS) 1.1 (2021): the SDTM AE variables
(AESEQ, AETERM, AEDECOD, AEBODSYS, AETOXGR, AESER) kept, ADSL's treatment variables (TRT01A),
analysis dates ASTDT/AENDT and study day ASTDY (from TRTSDT: day 1 is the first dose, no day 0),
the analysis toxicity grade ATOXGR/ATOXGRN, the treatment-emergent flag TRTEMFL and the
occurrence flags: AOCCIFL "1st Max Sev./Int. Occurrence Flag" (the first record of the worst
grade per subject) and AOCCPIFL "1st Max Sev./Int. Occur Within PT Flag" (the same per subject
and preferred term), counted among the treatment-emergent events, as the safety tables count a
patient once at the worst grade (safety/tables.py).

Treatment emergence is the safety tables' own (safety.selectors.emergent at the cut-off, the
patient given a first dose by then), decided by the selector, never here. Relationship per drug
(AERELI/AERELP/AERELR) and the SUSAR flag: a masked reader sees the drugs both arms receive
only (no iNKT causality; the infusion-only terms left out, as SDTM AE does), and a SUSAR flag only
when a shared drug is its suspected unexpected drug. Events of a patient outside ADSL (never
randomized) are not analysed: they stay in SDTM AE.
"""

from __future__ import annotations

from outcomes import sdtm
from outcomes.adam import (
    DATE9,
    NUM,
    YES,
    Dataset,
    Variable,
    _date,
    adsl,
    transport_text,
)
from outcomes.analysis import STUDY_ID

RELATIONSHIPS = {
    "not_related": "NOT RELATED",
    "unlikely": "UNLIKELY RELATED",
    "possible": "POSSIBLY RELATED",
    "probable": "PROBABLY RELATED",
    "definite": "DEFINITELY RELATED",
    "not_applicable": "NOT APPLICABLE",
    "not_assessed": "",
}
ASSESSED = "The investigator's (blank: not yet assessed)."
REL_VARIABLES = {
    sdtm.INKT: Variable("AERELI", "Causality to iNKT Cells", derivation=ASSESSED),
    "pd1": Variable("AERELP", "Causality to PD-1 Antibody", derivation=ASSESSED),
    "regorafenib": Variable("AERELR", "Causality to Regorafenib", derivation=ASSESSED),
}


def variables(masked: bool) -> list[Variable]:
    return [
        Variable("STUDYID", "Study Identifier"),
        Variable("USUBJID", "Unique Subject Identifier"),
        Variable("AESEQ", "Sequence Number", NUM, derivation="As SDTM AE.AESEQ."),
        Variable("ARM", "Description of Planned Arm", derivation="As ADSL.ARM."),
        Variable("ARMCD", "Planned Arm Code", derivation="As ADSL.ARMCD."),
        Variable("TRT01A", "Actual Treatment for Period 01", derivation="As ADSL.TRT01A."),
        Variable("SAFFL", "Safety Population Flag", derivation="As ADSL.SAFFL."),
        Variable("AETERM", "Reported Term for the Adverse Event", derivation="As SDTM AE."),
        Variable("AEDECOD", "Dictionary-Derived Term", derivation="CTCAE v5.0 term."),
        Variable("AEBODSYS", "Body System or Organ Class", derivation="CTCAE v5.0 SOC."),
        Variable("AETOXGR", "Standard Toxicity Grade", derivation="CTCAE v5.0 grade, 1 to 5."),
        Variable(
            "ATOXGR",
            "Analysis Toxicity Grade",
            derivation="AETOXGR (a CRS or ICANS: the ASTCT grade, which is the event's grade).",
        ),
        Variable("ATOXGRN", "Analysis Toxicity Grade (N)", NUM, derivation="ATOXGR as a number."),
        Variable(
            "ASTCTGR",
            "ASTCT Consensus Grade",
            NUM,
            derivation="CRS or ICANS graded by the ASTCT consensus (Lee 2019, safety/crs.py), "
            "where recorded; blank otherwise.",
        ),
        Variable("AESER", "Serious Event"),
        *(REL_VARIABLES[d] for d in sdtm.drugs_shown(masked)),
        Variable(
            "ASUSARFL",
            "SUSAR Flag",
            derivation="Y: serious, suspected and unexpected for a suspected drug (safety/"
            "susar.py)"
            + ("; for a masked reader, only for a drug both arms receive." if masked else "."),
        ),
        Variable("ASTDT", "Analysis Start Date", NUM, DATE9, "Onset (AESTDTC)."),
        Variable(
            "AENDT", "Analysis End Date", NUM, DATE9, "Resolution up to the cut-off (AEENDTC)."
        ),
        Variable(
            "ASTDY",
            "Analysis Start Relative Day",
            NUM,
            derivation="ASTDT - ADSL.TRTSDT + 1 on or after the first dose, ASTDT - TRTSDT before.",
        ),
        Variable(
            "TRTEMFL",
            "Treatment Emergent Analysis Flag",
            derivation="Y: onset from the first dose of any study treatment up to "
            "TEAE_WINDOW_DAYS after the last, the patient dosed by the cut-off (safety.selectors"
            ".emergent, as the safety tables); for a masked reader, from the span of the drugs "
            "both arms receive, as a masked reader's safety tables.",
        ),
        Variable(
            "AOCCIFL",
            "1st Max Sev./Int. Occurrence Flag",
            derivation="Y: per subject, the first treatment-emergent record (by ASTDT, AESEQ) of "
            "the worst ATOXGRN.",
        ),
        Variable(
            "AOCCPIFL",
            "1st Max Sev./Int. Occur Within PT Flag",
            derivation="As AOCCIFL per subject and AEDECOD (the safety tables' worst grade per "
            "term).",
        ),
        Variable("DCUTDT", "Data Cutoff Date", NUM, DATE9),
    ]


def _first_worst(rows: list[dict], group) -> set[int]:
    """Indices of the first record of the worst grade per group, among the emergent rows."""
    best: dict = {}
    for index, row in enumerate(rows):
        if row["TRTEMFL"] != YES:
            continue
        key = group(row)
        order = (-row["ATOXGRN"], row["ASTDT"], row["AESEQ"])
        if key not in best or order < best[key][0]:
            best[key] = (order, index)
    return {index for _order, index in best.values()}


def adae(results: dict, events: list[sdtm.Event], *, masked: bool) -> Dataset:
    subjects = {row["USUBJID"]: row for row in adsl(results, masked=masked).rows}
    cutoff = _date(results["cutoff"])
    drugs = sdtm.drugs_shown(masked)
    rows = []
    for number, event in sdtm.numbered(events, masked=masked):
        subject = subjects.get(event.key)
        if subject is None:
            continue
        start = subject["TRTSDT"]
        day = None if start is None else (event.onset - start).days
        reported = f"{event.term}: {event.specification}" if event.specification else event.term
        rows.append(
            {
                "STUDYID": STUDY_ID,
                "USUBJID": event.key,
                "AESEQ": number,
                "ARM": subject["ARM"],
                "ARMCD": subject["ARMCD"],
                "TRT01A": subject["TRT01A"],
                "SAFFL": subject["SAFFL"],
                "AETERM": transport_text(reported),
                "AEDECOD": transport_text(event.term),
                "AEBODSYS": transport_text(event.soc),
                "AETOXGR": str(event.grade),
                "ATOXGR": str(event.grade),
                "ATOXGRN": event.grade,
                "ASTCTGR": event.astct_grade,
                "AESER": "Y" if event.serious else "N",
                **{
                    REL_VARIABLES[d].name: RELATIONSHIPS.get(event.relationships.get(d), "")
                    for d in drugs
                },
                "ASUSARFL": YES if set(event.susar_drugs) & set(drugs) else "",
                "ASTDT": event.onset,
                "AENDT": event.resolution,
                "ASTDY": None if day is None else day + 1 if day >= 0 else day,
                "TRTEMFL": YES if (event.shared_emergent if masked else event.emergent) else "",
                "DCUTDT": cutoff,
            }
        )
    worst = _first_worst(rows, lambda r: r["USUBJID"])
    worst_term = _first_worst(rows, lambda r: (r["USUBJID"], r["AEDECOD"]))
    for index, row in enumerate(rows):
        row["AOCCIFL"] = YES if index in worst else ""
        row["AOCCPIFL"] = YES if index in worst_term else ""
    return Dataset(
        "ADAE",
        "Adverse Events Analysis Dataset",
        "One record per adverse event per subject",
        ("USUBJID", "AESEQ"),
        variables(masked),
        rows,
        klass="OCCURRENCE DATA STRUCTURE",
    )
