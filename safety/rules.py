"""Adverse-event rules (pure, no Django): what is refused, what is derived.

Sources: NCI CTCAE v5.0 (grades per term; grade 5 is death); ICH E2A (serious criteria: death,
life-threatening, hospitalization, disability, congenital anomaly, important medical event;
expedited reporting); the product's spec (an initial SAE report within 24 hours of awareness).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from enrollment.dates import shown

SERIOUS_CRITERIA = (
    "death",
    "life_threatening",
    "hospitalization",
    "disability",
    "congenital_anomaly",
    "important_medical_event",
)
SAE_INITIAL_REPORT_HOURS = 24


@dataclass(frozen=True)
class Event:
    grade: int
    grades_defined: tuple[int, ...]
    onset: date
    resolution: date | None
    serious_criteria: tuple[str, ...]
    specification: str = ""
    needs_specification: bool = False
    death_date: date | None = None
    outcome: str = ""


def grade_message(grades_defined: tuple[int, ...]) -> str:
    return f"CTCAE v5.0 defines grades {', '.join(map(str, grades_defined))} for this term."


def check_event(event: Event, *, consent: date, today: date) -> dict[str, list[str]]:
    """Field errors for an adverse event (empty when it may be saved)."""
    errors: dict[str, list[str]] = {}

    def add(field, message):
        errors.setdefault(field, []).append(message)

    if event.grade not in event.grades_defined:
        add("grade", grade_message(event.grades_defined))
    if event.needs_specification and not event.specification.strip():
        add("specification", "Name the event: this is an 'Other, specify' term.")
    if event.onset < consent:
        add("onset", "Before consent: record it as medical history, not as an adverse event.")
    if event.onset > today:
        add("onset", "Cannot be in the future.")
    if event.resolution is not None:
        if event.resolution < event.onset:
            add("resolution", "Cannot be before the onset.")
        if event.resolution > today:
            add("resolution", "Cannot be in the future.")
    unknown = [c for c in event.serious_criteria if c not in SERIOUS_CRITERIA]
    if unknown:
        add("serious_criteria", f"Unknown criteria: {', '.join(unknown)}.")
    if event.grade == 5:
        if event.death_date is None:
            add("death_date", "A grade 5 event needs the date of death.")
        else:
            if event.death_date < event.onset:
                add("death_date", "The death cannot precede the onset of the event.")
            if event.death_date > today:
                add("death_date", "Cannot be in the future.")
        if "death" not in event.serious_criteria:
            add("serious_criteria", "A fatal event is serious (criterion: death).")
        if event.outcome and event.outcome != "fatal":
            add("outcome", "A grade 5 event's outcome is fatal.")
    else:
        if "death" in event.serious_criteria:
            add("grade", "An event with the serious criterion 'death' is grade 5.")
        if event.outcome == "fatal":
            add("grade", "An event that caused death is grade 5 in CTCAE.")
        if event.death_date is not None:
            add("death_date", "Only a grade 5 event has a date of death.")
    return errors


TEAE_DAYS_AFTER_LAST_DOSE = 30  # the usual window (ICH E3 11.4.1; settings.TEAE_WINDOW_DAYS)


def treatment_emergent(
    onset: date,
    first_dose: date | None,
    last_dose: date | None = None,
    *,
    days_after_last_dose: int = TEAE_DAYS_AFTER_LAST_DOSE,
) -> bool:
    """Treatment-emergent: onset from the first dose of any study treatment up to
    `days_after_last_dose` days after the last dose. `last_dose` None: the patient is still on
    treatment (no end of treatment recorded), so no upper limit yet."""
    if first_dose is None or onset < first_dose:
        return False
    return last_dose is None or (onset - last_dose).days <= days_after_last_dose


def sae_initial_report_due(awareness: datetime) -> datetime:
    return awareness + timedelta(hours=SAE_INITIAL_REPORT_HOURS)


def sae_overdue(awareness: datetime, reported: datetime | None, now: datetime) -> bool:
    """An initial report not sent within 24 hours of awareness (or sent late)."""
    due = sae_initial_report_due(awareness)
    return (reported or now) > due


def sae_unreported_overdue_if_aware_before(now: datetime) -> datetime:
    """An initial report still not sent is overdue (sae_overdue) for an awareness before
    this moment."""
    return now - timedelta(hours=SAE_INITIAL_REPORT_HOURS)


def check_sae_times(
    *,
    onset: date,
    serious: bool,
    awareness: datetime | None,
    initial_report: datetime | None,
    now: datetime,
    first_follow_up: datetime | None = None,
) -> dict[str, list[str]]:
    """The SAE clock: a serious event has the time the site learnt of it, on or after the
    onset; the initial report follows awareness and precedes any follow-up report; neither is
    in the future. A non-serious event has no clock (and cannot lose one it reported on)."""
    errors: dict[str, list[str]] = {}

    def add(field, message):
        errors.setdefault(field, []).append(message)

    if not serious:
        if first_follow_up is not None:
            add("serious_criteria", "Reports were sent for this SAE: it stays serious.")
        for field, value in (("awareness_at", awareness), ("initial_report_at", initial_report)):
            if value is not None:
                add(field, "Only for a serious event (give its serious criteria).")
        return errors
    if awareness is None:
        add("awareness_at", "When did the site learn of this SAE?")
    else:
        if awareness.date() < onset:
            add("awareness_at", "Cannot be before the onset.")
        if awareness > now:
            add("awareness_at", "Cannot be in the future.")
    if initial_report is not None:
        if awareness is not None and initial_report < awareness:
            add("initial_report_at", "The report cannot precede the site's awareness of the event.")
        if initial_report > now:
            add("initial_report_at", "Cannot be in the future.")
    if first_follow_up is not None and (initial_report is None or initial_report > first_follow_up):
        add(
            "initial_report_at",
            f"A follow-up report was sent on {first_follow_up:%Y-%m-%d %H:%M}: the initial report "
            "came before it.",
        )
    return errors


def check_follow_up(
    *,
    serious: bool,
    kind: str = "follow_up",
    initial_report: datetime | None,
    sent: datetime,
    now: datetime,
    final_sent: datetime | None,
    last_sent: datetime | None = None,
) -> dict[str, list[str]]:
    """A follow-up report: of a serious event, after its initial report, not in the future,
    and nothing after the final report; a final report comes after every other report."""
    errors: dict[str, list[str]] = {}
    if not serious:
        errors["event"] = ["Only serious adverse events have follow-up reports."]
    elif initial_report is None:
        errors["sent_at"] = ["Record the initial report first."]
    elif sent < initial_report:
        errors["sent_at"] = [f"Before the initial report ({initial_report:%Y-%m-%d %H:%M})."]
    if sent > now:
        errors.setdefault("sent_at", []).append("Cannot be in the future.")
    if final_sent is not None:
        errors.setdefault("kind", []).append("The final report was already sent.")
    if kind == "final" and last_sent is not None and sent < last_sent:
        errors.setdefault("sent_at", []).append(
            f"The final report comes after the last one ({last_sent:%Y-%m-%d %H:%M})."
        )
    return errors


def infusion_link_problems(*, onset: date, infused_on: date | None) -> list[str]:
    """An event linked to an iNKT course: the course was given, and the event began that day
    or after."""
    if infused_on is None:
        return ["That course was not given."]
    if onset < infused_on:
        return [f"The event began before this course ({shown(infused_on)})."]
    return []
