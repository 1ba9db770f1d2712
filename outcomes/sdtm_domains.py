"""The CDISC SDTM domains DS, QS and LB of an endpoint run (pure, no Django), as one reader may
see them; DM, AE and EX are in outcomes/sdtm.py.

Source: CDISC SDTM Implementation Guide 3.4 (2021): DS (section 6.2, disposition: DSCAT
PROTOCOL MILESTONE / DISPOSITION EVENT / OTHER EVENT, DSSCAT for the epoch ended, DSTERM as
reported, DSDECOD from CDISC CT NCOMPLT and PROTMLST), QS (6.3, questionnaires: one record per
item per visit, QSCAT the instrument, QSORRES as answered, QSSTRESN the number, QSSTAT NOT DONE
for an item left blank), LB (6.3, laboratory results: LBTESTCD/LBTEST from CDISC CT LBTESTCD/
LBTEST, LBORRES/LBORRESU as entered, LBSTRESN/LBSTRESU in the standard unit, the reference range
LBORNRLO/LBORNRHI as entered and LBSTNRLO/LBSTNRHI standard, LBNRIND LOW/NORMAL/HIGH, LBTOXGR the
CTCAE v5.0 grade).

Masking: DS shows the end of treatment of the drugs both arms receive only (the backbone, PD-1
antibody and regorafenib: enrollment.status.BACKBONE), never the iNKT cells'; LB's course
visits (the iNKT arm's alone, safety/visits.visit_label) read UNSCHEDULED, without a visit
number, for a masked reader.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from assessments import qlqc30
from assessments import reads as read_rules
from enrollment import status
from outcomes.adam import NUM, Dataset, Variable, _subjects_from_adtte, transport_text
from outcomes.analysis import STUDY_ID
from outcomes.sdtm import DRUG_NAMES, INKT, SHARED_DRUGS, STANDARD, _base, _dtc
from safety import labs


@dataclass(frozen=True)
class Stop:
    """The end of one drug's treatment (enrollment.status.treatment_stop): its last day and the
    reason's label."""

    key: str
    drug: str
    day: date
    reason: str


@dataclass(frozen=True)
class Answers:
    """One QLQ-C30 questionnaire as stored: item number (text) -> answer (None: left blank)."""

    key: str
    visit: str
    day: date
    answers: dict[str, int | None] = field(default_factory=dict)


@dataclass(frozen=True)
class Lab:
    """One laboratory value of a visit (safety.LabValue)."""

    key: str
    test: str  # safety/labs.py code
    day: date
    visit_kind: str  # screening, course, week, unscheduled
    visit_number: int | None
    value_entered: Decimal
    unit_entered: str
    value: Decimal  # in the test's canonical unit
    lln: Decimal | None = None  # the site's, canonical unit (None: the test's default)
    uln: Decimal | None = None
    grade: int | None = None


# DS --------------------------------------------------------------------------------------------

NCOMPLT = {  # the reason's label (status.END_REASONS, status.CHANGES) -> CDISC CT NCOMPLT
    status.END_REASONS[status.PROGRESSION]: "PROGRESSIVE DISEASE",
    status.END_REASONS[status.TOXICITY]: "ADVERSE EVENT",
    status.END_REASONS[status.PATIENT_DECISION]: "WITHDRAWAL BY SUBJECT",
    status.END_REASONS[status.INVESTIGATOR_DECISION]: "PHYSICIAN DECISION",
    status.END_REASONS[status.COMPLETED]: "COMPLETED",
    status.END_REASONS[status.WITHDRAWAL]: "WITHDRAWAL BY SUBJECT",
    status.END_REASONS[status.DIED]: "DEATH",
    status.END_REASONS[status.OTHER]: "OTHER",
    status.CHANGES[status.DEATH]: "DEATH",
    status.CHANGES[status.WITHDRAWAL_TREATMENT]: "WITHDRAWAL BY SUBJECT",
    status.CHANGES[status.WITHDRAWAL_ALL]: "WITHDRAWAL BY SUBJECT",
    status.CHANGES[status.LOST]: "LOST TO FOLLOW-UP",
    status.CHANGES[status.OTHER_TRIAL]: "OTHER",
    status.CHANGES[status.INVESTIGATOR]: "PHYSICIAN DECISION",
    status.CHANGES[status.STUDY_END]: "COMPLETED",
}

