"""Benchmark (not a test): time and peak memory of an endpoint run for synthetic trials of
84, 1,000 and 10,000 patients, beside its floor measured in the same process.

    .venv/bin/python bench/endpoint_run.py                 # 84, 1000, 10000
    .venv/bin/python bench/endpoint_run.py --patients 84 1000

Each trial is generated once through the product's services (outcomes.synthetic.generate) into
a PostgreSQL database of its own, created when missing (BENCH_DATABASE_URL with {n} in it, by
default postgres://postgres@127.0.0.1:5432/inkt_bench_run_{n}; a sqlite:/// URL works too, with
no raw read), then measured in a fresh process: the whole run as the Celery task does it
(snapshot, digest, engine and statistics, storing the results), twice (the first warms the
database's cache; the faster counts), with the time spent in its parts. The floor: the
snapshot's own queries (captured as outcomes/snapshot.py read() sends them) run on a bare
psycopg2 connection fetching every row, plus lifelines alone (Kaplan-Meier per arm, log-rank and
Cox for every parameter) on the run's stored ADTTE rows. The ratio is run / floor. The goal
(issue 16): at most 3x the floor at 10,000 patients, flat or falling from 1,000 to 10,000, and a
peak memory of at most 400 MB at 10,000. The machine is shared: compare ratios, and the load.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEED = 2026


DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/inkt_bench_run_{n}"


def database_url(n: int) -> str:
    """One database per trial size: BENCH_DATABASE_URL with {n} in it (a sqlite:/// URL works
    too), by default PostgreSQL's inkt_bench_run_{n}."""
    return os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL).format(n=n)


def create_database(url: str) -> None:
    """The benchmark's own PostgreSQL database, created once (SQLite creates its file)."""
    if not url.startswith("postgres"):
        return
    import psycopg2

    server, name = url.rsplit("/", 1)
    connection = psycopg2.connect(f"{server}/postgres")
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE DATABASE "{name}"')
    connection.close()


def run_child(script: str, args: list[str], url: str) -> dict:
    """A benchmark step in a fresh process on the database at `url` (Celery eager, no Redis):
    the JSON its last line prints."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "inkt_trial.settings",
        "DATABASE_URL": url,
        "REDIS_URL": "",
        "CELERY_TASK_ALWAYS_EAGER": "1",
    }
    done = subprocess.run(
        [sys.executable, script, "--child", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode:
        raise SystemExit(f"{' '.join(args)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def child(command: str, n: int, *extra: str) -> dict:
    return run_child(__file__, [command, str(n), *extra], database_url(n))


def setup():
    sys.path.insert(0, str(ROOT))
    import logging

    import django

    django.setup()
    logging.disable(logging.CRITICAL)


def trial_users() -> None:
    """The users the generator records as (one per role), created if missing."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from accounts import roles

    for name, role in (
        ("coordinator", roles.COORDINATOR),
        ("investigator", roles.INVESTIGATOR),
        ("radiologist", roles.RADIOLOGIST),
        ("radiologist2", roles.RADIOLOGIST),
        ("adjudicator", roles.ADJUDICATOR),
        ("statistician", roles.STATISTICIAN),
        ("datamanager", roles.DATA_MANAGER),
        ("monitor", roles.MONITOR),
    ):
        user, _ = get_user_model().objects.get_or_create(username=name)
        user.groups.add(Group.objects.get(name=role))


def generate(n: int) -> dict:
    setup()
    from django.core.management import call_command

    from enrollment.models import Patient
    from outcomes import synthetic

    call_command("migrate", verbosity=0)
    if Patient.objects.exists():
        return {"patients": Patient.objects.count(), "seconds": 0.0, "generated": False}
    from django.db import transaction

    trial_users()
    started = time.perf_counter()

    with transaction.atomic():
        synthetic.generate(seed=SEED, patients=n)
    return {
        "patients": Patient.objects.count(),
        "seconds": round(time.perf_counter() - started, 1),
        "generated": True,
    }


