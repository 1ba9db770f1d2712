"""Tasks run by a real Celery worker process, on Redis, against the test database."""

import os
import subprocess
import sys
import time
import uuid
from datetime import date
from pathlib import Path

import pytest
import redis
from django.db import connection

from conftest import PASSWORD
from enrollment import services
from enrollment.tasks import notify_awaiting_confirmation
from inkt_trial.celery import app as celery_app

ROOT = Path(__file__).resolve().parent.parent
pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def start_worker(tmp_path, **extra_env) -> subprocess.Popen:
    """A real Celery worker process (solo pool) on the test database and `REDIS_URL` (or the
    broker in `extra_env`); returns once it answers a ping."""
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "inkt_trial.test_settings",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(tmp_path / "mail"),
        "INKT_VAR_DIR": str(tmp_path),
        **extra_env,
    }
    name = f"test-{uuid.uuid4().hex[:8]}@%h"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "inkt_trial",
            "worker",
            "--pool",
            "solo",
            "--without-gossip",
            "--without-mingle",
            "--loglevel",
            "INFO",
            "-n",
            name,
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not celery_app.control.ping(destination=[name.replace("%h", _hostname())], timeout=1):
        assert process.poll() is None, process.stdout.read()
        assert time.monotonic() < deadline, "the Celery worker did not start"
    return process


def _hostname() -> str:
    import socket

    return socket.gethostname()


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture
def worker(tmp_path):
    redis_url = os.environ.get("REDIS_URL")
    if not redis_url or connection.vendor != "postgresql":
        pytest.skip("needs REDIS_URL and PostgreSQL (make test sets both)")
    redis.Redis.from_url(redis_url).flushdb()
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    try:
        process = start_worker(tmp_path)
        yield tmp_path / "mail"
    finally:
        celery_app.conf.task_always_eager = eager
        if "process" in locals():
            stop(process)


def wait_for_files(folder: Path, timeout: float = 30) -> list[Path]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        files = sorted(folder.glob("*.log")) if folder.exists() else []
        if files:
            return files
        time.sleep(0.2)
    return []


def test_worker_emails_investigators_when_a_screening_is_eligible(
    worker, coordinator, investigator, values
):
    screening = services.screening_create(values=values(), by=coordinator)
    files = wait_for_files(worker)
    assert len(files) == 1
    message = files[0].read_text()
    assert "To: investigator@example.org" in message
    assert f"{screening.screening_number} is eligible and awaits your confirmation" in message
    assert f"/screenings/{screening.pk}/confirm/" in message


def test_worker_sends_nothing_for_a_confirmed_screening(worker, coordinator, investigator, values):
    screening = services.screening_create(values=values(bclc_stage="B"), by=coordinator)
    assert notify_awaiting_confirmation.delay(screening.pk).get(timeout=30) == 0
    eligible = services.screening_create(values=values(), by=coordinator)
    services.screening_confirm(
        screening=eligible, by=investigator, password=PASSWORD, version=eligible.version
    )
    assert notify_awaiting_confirmation.delay(eligible.pk).get(timeout=30) == 0


def test_daily_infusion_check_runs_in_the_worker(worker, randomized, coordinator):
    from datetime import timedelta

    from django.utils import timezone

    from dosing import services as dosing_services
    from dosing.models import InfusionReminder
    from dosing.tasks import flag_due_infusions

    coordinator.email = "coordinator@example.org"
    coordinator.save()
    patient = randomized("RPI", days_ago=10)
    dosing_services.schedule_create(
        patient=patient,
        by=coordinator,
        first_planned_date=timezone.localdate() - timedelta(days=6),
        target_cells_per_m2=5 * 10**8,
    )
    assert flag_due_infusions.delay().get(timeout=30) == 1
    reminder = InfusionReminder.objects.get()
    assert (reminder.patient, reminder.course_number, reminder.kind) == (patient, 1, "overdue")
    files = wait_for_files(worker)
    assert any(patient.study_id in f.read_text() for f in files)


def wait_for_run(api, run_id, timeout=120):
    deadline = time.monotonic() + timeout
    seen = set()
    while time.monotonic() < deadline:
        run = api.get(f"/api/outcomes/runs/{run_id}/").json()
        seen.add(run["state"])
        if run["state"] in ("done", "failed"):
            return run, seen
        time.sleep(0.3)
    raise AssertionError(f"run {run_id} did not finish: {run}")


