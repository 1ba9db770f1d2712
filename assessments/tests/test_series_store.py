"""The evaluated series stored when both readers have signed a scan and reused by the endpoint
run, the pages' progression check and the accepted series; a stored series that no longer
matches its reads is never used (its key is their content)."""

import pytest
from django.utils import timezone

from assessments import checks, series_codec, services
from assessments.models import EvaluatedSeries
from assessments.recist import Criterion
from assessments.tests.test_imaging import case, read_all  # noqa: F401 (fixture)
from outcomes import endpoints as ep
from outcomes import snapshot

pytestmark = pytest.mark.django_db


def tamper(patient, criterion: str, best: str, **changes) -> int:
    """Change what is stored (never what the engine computes): whatever then shows the change
    took the stored series."""
    rows = list(EvaluatedSeries.objects.filter(patient=patient, criterion=criterion))
    for row in rows:
        row.result = {**row.result, "best_overall_response": best, **changes}
        row.save()
    return len(rows)


def test_signing_stores_the_series_that_runs_and_pages_then_reuse(case):  # noqa: F811
    patient, one, two, scans = case
    read_all(one, scans, [45, 40, 52])
    assert not EvaluatedSeries.objects.exists()  # one reader's reads: nothing shared yet
    read_all(two, scans, [45, 40, 52])
    stored = EvaluatedSeries.objects.filter(patient=patient)
    # each scan both readers signed: the series over the shared scans, both readers, both
    # criteria (equal reads are one key), from the first follow-up on
    assert {row.engine for row in stored} == {series_codec.ENGINE}
    assert {row.criterion for row in stored} == {"mrecist", "irecist"}
    accepted = services.accepted_series(patient, Criterion.MRECIST)
    assert accepted.best_overall_response == "PR"
    assert services.series_refresh(patient) == 0  # all stored already

    assert tamper(patient, "mrecist", "CR") >= 1
    assert services.accepted_series(patient, Criterion.MRECIST).best_overall_response == "CR"
    facts, _codes = snapshot.read_facts(timezone.localdate())
    (fact,) = [f for f in facts if f.key == patient.study_id]
    assert fact.series[ep.MRECIST].best_overall_response == "CR"
    # iRECIST has no confirmed progression (iUPD at the third scan): no stop, unless the
    # stored series says so
    assert checks.progression([patient.pk]) == {}
    third = scans[3].scan_date.isoformat()
    tamper(patient, "irecist", "iCPD", progression_date=third, icpd_scan_date=third)
    (stop, *_others) = checks.progression([patient.pk])[patient.pk]
    assert stop.date == scans[3].scan_date


def test_a_run_stores_what_it_evaluated_and_a_stale_row_is_never_used(case):  # noqa: F811
    patient, one, two, scans = case
    read_all(one, scans, [45, 40, 52])
    read_all(two, scans, [45, 40, 52])
    before = snapshot.read_facts(timezone.localdate())[0]
    EvaluatedSeries.objects.all().delete()
    facts, _codes = snapshot.read_facts(timezone.localdate())
    assert facts == before  # evaluated afresh: the same facts
    assert EvaluatedSeries.objects.filter(patient=patient).exists()  # and stored for the next
    # a row of another engine (the rules changed since) is not used
    EvaluatedSeries.objects.update(engine="0" * 16)
    tamper(patient, "mrecist", "CR")
    facts, _codes = snapshot.read_facts(timezone.localdate())
    (fact,) = [f for f in facts if f.key == patient.study_id]
    assert fact.series[ep.MRECIST].best_overall_response == "PR"


def test_an_adjudication_stores_the_series_it_decides_between(case, make_user):  # noqa: F811
    patient, one, two, scans = case
    read_all(one, scans, [45, 40, 52])
    read_all(two, scans, [45, 40, 47])
    EvaluatedSeries.objects.all().delete()
    services.adjudicate(
        patient=patient, by=make_user("adjudicator"), accepted_slot=2, reason="Arterial phase"
    )
    # both readers' series over the scans compared, both criteria
    assert EvaluatedSeries.objects.filter(patient=patient).count() == 4