class Timer:
    """Seconds spent in a few functions of the run, timed where the run calls them."""

    def __init__(self, targets):
        self.seconds = dict.fromkeys(targets, 0.0)
        self.targets = targets

    def __enter__(self):
        self.saved = []
        for label, (module, name) in self.targets.items():
            original = getattr(module, name, None)
            if original is None:
                continue  # not in this version of the product
            self.saved.append((module, name, original))
            setattr(module, name, self.wrap(label, original))
        return self

    def wrap(self, label, original):
        def timed(*args, **kwargs):
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.seconds[label] += time.perf_counter() - started

        return timed

    def __exit__(self, *exc):
        for module, name, original in self.saved:
            setattr(module, name, original)


def snapshot_queries(cutoff) -> list[tuple[str, tuple]]:
    """The SQL and parameters of every query the snapshot (outcomes/snapshot.py read) makes."""
    from django.db import connection

    from outcomes import snapshot

    captured = []

    def capture(execute, sql, params, many, context):
        captured.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(capture):
        snapshot.read(cutoff)
    return captured


def raw_read(queries) -> float:
    """Seconds to run the snapshot's queries on a bare psycopg2 connection and fetch every row:
    the floor of reading exactly what the snapshot reads."""
    import psycopg2
    from django.db import connection

    if connection.vendor != "postgresql":
        return float("nan")
    settings = connection.settings_dict
    raw = psycopg2.connect(
        dbname=settings["NAME"],
        user=settings["USER"],
        password=settings["PASSWORD"],
        host=settings["HOST"],
        port=settings["PORT"],
    )
    try:
        started = time.perf_counter()
        with raw.cursor() as cursor:
            for sql, params in queries:
                cursor.execute(sql, params)
                if cursor.description is not None:
                    cursor.fetchall()
        seconds = time.perf_counter() - started
        raw.rollback()
    finally:
        raw.close()
    return seconds


def lifelines_alone(rows) -> float:
    """Seconds of lifelines alone on (arm, param, days, event) rows: Kaplan-Meier per arm,
    log-rank and Cox for every parameter."""
    import pandas as pd
    from lifelines import CoxPHFitter, KaplanMeierFitter
    from lifelines.statistics import logrank_test

    frame = pd.DataFrame(rows, columns=["arm", "param", "days", "event"])
    started = time.perf_counter()
    for _, data in frame.groupby("param"):
        a, b = data[data.arm == "RPI"], data[data.arm == "RP"]
        for part in (a, b):
            if len(part):
                KaplanMeierFitter().fit(part.days, part.event)
        if len(a) and len(b):
            logrank_test(a.days, b.days, a.event, b.event)
            if a.event.any() and b.event.any():
                CoxPHFitter().fit(
                    pd.DataFrame(
                        {"days": data.days, "event": data.event, "rpi": (data.arm == "RPI") * 1}
                    ),
                    "days",
                    "event",
                )
    return time.perf_counter() - started


def adtte_rows(run):
    """The run's ADTTE rows as the stored results give them."""
    try:
        from outcomes import run_results
    except ImportError:  # before the rows were stored apart
        return run.results["adtte"]
    return run_results.stream(run, "adtte")


