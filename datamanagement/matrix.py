"""The casebook matrix (pure, no Django): each patient's forms as the protocol schedules them,
and the state of each, the subject matrix of an electronic data capture system.

The columns, in the order of the patient's course (NCT05962450; the specs in ../shared/specs):
- enrolment: the screening (eligibility), the randomization (due from enrolment);
- iNKT courses 1-6, the RPI arm only ("not applicable" in the RP arm): course k planned
  14 (k - 1) days from course 1's date once given, else its planned date, within its window
  (dosing.rules.schedule); before the schedule exists, course 1 is due from randomization for
  MAX_DAYS_TO_FIRST_COURSE days; a window open when the iNKT cells stop closes there;
- imaging: the baseline (from enrolment until randomization), then visits 1..n every 56 days
  (+/- 7) from randomization (assessments.reads.visit_schedule); a scan belongs to a visit from
  its window's opening until the next visit's window opens, as on the patient page;
- QLQ-C30: the baseline (until randomization), visits 1..n (the imaging visits' windows), end
  of treatment (from the end of treatment; the protocol sets no closing, so it closes only when
  the patient goes off study);
- adverse events (a log: its entries, or none), follow-up (a log, due once treatment ended),
  the end of treatment and status changes (a log; an end derived from the records, progression
  on the accepted reads or the 6th course, counts as entered).

The schedule stops where the patient's course stops it: iNKT courses whose window opens after
the iNKT cells stopped, imaging and QLQ-C30 visits whose window opens after progression on the
accepted reads or the end of study (death, withdrawal of consent to all further data, ...) are
not applicable; once the patient is off study, so is every form not entered whose window had
not opened by then or never closes (a visit whose window had opened is still owed: overdue).

A cell's state:
- with records: each record is LOCKED (its clinical date is on or before the date up to which
  the patient's records are frozen), else QUERIED (an open or answered data query on it, or on
  the patient's visit: the edit checks' "scan-visit-3"), else VERIFIED (its current version
  source-data verified), else ENTERED: precedence LOCKED > QUERIED > VERIFIED > ENTERED. A frozen
  record shows locked even with a query on it: nothing about it changes until an unfreeze.
  A log (or a visit with more than one record) is QUERIED when any record is, LOCKED when all
  are, VERIFIED when all are verified or locked, else ENTERED.
- without a record: QUERIED (a query on the patient's visit), else NOT_APPLICABLE (the arm, or
  the course stopped it), NOT_DUE (its window has not opened), DUE (open), OVERDUE (closed);
  an empty adverse-event log is NONE.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from assessments import qlqc30
from assessments.reads import (
    MAX_VISITS,
    VISIT_INTERVAL_DAYS,
    VISIT_WINDOW_DAYS,
    files_to_visit,
    visit_schedule,
)
from dosing import protocol as dosing_protocol
from dosing import rules as dosing_rules
from enrollment import status
from enrollment.dates import shown

NOT_DUE, DUE, OVERDUE = "not_due", "due", "overdue"
ENTERED, QUERIED, VERIFIED, LOCKED = "entered", "queried", "verified", "locked"
NOT_APPLICABLE, NONE = "not_applicable", "none"
STATES = {
    NOT_DUE: "Not due",
    DUE: "Due",
    OVERDUE: "Overdue",
    ENTERED: "Entered",
    QUERIED: "Queried",
    VERIFIED: "Verified",
    LOCKED: "Locked",
    NOT_APPLICABLE: "Not applicable",
    NONE: "None recorded",
}

ENROLMENT, TREATMENT, IMAGING, QOL, SAFETY, COURSE = (
    "enrolment",
    "treatment",
    "imaging",
    "qol",
    "safety",
    "course",
)
GROUPS = {
    ENROLMENT: "Enrolment",
    TREATMENT: "iNKT courses",
    IMAGING: "Imaging",
    QOL: "QLQ-C30",
    SAFETY: "Adverse events",
    COURSE: "Follow-up and status",
}


@dataclass(frozen=True)
class Column:
    key: str
    label: str  # short, under its group's heading
    title: str  # in full
    group: str


def columns(visits: int) -> list[Column]:
    """The matrix's columns with `visits` 8-weekly assessment visits."""
    found = [
        Column("screening", "Screening", "Screening and eligibility", ENROLMENT),
        Column("randomization", "Rand.", "Randomization", ENROLMENT),
    ]
    found += [
        Column(f"course-{k}", f"C{k}", f"iNKT course {k}", TREATMENT)
        for k in range(1, dosing_protocol.MAX_COURSES + 1)
    ]
    for prefix, group, what in (("scan", IMAGING, "Imaging"), ("qlq", QOL, "QLQ-C30")):
        found.append(Column(f"{prefix}-baseline", "BL", f"{what}: baseline", group))
        found += [
            Column(f"{prefix}-{k}", f"V{k}", f"{what}: visit {k} (week {8 * k})", group)
            for k in range(1, visits + 1)
        ]
    found += [
        Column("qlq-eot", "EoT", "QLQ-C30: end of treatment", QOL),
        Column("adverse-events", "AEs", "Adverse events", SAFETY),
        Column("follow-up", "FU", "Follow-up", COURSE),
        Column("status", "EoT/status", "End of treatment and status changes", COURSE),
    ]
    return found


