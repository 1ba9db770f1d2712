"""The DSMB report's tables from a stored endpoint run and the counts read at its cut-off (pure,
no Django): what a Data Safety Monitoring Board reads, in two sessions.

Conventions (FDA, Guidance for Clinical Trial Sponsors: Establishment and Operation of Clinical
Trial Data Monitoring Committees, 2006, section 4.3; DAMOCLES Study Group, Lancet 2005;365:711):
- The **open session** (sponsor, investigators, a masked statistician) shows the trial as a whole
  and by masked arm codes only: nothing in it may tell which code is which arm. The iNKT cells
  are given in one arm only, so their exposure and their own reactions (infusion-related
  reaction, cytokine release syndrome) are left out of it (safety.tables.INFUSION_TERMS).
- The **closed session** (the board and its unmasked statistician) names the arms.
- Every page carries the run, its data cut-off and whether the data were locked.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from safety import tables

OPEN, CLOSED = "open", "closed"
SESSIONS = {
    OPEN: "Open session (masked arm codes)",
    CLOSED: "Closed session (arms named)",
}

INKT, PD1, REGORAFENIB = "inkt", "pd1", "regorafenib"
DRUGS = {
    INKT: "iNKT cells (courses given)",
    PD1: "PD-1 antibody (administrations and periods)",
    REGORAFENIB: "Regorafenib (administrations and periods)",
}


class ReportRefused(ValueError):
    """This report cannot be made (a session that would unmask, a run without results)."""


def session_of(value: str | None) -> str:
    value = (value or OPEN).strip().lower()
    if value not in SESSIONS:
        raise ReportRefused(f"No session {value!r}: open or closed.")
    return value


def lock_status(data_lock: dict | None) -> str:
    """The run's data lock (EndpointRun.data_lock) in one line, for every page."""
    if not data_lock:
        return "Data lock status not recorded (run made before locks were recorded)"
    if data_lock.get("locked"):
        locks = ", ".join(str(lock) for lock in data_lock.get("locks", []))
        return f"Data locked (database lock {locks})" if locks else "Data locked"
    return (
        f"Data NOT locked: {data_lock.get('unlocked', '?')} of {data_lock.get('patients', '?')} "
        "patients' records not frozen"
    )


def css_string(text: str) -> str:
    """`text` as a CSS string literal (quoted), for a page's margin boxes."""
    escaped = "".join(
        "\\" + ch if ch in '"\\' else (" " if ch in "\n\r\f" else ch) for ch in str(text)
    )
    return f'"{escaped}"'


def masking_holds(labels: dict[str, str], arms: Iterable[str]) -> bool:
    """Whether the masked labels say nothing of the arms: an uncoded sequence carries the arm
    names in its slots, and an open session cannot be made from it."""
    names = set(arms)
    return not any(label in names for label in labels.values())


# Exposure --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Dose:
    """One patient's exposure to one drug up to the cut-off: records (iNKT: courses given),
    and for the iNKT cells the cells infused."""

    patient: str
    drug: str
    records: int
    cells: int = 0


@dataclass(frozen=True)
class ExposureRow:
    drug: str
    label: str
    by_arm: dict[str, dict]  # arm label -> exposed, percent, records, median, low, high[, cells]


def exposure(
    population: dict[str, str],
    doses: Iterable[Dose],
    *,
    arms: Sequence[str],
    drugs: Sequence[str] = (PD1, REGORAFENIB),
) -> list[ExposureRow]:
    """Per drug and arm: patients exposed (percent of the arm's randomized patients), records
    in all, median (range) per exposed patient; for the iNKT cells the median cumulative cells.
    `population`: patient -> arm label, every randomized patient of the run."""
    n = {arm: sum(1 for a in population.values() if a == arm) for arm in arms}
    found: dict[tuple[str, str], list[Dose]] = {}
    for dose in doses:
        if dose.patient in population and dose.drug in drugs and dose.records > 0:
            found.setdefault((dose.drug, population[dose.patient]), []).append(dose)
    out = []
    for drug in drugs:
        by_arm = {}
        for arm in arms:
            given = found.get((drug, arm), [])
            counts = [d.records for d in given]
            cell = {
                "randomized": n[arm],
                "exposed": len(given),
                "percent": tables.percent(len(given), n[arm]),
                "records": sum(counts),
                "median": statistics.median(counts) if counts else None,
                "low": min(counts) if counts else None,
                "high": max(counts) if counts else None,
            }
            if drug == INKT:
                cells = [d.cells for d in given]
                cell["median_cells"] = statistics.median(cells) if cells else None
                cell["median_cells_shown"] = cells_shown(cell["median_cells"])
            by_arm[arm] = cell
        out.append(ExposureRow(drug, DRUGS[drug], by_arm))
    return out


