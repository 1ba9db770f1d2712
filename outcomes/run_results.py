"""A done run's results as every page, API view, export and report reads them, however they
were kept (outcomes/stored.py): the summary in EndpointRun.results and each patient's part as
a PatientResult row, or, for runs stored before the rows, all of it in EndpointRun.results.

- `summary(run)`: what the run page, the plots and the API's results show; never a patient's
  row (its size grows with the curves' steps, not with the rows).
- `stream(run, table)`: the ADTTE or response rows in order, a chunk at a time (the exports).
- `results(run)`: everything in the one document's shape (the CDISC package, the DSMB report).
- `identical(a, b)`: the same results, compared patient by patient.
"""

from collections.abc import Iterator
from itertools import zip_longest

from outcomes import stored
from outcomes.models import EndpointRun, PatientResult

CHUNK = 500  # patients read at a time


def _document(run: EndpointRun) -> dict:
    if "results" in run.get_deferred_fields():
        run.refresh_from_db(fields=["results"])
    return run.results or {}


def _as_rows(document: dict) -> bool:
    return "adtte" not in document  # a run stored as one document holds its ADTTE rows


def summary(run: EndpointRun) -> dict:
    document = _document(run)
    return document if _as_rows(document) else stored.summary_of(document)


def _rows(run: EndpointRun, *columns):
    return (
        PatientResult.objects.filter(run_id=run.pk)
        .order_by("position")
        .values_list(*columns)
        .iterator(chunk_size=CHUNK)
    )


def parts(run: EndpointRun) -> Iterator[stored.Part]:
    """Each patient's part, in key order."""
    document = _document(run)
    if not _as_rows(document):
        yield from stored.parts_of(document)
        return
    for key, code, adtte, responses, subject, qol in _rows(
        run, "key", "code", "adtte", "responses", "subject", "qol"
    ):
        yield stored.Part(
            key,
            code or None,
            stored.unpack(adtte),
            stored.unpack(responses),
            subject,
            stored.unpack_scores(qol),
        )


def stream(run: EndpointRun, table: str) -> Iterator[dict]:
    """The run's ADTTE ("adtte") or response ("responses") rows, patient after patient."""
    if table not in ("adtte", "responses"):
        raise ValueError(f"no per-patient table {table!r}")
    document = _document(run)
    if not _as_rows(document):
        yield from document[table]
        return
    for (rows,) in _rows(run, table):
        yield from stored.unpack(rows)


def results(run: EndpointRun) -> dict:
    """Everything, in the shape of the one document runs were once stored as."""
    document = _document(run)
    return stored.document(document, parts(run)) if _as_rows(document) else document


def identical(a: EndpointRun, b: EndpointRun) -> bool:
    """The same summary and the same parts for every patient (the runs however kept)."""
    if summary(a) != summary(b):
        return False
    return all(x == y for x, y in zip_longest(parts(a), parts(b)))
