"""The patient's course through the study (pure, no Django): on study, on treatment, in
follow-up, off study, from the dated records that move a patient on.

Two kinds of record make the course:
- a **status change**: death; withdrawal of consent, to treatment only (follow-up continues) or
  to all further data (off study; survival status afterwards only from public records, and only
  if the consent says so); lost to follow-up; entered another trial; the investigator's
  decision; the end of the study. The protocol's follow-up lasts "until the subjects withdrew
  their informed consent or received other anti-tumor therapy or participated in other clinical
  trials or the researchers judged that it is not in the best interests of patients to continue"
  (NCT05962450); a new anticancer therapy is a follow-up record (it censors, it ends nothing).
- an **end of treatment** of one drug: iNKT cells, the PD-1 antibody and regorafenib stop
  separately, each with its reason.

The rest of the record (doses, scans, questionnaires, adverse events, survival contacts) is
*evidence*: dated facts, each of a category, that the rules compare with these records. Dates
are calendar days; a record on the day of a change is still accepted (the day it happened).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import NamedTuple

from enrollment.dates import shown

# Status changes ---------------------------------------------------------------------------------
DEATH = "death"
WITHDRAWAL_TREATMENT = "withdrawal_treatment"
WITHDRAWAL_ALL = "withdrawal_all"
LOST = "lost"
OTHER_TRIAL = "other_trial"
INVESTIGATOR = "investigator"
STUDY_END = "study_end"
CHANGES = {
    DEATH: "Death",
    WITHDRAWAL_TREATMENT: "Withdrawal of consent to treatment (follow-up continues)",
    WITHDRAWAL_ALL: "Withdrawal of consent to all further data",
    LOST: "Lost to follow-up",
    OTHER_TRIAL: "Entered another clinical trial",
    INVESTIGATOR: "Investigator's decision (not in the patient's best interest to continue)",
    STUDY_END: "End of the study",
}
OFF_STUDY = frozenset(CHANGES) - {WITHDRAWAL_TREATMENT}

# Drugs and the ends of their treatment -----------------------------------------------------------
INKT, PD1, REGORAFENIB = "inkt", "pd1", "regorafenib"
DRUGS = {INKT: "iNKT cells", PD1: "PD-1 antibody", REGORAFENIB: "Regorafenib"}
PROGRESSION, TOXICITY, PATIENT_DECISION = "progression", "toxicity", "patient"
INVESTIGATOR_DECISION, COMPLETED, WITHDRAWAL, DIED, OTHER = (
    "investigator",
    "completed",
    "withdrawal",
    "death",
    "other",
)
END_REASONS = {
    PROGRESSION: "Disease progression",
    TOXICITY: "Unacceptable toxicity",
    PATIENT_DECISION: "Patient's decision",
    INVESTIGATOR_DECISION: "Investigator's decision",
    COMPLETED: "Completed the 6 courses",
    WITHDRAWAL: "Withdrawal of consent",
    DIED: "Death",
    OTHER: "Other",
}
MAX_INKT_COURSES = 6

# Evidence categories: what the rest of the record shows on a date.
TREATMENT = "treatment"  # a dose of one drug: ("treatment", drug)
CLINICAL = "clinical"  # a scan, a questionnaire, an adverse event's onset or resolution
SURVIVAL = "survival"  # a survival contact (alive), a new anticancer therapy
DEATH_CONFIRMED = "death_confirmed"  # a contact that confirms the death

# The course's states.
ON_STUDY, ON_TREATMENT, IN_FOLLOW_UP, OFF_STUDY_STATE = (
    "on_study",
    "on_treatment",
    "in_follow_up",
    "off_study",
)
STATES = {
    ON_STUDY: "On study (enrolled, not yet randomized)",
    ON_TREATMENT: "On treatment",
    IN_FOLLOW_UP: "In follow-up",
    OFF_STUDY_STATE: "Off study",
}
STATE_CODES = list(STATES)


@dataclass(frozen=True)
class Change:
    kind: str
    date: date
    cause: str = ""  # deaths
    details: str = ""
    public_records_allowed: bool = False  # withdrawal of all further data: the consent's word
    from_public_records: bool = False  # a death known only from public records


@dataclass(frozen=True)
class DrugEnd:
    drug: str
    date: date
    reason: str
    details: str = ""


@dataclass(frozen=True)
class Evidence:
    date: date
    category: str
    what: str  # "a scan", "an infusion of iNKT cells"...
    drug: str = ""  # treatment evidence: which drug
    public_records: bool = False  # survival evidence taken from public records


@dataclass(frozen=True)
class Transition:
    date: date
    state: str
    reason: str


def _errors():
    errors: dict[str, list[str]] = {}

    def add(field, message):
        errors.setdefault(field, []).append(message)

    return errors, add


def _first_off_study(changes: Iterable[Change]) -> Change | None:
    off = sorted((c for c in changes if c.kind in OFF_STUDY), key=lambda c: c.date)
    return off[0] if off else None


def _later(evidence: Iterable[Evidence], day: date, categories: set[str]) -> Evidence | None:
    later = [e for e in evidence if e.date > day and e.category in categories]
    return min(later, key=lambda e: e.date) if later else None


def check_change(
    new: Change,
    others: Iterable[Change],
    *,
    enrolled: date,
    today: date,
    evidence: Iterable[Evidence] = (),
    fatal_event_dates: Iterable[date] = (),
) -> dict[str, list[str]]:
    """Field errors for a new (or corrected) status change among the patient's `others`."""
    errors, add = _errors()
    others, evidence = list(others), list(evidence)
    if new.kind not in CHANGES:
        add("kind", f"One of: {', '.join(CHANGES)}.")
        return errors
    if new.date < enrolled:
        add("date", f"Before enrolment ({shown(enrolled)}).")
    if new.date > today:
        add("date", "Cannot be in the future.")
    if any(o.kind == new.kind for o in others):
        add("kind", f"{CHANGES[new.kind]} is already recorded.")
    if new.cause.strip() and new.kind != DEATH:
        add("cause", "Only a death has a cause.")
    if new.public_records_allowed and new.kind != WITHDRAWAL_ALL:
        add(
            "public_records_allowed",
            "Only a withdrawal of consent to all further data says this.",
        )
    if new.from_public_records and new.kind != DEATH:
        add("from_public_records", "Only a death may come from public records.")
    death = next((o for o in others if o.kind == DEATH), None)
    withdrawn = next((o for o in others if o.kind == WITHDRAWAL_ALL), None)
    off = _first_off_study(o for o in others if o.kind != DEATH)
    if new.kind == DEATH:
        if not new.cause.strip():
            add("cause", "Give the cause of death (or 'unknown').")
        alive = _later(evidence, new.date, {TREATMENT, CLINICAL, SURVIVAL})
        if alive is not None:
            add(
                "date",
                f"The patient is known to have been alive on {shown(alive.date)} ({alive.what}).",
            )
        confirmed = [e.date for e in evidence if e.category == DEATH_CONFIRMED]
        if confirmed and min(confirmed) < new.date:
            add("date", f"A contact confirmed the death on {shown(min(confirmed))}.")
        for fatal in sorted(set(fatal_event_dates)):
            if fatal != new.date:
                add("date", f"A fatal adverse event records the death on {shown(fatal)}.")
        later = [o for o in others if o.kind != DEATH and o.date > new.date]
        if later:
            add("date", f"{CHANGES[later[0].kind]} is recorded after it ({shown(later[0].date)}).")
        if withdrawn is not None and new.date > withdrawn.date:
            if not withdrawn.public_records_allowed:
                add(
                    "date",
                    f"Consent to all further data was withdrawn on {shown(withdrawn.date)} and "
                    "does not allow public records: no death can be recorded after it.",
                )
            elif not new.from_public_records:
                add(
                    "from_public_records",
                    f"Consent to all further data was withdrawn on {shown(withdrawn.date)}: "
                    "a later death may come from public records only.",
                )
        return errors
    if death is not None and new.date > death.date:
        add("date", f"After the patient's death ({shown(death.date)}).")
    if new.kind in OFF_STUDY:
        after = [o for o in others if o.kind != DEATH and o.date > new.date]
        if after:
            add("date", f"{CHANGES[after[0].kind]} is recorded after it ({shown(after[0].date)}).")
        if off is not None:
            add(
                "kind",
                f"The patient is already off study: {CHANGES[off.kind]} on {shown(off.date)}.",
            )
        categories = {TREATMENT, CLINICAL} | ({SURVIVAL} if new.kind == WITHDRAWAL_ALL else set())
        if new.kind == WITHDRAWAL_ALL and new.public_records_allowed:
            evidence = [e for e in evidence if not (e.category == SURVIVAL and e.public_records)]
        later = _later(evidence, new.date, categories)
        if later is not None:
            add("date", f"{_upper(later.what)} is recorded after it ({shown(later.date)}).")
        if new.kind == WITHDRAWAL_ALL and death is not None and death.date > new.date:
            if not new.public_records_allowed:
                add(
                    "public_records_allowed",
                    f"The death on {shown(death.date)} is recorded after it: only a consent that "
                    "allows survival status from public records admits it.",
                )
            elif not death.from_public_records:
                add(
                    "date",
                    f"The death on {shown(death.date)} is recorded after it, not from public "
                    "records.",
                )
    else:  # withdrawal of consent to treatment
        if off is not None and new.date > off.date:
            add("date", f"The patient is off study since {shown(off.date)} ({CHANGES[off.kind]}).")
        later = _later(evidence, new.date, {TREATMENT})
        if later is not None:
            add("date", f"{_upper(later.what)} is recorded after it ({shown(later.date)}).")
    return errors


