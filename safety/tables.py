"""Safety tables by arm (pure, no Django): who had what, counted once per patient.

Conventions (ICH E3 section 12.2; the usual treatment-emergent adverse event tables):
- The safety population is every randomized patient who received at least one dose of any study
  treatment, counted in the arm they were randomized to. Percentages are of that population.
- Only treatment-emergent events count (onset on or after the first dose).
- A patient counts once in each row, at the worst grade they had for that term (or SOC).
- "Leading to discontinuation": a study drug was withdrawn because of the event. "Fatal": grade 5.
- Infusion-related reactions and cytokine release syndrome are the iNKT cells' own risks: shown
  for the arm that receives them, with the number of events too.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

GRADES = (1, 2, 3, 4, 5)
INFUSION_TERMS = ("Infusion related reaction", "Cytokine release syndrome")
SUMMARY_ROWS = (
    ("any", "Any adverse event"),
    ("grade3", "Grade 3 or higher"),
    ("serious", "Serious"),
    ("discontinuation", "Leading to discontinuation"),
    ("fatal", "Fatal (grade 5)"),
)


@dataclass(frozen=True)
class Event:
    patient: str
    soc: str
    term: str
    grade: int
    serious: bool = False
    discontinuation: bool = False


@dataclass
class Count:
    """Patients in one row of one arm: how many, and how many at each worst grade."""

    patients: int = 0
    by_worst_grade: dict[int, int] = field(default_factory=lambda: dict.fromkeys(GRADES, 0))
    events: int = 0

    @property
    def grade3(self) -> int:
        return sum(self.by_worst_grade[g] for g in GRADES if g >= 3)


@dataclass(frozen=True)
class Row:
    soc: str
    term: str  # "" for the SOC's own row
    counts: dict[str, Count]


@dataclass(frozen=True)
class Table:
    arms: tuple[str, ...]
    population: dict[str, int]
    summary: list[tuple[str, str, dict[str, int]]]  # key, label, patients per arm
    rows: list[Row]  # SOC row, then its terms, SOCs and terms alphabetical
    infusion: list[Row]  # the infusion arm's IRR and CRS rows (empty when not shown)
    infusion_arm: str | None


def percent(count: int, population: int) -> float | None:
    return None if population == 0 else round(100 * count / population, 1)


def _count(events: list[Event]) -> Count:
    worst: dict[str, int] = {}
    for event in events:
        worst[event.patient] = max(worst.get(event.patient, 0), event.grade)
    count = Count(patients=len(worst), events=len(events))
    for grade in worst.values():
        count.by_worst_grade[grade] += 1
    return count


def _row(soc, term, events_by_arm: dict[str, list[Event]], arms) -> Row:
    return Row(soc, term, {arm: _count(events_by_arm.get(arm, [])) for arm in arms})


def safety_table(
    population: dict[str, str],
    events: Iterable[Event],
    *,
    arms: Sequence[str],
    infusion_arm: str | None = None,
    hidden_terms: Sequence[str] = (),
) -> Table:
    """`population`: patient -> arm, the safety population only; `events`: treatment-emergent
    events (events of patients outside the population are ignored). `infusion_arm`: the arm whose
    IRR/CRS rows are shown (None: not shown). `hidden_terms`: terms left out of the SOC and term
    rows (for a masked reader, the iNKT cells' own reactions would name the arm); they still
    count in the summary."""
    arms = tuple(arms)
    unknown = sorted({arm for arm in population.values()} - set(arms))
    if unknown:
        raise ValueError(f"patients in arms not in the table: {', '.join(unknown)}")
    events = [e for e in events if e.patient in population]
    bad = [e for e in events if e.grade not in GRADES]
    if bad:
        raise ValueError(f"grade {bad[0].grade} is not a CTCAE grade")
    n = {arm: sum(1 for a in population.values() if a == arm) for arm in arms}

    def patients(keep) -> dict[str, int]:
        hit = {e.patient for e in events if keep(e)}
        return {arm: sum(1 for p in hit if population[p] == arm) for arm in arms}

    summary = [
        ("any", SUMMARY_ROWS[0][1], patients(lambda e: True)),
        ("grade3", SUMMARY_ROWS[1][1], patients(lambda e: e.grade >= 3)),
        ("serious", SUMMARY_ROWS[2][1], patients(lambda e: e.serious)),
        ("discontinuation", SUMMARY_ROWS[3][1], patients(lambda e: e.discontinuation)),
        ("fatal", SUMMARY_ROWS[4][1], patients(lambda e: e.grade == 5)),
    ]
    by_soc: dict[str, dict[str, list[Event]]] = defaultdict(lambda: defaultdict(list))
    by_term: dict[tuple[str, str], dict[str, list[Event]]] = defaultdict(lambda: defaultdict(list))
    for event in events:
        if event.term in hidden_terms:
            continue
        arm = population[event.patient]
        by_soc[event.soc][arm].append(event)
        by_term[(event.soc, event.term)][arm].append(event)
    rows = []
    for soc in sorted(by_soc):
        rows.append(_row(soc, "", by_soc[soc], arms))
        for soc_, term in sorted(k for k in by_term if k[0] == soc):
            rows.append(_row(soc_, term, by_term[(soc_, term)], arms))
    infusion = []
    if infusion_arm is not None:
        for term in INFUSION_TERMS:
            mine = [e for e in events if e.term == term and population[e.patient] == infusion_arm]
            soc = mine[0].soc if mine else ""
            infusion.append(Row(soc, term, {infusion_arm: _count(mine)}))
    return Table(arms, n, summary, rows, infusion, infusion_arm)


def csv_rows(table: Table, labels: dict[str, str] | None = None) -> list[list]:
    """The table flattened for a CSV: one line per (section, row, arm), patients and percent,
    then the number of patients at each worst grade."""
    labels = labels or {}
    out: list[list] = [
        [
            "section",
            "soc",
            "term",
            "arm",
            "population",
            "patients",
            "percent",
            *[f"worst_grade_{g}" for g in GRADES],
            "events",
        ]
    ]
    for _key, label, by_arm in table.summary:
        for arm in table.arms:
            n = table.population[arm]
            out.append(
                [
                    "summary",
                    "",
                    label,
                    labels.get(arm, arm),
                    n,
                    by_arm[arm],
                    percent(by_arm[arm], n),
                ]
                + [""] * (len(GRADES) + 1)
            )
    sections = [("by_term", table.rows, table.arms)]
    if table.infusion_arm is not None:
        sections.append(("infusion_reactions", table.infusion, (table.infusion_arm,)))
    for section, rows, arms in sections:
        for row in rows:
            for arm in arms:
                n, count = table.population[arm], row.counts[arm]
                out.append(
                    [
                        section,
                        row.soc,
                        row.term,
                        labels.get(arm, arm),
                        n,
                        count.patients,
                        percent(count.patients, n),
                        *[count.by_worst_grade[g] for g in GRADES],
                        count.events,
                    ]
                )
    return out
