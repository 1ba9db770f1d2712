"""Expectedness, SUSAR and the expedited-report clocks (pure, no Django).

Sources:
- ICH E2A (Clinical Safety Data Management: Definitions and Standards for Expedited Reporting,
  1994): an adverse reaction is "unexpected" when its nature or severity is not consistent with
  the applicable product information (for an investigational product, the investigator's
  brochure); a suspected reaction is one with a reasonable possibility of a causal relationship.
  Fatal or life-threatening unexpected reactions are reported "as soon as possible but no later
  than 7 calendar days after first knowledge by the sponsor, followed by as complete a report as
  possible within 8 additional calendar days"; other serious unexpected reactions "as soon as
  possible but no later than 15 calendar days".
- Regulation (EU) No 536/2014, article 42 (same 7 and 15 days) and 21 CFR 312.32(c) (15 days for
  an IND safety report, 7 for an unexpected fatal or life-threatening suspected reaction).

Here: day 0 is the day the site (in this investigator-initiated trial, the sponsor) became aware
of the serious event (`awareness_at`): the earliest possible start, so never late by our count.
SUSAR = serious + suspected (possible, probable or definite relationship to at least one study
drug) + unexpected for a suspected drug (the investigator's expectedness for that drug).

The reference safety information (RSI) below is the trial's short list per drug, in CTCAE v5.0
terms (checked against safety/data/ctcae_v5.csv by the tests): it lets the system *propose*
"expected"; the investigator decides. It is not a substitute for the current investigator's
brochure or label, which a sponsor reviews yearly.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

DRUGS = ("inkt", "pd1", "regorafenib")
DRUG_NAMES = {"inkt": "iNKT cells", "pd1": "PD-1 antibody", "regorafenib": "regorafenib"}
SUSPECTED = ("possible", "probable", "definite")
EXPECTEDNESS = ("not_assessed", "expected", "unexpected", "not_applicable")

FATAL_OR_LIFE_THREATENING_DAYS = 7
FOLLOW_UP_DAYS = 8  # "within 8 additional calendar days" (ICH E2A), from the initial report
OTHER_SUSAR_DAYS = 15

# The RSI: CTCAE term -> the specification keywords that match an "Other, specify" term (empty:
# the term itself is listed).
_GI_PERFORATIONS = (
    "Colonic perforation",
    "Duodenal perforation",
    "Esophageal perforation",
    "Gastric perforation",
    "Ileal perforation",
    "Jejunal perforation",
    "Rectal perforation",
    "Small intestinal perforation",
    "Gastrointestinal fistula",
)
REFERENCE_SAFETY_INFORMATION: dict[str, dict[str, tuple[str, ...]]] = {
    # The investigator's brochure of the iNKT cell product: the reactions the trial expects
    # after an infusion of immune effector cells.
    "inkt": dict.fromkeys(
        (
            "Cytokine release syndrome",
            "Fever",
            "Chills",
            "Infusion related reaction",
            "Fatigue",
            "Flu like symptoms",
            "Headache",
        ),
        (),
    ),
    # Stivarga (regorafenib) label: warnings (hepatotoxicity, infections, haemorrhage,
    # gastrointestinal perforation or fistula, dermatological toxicity, hypertension, cardiac
    # ischaemia and infarction, RPLS, wound healing complications) and the adverse reactions and
    # laboratory abnormalities of its tables.
    "regorafenib": {
        **dict.fromkeys(
            (
                "Palmar-plantar erythrodysesthesia syndrome",
                "Rash maculo-papular",
                "Hypertension",
                "Diarrhea",
                "Fatigue",
                "Anorexia",
                "Weight loss",
                "Fever",
                "Mucositis oral",
                "Hoarseness",
                "Nausea",
                "Pain",
                "Abdominal pain",
                "Alanine aminotransferase increased",
                "Aspartate aminotransferase increased",
                "Blood bilirubin increased",
                "Hepatic failure",
                "Lipase increased",
                "Serum amylase increased",
                "INR increased",
                "Proteinuria",
                "Hypothyroidism",
                "Anemia",
                "Platelet count decreased",
                "Neutrophil count decreased",
                "Lymphocyte count decreased",
                "Hypocalcemia",
                "Hypophosphatemia",
                "Hyponatremia",
                "Hypokalemia",
                "Lung infection",
                "Upper respiratory infection",
                "Urinary tract infection",
                "Epistaxis",
                "Hematuria",
                "Myocardial infarction",
                "Reversible posterior leukoencephalopathy syndrome",
                "Wound complication",
                "Wound dehiscence",
                *_GI_PERFORATIONS,
            ),
            (),
        ),
        "Hepatobiliary disorders - Other, specify": ("hepatotoxicity", "liver injury"),
    },
    # PD-1 antibody labels (class): immune-mediated adverse reactions and infusion reactions.
    "pd1": {
        **dict.fromkeys(
            (
                "Pneumonitis",
                "Colitis",
                "Diarrhea",
                "Alanine aminotransferase increased",
                "Aspartate aminotransferase increased",
                "Blood bilirubin increased",
                "Hypophysitis",
                "Adrenal insufficiency",
                "Hypothyroidism",
                "Hyperthyroidism",
                "Hyperglycemia",
                "Acute kidney injury",
                "Creatinine increased",
                "Rash maculo-papular",
                "Pruritus",
                "Bullous dermatitis",
                "Erythema multiforme",
                "Stevens-Johnson syndrome",
                "Toxic epidermal necrolysis",
                "Infusion related reaction",
                "Myocarditis",
                "Myositis",
                "Arthritis",
                "Uveitis",
                "Pancreatitis",
                "Guillain-Barre syndrome",
                "Myasthenia gravis",
                "Fatigue",
            ),
            (),
        ),
        "Hepatobiliary disorders - Other, specify": ("hepatitis",),
        "Renal and urinary disorders - Other, specify": ("nephritis",),
        "Endocrine disorders - Other, specify": ("thyroiditis", "diabetes"),
        "Nervous system disorders - Other, specify": ("encephalitis",),
    },
}


def listed(drug: str, term: str, specification: str = "") -> bool:
    """Whether the drug's RSI lists the event (a haemorrhage anywhere for regorafenib)."""
    rsi = REFERENCE_SAFETY_INFORMATION.get(drug, {})
    if drug == "regorafenib" and term.endswith("hemorrhage"):
        return True
    if term not in rsi:
        return False
    keywords = rsi[term]
    text = specification.lower()
    return not keywords or any(word in text for word in keywords)