def test_an_endpoint_run_is_computed_by_the_worker(worker, api_as, trial_users, statistician):
    from datetime import timedelta

    from django.utils import timezone
    from lifelines import KaplanMeierFitter

    from outcomes import synthetic
    from outcomes.tests.test_runs import hand_built, rows_of

    users = trial_users
    today = timezone.localdate()
    synthetic.generate(seed=11, patients=16, today=today)
    start = today - timedelta(days=250)
    progressed = hand_built(
        users, randomized_on=start, sums=[45, 70], death=start + timedelta(days=150)
    )
    api = api_as(statistician)
    created = api.post("/api/outcomes/runs/", {"cutoff": str(today)}, format="json")
    assert created.status_code == 201 and created.json()["state"] in ("queued", "running", "done")
    run, seen = wait_for_run(api, created.json()["id"])
    assert run["state"] == "done", run["error"]
    assert run["attempts"] == 1 and run["patients"] == 17
    adtte = {(r["USUBJID"], r["PARAMCD"]): r for r in rows_of(api, run["id"])}
    pfs = adtte[(progressed.study_id, "PFS")]
    assert (pfs["AVAL"], pfs["CNSR"]) == ("112", "0")  # worked by hand: PD at the day-112 scan
    results = api.get(f"/api/outcomes/runs/{run['id']}/results/").json()
    for arm, summary in results["survival"]["PFS"]["arms"].items():
        mine = [r for r in adtte.values() if r["PARAMCD"] == "PFS" and r["ARM"] == arm]
        kmf = KaplanMeierFitter().fit(
            [int(r["AVAL"]) for r in mine], [r["CNSR"] == "0" for r in mine]
        )
        curve = kmf.survival_function_.iloc[:, 0]
        # the spec's convention: the first time S(t) <= 0.5, with a tolerance for rounding
        reached = curve[curve <= 0.5 + 1e-9]
        assert summary["median"] == (float(reached.index[0]) if len(reached) else None)
        assert summary["patients"] == len(mine)


def test_a_run_is_refused_clearly_when_the_queue_is_down(api_as, statistician, randomized):
    redis_url = os.environ.get("REDIS_URL")
    if not redis_url or connection.vendor != "postgresql":
        pytest.skip("needs REDIS_URL and PostgreSQL (make test sets both)")
    from outcomes.models import EndpointRun

    randomized("RP", days_ago=3)
    eager, broker = celery_app.conf.task_always_eager, celery_app.conf.broker_url
    celery_app.conf.task_always_eager = False
    celery_app.conf.broker_url = "redis://127.0.0.1:9/0"  # nothing listens there
    celery_app._pool = celery_app.amqp._producer_pool = None  # fresh connections
    try:
        refused = api_as(statistician).post(
            "/api/outcomes/runs/", {"cutoff": str(date.today())}, format="json"
        )
    finally:
        celery_app.conf.task_always_eager, celery_app.conf.broker_url = eager, broker
        celery_app._pool = celery_app.amqp._producer_pool = None
    assert refused.status_code == 503
    assert "cannot be reached" in refused.json()["detail"]
    run = EndpointRun.objects.get()
    assert run.status == "failed" and "not started" in run.error


def test_without_a_worker_a_run_stays_visibly_queued(api_as, statistician, randomized):
    redis_url = os.environ.get("REDIS_URL")
    if not redis_url or connection.vendor != "postgresql":
        pytest.skip("needs REDIS_URL and PostgreSQL (make test sets both)")
    randomized("RP", days_ago=3)
    redis.Redis.from_url(redis_url).flushdb()
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    try:
        api = api_as(statistician)
        created = api.post("/api/outcomes/runs/", {"cutoff": str(date.today())}, format="json")
        assert created.status_code == 201
        time.sleep(1)
        shown = api.get(f"/api/outcomes/runs/{created.json()['id']}/").json()
        assert (shown["state"], shown["progress"]) == ("queued", 0)  # kept, not lost
        assert redis.Redis.from_url(redis_url).llen("celery") == 1  # the message waits
    finally:
        celery_app.conf.task_always_eager = eager
        redis.Redis.from_url(redis_url).flushdb()
