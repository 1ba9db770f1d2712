"""EORTC QLQ-C30 version 3.0 scoring: answers in, the 15 scales and the summary score out.

Pure module (no Django). Sources: Fayers PM et al. The EORTC QLQ-C30 Scoring Manual, 3rd ed.
Brussels: EORTC, 2001 (scales, raw score, linear transformation, the half-items rule);
Giesinger JM et al. J Clin Epidemiol 2016;69:79-88 (summary score). The questionnaire's wording
is EORTC copyright and is not reproduced here: items are referred to by number.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from assessments.reads import VISIT_INTERVAL_DAYS, VISIT_WINDOW_DAYS
from enrollment.dates import shown

ITEMS = range(1, 31)
FOUR_POINT = range(1, 29)  # 1 not at all ... 4 very much
SEVEN_POINT = (29, 30)  # 1 very poor ... 7 excellent


@dataclass(frozen=True)
class Scale:
    code: str
    name: str
    items: tuple[int, ...]
    kind: str  # "functional", "symptom" or "global"

    @property
    def item_range(self) -> int:
        return 6 if self.kind == "global" else 3


SCALES = (
    Scale("QL2", "Global health status / QoL", (29, 30), "global"),
    Scale("PF2", "Physical functioning", (1, 2, 3, 4, 5), "functional"),
    Scale("RF2", "Role functioning", (6, 7), "functional"),
    Scale("EF", "Emotional functioning", (21, 22, 23, 24), "functional"),
    Scale("CF", "Cognitive functioning", (20, 25), "functional"),
    Scale("SF", "Social functioning", (26, 27), "functional"),
    Scale("FA", "Fatigue", (10, 12, 18), "symptom"),
    Scale("NV", "Nausea and vomiting", (14, 15), "symptom"),
    Scale("PA", "Pain", (9, 19), "symptom"),
    Scale("DY", "Dyspnoea", (8,), "symptom"),
    Scale("SL", "Insomnia", (11,), "symptom"),
    Scale("AP", "Appetite loss", (13,), "symptom"),
    Scale("CO", "Constipation", (16,), "symptom"),
    Scale("DI", "Diarrhoea", (17,), "symptom"),
    Scale("FI", "Financial difficulties", (28,), "symptom"),
)
SCALE_BY_CODE = {s.code: s for s in SCALES}
SUMMARY_FUNCTIONAL = ("PF2", "RF2", "EF", "CF", "SF")
SUMMARY_SYMPTOMS = ("FA", "NV", "PA", "DY", "SL", "AP", "CO", "DI")


class AnswerError(ValueError):
    def __init__(self, problems: dict[int, str]):
        self.problems = problems
        super().__init__(
            "; ".join(
                f"item {k}: {v}" for k, v in sorted(problems.items(), key=lambda kv: str(kv[0]))
            )
        )


ALL_BLANK = (
    "Every item is blank: no scale can be scored (EORTC scoring manual). A questionnaire the "
    "patient did not complete is not recorded; answer at least one item."
)


def all_blank(answers: Mapping[int, int | None]) -> bool:
    return all(value is None for value in answers.values())


def check_answers(answers: Mapping[int | str, int | None]) -> dict[int, int | None]:
    """Items 1-28 take 1-4, items 29-30 take 1-7; None (blank) is allowed for any item. Item
    numbers may be given as text ("1"), as JSON object keys are."""
    problems: dict[int, str] = {}
    keyed: dict[int, int | None] = {}
    for key, value in answers.items():
        text = isinstance(key, str) and key.isascii() and key.isdigit()
        item = int(key) if text and len(key) < 4 else key
        if item not in ITEMS:
            problems[key] = "there is no such item (1-30)"
        elif item in keyed:
            problems[key] = f"item {item} is answered twice"
        else:
            keyed[item] = value
    answers = keyed
    clean: dict[int, int | None] = {}
    for item in ITEMS:
        value = answers.get(item)
        if value is None:
            clean[item] = None
            continue
        top = 7 if item in SEVEN_POINT else 4
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= top:
            problems[item] = f"answer 1 to {top}, or leave it blank ({value!r} given)"
            continue
        clean[item] = value
    if problems:
        raise AnswerError(problems)
    return clean


def score_scale(scale: Scale, answers: Mapping[int, int | None]) -> float | None:
    """Raw score = mean of the answered items, scored only when at least half of the scale's
    items are answered; then the linear transformation to 0-100."""
    answered = [answers[i] for i in scale.items if answers.get(i) is not None]
    if len(answered) * 2 < len(scale.items):
        return None
    raw = sum(answered) / len(answered)
    if scale.kind == "functional":
        return 100 * (1 - (raw - 1) / scale.item_range)
    return 100 * (raw - 1) / scale.item_range


def score(answers: Mapping[int, int | None]) -> dict[str, float | None]:
    """Every scale, and the summary score (only when all 13 of its scales exist)."""
    clean = check_answers(answers)
    scores: dict[str, float | None] = {s.code: score_scale(s, clean) for s in SCALES}
    parts = [scores[c] for c in SUMMARY_FUNCTIONAL] + [
        None if scores[c] is None else 100 - scores[c] for c in SUMMARY_SYMPTOMS
    ]
    scores["SUM"] = None if any(p is None for p in parts) else sum(parts) / len(parts)
    return scores


def higher_is_better(code: str) -> bool:
    """Functional scales, QL2 and the summary: higher is better; symptoms: higher is worse."""
    return code == "SUM" or SCALE_BY_CODE[code].kind in ("functional", "global")


@dataclass(frozen=True)
class Deterioration:
    """Time to deterioration of one scale: days from enrolment, and whether it is an event."""

    days: int
    event: bool
    reason: str


def time_to_deterioration(
    code: str,
    scores: list[tuple[date, float | None]],
    *,
    enrolled: date,
    randomized: date,
    threshold: float = 10.0,
    death: date | None = None,
    death_is_event: bool = False,
) -> Deterioration:
    """Time to QoL deterioration (Osoba 1998; the protocol: a change of 10 points or more,
    worse, maintained at two consecutive assessments; the event is dated at the first).

    `scores`: the scale's score at each questionnaire, in date order (None: not scored).
    Baseline is the last score on or before randomization. Censoring: no baseline, day 0; no
    follow-up score, day 1; otherwise the last scored questionnaire (a deteriorated last one
    that no next assessment confirms is censored there). Death counts only if asked."""
    better_higher = higher_is_better(code)
    scored = [(day, value) for day, value in scores if value is not None]
    baseline = [(day, value) for day, value in scored if day <= randomized]
    if not baseline:
        if scored:  # a questionnaire dated after randomization is no baseline: say so
            return Deterioration(
                0,
                False,
                f"no baseline score on or before randomization (the first score is of "
                f"{scored[0][0]}): censored at day 0",
            )
        return Deterioration(0, False, "no baseline score")
    base_day, base_value = baseline[-1]
    after = [(day, value) for day, value in scored if day > base_day]
    if not after:
        if death_is_event and death is not None:
            return Deterioration((death - enrolled).days, True, "death")
        return Deterioration(1, False, "no follow-up score")

    def worse(value: float) -> bool:
        change = value - base_value
        return (-change if better_higher else change) >= threshold - 1e-9

    for (day, value), (_, following) in zip(after, after[1:], strict=False):
        if worse(value) and worse(following):
            return Deterioration((day - enrolled).days, True, "deterioration confirmed")
    if death_is_event and death is not None:
        return Deterioration((death - enrolled).days, True, "death")
    last_day = after[-1][0]
    reason = "unconfirmed deterioration" if worse(after[-1][1]) else "no deterioration"
    return Deterioration((last_day - enrolled).days, False, reason)


# Short neutral labels of the items (not the EORTC wording, which is copyright: a site that holds
# the licence can load the wording from a file, see `item_labels`).
ITEM_LABELS = {
    1: "Strenuous activities",
    2: "Long walk",
    3: "Short walk outside",
    4: "Bed or chair during the day",
    5: "Help with eating, dressing, washing or the toilet",
    6: "Limited in work or daily activities",
    7: "Limited in hobbies or leisure",
    8: "Short of breath",
    9: "Pain",
    10: "Needed rest",
    11: "Trouble sleeping",
    12: "Felt weak",
    13: "Lacked appetite",
    14: "Felt nauseated",
    15: "Vomited",
    16: "Constipated",
    17: "Diarrhoea",
    18: "Tired",
    19: "Pain interfered with daily activities",
    20: "Difficulty concentrating",
    21: "Felt tense",
    22: "Worried",
    23: "Felt irritable",
    24: "Felt depressed",
    25: "Difficulty remembering",
    26: "Family life affected",
    27: "Social activities affected",
    28: "Financial difficulties",
    29: "Overall health (past week)",
    30: "Overall quality of life (past week)",
}


def item_labels(wording: Mapping[int, str] | None = None) -> dict[int, str]:
    """The labels shown for the 30 items: a site's licensed wording where given, else ours."""
    wording = wording or {}
    return {item: wording.get(item) or ITEM_LABELS[item] for item in ITEMS}


