"""The statistician's files from a stored run's results (pure, no Django): ADTTE-style rows,
the response table and the per-arm summary, each as rows for CSV or JSON, with the arm names
or, for a masked reader, the arm codes."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from outcomes import analysis, stored
from outcomes.statistics import HR_DIRECTION, MONTH

TABLES = ("adtte", "responses", "summary")
RATE_MONTHS = ("6", "12", "24")


def months(days):
    """Days as months (days / 30.4375), to 2 decimals; None (not reached) stays None."""
    return None if days is None else round(days / MONTH, 2)


def months_shown(days) -> str:
    """Months as the run page and the plot show them: one decimal of days / 30.4375 (rounded
    once, so that both say the same)."""
    return f"{days / MONTH:.1f}"


def arm_labels(results: Mapping, masked: bool) -> dict[str, str]:
    """Arm -> what this reader sees: the arm itself, or the code its patients' slots carry (an
    uncoded sequence carries the arm names: masking comes from a coded sequence, as everywhere
    in the product)."""
    if not masked:
        return {arm: arm for arm in results["arms"]}
    found = {arm: set(codes) for arm, codes in stored.arm_code_sets(results).items()}
    labels = {}
    for index, arm in enumerate(sorted(results["arms"], key=lambda a: sorted(found.get(a, {"?"})))):
        seen = found.get(arm, set())
        labels[arm] = next(iter(seen)) if len(seen) == 1 else f"masked arm {index + 1}"
    return labels


@dataclass(frozen=True)
class Presentation:
    """The arms as one reader sees them: their labels and order (by label when masked, so that
    the order says nothing), and the comparisons turned to that order."""

    arms: tuple[str, ...]
    labels: dict[str, str]
    stored: tuple[str, ...]  # the order the run computed in: HR and differences are arms[0] vs [1]

    @property
    def reversed(self) -> bool:
        return len(self.arms) == 2 and self.arms != self.stored

    @property
    def comparison(self) -> str:
        return " vs ".join(self.labels[a] for a in self.arms) if len(self.arms) == 2 else ""

    def hazard_ratio(self, value):
        if not value or not self.reversed:
            return value
        hr, lower, upper = value
        return [round(1 / hr, 6), round(1 / upper, 6), round(1 / lower, 6)]

    def difference(self, value):
        if not value or not self.reversed or value[0] is None:
            return value
        d, lower, upper = value
        return [-d, -upper, -lower]

    @property
    def hr_direction(self) -> str:
        """The one wording of the hazard ratio's direction, in this reader's labels and order:
        the page, the plot, the exports and the conventions all say it so."""
        if len(self.arms) != 2:
            return ""
        first, second = (self.labels[a] for a in self.arms)
        return f"HR {first} vs {second} (HR < 1 favours {first})"

    def conventions(self, text: str) -> str:
        if self.labels == {a: a for a in self.stored}:
            return text
        direction = self.hr_direction or "HR of the first arm listed vs the second"
        # runs stored before the direction was spelled out said only "Cox HR RPI vs RP"
        return text.replace(HR_DIRECTION, direction).replace("HR RPI vs RP", direction)


def presentation(results: dict, masked: bool) -> Presentation:
    labels = arm_labels(results, masked)
    stored = tuple(results["arms"])
    arms = tuple(sorted(stored, key=lambda a: labels[a])) if masked else stored
    return Presentation(arms, labels, stored)


def _fmt(value):
    return "NR" if value is None else value


def rows(results: Mapping, table: str, *, masked: bool, meta: dict) -> list[dict]:
    return list(each_row(results, table, masked=masked, meta=meta))


def each_row(
    results: Mapping,
    table: str,
    *,
    masked: bool,
    meta: dict,
    source: Iterable[dict] | None = None,
) -> Iterator[dict]:
    """The table's rows one at a time; `source`: the stored ADTTE or response rows when they
    are not in `results` (streamed from the run's rows, outcomes/run_results.py)."""
    view = presentation(results, masked)
    labels = view.labels
    stamp = {
        "DCUTDT": results["cutoff"],
        "COMPDTM": meta["computed_at"],
        "SOFTVER": meta["software_version"],
    }
    if table not in TABLES:
        raise ValueError(f"no table {table!r}: {', '.join(TABLES)}")
    if table == "summary":
        yield from summary_rows(results, view, stamp)
        return
    for row in results[table] if source is None else source:
        if table == "adtte":  # the ADaM order, however the row was kept (jsonb sorts keys)
            ordered = {key: row[key] for key in analysis.ADTTE_COLUMNS if key in row}
            yield {**ordered, **row, "ARM": labels[row["ARM"]], **stamp}
        else:
            yield {
                "USUBJID": row["USUBJID"],
                "ARM": labels[row["ARM"]],
                "CRITERION": row["CRITERION"],
                "TIMEPOINT": "BEST" if row.get("BEST") else row["ADT"],
                "NOTE": _response_note(row),
                "RESPONSE": row["RESPONSE"],
                **stamp,
            }


def _response_note(row: dict) -> str:
    if row.get("UNCONFIRMED"):
        return "unconfirmed at the last scan"
    if row.get("OUTSIDE_BOR"):
        return "after a new anticancer therapy or 24 months: not counted for best response"
    return ""


def summary_rows(results: dict, view: Presentation, stamp: dict) -> list[dict]:
    out = []
    arms, labels, comparison = view.arms, view.labels, view.comparison
    for criterion, entry in results["summary"]["response"].items():
        for measure in ("ORR", "DCR"):
            diff = view.difference(entry.get(f"{measure}_difference")) or [None, None, None]
            for arm in arms:
                p = entry[measure][arm]
                out.append(
                    {
                        "PARAMCD": f"{measure}_{criterion}",
                        "ARM": labels[arm],
                        "N": p["n"],
                        "COUNT": p["k"],
                        "ESTIMATE": p["rate"],
                        "LOWER95": p["lower"],
                        "UPPER95": p["upper"],
                        "COMPARISON": comparison,
                        "DIFFERENCE": diff[0],
                        "DIFF_LOWER95": diff[1],
                        "DIFF_UPPER95": diff[2],
                        **stamp,
                    }
                )
    for param, entry in results["summary"]["survival"].items():
        hr = view.hazard_ratio(entry.get("hazard_ratio")) or [None, None, None]
        for arm in arms:
            km = entry["arms"][arm]
            row = {
                "PARAMCD": param,
                "ARM": labels[arm],
                "N": km["patients"],
                "EVENTS": km["events"],
                "MEDIAN_DAYS": _fmt(km["median"]),
                "MEDIAN_LOWER95": _fmt(km["median_lower"]),
                "MEDIAN_UPPER95": _fmt(km["median_upper"]),
                "MEDIAN_MONTHS": _fmt(months(km["median"])),
                "MEDIAN_MONTHS_LOWER95": _fmt(months(km["median_lower"])),
                "MEDIAN_MONTHS_UPPER95": _fmt(months(km["median_upper"])),
            }
            for mark in RATE_MONTHS:
                rate = km["rates"].get(mark, [None, None, None])
                row[f"KM_{mark}M"] = rate[0]
                row[f"KM_{mark}M_LOWER95"] = rate[1]
                row[f"KM_{mark}M_UPPER95"] = rate[2]
            row.update(
                {
                    "LOGRANK_P": entry.get("logrank_p"),
                    "COMPARISON": comparison,
                    "HR_DIRECTION": view.hr_direction,
                    "HR": hr[0],
                    "HR_LOWER95": hr[1],
                    "HR_UPPER95": hr[2],
                    **stamp,
                }
            )
            out.append(row)
    for arm in arms:
        rate = results["summary"]["os_1_year"].get(arm, [None, None, None])
        out.append(
            {
                "PARAMCD": "OS1Y",
                "ARM": labels[arm],
                "ESTIMATE": rate[0],
                "LOWER95": rate[1],
                "UPPER95": rate[2],
                **stamp,
            }
        )
    return out


def csv_chunks(table_rows: Iterable[dict], *, batch: int = 1000) -> Iterator[str]:
    """CSV text in pieces, for rows that all have the first row's columns (an ADTTE or
    response export): the same text as to_csv, without holding the rows."""
    out = io.StringIO()
    writer = None
    for index, row in enumerate(table_rows):
        if writer is None:
            writer = csv.DictWriter(out, fieldnames=list(row), lineterminator="\n", restval="")
            writer.writeheader()
        writer.writerow(row)  # a column the first row lacks is an error, never a lost value
        if index % batch == batch - 1:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    if writer is None:
        yield to_csv([])
        return
    yield out.getvalue()


def json_chunks(head: dict, table_rows: Iterable[dict], dumps, *, batch: int = 1000):
    """The JSON text of {**head, "rows": [...]} in pieces (dumps: the encoder of the whole), so
    that a long table is never one string."""
    opening = dumps(head)
    yield (opening[:-1] + ", " if head else "{") + '"rows": ['
    pieces = []
    for index, row in enumerate(table_rows):
        pieces.append((", " if index else "") + dumps(row))
        if len(pieces) >= batch:
            yield "".join(pieces)
            pieces = []
    yield "".join(pieces) + "]}"


def to_csv(table_rows: list[dict]) -> str:
    header: list[str] = []
    for row in table_rows:
        header += [key for key in row if key not in header]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, lineterminator="\n", restval="")
    writer.writeheader()
    writer.writerows(table_rows)
    return out.getvalue()
