"""Faults survived, with the real parts: a Redis server that stops (its own process, on a port
of its own) and a Celery worker killed with SIGKILL in the middle of an endpoint run."""

import os
import shutil
import signal
import socket
import subprocess
import time
from datetime import date

import psycopg2
import pytest
import redis
from django.db import connection

from conftest import PASSWORD
from enrollment import services as enrollment
from inkt_trial.celery import app as celery_app
from outcomes.models import EndpointRun
from randomization.models import Allocation
from tests.test_worker import start_worker, stop, wait_for_run

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def own_redis():
    """A redis-server of the test's own, and the Celery app pointed at it; stopped at will."""
    if shutil.which("redis-server") is None or connection.vendor != "postgresql":
        pytest.skip("needs redis-server and PostgreSQL (make test has both)")
    port = free_port()
    server = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    deadline = time.monotonic() + 10
    while True:
        try:
            redis.Redis.from_url(url).ping()
            break
        except redis.ConnectionError:
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.1)
    saved = {k: celery_app.conf[k] for k in ("broker_url", "result_backend", "task_always_eager")}
    celery_app.conf.update(broker_url=url, result_backend=url, task_always_eager=False)
    celery_app._pool = celery_app.amqp._producer_pool = None  # fresh connections
    try:
        yield server, url
    finally:
        celery_app.conf.update(**saved)
        celery_app._pool = celery_app.amqp._producer_pool = None
        if server.poll() is None:
            server.kill()
        server.wait()


def test_with_redis_stopped_a_run_answers_503_within_2_seconds_and_clinical_work_goes_on(
    api_as, client, statistician, coordinator, investigator, randomized, values, own_redis
):
    server, _ = own_redis
    randomized("RP", days_ago=3)
    api = api_as(statistician)
    queued = api.post("/api/outcomes/runs/", {"cutoff": str(date.today())}, format="json")
    assert queued.status_code == 201 and queued.json()["state"] == "queued"  # Redis up
    server.send_signal(signal.SIGKILL)
    server.wait()
    started = time.monotonic()
    refused = api.post("/api/outcomes/runs/", {"cutoff": str(date.today())}, format="json")
    took = time.monotonic() - started
    assert refused.status_code == 503 and "cannot be reached" in refused.json()["detail"]
    assert took < 2, f"{took:.1f} s"
    run = EndpointRun.objects.order_by("-pk").first()
    assert run.status == "failed" and "not started" in run.error
    assert run.log[-1]["event"] == "failed"
    # the token exchange and an electronic signature do not need Redis
    token = client.post("/api/auth/token/", {"username": "coordinator", "password": PASSWORD})
    assert token.status_code == 200 and token.json()["token"]
    started = time.monotonic()
    screening = enrollment.screening_create(values=values(), by=coordinator)  # notice not queued
    patient = enrollment.screening_confirm(
        screening=screening, by=investigator, password=PASSWORD, version=screening.version
    )
    assert patient.study_id and time.monotonic() - started < 4


def test_a_worker_killed_mid_run_is_replaced_and_the_run_completes(
    api_as, statistician, randomized, own_redis, tmp_path
):
    """SIGKILL to the worker while it computes: the message was not acknowledged (acks late),
    so after the visibility timeout another worker takes the run and finishes it."""
    _, url = own_redis
    randomized("RP", days_ago=3)
    randomized("RPI", days_ago=3)
    env = {"REDIS_URL": url, "CELERY_VISIBILITY_TIMEOUT": "4", "CELERY_RESTORE_INTERVAL": "1"}
    first = start_worker(tmp_path, **env)
    db = connection.settings_dict
    blocker = psycopg2.connect(host=db["HOST"], port=db["PORT"], user=db["USER"], dbname=db["NAME"])
    try:
        with blocker.cursor() as cursor:  # the run will wait on this lock, mid-computation
            # the snapshot reads the scans right after the allocations
            cursor.execute("LOCK TABLE assessments_scan IN ACCESS EXCLUSIVE MODE")
        api = api_as(statistician)
        run_id = api.post(
            "/api/outcomes/runs/", {"cutoff": str(date.today())}, format="json"
        ).json()["id"]
        deadline = time.monotonic() + 30
        while EndpointRun.objects.get(pk=run_id).status != "running":
            assert time.monotonic() < deadline, "the worker did not take the run"
            time.sleep(0.1)
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        blocker.rollback()
        blocker.close()
    assert EndpointRun.objects.get(pk=run_id).status == "running"  # nobody reports any more
    second = start_worker(tmp_path, **env)
    try:
        run, _ = wait_for_run(api, run_id, timeout=60)
    finally:
        stop(second)
    assert run["state"] == "done", run["error"]
    assert run["attempts"] == 2 and run["patients"] == Allocation.objects.count()
    assert [e["event"] for e in run["log"]].count("started") == 2


def test_runs_nobody_computes_are_queued_again_by_the_sweep(statistician, randomized):
    """Celery beat's sweep: a run whose worker stopped reporting, or whose message was lost,
    is queued again (computed at once here, tasks running eagerly) with a line in its log."""
    from datetime import timedelta

    from django.utils import timezone

    from outcomes import services

    randomized("RP", days_ago=3)
    long_ago = timezone.now() - timedelta(minutes=30)
    stalled = EndpointRun.objects.create(
        cutoff=date.today(),
        requested_by=statistician,
        status=EndpointRun.RUNNING,
        started_at=long_ago,
        heartbeat_at=long_ago,
    )
    lost = EndpointRun.objects.create(cutoff=date.today(), requested_by=statistician)
    EndpointRun.objects.filter(pk=lost.pk).update(requested_at=long_ago)
    fresh = EndpointRun.objects.create(cutoff=date.today(), requested_by=statistician)
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    try:
        assert services.runs_requeue_stalled() == 2
    finally:
        celery_app.conf.task_always_eager = eager
    for run in (stalled, lost):
        run.refresh_from_db()
        assert run.status == "done" and any(e["event"] == "requeued" for e in run.log)
    fresh.refresh_from_db()
    assert fresh.status == "queued"  # a worker may still take it: left alone
