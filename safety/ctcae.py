"""The NCI CTCAE v5.0 term list shipped with the product (data/ctcae_v5.csv, provenance in
data/ctcae_v5.SOURCE.md): reading it and the rules it carries.

Pure module (no Django). Source: National Cancer Institute. Common Terminology Criteria for
Adverse Events (CTCAE) version 5.0, 27 November 2017.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

CSV_PATH = Path(__file__).resolve().parent / "data" / "ctcae_v5.csv"
GRADES = (1, 2, 3, 4, 5)


@dataclass(frozen=True)
class Term:
    meddra_code: int
    soc: str
    term: str
    grades: dict[int, str]  # only the grades CTCAE defines for this term
    definition: str

    @property
    def needs_specification(self) -> bool:
        """ "Other, specify" terms need the event named by the site."""
        return self.term.rstrip().endswith("Other, specify")


def read_terms(path: Path = CSV_PATH) -> list[Term]:
    """Every term of the file; a grade is defined when its cell is neither empty nor "-"."""
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    terms = []
    for row in rows:
        grades = {
            g: row[f"grade{g}"].strip() for g in GRADES if row[f"grade{g}"].strip() not in ("", "-")
        }
        terms.append(
            Term(
                int(row["meddra_code"]),
                row["soc"].strip(),
                row["term"].strip(),
                grades,
                row["definition"].strip(),
            )
        )
    return terms


def grade_allowed(term: Term, grade: int) -> bool:
    return grade in term.grades
