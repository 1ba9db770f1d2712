"""The CDISC SDTM domains DM, AE and EX of an endpoint run (pure, no Django), as one reader
may see them.

Source: CDISC SDTM Implementation Guide 3.4 (2021): DM (section 5.2, one record per subject;
--DTC dates as ISO 8601 text; ARMCD/ARM, ACTARMCD/ACTARM, ARMNRS), AE (6.2, events: AETERM,
AEDECOD, AEBODSYS, AETOXGR, AESER, AEREL, AEACN, AEOUT, AESDTH) and EX (6.1, interventions:
EXTRT, EXDOSE, EXDOSU, EXROUTE, EXSTDTC, EXENDTC); controlled terms from CDISC CT (OUT for
AEOUT, ACN for AEACN, ROUTE, NY).

DM comes from the run's stored subject facts (outcomes/snapshot.subject_facts), so it is the
run's; AE and EX from the records dated up to the run's cut-off. A masked reader sees arm codes,
no iNKT cell infusion (EX) and, in AE, neither the iNKT cells' relationship and action nor the
infusion-only terms the masked safety table leaves out (safety/tables.INFUSION_TERMS): each
would say the arm.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from outcomes import exports
from outcomes.adam import MAX_VALUE, NUM, YES, Dataset, Variable, transport_text
from outcomes.analysis import STUDY_ID
from safety.tables import INFUSION_TERMS

STANDARD = "SDTM IG 3.4"
INKT = "inkt"
SHARED_DRUGS = ("pd1", "regorafenib")
DRUG_NAMES = {INKT: "INKT CELLS", "pd1": "PD-1 ANTIBODY", "regorafenib": "REGORAFENIB"}
ROUTES = {"iv": "INTRAVENOUS", "oral": "ORAL"}
OUTCOMES = {
    "recovered": "RECOVERED/RESOLVED",
    "recovering": "RECOVERING/RESOLVING",
    "not_recovered": "NOT RECOVERED/NOT RESOLVED",
    "sequelae": "RECOVERED/RESOLVED WITH SEQUELAE",
    "fatal": "FATAL",
    "unknown": "UNKNOWN",
}
ACTIONS = {
    "none": "DOSE NOT CHANGED",
    "interrupted": "DRUG INTERRUPTED",
    "reduced": "DOSE REDUCED",
    "withdrawn": "DRUG WITHDRAWN",
    "not_applicable": "NOT APPLICABLE",
}
RELATED = {"possible", "probable", "definite"}
NOT_RELATED = {"not_related", "unlikely", "not_applicable"}


@dataclass(frozen=True)
class Dose:
    """One administration (or prescribed period) of a study drug."""

    key: str
    drug: str  # inkt, pd1, regorafenib
    start: date | datetime
    end: date | None = None
    dose: float | None = None
    unit: str = ""
    route: str = ""
    product: str = ""
    lot: str = ""


@dataclass(frozen=True)
class Event:
    """One adverse event as recorded (CTCAE v5.0 term)."""

    key: str
    term: str
    soc: str
    grade: int
    onset: date
    specification: str = ""
    resolution: date | None = None
    outcome: str = ""
    serious: bool = False
    death_date: date | None = None
    relationships: dict[str, str] = field(default_factory=dict)  # drug -> RELATIONSHIP code
    actions: dict[str, str] = field(default_factory=dict)  # drug -> ACTION code
    # for ADaM ADAE (outcomes/adae.py): treatment emergence as the safety tables decide it
    # (safety.selectors.emergent, at the cut-off; shared_emergent: from the span of the drugs
    # both arms receive, what a masked reader is shown), the ASTCT grade of a CRS or ICANS, the
    # SUSAR status' suspected-and-unexpected drugs, and the SAE narrative
    emergent: bool = False
    shared_emergent: bool = False
    astct_grade: int | None = None
    susar_drugs: tuple[str, ...] = ()
    narrative: str = ""


def _dtc(value) -> str:
    """ISO 8601 text, to the minute for a moment (SDTM --DTC)."""
    if value is None or value == "":
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M")
    return value if isinstance(value, str) else value.isoformat()


def _base() -> list[Variable]:
    return [
        Variable("STUDYID", "Study Identifier"),
        Variable("DOMAIN", "Domain Abbreviation"),
        Variable("USUBJID", "Unique Subject Identifier"),
    ]


# DM --------------------------------------------------------------------------------------------

DM_VARIABLES = [
    *_base(),
    Variable("SUBJID", "Subject Identifier for the Study"),
    Variable("RFSTDTC", "Subject Reference Start Date/Time", derivation="Randomization."),
    Variable(
        "RFENDTC",
        "Subject Reference End Date/Time",
        derivation="End of study (the status change that ends it), up to the cut-off.",
    ),
    Variable(
        "RFXSTDTC",
        "Date/Time of First Study Treatment",
        derivation="As ADSL.TRTSDT (a masked reader: the drugs both arms receive).",
    ),
    Variable("RFXENDTC", "Date/Time of Last Study Treatment", derivation="As ADSL.TRTEDT."),
    Variable("RFICDTC", "Date/Time of Informed Consent"),
    Variable("DTHDTC", "Date/Time of Death"),
    Variable("DTHFL", "Subject Death Flag"),
    Variable("SITEID", "Study Site Identifier", derivation="Blank: no site is recorded."),
    Variable("AGE", "Age", NUM, derivation="Completed years at randomization."),
    Variable("AGEU", "Age Units"),
    Variable("SEX", "Sex"),
    Variable("ARMCD", "Planned Arm Code", derivation="A masked reader: the slot's code."),
    Variable("ARM", "Description of Planned Arm"),
    Variable("ACTARMCD", "Actual Arm Code", derivation="ARMCD if treated, else blank."),
    Variable("ACTARM", "Description of Actual Arm"),
    Variable("ARMNRS", "Reason Arm and/or Actual Arm is Null"),
]


def dm(results: dict, *, masked: bool) -> Dataset:
    labels = exports.arm_labels(results, masked)
    arms = {row["USUBJID"]: row["ARM"] for row in results["adtte"]}
    subjects = results.get("subjects") or {}
    rows = []
    for key in sorted(arms):
        facts = subjects.get(key, {})
        shown = labels[arms[key]]
        treated = bool(facts.get("first_dose"))
        rows.append(
            {
                "STUDYID": STUDY_ID,
                "DOMAIN": "DM",
                "USUBJID": key,
                "SUBJID": key,
                "RFSTDTC": facts.get("randomized") or "",
                "RFENDTC": facts.get("end_of_study") or "",
                "RFXSTDTC": facts.get("first_shared_dose" if masked else "first_dose") or "",
                "RFXENDTC": facts.get("last_shared_dose" if masked else "last_dose") or "",
                "RFICDTC": facts.get("consent") or "",
                "DTHDTC": facts.get("death") or "",
                "DTHFL": YES if facts.get("death") else "",
                "SITEID": "",
                "AGE": facts.get("age"),
                "AGEU": "YEARS" if facts.get("age") is not None else "",
                "SEX": facts.get("sex") or "",
                "ARMCD": shown,
                "ARM": shown,
                "ACTARMCD": shown if treated else "",
                "ACTARM": shown if treated else "",
                "ARMNRS": "" if treated or "first_dose" not in facts else "ASSIGNED, NOT TREATED",
            }
        )
    return Dataset(
        "DM",
        "Demographics",
        "One record per subject",
        ("STUDYID", "USUBJID"),
        DM_VARIABLES,
        rows,
        klass="SPECIAL PURPOSE",
        standard=STANDARD,
    )


# AE --------------------------------------------------------------------------------------------

AE_VARIABLES = [
    *_base(),
    Variable("AESEQ", "Sequence Number", NUM, derivation="Per subject, by onset."),
    Variable("AETERM", "Reported Term for the Adverse Event", derivation="Term: specification."),
    Variable("AEDECOD", "Dictionary-Derived Term", derivation="CTCAE v5.0 term (MedDRA LLT)."),
    Variable("AEBODSYS", "Body System or Organ Class", derivation="CTCAE v5.0 (MedDRA SOC)."),
    Variable("AETOXGR", "Standard Toxicity Grade", derivation="CTCAE v5.0 grade, 1 to 5."),
    Variable("AESER", "Serious Event"),
    Variable(
        "AEREL",
        "Causality",
        derivation="RELATED: possibly, probably or definitely related to a study drug shown; "
        "NOT RELATED: unrelated or unlikely for each; blank: not yet assessed.",
    ),
    Variable(
        "AEACN",
        "Action Taken with Study Treatment",
        derivation="The action on the study drugs shown; MULTIPLE when they differ.",
    ),
    Variable("AEOUT", "Outcome of Adverse Event"),
    Variable("AESDTH", "Results in Death"),
    Variable("AESTDTC", "Start Date/Time of Adverse Event"),
    Variable("AEENDTC", "End Date/Time of Adverse Event"),
]


def _causality(event: Event, drugs) -> str:
    values = [event.relationships.get(d, "not_assessed") for d in drugs]
    if any(v in RELATED for v in values):
        return "RELATED"
    if values and all(v in NOT_RELATED for v in values):
        return "NOT RELATED"
    return ""


def _action(event: Event, drugs) -> str:
    values = {ACTIONS.get(event.actions.get(d, "none"), "") for d in drugs}
    return values.pop() if len(values) == 1 else "MULTIPLE"


def drugs_shown(masked: bool) -> tuple[str, ...]:
    return SHARED_DRUGS if masked else (INKT, *SHARED_DRUGS)


def numbered(events: list[Event], *, masked: bool) -> list[tuple[int, Event]]:
    """(AESEQ, event) of the events a reader sees, in AE's order: ADAE and SUPPAE share it."""
    shown = [e for e in events if not (masked and e.term in INFUSION_TERMS)]
    out, seq = [], {}
    for event in sorted(shown, key=lambda e: (e.key, e.onset, e.term, e.grade)):
        seq[event.key] = seq.get(event.key, 0) + 1
        out.append((seq[event.key], event))
    return out


