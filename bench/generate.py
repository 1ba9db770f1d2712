"""Benchmark (not a test): how long the synthetic trial generator takes on PostgreSQL for
1,000 and 10,000 patients (100,000 with --large), each into its own database
inkt_bench_gen_<n> (created when missing, emptied of any earlier trial: dropped and made again).

    .venv/bin/python bench/generate.py                     # 1000, 10000
    .venv/bin/python bench/generate.py --patients 1000 --path services
    .venv/bin/python bench/generate.py --large             # 1000, 10000, 100000

BENCH_GEN_DATABASE_URL (with {n}) names the databases, by default
postgres://postgres@127.0.0.1:5432/inkt_bench_gen_{n}. The target of issue 16: 10,000 patients
in at most 3 minutes, 100,000 in at most 30 (the development machine: 2 cores, shared).
Each size runs in a fresh process: migrate (not timed), then generate() in one transaction
(timed: `seconds` wall-clock with the commit; `CPU s` this process's CPU time and `DB CPU s`
its PostgreSQL backend's, whose sum is about what it takes on an idle machine, the rest of
the wall-clock time being the wait for a core on a shared one; `commit s` the edit checks
the commit runs), then the rows made are counted (the records and their historical rows);
`peak MB` is the process's peak resident memory, `load` the 1-minute load average at the end.
"""

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import endpoint_run  # noqa: E402  (the benchmarks' child processes and users)

SEED = 2026
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/inkt_bench_gen_{n}"


def database_url(n: int) -> str:
    return os.environ.get("BENCH_GEN_DATABASE_URL", DEFAULT_URL).format(n=n)


def fresh_database(url: str) -> None:
    """Drop and create the benchmark's database (never the product's: the name must say so)."""
    import psycopg2

    name = url.rsplit("/", 1)[1]
    if "bench" not in name:
        raise SystemExit(f"{name}: a benchmark database's name contains 'bench'")
    connection = psycopg2.connect(url.rsplit("/", 1)[0] + "/postgres")
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
        cursor.execute(f'CREATE DATABASE "{name}"')
    connection.close()


def child(n: int, path: str) -> dict:
    url = database_url(n)
    fresh_database(url)
    return endpoint_run.run_child(__file__, [str(n), "--path", path], url)


def generate(n: int, path: str) -> dict:
    sys.path.insert(0, str(ROOT))
    import logging

    import django

    django.setup()
    logging.disable(logging.CRITICAL)
    from django.apps import apps
    from django.core.management import call_command
    from django.db import connection, transaction

    from outcomes import synthetic

    call_command("migrate", verbosity=0)
    endpoint_run.trial_users()  # one per role, as the other benchmarks make them
    bulk = {"auto": None, "bulk": True, "services": False}[path]
    backend = _backend_cpu()
    started, cpu = time.perf_counter(), time.process_time()
    with transaction.atomic():
        counts = synthetic.generate(seed=SEED, patients=n, bulk=bulk)
        made = time.perf_counter() - started
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    backend = _backend_cpu() - backend
    rows = 0
    with connection.cursor() as cursor:
        for model in apps.get_models(include_auto_created=False):
            if model._meta.app_label in (
                "enrollment",
                "randomization",
                "assessments",
                "dosing",
                "safety",
                "outcomes",
            ):
                cursor.execute(f'SELECT count(*) FROM "{model._meta.db_table}"')
                rows += cursor.fetchone()[0]
    return {
        "patients": counts.randomized,
        "screened": counts.screened,
        "seconds": round(seconds, 1),
        "commit_seconds": round(seconds - made, 1),  # the edit checks the commit runs
        "cpu_seconds": round(cpu, 1),  # this process's
        "db_cpu_seconds": round(backend, 1),  # its PostgreSQL backend's (nan: not local)
        "rows": rows,
        "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "load": round(os.getloadavg()[0], 1),  # the 1-minute load average at the end
    }


def _backend_cpu() -> float:
    """The CPU seconds of this connection's PostgreSQL backend so far (a server on this
    machine: /proc); with the process's own, what the generation costs on an idle machine."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--patients", type=int, nargs="*", default=[1000, 10000])
    parser.add_argument("--large", action="store_true", help="also 100,000 patients")
    parser.add_argument("--path", choices=("auto", "bulk", "services"), default="auto")
    parser.add_argument("--child", type=int)
    options = parser.parse_args()
    if options.child:
        print(json.dumps(generate(options.child, options.path)))
        return
    sizes = options.patients + ([100_000] if options.large else [])
    print(
        f"{'patients':>9} {'screened':>9} {'path':>9} {'seconds':>8} {'per 1000':>9} "
        f"{'CPU s':>7} {'DB CPU s':>9} {'commit s':>9} {'rows':>10} {'peak MB':>8} {'load':>5}"
    )
    for n in sizes:
        made = child(n, options.path)
        print(
            f"{made['patients']:>9} {made['screened']:>9} {options.path:>9} "
            f"{made['seconds']:>8} {made['seconds'] * 1000 / made['patients']:>9.1f} "
            f"{made['cpu_seconds']:>7} {made['db_cpu_seconds']:>9} "
            f"{made['commit_seconds']:>9} {made['rows']:>10} {made['peak_mb']:>8} "
            f"{made['load']:>5}",
            flush=True,
        )


if __name__ == "__main__":
    main()
