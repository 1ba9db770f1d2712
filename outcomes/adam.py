"""The CDISC ADaM datasets of an endpoint run (pure, no Django): ADSL, ADTTE, ADRS and ADQS from
the run's stored results, as one reader may see them (arm codes for a masked reader).

Sources: CDISC ADaM Implementation Guide 1.3 (2021) — ADSL (section 3.2: one record per
subject; TRT01P/TRT01A, TRTSDT/TRTEDT, population flags ITTFL/SAFFL/EFFFL), the Basic Data
Structure (BDS: PARAMCD <= 8 characters, PARAM <= 200, AVAL/AVALC, ADT); CDISC ADaM Basic Data
Structure for Time-to-Event Analyses 1.0 (2012): CNSR 0 = event, a positive integer =
censored, STARTDT, EVNTDESC, CNSDTDSC; ADaM conventions for SAS transport v5: variable names
<= 8 characters, labels <= 40, character values <= 200, dates numeric SAS dates (days since
1960-01-01) with the DATE9. format.

ADTTE is the product's own ADTTE export (outcomes/exports.rows, table "adtte") for the same
run and reader, with the ADSL treatment variables (ARMCD, TRT01P) added: the same rows, the
same values, the dates as dates. ADQS holds the QLQ-C30 scale scores a run stores (baseline:
the last score on or before randomization, as the time to deterioration). ADAE is in
outcomes/adae.py: a run's results do not hold the adverse events, so it reads the records.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from assessments import qlqc30
from enrollment import status
from outcomes import exports
from outcomes.analysis import STUDY_ID

MAX_NAME, MAX_LABEL, MAX_VALUE = 8, 40, 200
CHAR, NUM = "Char", "Num"
DATE9, DATETIME = "DATE9.", "DATETIME20."
YES = "Y"


@dataclass(frozen=True)
class Variable:
    name: str
    label: str
    type: str = CHAR  # Char or Num
    format: str = ""  # DATE9. for dates, DATETIME20. for date-times
    derivation: str = ""

    def __post_init__(self):
        if len(self.name) > MAX_NAME or len(self.label) > MAX_LABEL:
            raise ValueError(f"{self.name}: name over 8 or label over 40 characters")


@dataclass
class Dataset:
    name: str
    label: str
    structure: str
    keys: tuple[str, ...]
    variables: list[Variable]
    rows: list[dict] = field(default_factory=list)
    klass: str = "BASIC DATA STRUCTURE"
    standard: str = "ADaM IG 1.3"

    def column(self, name: str) -> list:
        return [row.get(name) for row in self.rows]


def _date(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def _datetime(text: str | None) -> datetime | None:
    """A moment in UTC without its offset (SAS date-times have no time zone)."""
    if not text:
        return None
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def transport_text(value) -> str:
    """A character value as SAS transport v5 holds it: ASCII, at most 200 characters."""
    text = "" if value is None else str(value)
    text = text.replace("\u2013", "-").replace("\u2014", "-").replace("\u2265", ">=")
    text = text.replace("\u2264", "<=").encode("ascii", "replace").decode()
    return text[:MAX_VALUE]


def _arm_code(arm: str, labels: dict[str, str], masked: bool) -> str:
    return labels[arm] if masked else arm


# ADSL ------------------------------------------------------------------------------------------

ADSL_VARIABLES = [
    Variable("STUDYID", "Study Identifier"),
    Variable("USUBJID", "Unique Subject Identifier"),
    Variable("SUBJID", "Subject Identifier for the Study", derivation="The study id."),
    Variable(
        "SITEID",
        "Study Site Identifier",
        derivation="Blank: the product records no site (one-site trial).",
    ),
    Variable("AGE", "Age", NUM, derivation="Completed years at randomization (date of birth)."),
    Variable("AGEU", "Age Units"),
    Variable("SEX", "Sex", derivation="F or M, from the screening."),
    Variable(
        "ARM",
        "Description of Planned Arm",
        derivation="The randomized arm; for a masked reader the code its slot carries.",
    ),
    Variable("ARMCD", "Planned Arm Code", derivation="As ARM."),
    Variable("TRT01P", "Planned Treatment for Period 01", derivation="As ARM."),
    Variable(
        "TRT01A",
        "Actual Treatment for Period 01",
        derivation="As ARM for a patient given any study treatment (SAFFL = Y), else blank; for "
        "a masked reader, any of the drugs both arms receive.",
    ),
    Variable("RANDDT", "Date of Randomization", NUM, DATE9, "Day 0 of every endpoint."),
    Variable(
        "TRTSDT",
        "Date of First Exposure to Treatment",
        NUM,
        DATE9,
        "First dose of any study drug up to the cut-off; for a masked reader the first dose of "
        "the drugs both arms receive (PD-1 antibody, regorafenib).",
    ),
    Variable(
        "TRTEDT",
        "Date of Last Exposure to Treatment",
        NUM,
        DATE9,
        "Last dose up to the cut-off (as TRTSDT); blank while a prescribed period is open.",
    ),
    Variable(
        "EOSSTT",
        "End of Study Status",
        derivation="COMPLETED (end of the study), DISCONTINUED (another status change that "
        "ends the study, death included) or ONGOING, at the cut-off.",
    ),
    Variable("EOSDT", "End of Study Date", NUM, DATE9, "Date of that status change."),
    Variable("DCSREAS", "Reason for Discontinuation from Study"),
    Variable("DTHDT", "Date of Death", NUM, DATE9, "Up to the cut-off."),
    Variable("DTHFL", "Subject Death Flag", derivation="Y if died up to the cut-off."),
    Variable("LSTALVDT", "Date Last Known Alive", NUM, DATE9, "Latest record up to the cut-off."),
    Variable("NTRTDT", "Date of New Anticancer Therapy", NUM, DATE9, "Up to the cut-off."),
    Variable(
        "ITTFL",
        "Intent-To-Treat Population Flag",
        derivation="Y: every randomized patient (the product's analyses are by intention to "
        "treat).",
    ),
    Variable(
        "SAFFL",
        "Safety Population Flag",
        derivation="Y: randomized and given at least one dose of any study treatment up to the "
        "cut-off (the safety tables' population, safety/tables.py); for a masked reader, of "
        "the drugs both arms receive (a dose of one arm's own drug would name the arm).",
    ),
    Variable(
        "EFFFL",
        "Efficacy Population Flag",
        derivation="Y: randomized with a baseline tumour assessment up to the cut-off (without "
        "one, tumour endpoints are censored at day 0, outcomes/endpoints.py).",
    ),
    Variable("DCUTDT", "Data Cutoff Date", NUM, DATE9),
]

EOS_STATUS = {status.STUDY_END: "COMPLETED"}


def adsl(results: dict, *, masked: bool) -> Dataset:
    """One row per randomized patient. Runs stored before the results held the subject facts
    give what their ADTTE rows show (randomization and death), the rest blank."""
    labels = exports.arm_labels(results, masked)
    cutoff = _date(results["cutoff"])
    arms = {row["USUBJID"]: row["ARM"] for row in results["adtte"]}
    subjects = results.get("subjects") or _subjects_from_adtte(results)
    rows = []
    for key in sorted(arms):  # every randomized patient has an OS row
        facts = subjects.get(key, {})
        arm = arms[key]
        shown = _arm_code(arm, labels, masked)
        first = facts.get("first_shared_dose" if masked else "first_dose")
        last = facts.get("last_shared_dose" if masked else "last_dose")
        treated = bool(first)  # a masked reader: dosed with a drug both arms receive
        reason = facts.get("end_of_study_reason")
        rows.append(
            {
                "STUDYID": STUDY_ID,
                "USUBJID": key,
                "SUBJID": key,
                "SITEID": "",
                "AGE": facts.get("age"),
                "AGEU": "YEARS" if facts.get("age") is not None else "",
                "SEX": facts.get("sex") or "",
                "ARM": labels[arm],
                "ARMCD": shown,
                "TRT01P": labels[arm],
                "TRT01A": labels[arm] if treated else "",
                "RANDDT": _date(facts.get("randomized")),
                "TRTSDT": _date(first),
                "TRTEDT": _date(last),
                "EOSSTT": (EOS_STATUS.get(reason, "DISCONTINUED") if reason else "ONGOING")
                if "end_of_study_reason" in facts
                else "",
                "EOSDT": _date(facts.get("end_of_study")),
                "DCSREAS": transport_text(status.CHANGES.get(reason, reason or "")).upper(),
                "DTHDT": _date(facts.get("death")),
                "DTHFL": YES if facts.get("death") else "",
                "LSTALVDT": _date(facts.get("last_alive")),
                "NTRTDT": _date(facts.get("new_therapy")),
                "ITTFL": YES,
                "SAFFL": (YES if treated else "N") if "first_dose" in facts else "",
                "EFFFL": (YES if facts.get("baseline_scan") else "N")
                if "baseline_scan" in facts
                else "",
                "DCUTDT": cutoff,
            }
        )
    return Dataset(
        "ADSL",
        "Subject-Level Analysis Dataset",
        "One record per subject",
        ("USUBJID",),
        ADSL_VARIABLES,
        rows,
        klass="SUBJECT LEVEL ANALYSIS DATASET",
    )


def _subjects_from_adtte(results: dict) -> dict[str, dict]:
    """Older runs: randomization (STARTDT of OS) and death (an OS event) from ADTTE."""
    found = {}
    for row in results["adtte"]:
        if row["PARAMCD"] == "OS":
            found[row["USUBJID"]] = {
                "randomized": row["STARTDT"],
                "death": row["ADT"] if row["CNSR"] == 0 else None,
            }
    return found


# ADTTE -----------------------------------------------------------------------------------------

ADTTE_VARIABLES = [
    Variable("STUDYID", "Study Identifier"),
    Variable("USUBJID", "Unique Subject Identifier"),
    Variable("ARM", "Description of Planned Arm", derivation="As ADSL.ARM."),
    Variable("ARMCD", "Planned Arm Code", derivation="As ADSL.ARMCD."),
    Variable("TRT01P", "Planned Treatment for Period 01", derivation="As ADSL.TRT01P."),
    Variable("PARAMCD", "Parameter Code"),
    Variable("PARAM", "Parameter"),
    Variable("AVAL", "Analysis Value", NUM, derivation="ADT - STARTDT, in days."),
    Variable("AVALM", "Analysis Value in Months", NUM, derivation="AVAL / 30.4375, 4 decimals."),
    Variable("AVALU", "Analysis Value Unit"),
    Variable(
        "STARTDT", "Time-to-Event Origin Date for Subject", NUM, DATE9, "Randomization (day 0)."
    ),
    Variable("ADT", "Analysis Date", NUM, DATE9, "Date of the event or of the censoring."),
    Variable(
        "CNSR",
        "Censor",
        NUM,
        derivation="0 event, 1 censored (outcomes/endpoints.py: FDA 2018 censoring for PFS, "
        "TTP and DOR; OS; QLQ-C30 deterioration).",
    ),
    Variable("EVNTDESC", "Event or Censoring Description", derivation="The event's rule."),
    Variable("CNSDTDSC", "Censor Date Description", derivation="The censoring's rule."),
    Variable("DCUTDT", "Data Cutoff Date", NUM, DATE9),
    Variable("COMPDTM", "Datetime of Computation (UTC)", NUM, DATETIME, "When the run ended."),
    Variable("SOFTVER", "Software Version", derivation="Versions that computed the run."),
]
ADTTE_DATES = {"STARTDT": _date, "ADT": _date, "DCUTDT": _date, "COMPDTM": _datetime}


def adtte(results: dict, *, masked: bool, meta: dict) -> Dataset:
    labels = exports.arm_labels(results, masked)
    codes = {row["USUBJID"]: _arm_code(row["ARM"], labels, masked) for row in results["adtte"]}
    rows = []
    for row in exports.rows(results, "adtte", masked=masked, meta=meta):
        out = {name: ADTTE_DATES.get(name, _keep)(value) for name, value in row.items()}
        out["ARMCD"], out["TRT01P"] = codes[row["USUBJID"]], row["ARM"]
        rows.append(out)
    return Dataset(
        "ADTTE",
        "Time-to-Event Analysis Dataset",
        "One record per subject per parameter",
        ("USUBJID", "PARAMCD"),
        ADTTE_VARIABLES,
        rows,
    )


def _keep(value):
    return value


# ADRS ------------------------------------------------------------------------------------------

CRITERION_CODES = {"mRECIST": "M", "iRECIST": "I"}
ADRS_PARAMS = {
    "OVR": "Overall Response by Investigator",  # per timepoint
    "BOR": "Best Overall Response",
    "IUPDUNC": "Unconfirmed iUPD at the Last Scan",
}


def _adrs_param(row: dict) -> tuple[str, str]:
    criterion = row["CRITERION"]
    if row.get("UNCONFIRMED"):
        return "IUPDUNC", f"{ADRS_PARAMS['IUPDUNC']} ({criterion})"
    kind = "BOR" if row.get("BEST") else "OVR"
    name = (
        f"Best Overall Response by {criterion}"
        if kind == "BOR"
        else f"Overall Response by {criterion}, Accepted Reads"
    )
    return f"{kind}{CRITERION_CODES[criterion]}", name


ADRS_VARIABLES = [
    Variable("STUDYID", "Study Identifier"),
    Variable("USUBJID", "Unique Subject Identifier"),
    Variable("ARM", "Description of Planned Arm", derivation="As ADSL.ARM."),
    Variable("ARMCD", "Planned Arm Code", derivation="As ADSL.ARMCD."),
    Variable("TRT01P", "Planned Treatment for Period 01", derivation="As ADSL.TRT01P."),
    Variable(
        "PARAMCD",
        "Parameter Code",
        derivation="OVRM/OVRI: timepoint response by mRECIST/iRECIST; BORM/BORI: best "
        "overall response; IUPDUNC: an iUPD not (yet) confirmed at the last scan.",
    ),
    Variable("PARAM", "Parameter"),
    Variable("PARCAT1", "Response Criterion", derivation="mRECIST or iRECIST."),
    Variable(
        "AVALC",
        "Analysis Value (C)",
        derivation="The accepted read's overall response (readers agreeing, else the "
        "adjudicator's choice), assessments/recist.py.",
    ),
    Variable("ADT", "Analysis Date", NUM, DATE9, "Scan date; blank for best response."),
    Variable(
        "ANL01FL",
        "Analysis Flag 01: Counts for BOR",
        derivation="Y: a timepoint up to a new anticancer therapy and 24 months, counted for "
        "the best overall response.",
    ),
    Variable("DCUTDT", "Data Cutoff Date", NUM, DATE9),
]


def adrs(results: dict, *, masked: bool) -> Dataset:
    labels = exports.arm_labels(results, masked)
    cutoff = _date(results["cutoff"])
    rows = []
    for row in results["responses"]:
        paramcd, param = _adrs_param(row)
        timepoint = paramcd.startswith("OVR")
        rows.append(
            {
                "STUDYID": STUDY_ID,
                "USUBJID": row["USUBJID"],
                "ARM": labels[row["ARM"]],
                "ARMCD": _arm_code(row["ARM"], labels, masked),
                "TRT01P": labels[row["ARM"]],
                "PARAMCD": paramcd,
                "PARAM": param,
                "PARCAT1": row["CRITERION"],
                "AVALC": transport_text(row["RESPONSE"]),
                "ADT": _date(row["ADT"]),
                "ANL01FL": (YES if not row.get("OUTSIDE_BOR") else "") if timepoint else "",
                "DCUTDT": cutoff,
            }
        )
    return Dataset(
        "ADRS",
        "Response Analysis Dataset",
        "One record per subject per parameter per analysis date",
        ("USUBJID", "PARAMCD", "ADT"),
        ADRS_VARIABLES,
        rows,
    )


# ADQS ------------------------------------------------------------------------------------------

ADQS_VARIABLES = [
    Variable("STUDYID", "Study Identifier"),
    Variable("USUBJID", "Unique Subject Identifier"),
    Variable("ARM", "Description of Planned Arm", derivation="As ADSL.ARM."),
    Variable("ARMCD", "Planned Arm Code", derivation="As ADSL.ARMCD."),
    Variable("TRT01P", "Planned Treatment for Period 01", derivation="As ADSL.TRT01P."),
    Variable("PARAMCD", "Parameter Code", derivation="The QLQ-C30 scale (SUM: summary)."),
    Variable("PARAM", "Parameter"),
    Variable("PARCAT1", "Parameter Category 1"),
    Variable(
        "AVAL",
        "Analysis Value",
        NUM,
        derivation="The scale score 0-100 (EORTC QLQ-C30 scoring manual, assessments/qlqc30.py).",
    ),
    Variable("ADT", "Analysis Date", NUM, DATE9, "Date the questionnaire was completed."),
    Variable(
        "ABLFL",
        "Baseline Record Flag",
        derivation="Y: the last score on or before randomization (the product's baseline).",
    ),
    Variable("BASE", "Baseline Value", NUM, derivation="AVAL of the baseline record."),
    Variable("CHG", "Change from Baseline", NUM, derivation="AVAL - BASE, after baseline."),
    Variable("DCUTDT", "Data Cutoff Date", NUM, DATE9),
]


def adqs(results: dict, *, masked: bool) -> Dataset | None:
    """The QLQ-C30 scale scores up to the cut-off with baseline and change from baseline; None
    for a run stored before its results held the scores."""
    if "qol" not in results:
        return None
    labels = exports.arm_labels(results, masked)
    cutoff = _date(results["cutoff"])
    arms, starts = {}, {}
    for row in results["adtte"]:
        arms[row["USUBJID"]] = row["ARM"]
        if row["PARAMCD"] == "OS":  # its origin is randomization (day 0)
            starts[row["USUBJID"]] = _date(row["STARTDT"])
    order = [*(s.code for s in qlqc30.SCALES), "SUM"]
    rows = []
    for key in sorted(results["qol"]):
        arm = arms[key]
        for code in sorted(results["qol"][key], key=lambda c: order.index(c) if c in order else 99):
            scored = sorted(
                (_date(day), value) for day, value in results["qol"][key][code] if value is not None
            )
            before = [pair for pair in scored if pair[0] <= starts[key]]
            base_day, base = before[-1] if before else (None, None)
            name = qlqc30.SCALE_BY_CODE[code].name if code in qlqc30.SCALE_BY_CODE else "Summary"
            for day, value in scored:
                rows.append(
                    {
                        "STUDYID": STUDY_ID,
                        "USUBJID": key,
                        "ARM": labels[arm],
                        "ARMCD": _arm_code(arm, labels, masked),
                        "TRT01P": labels[arm],
                        "PARAMCD": code,
                        "PARAM": f"QLQ-C30 {name}",
                        "PARCAT1": "EORTC QLQ-C30",
                        "AVAL": value,
                        "ADT": day,
                        "ABLFL": YES if day == base_day else "",
                        "BASE": base,
                        "CHG": round(value - base, 6)
                        if base is not None and day > base_day
                        else None,
                        "DCUTDT": cutoff,
                    }
                )
    return Dataset(
        "ADQS",
        "Questionnaire Analysis Dataset",
        "One record per subject per parameter per analysis date",
        ("USUBJID", "PARAMCD", "ADT"),
        ADQS_VARIABLES,
        rows,
    )


def qol_results(patients) -> dict[str, dict[str, list]]:
    """What a run stores of the QLQ-C30 scores (endpoints.Patient.qol), JSON-ready, for ADQS."""
    return {p.key: _qol(p.qol) for p in patients if p.qol}


def _qol(scores) -> dict[str, list]:
    days = {day for values in scores.values() for day, _ in values}  # one questionnaire's
    iso = {day: day.isoformat() for day in days}  # date is every scale's: written once
    return {code: [[iso[day], value] for day, value in values] for code, values in scores.items()}


# The package -----------------------------------------------------------------------------------


class PackageError(ValueError):
    """A dataset breaks the transport v5 or ADaM conventions (a duplicate key, a long value)."""


def datasets(results: dict, *, masked: bool, meta: dict) -> list[Dataset]:
    found = [
        adsl(results, masked=masked),
        adtte(results, masked=masked, meta=meta),
        adrs(results, masked=masked),
        adqs(results, masked=masked),
    ]
    return [d for d in found if d is not None]


def problems(dataset: Dataset) -> list[str]:
    """What breaks the transport v5 and ADaM conventions in a dataset (empty: none)."""
    found = []
    names = [v.name for v in dataset.variables]
    for row in dataset.rows:
        extra = set(row) - set(names)
        if extra:
            found.append(f"{dataset.name}: undeclared variables {sorted(extra)}")
            break
    for variable in dataset.variables:
        for value in dataset.column(variable.name):
            if variable.type == CHAR and value is not None and len(str(value)) > MAX_VALUE:
                found.append(f"{dataset.name}.{variable.name}: a value over 200 characters")
                break
    keys = [tuple(row.get(k) for k in dataset.keys) for row in dataset.rows]
    if len(keys) != len(set(keys)):
        found.append(f"{dataset.name}: key {'+'.join(dataset.keys)} not unique")
    return found
