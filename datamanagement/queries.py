"""Data queries (pure, no Django): the states a question about a recorded value goes through,
who moves it on, and how old it is.

A data manager (or a monitor) raises a query on one field of one record; the coordinator
answers it, correcting the value or explaining it; the one who raised it (or a data manager)
closes it, or reopens it when the answer does not settle it; an open or answered query may be
cancelled, with the reason. Nothing is deleted: every step is a version in the audit trail."""

from __future__ import annotations

from datetime import date

OPEN, ANSWERED, CLOSED, CANCELLED = "open", "answered", "closed", "cancelled"
STATES = {OPEN: "Open", ANSWERED: "Answered", CLOSED: "Closed", CANCELLED: "Cancelled"}
STATE_CHOICES = list(STATES.items())
UNRESOLVED = (OPEN, ANSWERED)  # awaiting an answer, or the raiser's close: the record is queried
ANSWER, CLOSE, REOPEN, CANCEL = "answer", "close", "reopen", "cancel"

# action -> (states it applies to, the state it leads to)
TRANSITIONS = {
    ANSWER: ({OPEN}, ANSWERED),
    CLOSE: ({ANSWERED}, CLOSED),
    REOPEN: ({ANSWERED, CLOSED}, OPEN),
    CANCEL: ({OPEN, ANSWERED}, CANCELLED),
}
WHY = {
    ANSWER: "Only an open query is answered.",
    CLOSE: "Only an answered query is closed.",
    REOPEN: "Only an answered or closed query is reopened.",
    CANCEL: "Only an open or answered query is cancelled.",
}
AGE_BANDS = ((30, "30 days or more"), (7, "7 to 29 days"), (0, "under 7 days"))


class QueryError(ValueError):
    pass


def next_state(state: str, action: str) -> str:
    """The state `action` leads to from `state`; QueryError when it does not apply."""
    if action not in TRANSITIONS:
        raise QueryError(f"Unknown action {action!r}.")
    applies_to, leads_to = TRANSITIONS[action]
    if state not in applies_to:
        raise QueryError(f"{WHY[action]} This one is {STATES[state].lower()}.")
    return leads_to


def age_days(raised_on: date, today: date) -> int:
    return max(0, (today - raised_on).days)


def age_band(days: int) -> str:
    return next(label for floor, label in AGE_BANDS if days >= floor)