def ae(events: list[Event], *, masked: bool) -> Dataset:
    drugs = drugs_shown(masked)
    rows = []
    for number, event in numbered(events, masked=masked):
        reported = f"{event.term}: {event.specification}" if event.specification else event.term
        rows.append(
            {
                "STUDYID": STUDY_ID,
                "DOMAIN": "AE",
                "USUBJID": event.key,
                "AESEQ": number,
                "AETERM": transport_text(reported),
                "AEDECOD": transport_text(event.term),
                "AEBODSYS": transport_text(event.soc),
                "AETOXGR": str(event.grade),
                "AESER": "Y" if event.serious else "N",
                "AEREL": _causality(event, drugs),
                "AEACN": _action(event, drugs),
                "AEOUT": OUTCOMES.get(event.outcome, ""),
                "AESDTH": "Y" if event.death_date or event.grade == 5 else "N",
                "AESTDTC": _dtc(event.onset),
                "AEENDTC": _dtc(event.resolution),
            }
        )
    return Dataset(
        "AE",
        "Adverse Events",
        "One record per adverse event per subject",
        ("STUDYID", "USUBJID", "AESEQ"),
        AE_VARIABLES,
        rows,
        klass="EVENTS",
        standard=STANDARD,
    )


# EX --------------------------------------------------------------------------------------------

