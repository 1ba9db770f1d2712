"""Follow-up records checked against each other and against the patient's course (pure, no
Django).

A patient's follow-up is a list of dated records: survival contacts (known alive, or a contact
that confirms the recorded death) and new anticancer therapies. The death, withdrawals of
consent, loss to follow-up and the other ends of study are the patient's status changes
(enrollment/status.py), which these rules read. What is refused: a date before enrolment or in
the future; an alive contact after the death; a contact confirming a death that is not recorded,
or dated before it; anything after a withdrawal of consent to all further data, except survival
status taken from public records when the consent allows it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from enrollment import status
from enrollment.dates import shown

CONTACT, NEW_THERAPY = "contact", "new_therapy"
KINDS = {CONTACT: "Survival contact", NEW_THERAPY: "New anticancer therapy"}


@dataclass(frozen=True)
class Record:
    kind: str
    date: date
    alive: bool = True  # contacts only: False confirms a recorded death
    therapy: str = ""  # new anticancer therapies
    from_public_records: bool = False  # survival status from public records


def check(
    new: Record,
    others: Iterable[Record],
    *,
    enrolled: date,
    today: date,
    changes: Iterable[status.Change] = (),
) -> dict[str, list[str]]:
    """Field errors for a new (or corrected) record among the patient's `others`, given the
    patient's status `changes`."""
    errors: dict[str, list[str]] = {}

    def add(field, message):
        errors.setdefault(field, []).append(message)

    changes = list(changes)
    if new.kind not in KINDS:
        add("kind", f"One of: {', '.join(KINDS)}.")
        return errors
    if new.date < enrolled:
        add("date", f"Before enrolment ({shown(enrolled)}).")
    if new.date > today:
        add("date", "Cannot be in the future.")
    if new.therapy.strip() and new.kind != NEW_THERAPY:
        add("therapy", "Only a new anticancer therapy names one.")
    if not new.alive and new.kind != CONTACT:
        add("alive", "Only a survival contact says alive or dead.")
    if new.from_public_records and new.kind != CONTACT:
        add("from_public_records", "Only survival status comes from public records.")
    if new.kind == NEW_THERAPY and not new.therapy.strip():
        add("therapy", "Name the new anticancer therapy.")
    death = next((c for c in changes if c.kind == status.DEATH), None)
    if new.kind == CONTACT and not new.alive:
        if death is None:
            add("alive", "Record the death (date and cause) in the patient's status first.")
        elif new.date < death.date:
            add("date", f"Before the recorded death ({shown(death.date)}).")
        # a contact confirming the death is not "after" it; a withdrawal still applies
        changes = [c for c in changes if c.kind != status.DEATH]
    refusal = status.refusal(
        changes,
        new.date,
        what="survival contact" if new.kind == CONTACT else "new anticancer therapy",
        survival=True,
        public_records=new.from_public_records,
    )
    if refusal:
        add("date", refusal)
    return errors