def cells_shown(cells: float | None) -> str:
    """A number of cells as the protocol writes doses: 4.6 × 10^9."""
    if not cells:
        return ""
    mantissa, exponent = f"{cells:.1e}".split("e")
    return f"{mantissa} × 10^{int(exponent)}"


# Deaths ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Death:
    patient: str
    arm: str
    date: str  # ISO, as the run stores it
    day: int  # days since randomization (OS AVAL)
    cause: str = ""
    fatal_events: tuple[str, ...] = ()


def deaths(
    results: dict,
    labels: dict[str, str],
    *,
    causes: dict[str, str] | None = None,
    fatal_events: dict[str, Sequence[str]] | None = None,
    hidden_terms: Sequence[str] = (),
) -> list[Death]:
    """The deaths up to the cut-off as the run counted them (the OS events of its ADTTE), by
    arm label, earliest first. `causes` and `fatal_events` (patient -> the cause recorded, the
    terms of their grade-5 adverse events) are added where given; terms in `hidden_terms` are
    left out (the open session)."""
    causes, fatal_events = causes or {}, fatal_events or {}
    found = [
        Death(
            patient=row["USUBJID"],
            arm=labels[row["ARM"]],
            date=row["ADT"],
            day=int(round(row["AVAL"])),
            cause=causes.get(row["USUBJID"], ""),
            fatal_events=tuple(
                t for t in fatal_events.get(row["USUBJID"], ()) if t not in hidden_terms
            ),
        )
        for row in results["adtte"]
        if row["PARAMCD"] == "OS" and row["CNSR"] == 0
    ]
    return sorted(found, key=lambda d: (d.date, d.patient))


def deaths_by_arm(found: Iterable[Death], arms: Sequence[str]) -> dict[str, int]:
    counted = dict.fromkeys(arms, 0)
    for death in found:
        counted[death.arm] = counted.get(death.arm, 0) + 1
    return counted


# Adverse events --------------------------------------------------------------------------------


def ae_summary(table: tables.Table) -> list[tuple[str, list[tuple[int, float | None]]]]:
    """The summary rows (any, grade 3 or more, serious, discontinuation, fatal): label, then
    per arm (patients, percent of the safety population)."""
    return [
        (
            label,
            [
                (by_arm[arm], tables.percent(by_arm[arm], table.population[arm]))
                for arm in table.arms
            ],
        )
        for _key, label, by_arm in table.summary
    ]


def ae_rows(table: tables.Table, rows: Sequence[tables.Row] | None = None) -> list[dict]:
    """SOC and term rows by arm: patients (percent) and the patients at each worst CTCAE
    grade."""
    rows = table.rows if rows is None else rows
    arms = [arm for arm in table.arms if rows and arm in rows[0].counts] if rows else table.arms
    return [
        {
            "soc": row.soc,
            "term": row.term,
            "arms": [
                {
                    "patients": row.counts[arm].patients,
                    "percent": tables.percent(row.counts[arm].patients, table.population[arm]),
                    "grades": [row.counts[arm].by_worst_grade[g] for g in tables.GRADES],
                    "events": row.counts[arm].events,
                }
                for arm in arms
            ],
        }
        for row in rows
    ]


def serious_only(events: Iterable[tables.Event]) -> list[tables.Event]:
    return [e for e in events if e.serious]
