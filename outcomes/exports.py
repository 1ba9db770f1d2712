"""The statistician's files from a stored run's results (pure, no Django): ADTTE-style rows,
the response table and the per-arm summary, each as rows for CSV or JSON, with the arm names
or, for a masked reader, the arm codes."""

from __future__ import annotations

import csv
import io

TABLES = ("adtte", "responses", "summary")
RATE_MONTHS = ("6", "12", "24")


def arm_labels(results: dict, masked: bool) -> dict[str, str]:
    """Arm -> what this reader sees: the arm itself, or the code its patients' slots carry."""
    if not masked:
        return {arm: arm for arm in results["arms"]}
    codes = results.get("arm_codes", {})
    found: dict[str, set[str]] = {}
    for row in results["adtte"]:
        found.setdefault(row["ARM"], set()).add(codes.get(row["USUBJID"], "masked"))
    labels = {}
    for index, arm in enumerate(results["arms"]):
        seen = found.get(arm, set())
        code = next(iter(seen)) if len(seen) == 1 else None
        # a code equal to the arm name would unmask it: fall back to an anonymous label
        labels[arm] = code if code and code != arm else f"arm {index + 1}"
    return labels


def _fmt(value):
    return "NR" if value is None else value


def rows(results: dict, table: str, *, masked: bool, meta: dict) -> list[dict]:
    labels = arm_labels(results, masked)
    stamp = {
        "DCUTDT": results["cutoff"],
        "COMPDTM": meta["computed_at"],
        "SOFTVER": meta["software_version"],
    }
    if table == "adtte":
        return [{**row, "ARM": labels[row["ARM"]], **stamp} for row in results["adtte"]]
    if table == "responses":
        return [
            {
                "USUBJID": row["USUBJID"],
                "ARM": labels[row["ARM"]],
                "CRITERION": row["CRITERION"],
                "TIMEPOINT": "BEST" if row.get("BEST") else row["ADT"],
                "NOTE": "unconfirmed at the last scan" if row.get("UNCONFIRMED") else "",
                "RESPONSE": row["RESPONSE"],
                **stamp,
            }
            for row in results["responses"]
        ]
    if table == "summary":
        return summary_rows(results, labels, stamp)
    raise ValueError(f"no table {table!r}: {', '.join(TABLES)}")


def summary_rows(results: dict, labels: dict[str, str], stamp: dict) -> list[dict]:
    out = []
    arms = results["arms"]
    comparison = f"{labels[arms[0]]} vs {labels[arms[1]]}" if len(arms) == 2 else ""
    for criterion, entry in results["summary"]["response"].items():
        for measure in ("ORR", "DCR"):
            diff = entry.get(f"{measure}_difference") or [None, None, None]
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
        hr = entry.get("hazard_ratio") or [None, None, None]
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
            }
            for months in RATE_MONTHS:
                rate = km["rates"].get(months, [None, None, None])
                row[f"KM_{months}M"] = rate[0]
                row[f"KM_{months}M_LOWER95"] = rate[1]
                row[f"KM_{months}M_UPPER95"] = rate[2]
            row.update(
                {
                    "LOGRANK_P": entry.get("logrank_p"),
                    "COMPARISON": comparison,
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


def to_csv(table_rows: list[dict]) -> str:
    header: list[str] = []
    for row in table_rows:
        header += [key for key in row if key not in header]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, lineterminator="\n", restval="")
    writer.writeheader()
    writer.writerows(table_rows)
    return out.getvalue()
