"""Follow-up records checked against each other and against the rest of the patient's record
(pure, no Django).

A patient's follow-up is a list of dated records: survival contacts (known alive, or a contact
that confirms a recorded death), the death (date, cause), a new anticancer therapy, withdrawal of
consent, lost to follow-up. What is refused: a date before enrolment or in the future; a second
death, withdrawal or loss; anything dated after the death; a death before a date the patient is
known to have been alive (a contact, a visit, a scan, a dose...); a contact after consent was
withdrawn; a death date that differs from a fatal adverse event's.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from enrollment.dates import shown

CONTACT, DEATH, NEW_THERAPY, WITHDRAWAL, LOST = (
    "contact",
    "death",
    "new_therapy",
    "withdrawal",
    "lost",
)
KINDS = {
    CONTACT: "Survival contact",
    DEATH: "Death",
    NEW_THERAPY: "New anticancer therapy",
    WITHDRAWAL: "Withdrawal of consent",
    LOST: "Lost to follow-up",
}
ONCE = (DEATH, WITHDRAWAL, LOST)


@dataclass(frozen=True)
class Record:
    kind: str
    date: date
    alive: bool = True  # contacts only: False confirms a recorded death
    cause: str = ""  # deaths
    therapy: str = ""  # new anticancer therapies


def check(
    new: Record,
    others: Iterable[Record],
    *,
    enrolled: date,
    today: date,
    alive_dates: Iterable[date] = (),
    fatal_event_dates: Iterable[date] = (),
) -> dict[str, list[str]]:
    """Field errors for a new (or corrected) record among the patient's `others`.
    `alive_dates`: dates the rest of the record shows the patient alive (visits, scans, doses,
    questionnaires); `fatal_event_dates`: death dates of grade 5 adverse events."""
    errors: dict[str, list[str]] = {}

    def add(field, message):
        errors.setdefault(field, []).append(message)

    others = list(others)
    if new.kind not in KINDS:
        add("kind", f"One of: {', '.join(KINDS)}.")
        return errors
    if new.date < enrolled:
        add("date", f"Before enrolment ({shown(enrolled)}).")
    if new.date > today:
        add("date", "Cannot be in the future.")
    if new.kind in ONCE and any(o.kind == new.kind for o in others):
        add("kind", f"{KINDS[new.kind]} is already recorded.")
    death = next((o for o in others if o.kind == DEATH), None)
    if new.cause.strip() and new.kind != DEATH:
        add("cause", "Only a death has a cause.")
    if new.therapy.strip() and new.kind != NEW_THERAPY:
        add("therapy", "Only a new anticancer therapy names one.")
    if not new.alive and new.kind != CONTACT:
        add("alive", "Only a survival contact says alive or dead.")
    if (
        new.kind != DEATH
        and death is None
        and any(o.kind == CONTACT and not o.alive for o in others)
    ):
        add("kind", "A contact confirms the patient's death: the death record stays.")
    if new.kind == DEATH:
        if not new.cause.strip():
            add("cause", "Give the cause of death (or 'unknown').")
        alive = [d for d in alive_dates if d > new.date] + [
            o.date for o in others if o.kind == CONTACT and o.alive and o.date > new.date
        ]
        if alive:
            add("date", f"The patient is known to have been alive on {shown(max(alive))}.")
        later = [
            o for o in others if o.kind in (NEW_THERAPY, WITHDRAWAL, LOST) and o.date > new.date
        ]
        if later:
            add("date", f"{KINDS[later[0].kind]} is recorded after it ({shown(later[0].date)}).")
        confirming = [o.date for o in others if o.kind == CONTACT and not o.alive]
        if confirming and min(confirming) < new.date:
            add("date", f"A contact confirmed the death on {shown(min(confirming))}.")
        for fatal in set(fatal_event_dates):
            if fatal != new.date:
                add("date", f"A fatal adverse event records the death on {shown(fatal)}.")
    elif new.kind == CONTACT and not new.alive:
        if death is None:
            add("alive", "Record the death (date and cause) first.")
        elif new.date < death.date:
            add("date", f"Before the recorded death ({shown(death.date)}).")
    elif death is not None and new.date > death.date:
        add("date", f"After the patient's death ({shown(death.date)}).")
    if new.kind == NEW_THERAPY and not new.therapy.strip():
        add("therapy", "Name the new anticancer therapy.")
    withdrawal = next((o for o in others if o.kind == WITHDRAWAL), None)
    if new.kind == CONTACT and withdrawal is not None and new.date > withdrawal.date:
        add("date", f"Consent was withdrawn on {shown(withdrawal.date)}: no follow-up after it.")
    if new.kind == WITHDRAWAL:
        later = [o.date for o in others if o.kind == CONTACT and o.date > new.date]
        if later:
            add("date", f"A survival contact is recorded after it ({shown(max(later))}).")
    return errors


def death_date(records: Iterable[Record]) -> date | None:
    return next((r.date for r in records if r.kind == DEATH), None)
