"""The chain of identity of an autologous iNKT cell product: its release specification and the
bedside check before an infusion.

Pure module (no Django). Release tests and their criteria:
- Sterility: no growth (Ph. Eur. 2.6.27 "Microbiological examination of cell-based
  preparations"; USP <71>): entered as pass/fail.
- Mycoplasma: negative (Ph. Eur. 2.6.7): entered as pass/fail.
- Bacterial endotoxins: the limit is K/M with K = 5 EU per kg body weight for any parenteral
  route other than intrathecal (USP <85>, Ph. Eur. 5.1.10; FDA Guidance for Industry "Pyrogen
  and Endotoxins Testing: Questions and Answers", 2012), M the maximum dose per kg given within
  one hour. The result is entered in EU/mL; the whole bag is taken as infused within the hour,
  so the endotoxin dose is EU/mL x bag volume (mL) / body weight (kg), which must not exceed
  5 EU/kg.
- Viability: at least 70 % (FDA Guidance for FDA Reviewers and Sponsors: Content and Review of
  CMC Information for Human Somatic Cell Therapy INDs, 2008: a lower limit of 70 % viable cells
  is commonly expected; summarised in World J Med Genet 2015;5:1-13, table 3).
- iNKT purity: % of CD3+ cells that are Va24+ Vb11+ (or 6B11+), at least
  protocol.INKT_PURITY_MIN_PERCENT (a product-owner setting: NCT05962450 states none).
- Cell count: the bag holds at least the course's computed dose (dosing.rules.cell_dose);
  checked at the bedside, where the dose of the day is known.
A batch is releasable when every test is recorded and passes and it has not expired.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import NamedTuple

from dosing import protocol

ENDOTOXIN_K_EU_PER_KG = Decimal(5)  # USP <85> / Ph. Eur. 5.1.10, non-intrathecal routes
VIABILITY_MIN_PERCENT = Decimal(70)  # FDA CMC guidance for somatic cell therapy INDs (2008)


class Assay(StrEnum):
    STERILITY = "sterility"
    MYCOPLASMA = "mycoplasma"
    ENDOTOXIN = "endotoxin"
    VIABILITY = "viability"
    PURITY = "inkt_purity"


ASSAY_LABELS = {
    Assay.STERILITY: "Sterility (no growth)",
    Assay.MYCOPLASMA: "Mycoplasma (negative)",
    Assay.ENDOTOXIN: "Endotoxin (EU/mL)",
    Assay.VIABILITY: "Viability (%)",
    Assay.PURITY: "iNKT purity (% of CD3+)",
}
CRITERIA = {
    Assay.STERILITY: "no growth",
    Assay.MYCOPLASMA: "negative",
    Assay.ENDOTOXIN: f"≤ {ENDOTOXIN_K_EU_PER_KG} EU/kg (EU/mL × bag mL / body weight)",
    Assay.VIABILITY: f"≥ {VIABILITY_MIN_PERCENT} %",
    Assay.PURITY: f"≥ {protocol.INKT_PURITY_MIN_PERCENT} % (trial setting)",
}
PASS_FAIL_ASSAYS = (Assay.STERILITY, Assay.MYCOPLASMA)  # entered as pass/fail
UNITS = {Assay.ENDOTOXIN: "EU/mL", Assay.VIABILITY: "%", Assay.PURITY: "%"}


@dataclass(frozen=True)
class AssayResult:
    assay: Assay | str
    passed: bool | None = None  # the pass/fail tests
    value: Decimal | None = None  # the measured ones, in UNITS


def endotoxin_eu_per_kg(*, eu_per_ml, volume_ml, weight_kg) -> Decimal:
    """The endotoxin dose of the whole bag per kg of body weight."""
    weight = Decimal(str(weight_kg))
    if weight <= 0:
        raise ValueError("the weight must be positive")
    return (Decimal(str(eu_per_ml)) * Decimal(str(volume_ml)) / weight).quantize(Decimal("0.01"))


def assay_problem(
    result: AssayResult, *, volume_ml=None, weight_kg=None, purity_min=None
) -> str | None:
    """Why one release test fails (None: it passes)."""
    test = Assay(result.assay)
    label = ASSAY_LABELS[test].split(" (")[0]
    if test in PASS_FAIL_ASSAYS:
        if result.passed is None:
            return f"{label}: no result."
        return None if result.passed else f"{label} failed ({_CRITERION[test]})."
    if result.value is None:
        return f"{label}: no value."
    value = Decimal(str(result.value))
    if test is Assay.ENDOTOXIN:
        if volume_ml is None or weight_kg is None:
            return "Endotoxin: the bag volume and the patient's weight are needed to judge it."
        dose = endotoxin_eu_per_kg(eu_per_ml=value, volume_ml=volume_ml, weight_kg=weight_kg)
        if dose > ENDOTOXIN_K_EU_PER_KG:
            return (
                f"Endotoxin {value} EU/mL x {volume_ml} mL / {weight_kg} kg = {dose} EU/kg, "
                f"above the limit of {ENDOTOXIN_K_EU_PER_KG} EU/kg."
            )
        return None
    if test is Assay.VIABILITY:
        if value < VIABILITY_MIN_PERCENT:
            return f"Viability {value} % is below {VIABILITY_MIN_PERCENT} %."
        return None
    minimum = Decimal(str(protocol.INKT_PURITY_MIN_PERCENT if purity_min is None else purity_min))
    if value < minimum:
        return f"iNKT purity {value} % is below {minimum} %."
    return None


_CRITERION = {Assay.STERILITY: "growth detected", Assay.MYCOPLASMA: "mycoplasma detected"}


def passes(result: AssayResult, **judge) -> bool:
    return assay_problem(result, **judge) is None


def release_problems(
    results: list[AssayResult],
    *,
    expires_at: datetime,
    at: datetime,
    volume_ml=None,
    weight_kg=None,
    purity_min=None,
) -> list[str]:
    """Why a batch may not be released at `at` (empty: releasable): a test missing or failed,
    or the product expired."""
    by_test = {Assay(r.assay): r for r in results}
    problems = []
    for test in Assay:
        if test not in by_test:
            problems.append(f"{ASSAY_LABELS[test].split(' (')[0]}: not tested.")
            continue
        problem = assay_problem(
            by_test[test], volume_ml=volume_ml, weight_kg=weight_kg, purity_min=purity_min
        )
        if problem:
            problems.append(problem)
    if at >= expires_at:
        problems.append(f"The batch expired on {expires_at:%Y-%m-%d %H:%M}.")
    return problems


@dataclass(frozen=True)
class BagLabel:
    """What the bag's label says, scanned or typed at the bedside."""

    study_id: str
    date_of_birth: date | None
    batch_number: str