DS_VARIABLES = [
    *_base(),
    Variable("DSSEQ", "Sequence Number", NUM, derivation="Per subject, by date then category."),
    Variable("DSTERM", "Reported Term for the Disposition Event"),
    Variable("DSDECOD", "Standardized Disposition Term", derivation="CDISC CT NCOMPLT/PROTMLST."),
    Variable("DSCAT", "Category for Disposition Event"),
    Variable(
        "DSSCAT",
        "Subcategory for Disposition Event",
        derivation="END OF TREATMENT: <drug> (a masked reader: the drugs both arms receive), "
        "END OF STUDY, DEATH.",
    ),
    Variable("EPOCH", "Epoch"),
    Variable("DSSTDTC", "Start Date/Time of Disposition Event"),
]


def ds(results: dict, stops: list[Stop], *, masked: bool) -> Dataset:
    """Randomization, the end of treatment of each drug shown (treated patients, up to the
    cut-off), the end of study and a death after another end of study, from the run's subject
    facts (as DM) and the treatment stops."""
    cutoff = date.fromisoformat(results["cutoff"])
    keys = sorted({row["USUBJID"] for row in results["adtte"]})
    subjects = results.get("subjects") or _subjects_from_adtte(results)
    drugs = SHARED_DRUGS if masked else (INKT, *SHARED_DRUGS)
    by_key: dict[str, list[Stop]] = {}
    for stop in stops:
        if stop.drug in drugs and stop.day <= cutoff:
            by_key.setdefault(stop.key, []).append(stop)
    rows = []
    for key in keys:
        facts = subjects.get(key, {})
        found = []
        if facts.get("randomized"):
            found.append(
                (facts["randomized"], "PROTOCOL MILESTONE", "", "RANDOMIZED", "RANDOMIZED", "")
            )
        if facts.get("first_dose", True):  # an older run's facts: no first dose known
            for stop in sorted(by_key.get(key, []), key=lambda s: (s.day, s.drug)):
                found.append(
                    (
                        stop.day.isoformat(),
                        "DISPOSITION EVENT",
                        f"END OF TREATMENT: {DRUG_NAMES[stop.drug]}",
                        stop.reason.upper(),
                        NCOMPLT.get(stop.reason, "OTHER"),
                        "TREATMENT",
                    )
                )
        reason = facts.get("end_of_study_reason")
        if facts.get("end_of_study") and reason:
            label = status.CHANGES.get(reason, reason)
            found.append(
                (
                    facts["end_of_study"],
                    "DISPOSITION EVENT",
                    "END OF STUDY",
                    label.upper(),
                    NCOMPLT.get(label, "OTHER"),
                    "FOLLOW-UP",
                )
            )
        if facts.get("death") and reason != status.DEATH:
            found.append((facts["death"], "OTHER EVENT", "DEATH", "DEATH", "DEATH", "FOLLOW-UP"))
        for seq, (day, cat, scat, term, decod, epoch) in enumerate(sorted(found), start=1):
            rows.append(
                {
                    "STUDYID": STUDY_ID,
                    "DOMAIN": "DS",
                    "USUBJID": key,
                    "DSSEQ": seq,
                    "DSTERM": transport_text(term),
                    "DSDECOD": decod,
                    "DSCAT": cat,
                    "DSSCAT": scat,
                    "EPOCH": epoch,
                    "DSSTDTC": day,
                }
            )
    return Dataset(
        "DS",
        "Disposition",
        "One record per disposition status or protocol milestone per subject",
        ("STUDYID", "USUBJID", "DSSEQ"),
        DS_VARIABLES,
        rows,
        klass="EVENTS",
        standard=STANDARD,
    )