def visits_opened(first_randomized: date | None, today: date) -> int:
    """How many assessment visits have opened for the patient randomized first: the columns
    every patient's row is shown with (at least one, at most MAX_VISITS)."""
    if first_randomized is None:
        return 1
    days = (today - first_randomized).days + VISIT_WINDOW_DAYS
    return max(1, min(MAX_VISITS, days // VISIT_INTERVAL_DAYS))


@dataclass(frozen=True)
class Entry:
    """One record filed in a cell."""

    record: str  # app_label.model
    id: int
    date: date  # its clinical date: what a database lock freezes
    queried: bool = False  # an open or answered data query on it
    verified: bool = False  # its current version is source-data verified


@dataclass(frozen=True)
class Window:
    opens: date
    closes: date | None  # None: open-ended


@dataclass(frozen=True)
class Cell:
    column: str
    state: str
    entries: tuple[Entry, ...] = ()
    window: Window | None = None
    why: str = ""  # not applicable, or an end derived from the records: why


@dataclass
class PatientRecords:
    """What the matrix needs of one patient: the course and the records, filed by form."""

    enrolled: date
    randomized: date | None
    inkt_arm: bool | None  # None before randomization
    path: list[status.Transition]  # the course (enrollment.status.course)
    inkt_stop: date | None = None  # the last day the iNKT cells may be given
    progression: date | None = None  # established on the accepted reads: imaging stops
    screening: Entry | None = None
    allocation: Entry | None = None
    schedule_planned: date | None = None  # course 1's planned date, once a schedule exists
    window_days: int = dosing_protocol.DEFAULT_WINDOW_DAYS
    first_course_given: date | None = None
    courses: dict[int, Entry] = field(default_factory=dict)
    baseline_scan: Entry | None = None
    scans: list[Entry] = field(default_factory=list)  # the others, filed by date
    questionnaires: dict[str, Entry] = field(default_factory=dict)  # by visit
    adverse_events: list[Entry] = field(default_factory=list)
    follow_ups: list[Entry] = field(default_factory=list)
    course_records: list[Entry] = field(default_factory=list)  # status changes, recorded ends
    visit_queries: set[str] = field(default_factory=set)  # "scan-visit-3", "qlq-visit-2"
    frozen_until: date | None = None


def record_state(entry: Entry, frozen_until: date | None) -> str:
    """LOCKED > QUERIED > VERIFIED > ENTERED."""
    if frozen_until is not None and entry.date <= frozen_until:
        return LOCKED
    if entry.queried:
        return QUERIED
    if entry.verified:
        return VERIFIED
    return ENTERED


def records_state(entries, frozen_until: date | None, *, queried: bool = False) -> str:
    """The state of a form's records (one, or a log's): queried when any record is (or the
    visit is, `queried`) unless all are locked; locked when all are; verified when all are
    verified or locked; else entered."""
    states = [record_state(e, frozen_until) for e in entries]
    if all(s == LOCKED for s in states):
        return LOCKED
    if queried or QUERIED in states:
        return QUERIED
    if all(s in (VERIFIED, LOCKED) for s in states):
        return VERIFIED
    return ENTERED


def pending_state(window: Window | None, today: date) -> str:
    """A form not yet entered: not due before its window opens (or while it is not scheduled
    yet, `window` None), due while open, overdue once closed."""
    if window is None or today < window.opens:
        return NOT_DUE
    if window.closes is None or today <= window.closes:
        return DUE
    return OVERDUE


def _off_study(path: list[status.Transition]) -> status.Transition | None:
    return path[-1] if path[-1].state == status.OFF_STUDY_STATE else None


def treatment_ended(path: list[status.Transition]) -> status.Transition | None:
    """The transition that ended the study treatment (to follow-up, or off study while on
    treatment), or None while on treatment or before it."""
    if not any(t.state == status.ON_TREATMENT for t in path):
        return None
    return next((t for t in path if t.state in (status.IN_FOLLOW_UP, status.OFF_STUDY_STATE)), None)


def imaging_stop(patient: PatientRecords) -> date | None:
    """No assessment visit opens after progression on the accepted reads or the end of study."""
    off = _off_study(patient.path)
    stops = [d for d in (patient.progression, off.date if off else None) if d is not None]
    return min(stops) if stops else None


class _Row:
    """One patient's cells, added form by form."""

    def __init__(self, patient: PatientRecords, today: date):
        self.patient, self.today = patient, today
        self.off = _off_study(patient.path)
        self.cells: list[Cell] = []

    def form(self, column, entries, window, *, queried=False, stopped="") -> None:
        """A form: `entries` its records, `window` when it is due (None: not scheduled yet),
        `queried` a query on the patient's visit, `stopped` why it is not applicable. Once the
        patient is off study, a form not entered is not applicable unless its window opened
        before (then it is judged as any other: overdue when it closed without the record)."""
        entries = tuple(e for e in entries if e is not None)
        off = self.off
        if entries:
            state = records_state(entries, self.patient.frozen_until, queried=queried)
        elif queried:
            state = QUERIED
        elif stopped:
            state = NOT_APPLICABLE
        elif off is not None and (
            window is None or not status.still_owed(window.opens, off.date) or window.closes is None
        ):
            state, stopped = NOT_APPLICABLE, f"off study since {shown(off.date)}: {off.reason}"
        else:
            state = pending_state(window, self.today)
        self.cells.append(Cell(column, state, entries, window, stopped))


def _courses(row: _Row) -> None:
    patient = row.patient
    numbers = range(1, dosing_protocol.MAX_COURSES + 1)
    if patient.inkt_arm is False:
        for k in numbers:
            row.form(f"course-{k}", [patient.courses.get(k)], None, stopped="RP arm: no iNKT cells")
        return
    anchor = patient.first_course_given or patient.schedule_planned
    planned = {}
    if anchor is not None:
        planned = {
            c.number: Window(c.window_start, c.window_end)
            for c in dosing_rules.schedule(anchor=anchor, window_days=patient.window_days)
        }
    elif patient.randomized is not None:  # no schedule yet: course 1 within 90 days
        days = dosing_protocol.MAX_DAYS_TO_FIRST_COURSE
        planned = {1: Window(patient.randomized, patient.randomized + timedelta(days=days))}
    stop = patient.inkt_stop
    for k in numbers:
        window = planned.get(k)
        owed = window and dosing_rules.owed_window(window.opens, window.closes, stop)
        stopped = f"iNKT cells stopped after {shown(stop)}" if stop and not owed else ""
        row.form(
            f"course-{k}",
            [patient.courses.get(k)],
            Window(*owed) if owed else None,
            stopped=stopped,
        )


def visit_windows(randomized: date | None, visits: int) -> list[tuple[int, Window | None]]:
    """Assessment visits 1..n: each window, 56 k days from randomization +/- 7 (None before
    randomization)."""
    if randomized is None:
        return [(k, None) for k in range(1, visits + 1)]
    last_opens = randomized + timedelta(days=VISIT_INTERVAL_DAYS * visits - VISIT_WINDOW_DAYS)
    return [
        (k, Window(opens, closes))
        for k, _, opens, closes in visit_schedule(randomized, until=last_opens)
    ]


def _scans_of_visit(scans: list[Entry], window: Window | None) -> list[Entry]:
    """A scan belongs to a visit from its window's opening until the next visit's opens."""
    if window is None:
        return []
    return [s for s in scans if files_to_visit(window.opens, s.date)]


def _assessments(row: _Row, visits: int) -> None:
    patient = row.patient
    baseline = Window(patient.enrolled, patient.randomized)  # until randomization
    stop = imaging_stop(patient)
    windows = visit_windows(patient.randomized, visits)

    def stopped(window):
        if stop is not None and (window is None or not status.still_owed(window.opens, stop)):
            return f"assessments stopped after {shown(stop)}"
        return ""

    row.form("scan-baseline", [patient.baseline_scan], baseline)
    for k, window in windows:
        row.form(
            f"scan-{k}",
            _scans_of_visit(patient.scans, window),
            window,
            queried=f"scan-visit-{k}" in patient.visit_queries,
            stopped=stopped(window),
        )
    row.form("qlq-baseline", [patient.questionnaires.get(qlqc30.BASELINE)], baseline)
    for k, window in windows:
        row.form(
            f"qlq-{k}",
            [patient.questionnaires.get(f"visit-{k}")],
            window,
            queried=f"qlq-visit-{k}" in patient.visit_queries,
            stopped=stopped(window),
        )
    ended = treatment_ended(patient.path)
    eot = [patient.questionnaires.get(qlqc30.END_OF_TREATMENT)]
    if ended is None:
        row.form("qlq-eot", eot, None)
    elif ended.state == status.OFF_STUDY_STATE:  # treatment ended by going off study
        row.form(
            "qlq-eot", eot, None, stopped=f"off study since {shown(ended.date)}: {ended.reason}"
        )
    else:
        row.form("qlq-eot", eot, Window(ended.date, row.off.date if row.off else None))


def _course_records(row: _Row) -> None:
    patient = row.patient
    frozen = patient.frozen_until
    events = tuple(patient.adverse_events)
    state = records_state(events, frozen) if events else NONE
    row.cells.append(Cell("adverse-events", state, events))
    ended = treatment_ended(patient.path)
    row.form("follow-up", patient.follow_ups, Window(ended.date, None) if ended else None)
    records = tuple(patient.course_records)
    if records:
        row.cells.append(Cell("status", records_state(records, frozen), records))
    elif ended is not None:  # ended with no record to enter (progression, the 6th course)
        row.cells.append(Cell("status", ENTERED, why=ended.reason))
    else:
        row.cells.append(Cell("status", NOT_DUE))


def row(patient: PatientRecords, *, today: date, visits: int) -> list[Cell]:
    """The patient's cells, in the order of `columns(visits)`."""
    found = _Row(patient, today)
    found.form("screening", [patient.screening], Window(patient.enrolled, None))
    found.form("randomization", [patient.allocation], Window(patient.enrolled, None))
    _courses(found)
    _assessments(found, visits)
    _course_records(found)
    return found.cells


def any_state(cells, states, keys=None) -> bool:
    """Whether any of the cells (of the columns `keys`, all when None) is in one of `states`:
    the matrix's filter."""
    return any(c.state in states and (keys is None or c.column in keys) for c in cells)
