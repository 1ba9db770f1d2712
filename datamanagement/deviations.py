"""Protocol deviations derived from the records (pure, no Django): the facts of one patient's
records in, the deviations they show out, each with a stable key, its date, category, default
classification and the rule that decides it. The log that joins them with their reviews and
with the deviations recorded by hand is datamanagement/deviation_log.py.

Classification, before the data manager's or investigator's review:
- **major** is ICH E6(R3)'s *important protocol deviation* (glossary; ICH E3 Q&A R1, 2012): a
  deviation that may significantly affect the completeness, accuracy or reliability of key trial
  data, or a participant's rights, safety or well-being. ICH E3 §10.2 lists the kinds a study
  report describes: patients who entered the study without meeting the entry criteria, who
  received the wrong treatment or an incorrect dose, who met withdrawal criteria and were not
  withdrawn, who received an excluded concomitant treatment.
- **minor** is every other departure from the protocol: recorded, reviewed and summarised.
Each rule below names why it gets its default; the reviewer confirms or changes it, with the
reason when they change it.

Sources of the facts: NCT05962450 and the specs (enrollment-and-dosing.md, tumour-response.md,
quality-of-life.md): iNKT courses every 14 days ± the schedule's window, 10^8-10^9 cells/m²;
scans every 8 weeks ± 7 days from randomization; a QLQ-C30 at each assessment visit; written
informed consent before any study procedure; SAEs reported within 24 hours of awareness (ICH
E2A; the product's SAE clock, safety/rules.py)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from datamanagement import rules as check_rules
from dosing.rules import DEVIATION_TEXT, Deviation
from enrollment.dates import shown, shown_moment
from safety.rules import sae_initial_report_due

MAJOR, MINOR = "major", "minor"
CLASSIFICATIONS = {MAJOR: "Major", MINOR: "Minor"}
CLASSIFICATION_CHOICES = list(CLASSIFICATIONS.items())

OPEN, CLOSED = "open", "closed"
STATUSES = {OPEN: "Open", CLOSED: "Closed"}
STATUS_CHOICES = list(STATUSES.items())
NOT_REVIEWED = "not reviewed"  # a derived deviation nobody has reviewed yet

DERIVED, RECORDED = "derived", "recorded"


class Category(StrEnum):
    ELIGIBILITY = "eligibility"
    CONSENT = "consent"
    INKT = "inkt"
    STUDY_DRUGS = "study-drugs"
    IMAGING = "imaging"
    QUESTIONNAIRE = "questionnaire"
    SAFETY_REPORTING = "safety-reporting"
    CONCOMITANT = "concomitant"
    PROCEDURE = "procedure"
    OTHER = "other"


CATEGORY_TEXT = {
    Category.ELIGIBILITY: "Eligibility",
    Category.CONSENT: "Informed consent",
    Category.INKT: "iNKT cells: schedule and dose",
    Category.STUDY_DRUGS: "PD-1 antibody or regorafenib",
    Category.IMAGING: "Imaging visit (8-weekly)",
    Category.QUESTIONNAIRE: "QLQ-C30 visit",
    Category.SAFETY_REPORTING: "Safety reporting (SAE)",
    Category.CONCOMITANT: "Prohibited concomitant therapy",
    Category.PROCEDURE: "Other visit or procedure",
    Category.OTHER: "Other",
}
CATEGORY_CHOICES = [(c.value, text) for c, text in CATEGORY_TEXT.items()]


@dataclass(frozen=True)
class Rule:
    code: str
    category: Category
    classification: str
    finds: str  # what the rule finds in the records
    why: str  # why this default classification, with its source


RULES = {
    rule.code: rule
    for rule in (
        Rule(
            "eligibility",
            Category.ELIGIBILITY,
            MAJOR,
            "Randomized although the screening, as corrected, shows the patient ineligible.",
            "ICH E3 §10.2 names first the patients who entered the study without meeting the "
            "entry criteria.",
        ),
        Rule(
            "consent",
            Category.CONSENT,
            MAJOR,
            "A study procedure dated before the written informed consent (routine imaging that "
            "serves as the baseline excepted).",
            "Consent before any trial procedure protects the participant's rights (ICH E6(R3) "
            "2.8; 21 CFR 50.20; Declaration of Helsinki §25-26).",
        ),
        Rule(
            "inkt-dose-range",
            Category.INKT,
            MAJOR,
            "iNKT cells outside the protocol's 10^8-10^9 cells/m².",
            "A dose the protocol does not allow: ICH E3 §10.2, an incorrect dose, which may "
            "affect the participant's safety.",
        ),
        Rule(
            "inkt-dose",
            Category.INKT,
            MINOR,
            "iNKT cells more than 10 % away from the computed dose, or computed from a height "
            "or weight outside the plausible range, within the protocol's range per m².",
            "The dose stays within what the protocol allows; exposure and relative dose "
            "intensity are reported separately.",
        ),
        Rule(
            "inkt-window",
            Category.INKT,
            MINOR,
            "An iNKT course given outside its window (14 days apart, ± the schedule's window).",
            "The course was given; its timing, not the treatment, departs from the schedule.",
        ),
        Rule(
            "inkt-missed",
            Category.INKT,
            MINOR,
            "An iNKT course recorded as missed (with its reason).",
            "Missed treatment is reported as exposure (courses given, relative dose "
            "intensity); one course does not make the data unreliable.",
        ),
        Rule(
            "inkt-not-recorded",
            Category.INKT,
            MINOR,
            "An iNKT course whose window closed with nothing recorded: neither given nor "
            "recorded as missed.",
            "Either a missed course (exposure, as inkt-missed) or a course given and not yet "
            "entered: the review says which, the course's record settles it.",
        ),
        Rule(
            "scan-missed",
            Category.IMAGING,
            MAJOR,
            "No scan 14 days after an 8-weekly visit's window closed.",
            "The tumour assessment of the primary endpoint (PFS) is missing: key data whose "
            "completeness is affected (ICH E6(R3) glossary, important protocol deviation); two "
            "missed assessments censor PFS (FDA 2018).",
        ),
        Rule(
            "scan-late",
            Category.IMAGING,
            MINOR,
            "A visit's scan done after its window (8 weeks ± 7 days) closed.",
            "The assessment was done and is dated as done; the endpoints use its actual date.",
        ),
        Rule(
            "scan-early",
            Category.IMAGING,
            MINOR,
            "A scheduled scan done before the first visit's window opened.",
            "An extra assessment: the schedule's timing, not the data, departs.",
        ),
        Rule(
            "qlq-missed",
            Category.QUESTIONNAIRE,
            MINOR,
            "No QLQ-C30 at an assessment visit held (its scan done), once the window closed.",
            "A secondary endpoint's assessment; time to deterioration handles a missing one.",
        ),
        Rule(
            "qlq-late",
            Category.QUESTIONNAIRE,
            MINOR,
            "A visit's QLQ-C30 completed after the visit's window closed.",
            "The questionnaire was completed and is dated as completed.",
        ),
        Rule(
            "sae-late",
            Category.SAFETY_REPORTING,
            MAJOR,
            "A serious adverse event's initial report sent more than 24 hours after the site "
            "learnt of it, or still not sent.",
            "Participant safety: the investigator reports SAEs immediately (ICH E6(R3) "
            "investigator's safety reporting; ICH E2A; the protocol's 24 hours).",
        ),
    )
}

# dosing's course deviations (dosing/rules.py) -> the rule that lists them
COURSE_RULES = {
    Deviation.MISSED: "inkt-missed",
    Deviation.DELAYED: "inkt-window",
    Deviation.OUTSIDE_WINDOW: "inkt-window",
    Deviation.REDUCED_DOSE: "inkt-dose",
    Deviation.INCREASED_DOSE: "inkt-dose",
    Deviation.IMPLAUSIBLE_BODY: "inkt-dose",
    Deviation.DOSE_OUT_OF_RANGE: "inkt-dose-range",
}


# The facts of one patient ---------------------------------------------------------------------


@dataclass(frozen=True)
class Course:
    """An iNKT course as recorded, with the deviations dosing derived for it."""

    ref: int
    number: int
    planned_on: date
    given_on: date | None  # None: missed
    codes: tuple[str, ...]
    reason: str = ""
    entered_on: date | None = None


@dataclass(frozen=True)
class Visit:
    """An 8-weekly assessment visit whose window has opened, with its scan and questionnaire."""

    number: int
    window_start: date
    window_end: date
    scan_on: date | None = None
    scan_entered_on: date | None = None
    questionnaire_on: date | None = None
    questionnaire_entered_on: date | None = None


@dataclass(frozen=True)
class Procedure:
    """A dated study procedure (anything but routine imaging used as the baseline)."""

    ref: str  # "scan-12", "infusion-3", "randomization"...
    what: str
    on: date
    entered_on: date | None = None


@dataclass(frozen=True)
class Violation:
    ref: int
    randomized_on: date
    found_on: date
    failed: tuple[str, ...]
    correction_reason: str = ""


@dataclass(frozen=True)
class SeriousEvent:
    ref: int
    term: str
    awareness_at: datetime
    initial_report_at: datetime | None


@dataclass(frozen=True)
class PatientFacts:
    patient_id: int
    study_id: str
    consent_on: date
    today: date
    now: datetime  # local time, for the SAE clock
    consent_entered_on: date | None = None  # when the consent date now on file was entered
    window_days: int = 3  # the infusion schedule's
    courses: tuple[Course, ...] = ()
    # the courses the schedule still owes (dosing.rules.planned_courses): (number, window end)
    owed_courses: tuple[tuple[int, date], ...] = ()
    visits: tuple[Visit, ...] = ()
    first_window_opens: date | None = None  # visit 1's window
    scheduled_scans: tuple[Procedure, ...] = ()
    procedures: tuple[Procedure, ...] = ()
    violations: tuple[Violation, ...] = ()
    serious_events: tuple[SeriousEvent, ...] = ()


@dataclass(frozen=True)
class Derived:
    key: str
    patient_id: int
    study_id: str
    rule: str
    occurred_on: date
    identified_on: date | None
    description: str

    @property
    def category(self) -> str:
        return RULES[self.rule].category.value

    @property
    def classification(self) -> str:
        return RULES[self.rule].classification


def key_of(rule: str, study_id: str, item: str) -> str:
    """The stable key of a derived deviation: the rule, the patient and the record or visit,
    e.g. `inkt-window:INKT-004:course-3`; the same records always give the same key."""
    return f"{rule}:{study_id}:{item}"


def parse_key(key: str) -> tuple[str, str, str] | None:
    """(rule, study ID, item) of a derived deviation's key; None for anything else."""
    parts = key.split(":")
    if len(parts) != 3 or parts[0] not in RULES or not all(parts):
        return None
    return parts[0], parts[1], parts[2]