EX_VARIABLES = [
    *_base(),
    Variable("EXSEQ", "Sequence Number", NUM, derivation="Per subject, by start."),
    Variable("EXTRT", "Name of Treatment", derivation="The product if recorded, else the drug."),
    Variable("EXDOSE", "Dose", NUM, derivation="A cell product: the cells infused (CELLS)."),
    Variable("EXDOSU", "Dose Units"),
    Variable("EXROUTE", "Route of Administration"),
    Variable("EXLOT", "Lot Number", derivation="A cell product: its batch."),
    Variable("EXSTDTC", "Start Date/Time of Treatment"),
    Variable("EXENDTC", "End Date/Time of Treatment", derivation="Blank: a period still open."),
]


def ex(doses: list[Dose], *, masked: bool) -> Dataset:
    shown = [d for d in doses if not (masked and d.drug == INKT)]
    rows, seq = [], {}
    for dose in sorted(shown, key=lambda d: (d.key, _dtc(d.start), d.drug)):
        seq[dose.key] = seq.get(dose.key, 0) + 1
        single = isinstance(dose.start, datetime)
        rows.append(
            {
                "STUDYID": STUDY_ID,
                "DOMAIN": "EX",
                "USUBJID": dose.key,
                "EXSEQ": seq[dose.key],
                "EXTRT": transport_text(dose.product.upper() or DRUG_NAMES[dose.drug]),
                "EXDOSE": dose.dose,
                "EXDOSU": dose.unit,
                "EXROUTE": ROUTES.get(dose.route, dose.route.upper()),
                "EXLOT": transport_text(dose.lot),
                "EXSTDTC": _dtc(dose.start),
                "EXENDTC": _dtc(dose.start if single else dose.end),
            }
        )
    return Dataset(
        "EX",
        "Exposure",
        "One record per constant-dosing interval per subject",
        ("STUDYID", "USUBJID", "EXSEQ"),
        EX_VARIABLES,
        rows,
        klass="INTERVENTIONS",
        standard=STANDARD,
    )


