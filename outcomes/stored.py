"""How a run's results are kept (pure, no Django): the summary with the run, each patient's part
as a row of its own (outcomes.models.PatientResult). Runs stored before the rows kept one
document with everything (the per-patient parts under PER_PATIENT); both read the same.

The per-patient parts, in the document's shape:
- `adtte`, `responses`: lists of rows, patient after patient in key order;
- `subjects`, `qol`, `arm_codes`: patient key -> subject facts, scores, arm code.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import NamedTuple

PER_PATIENT = ("adtte", "responses", "subjects", "qol", "arm_codes")


class Part(NamedTuple):
    """One patient's part of a run's results (None: not held, as in older runs)."""

    key: str
    code: str | None
    adtte: list[dict]
    responses: list[dict]
    subject: dict | None
    qol: dict | None


def arms_and_codes(part: Part) -> set[tuple[str, str]]:
    """(arm, the code the patient's slot carries, '?' where unknown) if the patient has ADTTE
    rows: what a masked reader's arm labels are made of (outcomes/exports.arm_labels)."""
    return {(row["ARM"], part.code or "?") for row in part.adtte}


def code_sets(pairs: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    """Arm -> the codes its patients carry, from arms_and_codes of every patient."""
    found: dict[str, set[str]] = {}
    for arm, code in pairs:
        found.setdefault(arm, set()).add(code)
    return {arm: sorted(codes) for arm, codes in sorted(found.items())}


def arm_code_sets(results: Mapping) -> dict[str, list[str]]:
    """Arm -> its patients' codes: kept in the summary, or (a run stored as one document) from
    its ADTTE rows and arm codes."""
    if "arm_code_sets" in results:
        return results["arm_code_sets"]
    return code_sets(pair for part in parts_of(results) for pair in arms_and_codes(part))


def summary_of(document: Mapping) -> dict:
    """The summary of a run stored as one document: all but the per-patient parts, with the
    arm codes' sets the rows' summary carries."""
    summary = {key: value for key, value in document.items() if key not in PER_PATIENT}
    summary["arm_code_sets"] = arm_code_sets(document)
    return summary


def parts_of(document: Mapping) -> Iterator[Part]:
    """A document's per-patient parts, patient by patient in key order (as rows are kept)."""
    adtte, responses = _by_key(document.get("adtte", [])), _by_key(document.get("responses", []))
    subjects, qol = document.get("subjects") or {}, document.get("qol") or {}
    codes = document.get("arm_codes") or {}
    for key in sorted({*adtte, *responses, *subjects, *qol, *codes}):
        yield Part(
            key,
            codes.get(key),
            adtte.get(key, []),
            responses.get(key, []),
            subjects.get(key),
            qol.get(key),
        )


def _by_key(rows: Iterable[dict]) -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = {}
    for row in rows:
        found.setdefault(row["USUBJID"], []).append(row)
    return found


def document(summary: Mapping, parts: Iterable[Part]) -> dict:
    """The results in the one document's shape, from the summary and the patients' parts."""
    adtte, responses, subjects, qol, codes = [], [], {}, {}, {}
    for part in parts:
        adtte += part.adtte
        responses += part.responses
        if part.subject is not None:
            subjects[part.key] = part.subject
        if part.qol is not None:
            qol[part.key] = part.qol
        if part.code is not None:
            codes[part.key] = part.code
    return {
        **summary,
        "adtte": adtte,
        "responses": responses,
        "arm_codes": codes,
        "subjects": subjects,
        "qol": qol,
    }