def _later(*days: date | None) -> date | None:
    found = [d for d in days if d is not None]
    return max(found) if found else None


def _found(facts: PatientFacts, rule: str, item: str, occurred: date, identified, text: str):
    return Derived(
        key_of(rule, facts.study_id, item),
        facts.patient_id,
        facts.study_id,
        rule,
        occurred,
        identified,
        text,
    )


def derive(facts: PatientFacts) -> list[Derived]:
    """Every deviation the patient's records show, in date order."""
    found = [
        _found(
            facts,
            "eligibility",
            f"violation-{v.ref}",
            v.randomized_on,
            v.found_on,
            "Randomized, but does not meet: " + "; ".join(v.failed) + _because(v.correction_reason),
        )
        for v in facts.violations
    ]
    found += [
        _found(
            facts,
            "consent",
            p.ref,
            p.on,
            _later(p.entered_on, facts.consent_entered_on),
            f"{p.what} on {shown(p.on)}, before the informed consent ({shown(facts.consent_on)}).",
        )
        for p in facts.procedures
        if p.on < facts.consent_on
    ]
    for course in facts.courses:
        found += _course(facts, course)
    recorded = {course.number for course in facts.courses}
    found += [
        _found(
            facts,
            "inkt-not-recorded",
            f"course-{number}",
            end,
            end + timedelta(days=1),
            f"iNKT course {number}: nothing recorded, its window closed {shown(end)}.",
        )
        for number, end in facts.owed_courses
        if number not in recorded and facts.today > end
    ]
    found += _imaging(facts) + _questionnaires(facts) + _safety_reports(facts)
    return sorted(found, key=lambda d: (d.occurred_on, d.key))