def analyze() -> None:
    """The planner's statistics, as autovacuum would keep them (it may be off, as on the
    machine these figures come from): a freshly generated trial has none."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def measure(n: int, repeat: int = 2) -> dict:
    setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.utils import timezone

    from outcomes import analysis, services, snapshot
    from outcomes.models import EndpointRun

    call_command("migrate", verbosity=0)
    analyze()
    baseline_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    cutoff = timezone.localdate()
    statistician = get_user_model().objects.get(username="statistician")
    targets = {
        "snapshot": (snapshot, "read"),
        "reads": (snapshot, "signed_reads"),
        "series": (snapshot, "settled_series"),
        "digest": (analysis, "digest"),
        "analysis": (analysis, "analyse"),
        "rows": (getattr(services, "_PatientRows", None), "add"),  # built and written
    }
    best = None
    for _ in range(repeat):  # the first also warms the database's cache
        run = EndpointRun.objects.create(cutoff=cutoff, requested_by=statistician)
        with Timer(targets) as timer:
            started = time.perf_counter()
            services.run_compute(run.pk)  # what the Celery task does, all of it
            whole = time.perf_counter() - started
        run.refresh_from_db()
        assert run.status == EndpointRun.DONE, run.error
        if best is None or whole < best[0]:
            best = (whole, dict(timer.seconds), run)
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    whole, parts, run = best

    queries = snapshot_queries(cutoff)
    read = min(raw_read(queries) for _ in range(repeat + 1))
    rows = [(row["ARM"], row["PARAMCD"], row["AVAL"], row["CNSR"] == 0) for row in adtte_rows(run)]
    fits = min(lifelines_alone(rows) for _ in range(repeat))
    floor = read + fits
    analysed = parts["analysis"] - parts["rows"]  # the rows are handed out during it
    return {
        "patients": run.patients,
        "run_seconds": round(whole, 2),
        "snapshot_seconds": round(parts["snapshot"], 2),
        "series_seconds": round(parts["series"], 2),
        "digest_seconds": round(parts["digest"], 2),
        "analysis_seconds": round(analysed, 2),
        # the rows built and written, the summary stored, the run's log
        "store_seconds": round(whole - parts["snapshot"] - parts["digest"] - analysed, 2),
        "raw_read_seconds": round(read, 3),
        "snapshot_queries": len(queries),
        "lifelines_seconds": round(fits, 2),
        "floor_seconds": round(floor, 2),
        "ratio": round(whole / floor, 1) if floor else None,
        "peak_rss_mb": round(peak_rss / 1024, 1),
        "baseline_rss_mb": round(baseline_rss / 1024, 1),
        "load": round(os.getloadavg()[0], 1),
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--patients", type=int, nargs="*", default=[84, 1000, 10000])
    parser.add_argument(
        "--repeat", type=int, default=2, help="runs measured, the faster kept (1 for 100,000)"
    )
    parser.add_argument("--child", nargs=2, metavar=("COMMAND", "N"))
    options = parser.parse_args()
    if options.child:
        command, n = options.child
        if command == "measure":
            result = measure(int(n), repeat=options.repeat)
        else:
            result = generate(int(n))
        print(json.dumps(result))
        return
    columns = (
        ("patients", "patients"),
        ("run_seconds", "run s"),
        ("snapshot_seconds", "snapshot"),
        ("series_seconds", "series"),
        ("digest_seconds", "digest"),
        ("analysis_seconds", "analysis"),
        ("store_seconds", "store"),
        ("raw_read_seconds", "raw read"),
        ("lifelines_seconds", "lifelines"),
        ("floor_seconds", "floor"),
        ("ratio", "ratio"),
        ("peak_rss_mb", "peak MB"),
        ("load", "load"),
    )
    print(" ".join(f"{title:>9}" for _, title in columns), f"{'generated':>10}")
    for n in options.patients:
        create_database(database_url(n))
        made = child("generate", n)
        m = child("measure", n, "--repeat", str(options.repeat))
        print(
            " ".join(f"{m[key]!s:>9}" for key, _ in columns),
            f"{(str(made['seconds']) + ' s') if made['generated'] else 'earlier':>10}",
            flush=True,
        )
    print(
        "snapshot: outcomes/snapshot.py read, of which series: the accepted read series; "
        "floor: raw read (the snapshot's queries on bare psycopg2) + lifelines alone; "
        "ratio: run / floor; load: the 1-minute load average at the end",
        flush=True,
    )


if __name__ == "__main__":
    main()
