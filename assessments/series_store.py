"""The evaluated series kept in the database (EvaluatedSeries): loaded for many patients in
one query, stored in one insert. Computed when a read is signed and both readers have then
signed the scan, or an adjudication is decided (assessments/services.py); an endpoint run
stores what it had to evaluate (outcomes/snapshot.py); pages and runs reuse them."""

from assessments import series_codec
from assessments.models import EvaluatedSeries
from inkt_trial import memo


@memo.per_id
def _stored(patient_ids) -> dict[int, dict[str, dict]]:
    """Each patient's stored series (key -> result) under the current engine, in one query;
    once per request (a patient page's progression and imaging box read the same)."""
    found: dict[int, dict[str, dict]] = {}
    for pid, key, result in EvaluatedSeries.objects.filter(
        patient_id__in=list(patient_ids), engine=series_codec.ENGINE
    ).values_list("patient_id", "key", "result"):
        found.setdefault(pid, {})[key] = result
    return found


def evaluations(patient_ids) -> series_codec.Evaluations:
    """The stored series of these patients under the current engine, in one query (a new
    Evaluations each time: what it evaluates is the caller's)."""
    stored: dict[str, dict] = {}
    for found in _stored(list(patient_ids)).values():
        stored.update(found)
    return series_codec.Evaluations(stored)


def save(found: series_codec.Evaluations) -> int:
    """Store what `found` had to evaluate (its owner: the patient id), once; the number
    stored. A key stored meanwhile by another process is left as it is (equal content)."""
    rows = [
        EvaluatedSeries(
            key=key,
            patient_id=owner,
            engine=series_codec.ENGINE,
            criterion=criterion,
            result=result,
        )
        for key, (owner, criterion, result) in found.new.items()
        if owner is not None
    ]
    EvaluatedSeries.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)
    found.new.clear()
    return len(rows)