def _because(reason: str) -> str:
    return f" ({reason.strip()})" if reason.strip() else ""


def _course(facts: PatientFacts, course: Course) -> list[Derived]:
    """One deviation per rule a course breaks: its timing, its dose, its range, or missed."""
    by_rule: dict[str, list[str]] = defaultdict(list)
    for code in course.codes:
        rule = COURSE_RULES.get(code)
        if rule is not None:
            by_rule[rule].append(DEVIATION_TEXT[Deviation(code)])
    if "inkt-dose-range" in by_rule:  # one dose, one deviation: the major one says it
        by_rule.pop("inkt-dose", None)
    out = []
    for rule, texts in by_rule.items():
        if rule == "inkt-window" and course.given_on is not None:
            days = (course.given_on - course.planned_on).days
            detail = (
                f"given {shown(course.given_on)}, {abs(days)} days "
                f"{'after' if days > 0 else 'before'} its planned date "
                f"({shown(course.planned_on)}, ± {facts.window_days} days)"
            )
        elif rule == "inkt-missed":
            detail = f"planned {shown(course.planned_on)}, missed"
        else:
            detail = "; ".join(dict.fromkeys(texts)).lower()
        out.append(
            _found(
                facts,
                rule,
                f"course-{course.number}",
                course.given_on or course.planned_on,
                course.entered_on,
                f"iNKT course {course.number}: {detail}{_because(course.reason)}.",
            )
        )
    return out