def answer_choices(item: int) -> range:
    return range(1, 8) if item in SEVEN_POINT else range(1, 5)


# Visits: baseline, each 8-weekly assessment visit ("visit-1", "visit-2" ...), end of treatment.
BASELINE, END_OF_TREATMENT = "baseline", "end-of-treatment"
MAX_VISIT = 40  # 8-weekly for over six years: far beyond the protocol's 24 months


def visit_order(visit: str) -> int:
    """Sort key of a visit; ValueError for a visit that does not exist."""
    if visit == BASELINE:
        return 0
    if visit == END_OF_TREATMENT:
        return 10**6
    prefix, _, number = visit.partition("-")
    digits = number.isascii() and number.isdigit() and len(number) <= 3
    if (
        prefix == "visit"
        and digits
        and str(int(number)) == number
        and 1 <= int(number) <= MAX_VISIT
    ):
        return int(number)
    raise ValueError(
        f"{visit!r} is not a visit: baseline, visit-1 ... visit-{MAX_VISIT} or end-of-treatment"
    )


def visit_name(visit: str) -> str:
    order = visit_order(visit)
    if visit == BASELINE:
        return "Baseline"
    if visit == END_OF_TREATMENT:
        return "End of treatment"
    return f"Visit {order} (week {8 * order})"