# QS --------------------------------------------------------------------------------------------

QS_CATEGORY = "EORTC QLQ-C30"
END_OF_TREATMENT_VISITNUM = 99

QS_VARIABLES = [
    *_base(),
    Variable("QSSEQ", "Sequence Number", NUM, derivation="Per subject, by visit then item."),
    Variable(
        "QSTESTCD",
        "Question Short Name",
        derivation="Q01 to Q30: the EORTC QLQ-C30 item number as the product stores it.",
    ),
    Variable(
        "QSTEST",
        "Question Name",
        derivation="The product's short neutral label of the item (assessments/qlqc30.py).",
    ),
    Variable("QSCAT", "Category of Question"),
    Variable("QSORRES", "Finding in Original Units", derivation="The answer as recorded."),
    Variable("QSSTRESC", "Character Result/Finding in Std Format"),
    Variable("QSSTRESN", "Numeric Result/Finding in Standard Units", NUM),
    Variable("QSSTAT", "Completion Status", derivation="NOT DONE: the item left blank."),
    Variable(
        "VISITNUM",
        "Visit Number",
        NUM,
        derivation="0 baseline, N visit-N (week 8N), 99 end of treatment.",
    ),
    Variable("VISIT", "Visit Name"),
    Variable("QSDTC", "Date/Time of Finding", derivation="Date the questionnaire was completed."),
]


def _qs_visitnum(visit: str) -> int:
    order = qlqc30.visit_order(visit)
    return END_OF_TREATMENT_VISITNUM if visit == qlqc30.END_OF_TREATMENT else order


def qs(questionnaires: list[Answers]) -> Dataset:
    """One record per QLQ-C30 item per questionnaire up to the cut-off (the same for every
    reader: both arms answer it)."""
    rows, seq = [], {}
    ordered = sorted(questionnaires, key=lambda q: (q.key, _qs_visitnum(q.visit), q.day))
    for questionnaire in ordered:
        for item in qlqc30.ITEMS:
            answer = questionnaire.answers.get(str(item))
            seq[questionnaire.key] = seq.get(questionnaire.key, 0) + 1
            rows.append(
                {
                    "STUDYID": STUDY_ID,
                    "DOMAIN": "QS",
                    "USUBJID": questionnaire.key,
                    "QSSEQ": seq[questionnaire.key],
                    "QSTESTCD": f"Q{item:02d}",
                    "QSTEST": transport_text(qlqc30.ITEM_LABELS[item]),
                    "QSCAT": QS_CATEGORY,
                    "QSORRES": "" if answer is None else str(answer),
                    "QSSTRESC": "" if answer is None else str(answer),
                    "QSSTRESN": None if answer is None else float(answer),
                    "QSSTAT": "NOT DONE" if answer is None else "",
                    "VISITNUM": _qs_visitnum(questionnaire.visit),
                    "VISIT": qlqc30.visit_name(questionnaire.visit).upper(),
                    "QSDTC": _dtc(questionnaire.day),
                }
            )
    return Dataset(
        "QS",
        "Questionnaires",
        "One record per questionnaire item per visit per subject",
        ("STUDYID", "USUBJID", "QSTESTCD", "VISITNUM"),
        QS_VARIABLES,
        rows,
        klass="FINDINGS",
        standard=STANDARD,
    )


# LB --------------------------------------------------------------------------------------------