def datasets(results: dict, events: list[Event], doses: list[Dose], *, masked: bool):
    found = [
        dm(results, masked=masked),
        ae(events, masked=masked),
        suppae(events, masked=masked),
        ex(doses, masked=masked),
    ]
    return [d for d in found if d is not None]


# SUPPAE ----------------------------------------------------------------------------------------

NARRATIVE = "AENARR"
SUPPAE_VARIABLES = [
    Variable("STUDYID", "Study Identifier"),
    Variable("RDOMAIN", "Related Domain Abbreviation"),
    Variable("USUBJID", "Unique Subject Identifier"),
    Variable("IDVAR", "Identifying Variable"),
    Variable("IDVARVAL", "Identifying Variable Value", derivation="The event's AESEQ."),
    Variable(
        "QNAM",
        "Qualifier Variable Name",
        derivation="AENARR, then AENARR1, AENARR2 ...: the SAE narrative in pieces of at most "
        "200 characters (SDTM IG 3.4, 4.5.3.2), in order.",
    ),
    Variable("QLABEL", "Qualifier Variable Label"),
    Variable("QVAL", "Data Value"),
    Variable("QORIG", "Origin"),
    Variable("QEVAL", "Evaluator"),
]


def _pieces(text: str) -> list[str]:
    text = transport_text_long(text)
    return [text[i : i + MAX_VALUE] for i in range(0, len(text), MAX_VALUE)] or [""]


def transport_text_long(value: str) -> str:
    """As adam.transport_text, without the 200-character cut (the caller splits): in pieces of
    100, which at most double (">=" for one character)."""
    step = MAX_VALUE // 2
    return "".join(transport_text(value[i : i + step]) for i in range(0, len(value), step))


def suppae(events: list[Event], *, masked: bool) -> Dataset | None:
    """The SAE narratives as AE's supplemental qualifiers; None for a masked reader (a narrative
    is free text and may name the iNKT cells or an infusion) or when no event has one."""
    if masked:
        return None
    rows = []
    for number, event in numbered(events, masked=masked):
        if not event.narrative.strip():
            continue
        for index, piece in enumerate(_pieces(event.narrative.strip())):
            rows.append(
                {
                    "STUDYID": STUDY_ID,
                    "RDOMAIN": "AE",
                    "USUBJID": event.key,
                    "IDVAR": "AESEQ",
                    "IDVARVAL": str(number),
                    "QNAM": NARRATIVE if index == 0 else f"{NARRATIVE}{index}",
                    "QLABEL": "SAE Narrative" if index == 0 else f"SAE Narrative {index}",
                    "QVAL": piece,
                    "QORIG": "CRF",
                    "QEVAL": "INVESTIGATOR",
                }
            )
    if not rows:
        return None
    return Dataset(
        "SUPPAE",
        "Supplemental Qualifiers for AE",
        "One record per supplemental qualifier per adverse event",
        ("STUDYID", "RDOMAIN", "USUBJID", "IDVAR", "IDVARVAL", "QNAM"),
        SUPPAE_VARIABLES,
        rows,
        klass="RELATIONSHIP",
        standard=STANDARD,
    )