def refusal(
    changes: Iterable[Change],
    day: date,
    *,
    what: str,
    survival: bool = False,
    public_records: bool = False,
) -> str | None:
    """Why a record of `what` dated `day` is refused after the patient's changes, or None.
    `survival`: the record is survival status (a contact, a death), which an end of study for
    another reason than withdrawal of consent does not stop; after a withdrawal of consent to
    all further data it is accepted only from public records, when the consent allows them."""
    changes = list(changes)
    death = next((c for c in changes if c.kind == DEATH), None)
    if death is not None and day > death.date:
        return f"The patient died on {shown(death.date)}: no {what} can be dated after it."
    withdrawn = next((c for c in changes if c.kind == WITHDRAWAL_ALL), None)
    if withdrawn is not None and day > withdrawn.date:
        if survival and public_records and withdrawn.public_records_allowed:
            return None
        allowed = (
            " Survival status may still come from public records, as the consent allows."
            if withdrawn.public_records_allowed and survival
            else ""
        )
        return (
            f"Consent to all further data was withdrawn on {shown(withdrawn.date)}: no {what} "
            f"dated after it is accepted.{allowed}"
        )
    if survival:
        return None
    off = _first_off_study(c for c in changes if c.kind != DEATH)
    if off is not None and day > off.date:
        return (
            f"The patient is off study since {shown(off.date)} ({CHANGES[off.kind]}): no {what} "
            "dated after it is accepted."
        )
    return None


