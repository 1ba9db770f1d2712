"""The evaluated series kept in the database (EvaluatedSeries): loaded for many patients in
one query, stored in one insert. Computed when a read is signed and both readers have then
signed the scan, or an adjudication is decided (assessments/services.py); an endpoint run
stores what it had to evaluate (outcomes/snapshot.py); pages and runs reuse them."""

from assessments import series_codec
from assessments.models import EvaluatedSeries


def evaluations(patient_ids) -> series_codec.Evaluations:
    """The stored series of these patients under the current engine, in one query."""
    rows = EvaluatedSeries.objects.filter(
        patient_id__in=list(patient_ids), engine=series_codec.ENGINE
    ).values_list("key", "result")
    return series_codec.Evaluations(dict(rows))


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