def check_date(
    visit: str,
    completed: date,
    *,
    consent: date,
    today: date,
    randomized: date | None,
    first_dose: date | None,
    end_of_treatment: date | None,
    others: Iterable[tuple[str, date]] = (),
) -> list[str]:
    """Why a questionnaire may not carry this date for this visit (empty: it may). The
    baseline is completed on or before the day of randomization (the last questionnaire then
    is the baseline of time to deterioration, spec quality-of-life.md) and before the first
    dose; visit k is not completed before its window opens (56 k days from
    randomization, less the 7-day window); `others`: the patient's other questionnaires
    (visit, date), whose dates must keep the order of the visits."""
    problems = []
    if completed < consent:
        problems.append("Before the patient's consent.")
    if completed > today:
        problems.append("Cannot be in the future.")
    if visit == BASELINE:
        if randomized is not None and completed > randomized:
            problems.append(
                "A baseline questionnaire is completed on or before randomization "
                f"({shown(randomized)})."
            )
        elif first_dose is not None and completed > first_dose:
            problems.append(
                "A baseline questionnaire is completed before the first dose "
                f"({shown(first_dose)})."
            )
    elif randomized is None:
        problems.append("Only the baseline questionnaire comes before randomization.")
    elif completed <= randomized:
        problems.append(f"Visit questionnaires follow randomization ({shown(randomized)}).")
    order = visit_order(visit)
    if randomized is not None and visit not in (BASELINE, END_OF_TREATMENT):
        opens = randomized + timedelta(days=VISIT_INTERVAL_DAYS * order - VISIT_WINDOW_DAYS)
        if completed < opens:
            problems.append(f"{visit_name(visit)} is due from {shown(opens)}.")
    for other, other_date in others:
        if visit_order(other) < order and other_date >= completed:
            problems.append(
                f"Must come after the {visit_name(other)} questionnaire ({shown(other_date)})."
            )
        elif visit_order(other) > order and other_date <= completed:
            problems.append(
                f"Must come before the {visit_name(other)} questionnaire ({shown(other_date)})."
            )
    if visit == END_OF_TREATMENT:
        if end_of_treatment is None:
            problems.append("Record the end of treatment first.")
        elif completed < end_of_treatment:
            problems.append(f"Before the end of treatment ({shown(end_of_treatment)}).")
    return problems


def change_from_baseline(
    baseline: Mapping[str, float | None] | None, scores: Mapping[str, float | None]
) -> dict[str, float | None]:
    """Score minus baseline score, per scale (None where either is missing)."""
    baseline = baseline or {}
    return {
        code: None if value is None or baseline.get(code) is None else value - baseline[code]
        for code, value in scores.items()
    }