LB_TESTS = {  # safety/labs.py code -> (CDISC CT LBTESTCD, LBTEST, LBCAT)
    "alt": ("ALT", "Alanine Aminotransferase", "CHEMISTRY"),
    "ast": ("AST", "Aspartate Aminotransferase", "CHEMISTRY"),
    "bilirubin": ("BILI", "Bilirubin", "CHEMISTRY"),
    "alp": ("ALP", "Alkaline Phosphatase", "CHEMISTRY"),
    "albumin": ("ALB", "Albumin", "CHEMISTRY"),
    "creatinine": ("CREAT", "Creatinine", "CHEMISTRY"),
    "inr": ("INR", "Prothrombin Intl. Normalized Ratio", "COAGULATION"),
    "haemoglobin": ("HGB", "Hemoglobin", "HEMATOLOGY"),
    "platelets": ("PLAT", "Platelets", "HEMATOLOGY"),
    "neutrophils": ("NEUT", "Neutrophils", "HEMATOLOGY"),
    "lymphocytes": ("LYM", "Lymphocytes", "HEMATOLOGY"),
    "wbc": ("WBC", "Leukocytes", "HEMATOLOGY"),
    "afp": ("AFP", "Alpha Fetoprotein", "CHEMISTRY"),
}
STANDARD_UNITS = {"ratio": ""}  # INR has no unit in CDISC CT UNIT
VISIT_NUMBERS = {"screening": 0, "week": 0, "course": 100}  # + the visit's number

LB_VARIABLES = [
    *_base(),
    Variable("LBSEQ", "Sequence Number", NUM, derivation="Per subject, by date then test."),
    Variable("LBTESTCD", "Lab Test or Examination Short Name", derivation="CDISC CT LBTESTCD."),
    Variable("LBTEST", "Lab Test or Examination Name", derivation="CDISC CT LBTEST."),
    Variable("LBCAT", "Category for Lab Test"),
    Variable("LBORRES", "Result or Finding in Original Units", derivation="As entered."),
    Variable("LBORRESU", "Original Units", derivation="As entered."),
    Variable(
        "LBORNRLO",
        "Reference Range Lower Limit in Orig Unit",
        derivation="The site's range (else the test's default), in the unit entered.",
    ),
    Variable("LBORNRHI", "Reference Range Upper Limit in Orig Unit", derivation="As LBORNRLO."),
    Variable("LBSTRESC", "Character Result/Finding in Std Format", derivation="LBSTRESN as text."),
    Variable(
        "LBSTRESN",
        "Numeric Result/Finding in Standard Units",
        NUM,
        derivation="The value in the product's canonical unit (safety/labs.py conversions).",
    ),
    Variable("LBSTRESU", "Standard Units", derivation="The canonical unit (INR: none)."),
    Variable("LBSTNRLO", "Reference Range Lower Limit-Std Units", NUM),
    Variable("LBSTNRHI", "Reference Range Upper Limit-Std Units", NUM),
    Variable(
        "LBNRIND",
        "Reference Range Indicator",
        derivation="LOW below LBSTNRLO, HIGH above LBSTNRHI, else NORMAL.",
    ),
    Variable(
        "LBTOXGR",
        "Standard Toxicity Grade",
        derivation="CTCAE v5.0 grade of the value (safety/labs.py; 0: within grade 1's "
        "limits); blank for a test CTCAE does not grade (AFP).",
    ),
    Variable(
        "VISITNUM",
        "Visit Number",
        NUM,
        derivation="0 screening, N week N, 100 + N course N; blank unscheduled (and, for a "
        "reader masked to the arms, a course visit).",
    ),
    Variable(
        "VISIT",
        "Visit Name",
        derivation="SCREENING, WEEK N, COURSE N, UNSCHEDULED; a reader masked to the arms reads "
        "a course visit as UNSCHEDULED.",
    ),
    Variable("LBDTC", "Date/Time of Specimen Collection", derivation="The visit's date."),
]


def _text(number: Decimal | None) -> str:
    return "" if number is None else format(number.normalize(), "f")


def _original(limit: Decimal | None, factor: Decimal) -> str:
    """A canonical-unit limit in the unit entered, to 4 decimals."""
    return "" if limit is None else _text((limit / factor).quantize(Decimal("0.0001")))


def _visit(lab: Lab, masked: bool) -> tuple[int | None, str]:
    if lab.visit_kind == "screening":
        return 0, "SCREENING"
    if lab.visit_kind == "week" and lab.visit_number is not None:
        return lab.visit_number, f"WEEK {lab.visit_number}"
    if lab.visit_kind == "course" and lab.visit_number is not None and not masked:
        return VISIT_NUMBERS["course"] + lab.visit_number, f"COURSE {lab.visit_number}"
    return None, "UNSCHEDULED"


