"""A run's per-patient results kept as rows (outcomes.models.PatientResult) and read through
outcomes/run_results.py: they read back as computed, a run stored before the rows (one
document) reads the same, and the run page reads no patient's row."""

import gc
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from conftest import body
from outcomes import adam, analysis, endpoints, run_results, services, snapshot, stored
from outcomes.models import EndpointRun, PatientResult

pytestmark = pytest.mark.django_db


def test_the_rows_read_back_are_the_results_computed(trial):
    facts, codes, _, subjects = snapshot.read(trial.cutoff)
    computed = analysis.analyse(facts, trial.cutoff, endpoints.Params())
    assert "adtte" not in trial.results  # the run itself keeps the summary alone
    assert PatientResult.objects.filter(run=trial).count() == len(facts) == 12
    read = run_results.results(trial)
    assert read["adtte"] == computed["adtte"] and read["responses"] == computed["responses"]
    assert read["subjects"] == subjects and read["arm_codes"] == codes
    assert read["qol"] == adam.qol_results(facts)
    for key in ("summary", "n", "arms", "pending_adjudication", "conventions", "params"):
        assert read[key] == computed[key]
    assert list(run_results.stream(trial, "adtte")) == computed["adtte"]


def old_style_copy(run: EndpointRun) -> EndpointRun:
    """The same run as runs were stored before the rows: everything in one document."""
    whole = run_results.results(run)
    document = {k: v for k, v in whole.items() if k != "arm_code_sets"}
    return EndpointRun.objects.create(
        cutoff=run.cutoff,
        status=EndpointRun.DONE,
        requested_by=run.requested_by,
        finished_at=run.finished_at,
        software_version=run.software_version,
        data_digest=run.data_digest,
        patients=run.patients,
        data_lock=run.data_lock,
        results=document,
    )


def test_a_run_stored_as_one_document_reads_the_same(trial, trial_users, api_as, data_manager):
    old = old_style_copy(trial)
    assert not PatientResult.objects.filter(run=old).exists()
    assert run_results.summary(old) == run_results.summary(trial)
    assert run_results.identical(old, trial)
    for reader in (api_as(trial_users["statistician"]), api_as(data_manager)):
        compared = reader.get(f"/api/outcomes/runs/compare/?a={old.pk}&b={trial.pk}").json()
        assert compared["identical_results"] and compared["same_data"]
        for table in ("adtte", "responses", "summary"):
            texts = [
                body(reader.get(f"/api/outcomes/runs/{run.pk}/export/{table}/csv/"))
                for run in (old, trial)
            ]
            assert texts[0] == texts[1] and texts[0].count(b"\n") > 12
            rows = [
                json.loads(body(reader.get(f"/api/outcomes/runs/{run.pk}/export/{table}/json/")))
                for run in (old, trial)
            ]
            assert rows[0]["rows"] == rows[1]["rows"]
        results = [
            reader.get(f"/api/outcomes/runs/{run.pk}/results/").json() for run in (old, trial)
        ]
        assert {**results[0], "run": None} == {**results[1], "run": None}


def test_a_changed_patient_row_makes_the_results_differ(trial):
    other = EndpointRun.objects.get(pk=trial.pk)
    old = old_style_copy(trial)
    row = PatientResult.objects.filter(run=trial).order_by("position").last()
    assert stored.PACKED in row.adtte  # kept packed (outcomes/stored.py)
    rows = stored.unpack(row.adtte)
    row.adtte = stored.pack([{**rows[0], "AVAL": rows[0]["AVAL"] + 1}, *rows[1:]])
    row.save(update_fields=["adtte"])
    assert not run_results.identical(other, old)


def test_the_run_page_and_its_summary_read_no_patient_row(trial, trial_users, client_as, api_as):
    client = client_as(trial_users["statistician"])
    api = api_as(trial_users["statistician"])
    for get in (
        lambda: client.get(f"/outcomes/runs/{trial.pk}/"),
        lambda: client.get(f"/outcomes/runs/{trial.pk}/km/OS.svg"),
        lambda: api.get(f"/api/outcomes/runs/{trial.pk}/results/"),
        lambda: api.get(f"/api/outcomes/runs/{trial.pk}/conventions/"),
    ):
        with CaptureQueriesContext(connection) as queries:
            assert get().status_code == 200
        tables = " ".join(q["sql"] for q in queries.captured_queries)
        assert PatientResult._meta.db_table not in tables
    assert len(json.dumps(trial.results)) < len(json.dumps(run_results.results(trial))) / 2


def test_a_failed_run_keeps_no_rows(trial, monkeypatch):
    def broken(*args, each=None, **kwargs):
        real(*args, each=each, **kwargs)  # the rows are written, then it fails
        raise RuntimeError("the statistics failed")

    real = analysis.analyse
    monkeypatch.setattr(analysis, "analyse", broken)
    run = EndpointRun.objects.create(cutoff=trial.cutoff, requested_by=trial.requested_by)
    assert services.run_compute(run.pk) == "failed"
    assert not PatientResult.objects.filter(run=run).exists()
    assert PatientResult.objects.filter(run=trial).count() == 12


def test_a_run_computes_without_the_cycle_collector_and_gives_it_back(trial, monkeypatch):
    seen = []

    def watched(*args, **kwargs):
        seen.append(gc.isenabled())
        return real(*args, **kwargs)

    def broken(*args, **kwargs):
        seen.append(gc.isenabled())
        raise RuntimeError("the statistics failed")

    real = analysis.analyse
    assert gc.isenabled()
    for replacement, outcome in ((watched, "done"), (broken, "failed")):
        monkeypatch.setattr(analysis, "analyse", replacement)
        run = EndpointRun.objects.create(cutoff=trial.cutoff, requested_by=trial.requested_by)
        assert services.run_compute(run.pk) == outcome
        assert gc.isenabled()  # back on, also after a failure
    assert seen == [False, False]
    gc.disable()
    try:  # a caller that had it off keeps it off
        monkeypatch.setattr(analysis, "analyse", real)
        run = EndpointRun.objects.create(cutoff=trial.cutoff, requested_by=trial.requested_by)
        assert services.run_compute(run.pk) == "done"
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_the_rows_json_is_compressed_with_lz4_where_postgresql_has_it():
    if connection.vendor != "postgresql":
        pytest.skip("how PostgreSQL keeps the values on disk")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'"
        )
        if not cursor.fetchone()[0]:
            pytest.skip("this PostgreSQL has no LZ4")
        cursor.execute(
            "SELECT attname, attcompression FROM pg_attribute "
            "WHERE attrelid = 'outcomes_patientresult'::regclass AND attnum > 0"
        )
        found = dict(cursor.fetchall())
    assert {column: found[column] for column in ("adtte", "responses", "subject", "qol")} == {
        "adtte": "l",
        "responses": "l",
        "subject": "l",
        "qol": "l",
    }