class Stop(NamedTuple):
    """The last day a drug may be given, why (as a sentence reads it) and the reason's label."""

    day: date
    why: str
    reason: str


def treatment_stop(changes: Iterable[Change], ends: Iterable[DrugEnd], drug: str) -> Stop | None:
    """The day after which `drug` may not be given, and why: its own end of treatment, a
    withdrawal of consent (either), the death, or any other end of study; the earliest."""
    stops = [
        Stop(
            e.date,
            f"end of treatment with {DRUGS[e.drug]} ({END_REASONS[e.reason].lower()})",
            END_REASONS[e.reason],
        )
        for e in ends
        if e.drug == drug
    ]
    stops += [Stop(c.date, _lower(CHANGES[c.kind]), CHANGES[c.kind]) for c in changes]
    return min(stops, key=lambda s: s.day) if stops else None


def still_owed(opens: date, stop: date | None) -> bool:
    """Whether a scheduled form (a course, a visit) is still owed once the patient's course
    stopped it on `stop` (progression, the end of a drug, going off study): only if its window
    had opened by then; one opening later is not applicable. None: nothing stopped it."""
    return stop is None or opens <= stop


BACKBONE = (PD1, REGORAFENIB)  # given in both arms


def discontinued(stops: dict[str, Stop | None], drugs: Iterable[str]) -> str | None:
    """Why the study treatment was discontinued, once every drug of the arm has stopped: the
    reason the backbone (PD-1 antibody and regorafenib, given in both arms) stopped last, so that
    no reason only one arm can have (the iNKT cells' 6 courses) shows which arm a masked code
    is; None while a drug goes on."""
    if not all(stops.get(d) is not None for d in drugs):
        return None
    return max(stops[d] for d in BACKBONE).reason