def _indicator(value: Decimal, low: Decimal | None, high: Decimal | None) -> str:
    if low is not None and value < low:
        return "LOW"
    if high is not None and value > high:
        return "HIGH"
    return "NORMAL"


def lb(values: list[Lab], *, masked: bool) -> Dataset:
    rows, seq = [], {}
    order = list(labs.TESTS)
    for lab in sorted(values, key=lambda v: (v.key, v.day, order.index(v.test))):
        test = labs.TESTS[lab.test]
        code, name, category = LB_TESTS[lab.test]
        factor = test.units.get(lab.unit_entered) or Decimal(1)
        low = test.lln if lab.lln is None else lab.lln
        high = test.uln if lab.uln is None else lab.uln
        visitnum, visit = _visit(lab, masked)
        seq[lab.key] = seq.get(lab.key, 0) + 1
        rows.append(
            {
                "STUDYID": STUDY_ID,
                "DOMAIN": "LB",
                "USUBJID": lab.key,
                "LBSEQ": seq[lab.key],
                "LBTESTCD": code,
                "LBTEST": name,
                "LBCAT": category,
                "LBORRES": _text(lab.value_entered),
                "LBORRESU": transport_text(lab.unit_entered),
                "LBORNRLO": _original(low, factor),
                "LBORNRHI": _original(high, factor),
                "LBSTRESC": _text(lab.value),
                "LBSTRESN": float(lab.value),
                "LBSTRESU": STANDARD_UNITS.get(test.unit, test.unit),
                "LBSTNRLO": None if low is None else float(low),
                "LBSTNRHI": None if high is None else float(high),
                "LBNRIND": _indicator(lab.value, low, high),
                "LBTOXGR": "" if test.term is None or lab.grade is None else str(lab.grade),
                "VISITNUM": visitnum,
                "VISIT": visit,
                "LBDTC": _dtc(lab.day),
            }
        )
    return Dataset(
        "LB",
        "Laboratory Test Results",
        "One record per lab test per visit per subject",
        ("STUDYID", "USUBJID", "LBSEQ"),
        LB_VARIABLES,
        rows,
        klass="FINDINGS",
        standard=STANDARD,
    )


# TU, TR, RS ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Imaging:
    """A patient's accepted imaging series (assessments.reads.accepted_reads): the accepted
    reader's signed reads (baseline first) and the series each criterion makes of them."""

    key: str
    reads: list  # assessments.reads.SignedRead
    series: dict  # assessments.recist.Criterion -> SeriesResult


CRITERIA = {"mrecist": "mRECIST", "irecist": "iRECIST"}
EVALUATOR = "INDEPENDENT ASSESSOR"
ACCEPTED = (
    "The accepted series: the two blinded readers' when they agree on both criteria, else the "
    "reader the adjudicator accepted (assessments/reads.accepted_reads); never the other "
    "reader's."
)

