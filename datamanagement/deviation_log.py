"""The protocol deviation log (pure, no Django): the deviations the records show
(datamanagement/deviations.py) joined with their reviews and with those recorded by hand; its
filters and CSV; the ethics committee's listing; the checks of what a person records, and of
what a review may change without a reason."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from datamanagement.deviations import (
    CATEGORY_TEXT,
    CLASSIFICATIONS,
    CLOSED,
    DERIVED,
    MAJOR,
    MINOR,
    NOT_REVIEWED,
    OPEN,
    STATUSES,
    Category,
    Derived,
)


@dataclass(frozen=True)
class Follow:
    """What the reviewer (or the recorder) set: classification and follow-up."""

    classification: str
    corrective_action: str = ""
    preventive_action: str = ""
    reported_to_ec_on: date | None = None
    status: str = OPEN
    confirmed: bool = True  # classified by a data manager or an investigator
    record_id: int | None = None  # the review's, or the recorded deviation's


@dataclass(frozen=True)
class Entry:
    """One line of the deviation log."""

    key: str
    patient_id: int
    study_id: str
    source: str  # derived or recorded
    occurred_on: date
    identified_on: date | None
    category: str
    description: str
    classification: str
    default_classification: str | None = None  # the rule's (derived only)
    rule: str = ""
    follow: Follow | None = None  # None: a derived deviation not reviewed yet
    shown: bool = True  # derived: the records still show it

    @property
    def status(self) -> str:
        return NOT_REVIEWED if self.follow is None else self.follow.status

    @property
    def confirmed(self) -> bool:
        return self.follow is not None and self.follow.confirmed

    @property
    def category_text(self) -> str:
        return CATEGORY_TEXT[Category(self.category)]

    @property
    def status_text(self) -> str:
        text = STATUSES.get(self.status, "Not reviewed")
        return text if self.shown else f"{text}; no longer shown by the records"


@dataclass(frozen=True)
class Reviewed:
    """A stored review of a derived deviation: the deviation as the records showed it at its
    last review, and what the reviewer set."""

    deviation: Derived
    follow: Follow


def entries(derived: list[Derived], reviews: list[Reviewed]) -> list[Entry]:
    """Derived deviations with their reviews. A reviewed deviation the records no longer show
    (a corrected course, a scan registered late) stays in the log as it was reviewed, marked no
    longer shown: its review and follow-up were decisions, possibly reported. One nobody
    reviewed simply disappears: it was never acted on."""
    by_key = {r.deviation.key: r for r in reviews}
    found = [(d, by_key.pop(d.key, None), True) for d in derived]
    found += [(r.deviation, r, False) for r in by_key.values()]
    return [
        Entry(
            d.key,
            d.patient_id,
            d.study_id,
            DERIVED,
            d.occurred_on,
            d.identified_on,
            d.category,
            d.description,
            review.follow.classification if review else d.classification,
            d.classification,
            d.rule,
            review.follow if review else None,
            shown=shown,
        )
        for d, review, shown in found
    ]


def in_order(found: list[Entry]) -> list[Entry]:
    return sorted(found, key=lambda e: (e.study_id, e.occurred_on, e.key))


def matches(
    entry: Entry,
    *,
    study_id: str | None = None,
    classification: str | None = None,
    category: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
) -> bool:
    """The log's filters: patient, classification, category, and the deviation's date."""
    return (
        (not study_id or entry.study_id == study_id)
        and (not classification or entry.classification == classification)
        and (not category or entry.category == category)
        and (date_from is None or entry.occurred_on >= date_from)
        and (date_to is None or entry.occurred_on <= date_to)
    )


LOG_HEADER = [
    "key",
    "study_id",
    "date",
    "identified",
    "category",
    "classification",
    "classification_confirmed",
    "default_classification",
    "rule",
    "source",
    "description",
    "corrective_action",
    "preventive_action",
    "reported_to_ethics_committee",
    "status",
]


def csv_row(entry: Entry) -> list:
    """One log line as the CSV holds it (dates ISO 8601)."""
    follow = entry.follow
    return [
        entry.key,
        entry.study_id,
        entry.occurred_on.isoformat(),
        entry.identified_on.isoformat() if entry.identified_on else "",
        entry.category_text,
        entry.classification,
        "yes" if entry.confirmed else "no",
        entry.default_classification or "",
        entry.rule,
        entry.source,
        entry.description,
        follow.corrective_action if follow else "",
        follow.preventive_action if follow else "",
        follow.reported_to_ec_on.isoformat() if follow and follow.reported_to_ec_on else "",
        entry.status_text,
    ]


# The ethics committee's listing ----------------------------------------------------------------

EC_HEADER = [
    "study_id",
    "date",
    "identified",
    "category",
    "description",
    "corrective_action",
    "preventive_action",
    "reported_to_ethics_committee",
    "status",
]


@dataclass(frozen=True)
class MinorSummary:
    category: str
    deviations: int
    patients: int

    @property
    def category_text(self) -> str:
        return CATEGORY_TEXT[Category(self.category)]


def ethics_committee(found: list[Entry]) -> tuple[list[Entry], list[MinorSummary]]:
    """What the ethics committee gets: every major deviation one by one (date, description,
    actions, when it was reported to them), and the minor ones as counts per category, as
    ethics committees ask for them in periodic progress reports (ICH E6(R3): the investigator
    reports deviations that affect participants' safety or rights; the rest are documented and
    summarised). No arm anywhere."""
    major = in_order([e for e in found if e.classification == MAJOR])
    counts: dict[str, list[Entry]] = defaultdict(list)
    for e in found:
        if e.classification == MINOR:
            counts[e.category].append(e)
    summary = [
        MinorSummary(c.value, len(counts[c.value]), len({e.patient_id for e in counts[c.value]}))
        for c in Category
        if counts.get(c.value)
    ]
    return major, summary


def ec_row(entry: Entry) -> list:
    row = dict(zip(LOG_HEADER, csv_row(entry), strict=True))
    return [row[name] for name in EC_HEADER]


# Checks of what a person records or reviews ----------------------------------------------------


def record_problems(
    *,
    occurred_on: date | None,
    identified_on: date | None,
    reported_to_ec_on: date | None,
    category: str,
    classification: str,
    status: str,
    description: str,
    corrective_action: str,
    today: date,
) -> dict[str, list[str]]:
    """Why a deviation recorded by hand may not be saved as it is (empty: it may)."""
    errors: dict[str, list[str]] = defaultdict(list)
    if occurred_on is None:
        errors["occurred_on"].append("Required.")
    elif occurred_on > today:
        errors["occurred_on"].append("Cannot be in the future.")
    if identified_on is None:
        errors["identified_on"].append("Required.")
    elif identified_on > today:
        errors["identified_on"].append("Cannot be in the future.")
    elif occurred_on is not None and identified_on < occurred_on:
        errors["identified_on"].append("Cannot be before the deviation.")
    if category not in CATEGORY_TEXT:
        errors["category"].append("Choose a category.")
    if not description.strip():
        errors["description"].append("Describe the deviation.")
    errors.update(
        follow_problems(
            classification=classification,
            status=status,
            corrective_action=corrective_action,
            reported_to_ec_on=reported_to_ec_on,
            occurred_on=occurred_on,
            today=today,
        )
    )
    return dict(errors)


def follow_problems(
    *,
    classification: str,
    status: str,
    corrective_action: str,
    reported_to_ec_on: date | None,
    occurred_on: date | None,
    today: date,
) -> dict[str, list[str]]:
    """Why a classification and follow-up may not be saved (empty: they may): a known
    classification and status; closed only with the corrective action taken; a report to the
    ethics committee not in the future nor before the deviation."""
    errors: dict[str, list[str]] = defaultdict(list)
    if classification not in CLASSIFICATIONS:
        errors["classification"].append("Major or minor.")
    if status not in STATUSES:
        errors["status"].append("Open or closed.")
    elif status == CLOSED and not corrective_action.strip():
        errors["corrective_action"].append("A deviation is closed once its corrective action is.")
    if reported_to_ec_on is not None:
        if reported_to_ec_on > today:
            errors["reported_to_ec_on"].append("Cannot be in the future.")
        elif occurred_on is not None and reported_to_ec_on < occurred_on:
            errors["reported_to_ec_on"].append("Cannot be before the deviation.")
    return dict(errors)


FOLLOW_TEXT = {
    "corrective_action": "the corrective action",
    "preventive_action": "the preventive action",
    "reported_to_ec_on": "the date reported to the ethics committee",
}


def review_corrections(*, current: Follow | None, default: str, new: Follow) -> list[str]:
    """What a review changes of what was stated before, each a correction that needs the
    reviewer's reason: the classification (the rule's for a derived deviation not reviewed
    yet, the recorder's for one recorded by hand), a follow-up that had a value, a closed
    deviation reopened. Confirming, filling what was empty and closing are the review's own
    steps (review_steps)."""
    before = current or Follow(default)
    found = []
    if new.classification != before.classification:
        found.append(f"the classification ({before.classification} to {new.classification})")
    for name, text in FOLLOW_TEXT.items():
        if getattr(before, name) not in ("", None) and getattr(new, name) != getattr(before, name):
            found.append(text)
    if before.status == CLOSED and new.status != CLOSED:
        found.append("the status (reopened)")
    return found


def review_steps(*, current: Follow | None, new: Follow) -> list[str]:
    """The review's own steps, which the audit trail names when no reason is given."""
    before = current or Follow(new.classification, confirmed=False)
    steps = [] if before.confirmed else ["classification confirmed"]
    for name, text in FOLLOW_TEXT.items():
        if getattr(before, name) in ("", None) and getattr(new, name) not in ("", None):
            steps.append(f"{text.removeprefix('the ')} recorded")
    if before.status != CLOSED and new.status == CLOSED:
        steps.append("closed")
    return steps


def review_changes_nothing(*, current: Follow | None, default: str, new: Follow) -> bool:
    """An earlier review (or recorded deviation) that the review leaves as it was."""
    return (
        current is not None
        and not review_steps(current=current, new=new)
        and not review_corrections(current=current, default=default, new=new)
    )


def review_refusal(*, current: Follow | None, default: str, new: Follow, reason: str) -> str | None:
    """Why a review may not be saved without a reason (None: it may)."""
    corrections = review_corrections(current=current, default=default, new=new)
    if not corrections or reason.strip():
        return None
    return f"Give the reason for changing {', '.join(corrections)}."


def review_reason(*, reason: str, steps: list[str]) -> str:
    """The audit trail's reason for a review: the reviewer's, else the review's steps."""
    if reason.strip():
        return reason.strip()
    return f"Reviewed: {'; '.join(steps)}" if steps else "Reviewed"
