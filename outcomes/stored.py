"""How a run's results are kept (pure, no Django): the summary with the run, each patient's part
as a row of its own (outcomes.models.PatientResult). Runs stored before the rows kept one
document with everything (the per-patient parts under PER_PATIENT); both read the same.

The per-patient parts, in the document's shape:
- `adtte`, `responses`: lists of rows, patient after patient in key order;
- `subjects`, `qol`, `arm_codes`: patient key -> subject facts, scores, arm code.

A row keeps a patient's rows and scores packed (`pack`, `pack_scores`): the keys of rows of one
shape written once, and what all of them share (an ADTTE row's study, patient, arm, unit, start
and cut-off), a questionnaire's date once for every scale; about a third of the JSON to write
and read. `unpack` and `unpack_scores` give back exactly what was packed; rows stored unpacked
read as they are.
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


PACKED = "packed"  # the key that tells a packed value from rows or scores stored as they are


def pack(rows: list[dict]) -> list[dict] | dict:
    """Rows of one shape (the same keys in the same order) as {packed: the keys, same: the
    values every row shares, rows: each row's other values in key order}; rows of differing
    shapes, or fewer than two, as they are. A value is shared only if every row has it with
    the same type (1, 1.0 and True are equal in Python, not in JSON)."""
    if len(rows) < 2:
        return rows
    keys = list(rows[0])
    if any(len(row) != len(keys) or list(row) != keys for row in rows):
        return rows
    columns = list(zip(*(row.values() for row in rows), strict=True))
    shared = [
        column.count(column[0]) == len(column) and len(set(map(type, column))) == 1
        for column in columns
    ]
    varying = [column for column, same in zip(columns, shared, strict=True) if not same]
    return {
        PACKED: keys,
        "same": {k: c[0] for k, c, same in zip(keys, columns, shared, strict=True) if same},
        "rows": [list(values) for values in zip(*varying, strict=True)]
        if varying
        else [[] for _ in rows],  # identical rows: each row has nothing of its own
    }


def unpack(value: list[dict] | dict) -> list[dict]:
    """The rows `pack` was given."""
    if not isinstance(value, dict):
        return value
    keys, same = value[PACKED], value["same"]
    varying = [k for k in keys if k not in same]
    found = []
    for values in value["rows"]:
        own = dict(zip(varying, values, strict=True))
        found.append({k: same[k] if k in same else own[k] for k in keys})
    return found


def pack_scores(scores: Mapping) -> dict | None:
    """A patient's QLQ-C30 scores (scale code -> (date, score) pairs, endpoints.Patient.qol)
    as {packed: the dates as ISO text, scores: code -> the scores on those dates} when every
    scale has the same dates (each questionnaire scores them all); None otherwise (then kept
    as outcomes/adam.qol_results gives them) or when there are none."""
    if not scores:
        return None
    days = [day for day, _ in next(iter(scores.values()))]
    if any(len(values) != len(days) for values in scores.values()):
        return None
    if any(day != days[i] for values in scores.values() for i, (day, _) in enumerate(values)):
        return None
    return {
        PACKED: [day.isoformat() for day in days],
        "scores": {code: [value for _, value in values] for code, values in scores.items()},
    }


def unpack_scores(value: dict | None) -> dict | None:
    """Scale code -> [ISO date, score], as outcomes/adam.qol_results gives them."""
    if not value or PACKED not in value:
        return value
    days = value[PACKED]
    return {
        code: [[day, score] for day, score in zip(days, scores, strict=True)]
        for code, scores in value["scores"].items()
    }