@dataclass(frozen=True)
class BatchState:
    """A recorded batch as the bedside check needs it."""

    batch_number: str
    study_id: str  # the patient whose apheresis it was made from
    released_at: datetime | None
    expires_at: datetime
    cells_total: int
    release_problems: tuple[str, ...] = ()  # from release_problems, at the infusion time
    infused_in_course: int | None = None  # a course of the patient already given from it


class Mismatch(NamedTuple):
    field: str  # the form field the refusal concerns
    text: str


def _same(a: str, b: str) -> bool:
    return (a or "").strip().upper() == (b or "").strip().upper()


def bedside_mismatches(
    *,
    label: BagLabel,
    study_id: str,
    date_of_birth: date,
    batch: BatchState | None,
    infused_at: datetime,
    computed_dose_cells: int | None,
    cells_infused: int | None = None,
) -> list[Mismatch]:
    """Everything that forbids infusing this bag into this patient now (empty: the check
    passes). The label's study ID and date of birth must be the patient's; its batch must be a
    batch of this patient, released before the infusion, still passing its release tests,
    not expired, not already infused, holding at least the computed dose."""
    found = []
    if not _same(label.study_id, study_id):
        found.append(
            Mismatch(
                "bag_study_id",
                f"The bag is labelled for {label.study_id.strip() or '(no study ID)'}, "
                f"not for this patient ({study_id}).",
            )
        )
    if label.date_of_birth != date_of_birth:
        found.append(
            Mismatch(
                "bag_date_of_birth",
                "The date of birth on the bag is not the patient's (screening record).",
            )
        )
    number = label.batch_number.strip()
    if batch is None:
        found.append(Mismatch("batch_number", f"No batch {number or '(none)'} is recorded."))
        return found
    if not _same(batch.study_id, study_id):
        found.append(
            Mismatch(
                "batch_number",
                f"Batch {batch.batch_number} was made from another patient's apheresis.",
            )
        )
        return found
    if batch.released_at is None:
        found.append(Mismatch("batch_number", f"Batch {batch.batch_number} is not released."))
    elif batch.released_at > infused_at:
        found.append(
            Mismatch(
                "batch_number",
                f"Batch {batch.batch_number} was released on "
                f"{batch.released_at:%Y-%m-%d %H:%M}, after the infusion.",
            )
        )
    if infused_at >= batch.expires_at:
        found.append(
            Mismatch(
                "batch_number",
                f"Batch {batch.batch_number} expired on {batch.expires_at:%Y-%m-%d %H:%M}, "
                "before the infusion.",
            )
        )
    found += [
        Mismatch("batch_number", f"Batch {batch.batch_number}: {problem}")
        for problem in batch.release_problems
        if "expired" not in problem  # said above, against the infusion time
    ]
    if batch.infused_in_course is not None:
        found.append(
            Mismatch(
                "batch_number",
                f"Batch {batch.batch_number} was already infused (course "
                f"{batch.infused_in_course}).",
            )
        )
    if computed_dose_cells is not None and computed_dose_cells > batch.cells_total:
        found.append(
            Mismatch(
                "batch_number",
                f"The bag holds {batch.cells_total:,} cells, fewer than the computed dose "
                f"({computed_dose_cells:,}).",
            )
        )
    if cells_infused is not None and cells_infused > batch.cells_total:
        found.append(
            Mismatch(
                "cells_infused",
                f"More cells infused ({cells_infused:,}) than the bag holds "
                f"({batch.cells_total:,}).",
            )
        )
    return found