TU_VARIABLES = [
    *_base(),
    Variable("TUSEQ", "Sequence Number", NUM, derivation="Per subject, by date then lesion."),
    Variable("TULNKID", "Link ID", derivation="The lesion's id in the reads (links TR)."),
    Variable("TUTESTCD", "Tumor/Lesion ID Short Name"),
    Variable("TUTEST", "Tumor/Lesion ID Test Name"),
    Variable("TUORRES", "Tumor/Lesion ID Result", derivation=ACCEPTED),
    Variable("TUSTRESC", "Tumor/Lesion ID Result Std. Format"),
    Variable("TULOC", "Location of the Tumor/Lesion", derivation="The organ, as read."),
    Variable("TUEVAL", "Evaluator"),
    Variable("TUDTC", "Date/Time of Tumor/Lesion Identification", derivation="The scan date."),
]
TR_VARIABLES = [
    *_base(),
    Variable("TRSEQ", "Sequence Number", NUM, derivation="Per subject, by date then lesion."),
    Variable("TRLNKID", "Link ID", derivation="As TU.TULNKID."),
    Variable(
        "TRTESTCD",
        "Tumor/Lesion Assessment Short Name",
        derivation="LDIAM longest diameter (SAXIS short axis of a node), VIABDIAM the viable "
        "diameter (mRECIST, typical HCC), TUMSTATE a non-target's state.",
    ),
    Variable("TRTEST", "Tumor/Lesion Assessment Test Name"),
    Variable("TRORRES", "Result or Finding in Original Units", derivation=ACCEPTED),
    Variable("TRORRESU", "Original Units"),
    Variable("TRSTRESC", "Character Result/Finding in Std Format"),
    Variable("TRSTRESN", "Numeric Result/Finding in Standard Units", NUM),
    Variable("TRSTRESU", "Standard Units"),
    Variable("TRSTAT", "Completion Status", derivation="NOT DONE: not assessable."),
    Variable("TREVAL", "Evaluator"),
    Variable("TRDTC", "Date/Time of Tumor/Lesion Measurement", derivation="The scan date."),
]
RS_TESTS = {
    "TRGRESP": "Target Response",
    "NTRGRESP": "Non-target Response",
    "NEWLPROG": "New Lesion Progression",
    "OVRLRESP": "Overall Response",
    "BESTRSP": "Best Overall Response",
}
RS_VARIABLES = [
    *_base(),
    Variable("RSSEQ", "Sequence Number", NUM, derivation="Per subject, by criterion then date."),
    Variable("RSTESTCD", "Assessment Short Name"),
    Variable("RSTEST", "Assessment Name"),
    Variable("RSCAT", "Category for Assessment", derivation="The criterion: mRECIST or iRECIST."),
    Variable(
        "RSORRES",
        "Result or Finding in Original Format",
        derivation="assessments/recist.py on the accepted series (as ADRS).",
    ),
    Variable("RSSTRESC", "Character Result/Finding in Std Format"),
    Variable("RSEVAL", "Evaluator"),
    Variable("RSDTC", "Date/Time of Assessment", derivation="The scan date; blank for BESTRSP."),
]


def _lesion_rows(imaging: Imaging):
    """(TU rows, TR rows) of one patient, unnumbered."""
    tu, tr = [], []
    base_read, *follow_reads = imaging.reads
    baseline = read_rules.parse_baseline(base_read.scan_date, base_read.data)
    day = _dtc(base_read.scan_date)
    targets = {t.id: t for t in baseline.targets}
    for lesion, kind in [*((t, "TARGET") for t in baseline.targets)] + [
        (n, "NON-TARGET") for n in baseline.non_targets
    ]:
        tu.append((day, lesion.id, kind, lesion.organ))
    for lesion in baseline.targets:
        tr += _diameters(day, lesion.id, lesion.nodal, lesion.diameter_mm, lesion.viable_mm)
    seen_new = set()
    for read in follow_reads:
        follow = read_rules.parse_follow_up(read.scan_date, read.data)
        day = _dtc(read.scan_date)
        for m in follow.measurements:
            nodal = targets[m.lesion_id].nodal if m.lesion_id in targets else False
            tr += _diameters(day, m.lesion_id, nodal, m.diameter_mm, m.viable_mm)
        for lesion_id, state in sorted(follow.non_targets.items()):
            tr.append((day, lesion_id, "TUMSTATE", "Tumor State", state.value.upper(), None, ""))
        for new in follow.new_lesions:
            if new.id not in seen_new:
                seen_new.add(new.id)
                tu.append((day, new.id, "NEW", new.organ))
            if new.diameter_mm is not None:
                tr += _diameters(day, new.id, False, new.diameter_mm, None)
    return tu, tr


