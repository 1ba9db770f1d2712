"""Benchmark (not a test): requests per second and latency of the busiest pages against a bare
authenticated view, served the production way (gunicorn, 2 workers, DEBUG off) on PostgreSQL,
under the same concurrent load from clients on the loopback interface.

    .venv/bin/python bench/pages.py                      # 1,000 patients, 8 clients, 10 s a page
    .venv/bin/python bench/pages.py --patients 84 --clients 4 --seconds 5

The trial is generated once through the product's services (bench/endpoint_run.py's
`generate`) into a PostgreSQL database of its own (BENCH_DATABASE_URL with {n}, by default
postgres://postgres@127.0.0.1:5432/inkt_bench_{n}); an endpoint run is computed for the run
page. The bare view (bench/bench_urls.py) goes through the same middleware, session and
authentication as every page and does nothing else: each page's ratio is its requests per
second over the bare view's. The empty page renders the base template (the navigation every
page has) and nothing else: what any page costs before its own content. The goals (issue 16):
patient list and dashboards >= 0.5x, patient page and run page >= 0.25x at 1,000 patients,
every page's p95 under 300 ms.

The database is analyzed before measuring (statistics as autovacuum keeps them). Each request
opens its own database connection unless DB_CONN_MAX_AGE is set in the environment, as
docker-compose.yml does (60): `DB_CONN_MAX_AGE=60 .venv/bin/python bench/pages.py` measures
the production shape, where the bare view no longer pays for a new connection.
"""

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import endpoint_run  # noqa: E402  (the generator and its database naming)

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/inkt_bench_{n}"


def prepare(n: int) -> dict:
    """A done endpoint run, and a session for the coordinator and the statistician."""
    endpoint_run.setup()
    from django.conf import settings
    from django.contrib.auth import (
        BACKEND_SESSION_KEY,
        HASH_SESSION_KEY,
        SESSION_KEY,
        get_user_model,
    )
    from django.contrib.sessions.backends.db import SessionStore
    from django.db import connection
    from django.utils import timezone

    from enrollment.models import Patient
    from outcomes import services
    from outcomes.models import EndpointRun

    # The planner's statistics, as autovacuum keeps them on any server where it runs (a
    # freshly generated database has none, and this machine's PostgreSQL runs no autovacuum).
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    users = get_user_model().objects
    run = EndpointRun.objects.filter(status=EndpointRun.DONE).order_by("-pk").first()
    if run is None:
        run = EndpointRun.objects.create(
            cutoff=timezone.localdate(), requested_by=users.get(username="statistician")
        )
        services.run_compute(run.pk)
    sessions = {}
    for name in ("coordinator", "statistician"):
        user = users.get(username=name)
        store = SessionStore()
        store[SESSION_KEY] = str(user.pk)
        store[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[-1]
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        store.create()
        sessions[name] = store.session_key
    patient = Patient.objects.order_by("pk")[Patient.objects.count() // 2]
    return {"run": run.pk, "patient": patient.study_id, "sessions": sessions}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(url: str, port: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench_settings",
        "PYTHONPATH": f"{ROOT / 'bench'}{os.pathsep}{ROOT}",
        "DATABASE_URL": url,
        "REDIS_URL": "",
        "CELERY_TASK_ALWAYS_EAGER": "1",
        "DEBUG": "0",
        "SECURE_SSL_REDIRECT": "0",
        "SESSION_COOKIE_SECURE": "0",
        "CSRF_COOKIE_SECURE": "0",
        "LOG_LEVEL": "WARNING",
    }
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "inkt_trial.wsgi:application",
            "--workers",
            "2",
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz/", timeout=1)
            return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit("gunicorn did not start")


def fetch(url: str, session: str) -> float:
    request = urllib.request.Request(url, headers={"Cookie": f"sessionid={session}"})
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=60) as response:
        response.read()
        if response.status != 200 or response.url != url:
            raise SystemExit(f"{url} answered {response.status} at {response.url}")
    return time.perf_counter() - started


def load(url: str, session: str, *, clients: int, seconds: float) -> dict:
    """`clients` threads fetch the page back to back for `seconds` (after a warm-up request
    each): requests per second over all of them, median and p95 latency."""
    for _ in range(clients):
        fetch(url, session)
    times: list[float] = []
    lock = threading.Lock()
    stop = time.perf_counter() + seconds

    def client():
        mine = []
        while time.perf_counter() < stop:
            mine.append(fetch(url, session))
        with lock:
            times.extend(mine)

    started = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    times.sort()
    return {
        "rps": round(len(times) / elapsed, 1),
        "median_ms": round(statistics.median(times) * 1000, 1),
        "p95_ms": round(times[int(0.95 * (len(times) - 1))] * 1000, 1),
        "requests": len(times),
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--patients", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--child", nargs=2, metavar=("COMMAND", "N"))
    options = parser.parse_args()
    n = options.patients
    os.environ.setdefault("BENCH_DATABASE_URL", DEFAULT_URL)
    if options.child:
        print(json.dumps(prepare(int(options.child[1]))))
        return
    endpoint_run.create_database(endpoint_run.database_url(n))
    made = endpoint_run.child("generate", n)
    ready = json.loads(
        subprocess.run(
            [sys.executable, __file__, "--child", "prepare", str(n)],
            cwd=ROOT,
            env={
                **os.environ,
                "DJANGO_SETTINGS_MODULE": "inkt_trial.settings",
                "DATABASE_URL": endpoint_run.database_url(n),
                "REDIS_URL": "",
                "CELERY_TASK_ALWAYS_EAGER": "1",
            },
            capture_output=True,
            text=True,
            check=True,
        ).stdout.splitlines()[-1]
    )
    port = free_port()
    server = serve(endpoint_run.database_url(n), port)
    base = f"http://127.0.0.1:{port}"
    coordinator, statistician = ready["sessions"]["coordinator"], ready["sessions"]["statistician"]
    pages = [
        ("bare authenticated view", "/bench/bare/", coordinator, None),
        ("empty page (base.html)", "/bench/empty/", coordinator, None),
        ("patient list", "/patients/", coordinator, 0.5),
        ("patient page", f"/patients/{ready['patient']}/", coordinator, 0.25),
        ("dashboard (coordinator)", "/", coordinator, 0.5),
        ("dashboard (statistician)", "/", statistician, 0.5),
        ("run page", f"/outcomes/runs/{ready['run']}/", statistician, 0.25),
    ]
    try:
        print(
            f"{made['patients']} patients (generated in {made['seconds']} s)"
            if made["generated"]
            else f"{made['patients']} patients (generated earlier)",
            f"- gunicorn 2 workers, {options.clients} clients, {options.seconds:g} s a page,",
            f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}",
        )
        print(f"{'page':<26} {'req/s':>7} {'ratio':>6} {'goal':>5} {'median ms':>10} {'p95 ms':>7}")
        bare = None
        for name, path, session, goal in pages:
            m = load(base + path, session, clients=options.clients, seconds=options.seconds)
            bare = bare or m["rps"]
            ratio = m["rps"] / bare
            print(
                f"{name:<26} {m['rps']:>7} {ratio:>6.2f} {goal or '':>5} {m['median_ms']:>10} "
                f"{m['p95_ms']:>7}",
                flush=True,
            )
        print(f"load average at the end {os.getloadavg()[0]:.2f}")
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