def suspected_drugs(relationships: dict[str, str]) -> tuple[str, ...]:
    """The drugs with a reasonable possibility of a causal relationship."""
    return tuple(d for d in DRUGS if relationships.get(d) in SUSPECTED)


def proposed_expectedness(drug: str, term: str, specification: str = "") -> str:
    return "expected" if listed(drug, term, specification) else "unexpected"


NOT_SERIOUS, NOT_SUSPECTED, PENDING, EXPECTED, SUSAR = (
    "not_serious",
    "not_suspected",
    "pending",
    "expected",
    "susar",
)
STATUS_LABELS = {
    NOT_SERIOUS: "Not serious",
    NOT_SUSPECTED: "Serious, not suspected of a study drug",
    PENDING: "Serious: causality or expectedness not yet assessed",
    EXPECTED: "Serious, suspected and expected (not a SUSAR)",
    SUSAR: "Suspected unexpected serious adverse reaction",
}


def susar_status(
    *, serious: bool, relationships: dict[str, str], expectedness: dict[str, str]
) -> str:
    """One of NOT_SERIOUS, NOT_SUSPECTED, PENDING, EXPECTED, SUSAR. Unexpected for any suspected
    drug makes a SUSAR, even while another drug's assessment is pending."""
    if not serious:
        return NOT_SERIOUS
    suspects = suspected_drugs(relationships)
    if any(expectedness.get(d) == "unexpected" for d in suspects):
        return SUSAR
    if any(expectedness.get(d) not in ("expected", "unexpected") for d in suspects):
        return PENDING
    if suspects:
        return EXPECTED
    if any(relationships.get(d) == "not_assessed" for d in DRUGS):
        return PENDING
    return NOT_SUSPECTED


@dataclass(frozen=True)
class Clock:
    day0: date
    due: date  # the (initial) expedited report
    follow_up_due: date | None  # fatal or life-threatening: the complete report
    overdue: bool  # the report is missing past its due date, or was sent late
    follow_up_overdue: bool


def report_clock(
    *,
    aware: date,
    fatal_or_life_threatening: bool,
    reported: date | None,
    followed_up: date | None,
    today: date,
) -> Clock:
    """The expedited-report clock of a SUSAR: day 0 = awareness; fatal or life-threatening
    within 7 calendar days, then the complete report within 8 more days (counted from the initial
    report, or from day 7 while none was sent); any other SUSAR within 15 calendar days."""
    if fatal_or_life_threatening:
        due = aware + timedelta(days=FATAL_OR_LIFE_THREATENING_DAYS)
        follow_up_due = min(reported or due, due) + timedelta(days=FOLLOW_UP_DAYS)
    else:
        due = aware + timedelta(days=OTHER_SUSAR_DAYS)
        follow_up_due = None
    overdue = (reported or today) > due
    follow_up_overdue = follow_up_due is not None and (followed_up or today) > follow_up_due
    return Clock(aware, due, follow_up_due, overdue, follow_up_overdue)


def check_reports(
    *,
    susar: bool,
    aware: date | None,
    reported: date | None,
    followed_up: date | None,
    fatal_or_life_threatening: bool,
    narrative: str,
    today: date,
    reported_before: bool = False,
) -> dict[str, list[str]]:
    """The expedited report's dates: only for a SUSAR, not before awareness nor in the future,
    the follow-up after the initial report and only for a fatal or life-threatening one; a
    report carries the SAE narrative. `reported_before`: the event was already reported as a
    SUSAR; a later assessment may downgrade it (the authority is told by a follow-up), and the
    dates of what was sent stay."""
    errors: dict[str, list[str]] = {}

    def add(field, message):
        errors.setdefault(field, []).append(message)

    for field, day in (("susar_report_at", reported), ("susar_follow_up_at", followed_up)):
        if day is None or (reported_before and not susar):
            continue
        if not susar:
            add(field, "Only for a SUSAR (serious, suspected and unexpected).")
            continue
        if aware is not None and day < aware:
            add(field, "Cannot be before the site's awareness of the event.")
        if day > today:
            add(field, "Cannot be in the future.")
    if susar and followed_up is not None:
        if reported is None or followed_up < reported:
            add("susar_follow_up_at", "Comes after the initial expedited report.")
        if not fatal_or_life_threatening:
            add("susar_follow_up_at", "Only a fatal or life-threatening SUSAR has this 8-day step.")
    if susar and reported is not None and not narrative.strip():
        add("narrative", "An expedited report carries the SAE narrative.")
    return errors