def _diameters(day, lesion_id, nodal, diameter, viable):
    code, name = ("SAXIS", "Short Axis") if nodal else ("LDIAM", "Longest Diameter")
    rows = [(day, lesion_id, code, name, None, diameter, "mm")]
    if viable is not None:
        rows.append(
            (day, lesion_id, "VIABDIAM", "Viable Tumor Longest Diameter", None, viable, "mm")
        )
    return rows


def tumours(series: list[Imaging]) -> list[Dataset]:
    """TU, TR and RS from the accepted series (the same for every reader: tumour reads say
    nothing of the arm)."""
    tu_rows, tr_rows, rs_rows = [], [], []
    for imaging in sorted(series, key=lambda s: s.key):
        base = {"STUDYID": STUDY_ID, "USUBJID": imaging.key}
        tu, tr = _lesion_rows(imaging)
        for seq, (day, lesion_id, kind, organ) in enumerate(tu, start=1):
            tu_rows.append(
                {
                    **base,
                    "DOMAIN": "TU",
                    "TUSEQ": seq,
                    "TULNKID": transport_text(lesion_id),
                    "TUTESTCD": "TUMIDENT",
                    "TUTEST": "Tumor Identification",
                    "TUORRES": kind,
                    "TUSTRESC": kind,
                    "TULOC": transport_text(organ).upper(),
                    "TUEVAL": EVALUATOR,
                    "TUDTC": day,
                }
            )
        for seq, (day, lesion_id, code, name, text, number, unit) in enumerate(tr, start=1):
            shown = text if text is not None else "" if number is None else f"{number:g}"
            tr_rows.append(
                {
                    **base,
                    "DOMAIN": "TR",
                    "TRSEQ": seq,
                    "TRLNKID": transport_text(lesion_id),
                    "TRTESTCD": code,
                    "TRTEST": name,
                    "TRORRES": shown,
                    "TRORRESU": unit if number is not None else "",
                    "TRSTRESC": shown,
                    "TRSTRESN": None if number is None else float(number),
                    "TRSTRESU": unit if number is not None else "",
                    "TRSTAT": "NOT DONE" if text is None and number is None else "",
                    "TREVAL": EVALUATOR,
                    "TRDTC": day,
                }
            )
        seq = 0
        for criterion in sorted(imaging.series, key=lambda c: str(c)):
            result = imaging.series[criterion]
            found = []
            for point in result.timepoints:
                day = _dtc(point.date)
                found += [
                    ("TRGRESP", point.target, day),
                    ("NTRGRESP", point.non_target, day),
                    ("NEWLPROG", "Y" if point.new_lesion else "N", day),
                    ("OVRLRESP", point.overall, day),
                ]
            found.append(("BESTRSP", result.best_overall_response, ""))
            for code, value, day in found:
                if not value:
                    continue
                seq += 1
                rs_rows.append(
                    {
                        **base,
                        "DOMAIN": "RS",
                        "RSSEQ": seq,
                        "RSTESTCD": code,
                        "RSTEST": RS_TESTS[code],
                        "RSCAT": CRITERIA.get(str(criterion), str(criterion)),
                        "RSORRES": transport_text(value),
                        "RSSTRESC": transport_text(value),
                        "RSEVAL": EVALUATOR,
                        "RSDTC": day,
                    }
                )
    return [
        Dataset("TU", "Tumor/Lesion Identification", "One record per identified tumor per "
                "subject", ("STUDYID", "USUBJID", "TUSEQ"), TU_VARIABLES, tu_rows,
                klass="FINDINGS", standard=STANDARD),
        Dataset("TR", "Tumor/Lesion Results", "One record per tumor measurement/assessment "
                "per visit per subject", ("STUDYID", "USUBJID", "TRSEQ"), TR_VARIABLES, tr_rows,
                klass="FINDINGS", standard=STANDARD),
        Dataset("RS", "Disease Response", "One record per response assessment per criterion "
                "per visit per subject", ("STUDYID", "USUBJID", "RSSEQ"), RS_VARIABLES, rs_rows,
                klass="FINDINGS", standard=STANDARD),
    ]  # fmt: skip