def _lower(text: str) -> str:
    return text[0].lower() + text[1:]


def _upper(text: str) -> str:
    return text[0].upper() + text[1:]


def check_drug_end(
    new: DrugEnd,
    others: Iterable[DrugEnd],
    *,
    drugs: Iterable[str],
    randomized: date | None,
    today: date,
    changes: Iterable[Change] = (),
    evidence: Iterable[Evidence] = (),
    derived: Iterable[DrugEnd] = (),
) -> dict[str, list[str]]:
    """Field errors for a new (or corrected) end of treatment of one drug. `drugs`: those of
    the patient's arm; `evidence`: the doses given (treatment evidence, by drug); `derived`: the
    stops the other records imply (the 6th iNKT course among them)."""
    errors, add = _errors()
    drugs = list(drugs)
    if randomized is None:
        add("drug", "The patient is not randomized: there is no treatment to end.")
        return errors
    if new.drug not in drugs:
        add("drug", f"Not a drug of the patient's arm ({', '.join(DRUGS[d] for d in drugs)}).")
        return errors
    if new.reason not in END_REASONS:
        add("reason", "Choose one of the listed reasons.")
        return errors
    if any(o.drug == new.drug for o in others):
        add("drug", f"The end of treatment with {DRUGS[new.drug]} is already recorded.")
    if new.date > today:
        add("date", "Cannot be in the future.")
    if new.date < randomized:
        add("date", f"Before randomization ({shown(randomized)}).")
    if new.reason == COMPLETED and new.drug != INKT:
        add("reason", "Only the iNKT cells have a fixed number of courses.")
    elif new.reason == COMPLETED and not any(
        d.drug == INKT and d.reason == COMPLETED for d in derived
    ):
        add("reason", f"The {MAX_INKT_COURSES} courses are not all recorded.")
    if new.reason == OTHER and not new.details.strip():
        add("details", "Say what the other reason is.")
    last = _later(
        [e for e in evidence if e.category == TREATMENT and e.drug == new.drug],
        new.date,
        {TREATMENT},
    )
    if last is not None:
        add("date", f"{_upper(last.what)} was given after it ({shown(last.date)}).")
    refused = refusal(changes, new.date, what="end of treatment")
    if refused:
        add("date", refused)
    return errors


def course(
    *,
    enrolled: date,
    randomized: date | None,
    drugs: Iterable[str],
    ends: Iterable[DrugEnd],
    changes: Iterable[Change],
) -> list[Transition]:
    """The patient's transitions, oldest first; the last is the current state. Treatment ends
    when every drug of the arm has ended (or consent to treatment is withdrawn); the first end
    of study closes the course (a later death from public records is listed, not a new state)."""
    drugs, ends, changes = list(drugs), list(ends), list(changes)
    path = [Transition(enrolled, ON_STUDY, "Enrolled")]
    off = _first_off_study(changes)
    if randomized is not None and (off is None or randomized <= off.date):
        path.append(Transition(randomized, ON_TREATMENT, "Randomized"))
        stops = {}
        for drug in drugs:
            stop = treatment_stop([c for c in changes if c.kind not in OFF_STUDY], ends, drug)
            if stop is not None:
                stops[drug] = stop
        if drugs and len(stops) == len(drugs):
            day = max(s[0] for s in stops.values())
            if off is None or day <= off.date:
                texts = "; ".join(dict.fromkeys(s.why for s in sorted(stops.values())))
                path.append(Transition(day, IN_FOLLOW_UP, texts[0].upper() + texts[1:]))
    if off is not None:
        reason = CHANGES[off.kind]
        if off.kind == DEATH and off.cause:
            reason += f" ({off.cause})"
        path.append(Transition(off.date, OFF_STUDY_STATE, reason))
    return path


def drugs_of_arm(arm_receives_inkt: bool) -> tuple[str, ...]:
    return (INKT, PD1, REGORAFENIB) if arm_receives_inkt else (PD1, REGORAFENIB)