def _held(facts: PatientFacts) -> list[tuple[int, date, bool]]:
    """The visits as the edit checks' rules take them: (number, window end, scan done)."""
    return [(v.number, v.window_end, v.scan_on is not None) for v in facts.visits]


def _imaging(facts: PatientFacts) -> list[Derived]:
    out = [
        _found(
            facts,
            "scan-missed",
            f"visit-{number}",
            end,
            end + timedelta(days=check_rules.MISSING_AFTER_DAYS + 1),
            f"No scan for visit {number} (window closed {shown(end)}).",
        )
        for number, end in check_rules.missing_scans(_held(facts), facts.today)
    ]
    out += [
        _found(
            facts,
            "scan-late",
            f"visit-{v.number}",
            v.scan_on,
            v.scan_entered_on,
            f"Scan of visit {v.number} on {shown(v.scan_on)}, "
            f"{(v.scan_on - v.window_end).days} days after its window "
            f"({shown(v.window_start)} to {shown(v.window_end)}).",
        )
        for v in facts.visits
        if v.scan_on is not None and v.scan_on > v.window_end
    ]
    opens = facts.first_window_opens
    out += [
        _found(
            facts,
            "scan-early",
            scan.ref,
            scan.on,
            scan.entered_on,
            f"{scan.what} on {shown(scan.on)}, before the first visit's window opened "
            f"({shown(opens)}).",
        )
        for scan in facts.scheduled_scans
        if opens is not None and scan.on < opens
    ]
    return out


def _questionnaires(facts: PatientFacts) -> list[Derived]:
    done = {v.number for v in facts.visits if v.questionnaire_on is not None}
    out = [
        _found(
            facts,
            "qlq-missed",
            f"visit-{number}",
            end,
            end + timedelta(days=1),
            f"No QLQ-C30 at visit {number}, held (window closed {shown(end)}).",
        )
        for number, end in check_rules.missing_questionnaires(_held(facts), done, facts.today)
    ]
    out += [
        _found(
            facts,
            "qlq-late",
            f"visit-{v.number}",
            v.questionnaire_on,
            v.questionnaire_entered_on,
            f"QLQ-C30 of visit {v.number} completed {shown(v.questionnaire_on)}, "
            f"{(v.questionnaire_on - v.window_end).days} days after its window closed "
            f"({shown(v.window_end)}).",
        )
        for v in facts.visits
        if v.questionnaire_on is not None and v.questionnaire_on > v.window_end
    ]
    return out


def _safety_reports(facts: PatientFacts) -> list[Derived]:
    out = []
    for event in facts.serious_events:
        due = sae_initial_report_due(event.awareness_at)
        sent = event.initial_report_at
        if (sent or facts.now) <= due:
            continue
        late = (
            f"sent {_hours(sent - due)} late ({shown_moment(sent)})"
            if sent
            else f"not sent, due {shown_moment(due)}"
        )
        out.append(
            _found(
                facts,
                "sae-late",
                f"ae-{event.ref}",
                due.date(),
                sent.date() if sent else due.date(),
                f"SAE {event.term}: the initial report was {late}.",
            )
        )
    return out


def _hours(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours:.0f} h" if hours >= 1 else f"{delta.total_seconds() / 60:.0f} min"
