"""The CDISC package of an endpoint run (pure, no Django): the ADaM datasets (outcomes/adam.py)
and SDTM domains (outcomes/sdtm.py) as SAS transport v5 files (pyreadstat) and CSV, with a
define-style metadata file (`define.json`: datasets, keys, variables with label, type, length,
format and derivation), all in one ZIP.

SAS transport v5: the FDA's "Study Data Technical Conformance Guide" asks for it; names <= 8
characters, labels <= 40, character values <= 200 bytes; dates are numbers of days since
1960-01-01 with the DATE9. format, date-times seconds since 1960-01-01T00:00 (DATETIME20.).
"""

from __future__ import annotations

import io
import json
import tempfile
import zipfile
from pathlib import Path

import pandas as pd
import pyreadstat

from outcomes import adam

PACKAGE_README = """CDISC package of endpoint run {run} (study {study}, data cut-off {cutoff}).
Datasets: {names}; each as SAS transport v5 (.xpt) and CSV (.csv, dates as ISO 8601).
ADaM (IG 1.3) ADSL, ADTTE, ADRS and ADQS from the run's stored results, ADAE (OCCDS 1.1)
from the adverse events dated up to the cut-off; SDTM (IG 3.4): DM from the run's subject
facts, the other domains from the records dated up to the cut-off. define.json lists the
datasets, their keys, and every variable with its label, type, length, format and derivation.
Arms: {arms}.
"""


def frame(dataset: adam.Dataset) -> pd.DataFrame:
    """The dataset as a data frame pyreadstat writes: character columns as text (blank for
    missing), numbers as floats, dates as dates."""
    columns = {}
    for variable in dataset.variables:
        values = dataset.column(variable.name)
        if variable.type == adam.CHAR:
            columns[variable.name] = pd.Series(
                ["" if v is None else str(v) for v in values], dtype=object
            )
        elif variable.format:
            columns[variable.name] = pd.Series(values, dtype=object)
        else:
            columns[variable.name] = pd.Series(
                [float("nan") if v is None else float(v) for v in values], dtype="float64"
            )
    return pd.DataFrame(columns, columns=[v.name for v in dataset.variables])


def xpt_bytes(dataset: adam.Dataset) -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"{dataset.name.lower()}.xpt"
        pyreadstat.write_xport(
            frame(dataset),
            str(path),
            file_label=dataset.label,
            column_labels={v.name: v.label for v in dataset.variables},
            table_name=dataset.name,
            file_format_version=5,
            variable_format={v.name: v.format for v in dataset.variables if v.format},
        )
        return path.read_bytes()


def csv_text(dataset: adam.Dataset) -> str:
    shown = pd.DataFrame(
        [
            {
                v.name: "" if row.get(v.name) is None else _csv_value(row.get(v.name))
                for v in dataset.variables
            }
            for row in dataset.rows
        ],
        columns=[v.name for v in dataset.variables],
    )
    return shown.to_csv(index=False, lineterminator="\n")


def _csv_value(value):
    if hasattr(value, "isoformat"):
        return value.isoformat()
    text = str(value)
    # a spreadsheet must never run a value as a formula (as the product's other CSV files)
    return "'" + text if text[:1] in ("=", "+", "-", "@") and not _number(text) else value


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _length(variable: adam.Variable, dataset: adam.Dataset) -> int:
    if variable.type == adam.NUM:
        return 8
    values = [str(v).encode() for v in dataset.column(variable.name) if v not in (None, "")]
    return max((len(v) for v in values), default=1)


def define(datasets: list[adam.Dataset], *, context: dict) -> dict:
    """Define-style metadata (after CDISC Define-XML 2.1's dataset and variable attributes)."""
    return {
        **context,
        "standards": sorted({d.standard for d in datasets}),
        "file_format": "SAS transport v5 (XPT), and CSV",
        "datasets": [
            {
                "name": d.name,
                "standard": d.standard,
                "label": d.label,
                "class": d.klass,
                "structure": d.structure,
                "keys": list(d.keys),
                "records": len(d.rows),
                "files": [f"{d.name.lower()}.xpt", f"{d.name.lower()}.csv"],
                "variables": [
                    {
                        "name": v.name,
                        "label": v.label,
                        "type": v.type,
                        "length": _length(v, d),
                        "format": v.format,
                        "derivation": v.derivation,
                        "key": v.name in d.keys,
                    }
                    for v in d.variables
                ],
            }
            for d in datasets
        ],
    }


def package(
    results: dict,
    *,
    masked: bool,
    meta: dict,
    context: dict,
    tabulations: list[adam.Dataset] = (),
) -> bytes:
    """The ZIP: `<dataset>.xpt` and `.csv` per dataset, `define.json` and `README.txt`.
    `meta`: computed_at and software_version (as the exports); `context`: what the metadata
    says of the run (study, run, cut-off, data fingerprint, lock, the arms shown);
    `tabulations`: the datasets made from the records (ADAE, the SDTM domains) to add."""
    datasets = [*adam.datasets(results, masked=masked, meta=meta), *tabulations]
    for dataset in datasets:
        broken = adam.problems(dataset)
        if broken:
            raise adam.PackageError("; ".join(broken))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for dataset in datasets:
            stem = dataset.name.lower()
            archive.writestr(f"{stem}.xpt", xpt_bytes(dataset))
            archive.writestr(f"{stem}.csv", csv_text(dataset))
        archive.writestr("define.json", json.dumps(define(datasets, context=context), indent=2))
        archive.writestr(
            "README.txt",
            PACKAGE_README.format(
                run=context.get("run", ""),
                study=context.get("study", ""),
                cutoff=context.get("cutoff", ""),
                names=", ".join(d.name for d in datasets),
                arms=", ".join(context.get("arms", [])),
            ),
        )
    return out.getvalue()
