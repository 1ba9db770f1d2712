"""Benchmark (not a test): time and peak memory of an endpoint run for synthetic trials of
84, 1,000 and 10,000 patients, beside the time of the lifelines fits alone on the same data.

    .venv/bin/python bench/endpoint_run.py                 # 84, 1000, 10000
    .venv/bin/python bench/endpoint_run.py --patients 84 1000

Each trial is generated once through the product's services (synthetic_trial) into its own
SQLite file under var/bench/ (or set BENCH_DATABASE_URL to a PostgreSQL URL with {n} in it),
then measured in a fresh process: the whole run as the Celery task does it (snapshot, engine,
statistics, storing the results), its parts, and lifelines alone (Kaplan-Meier per arm,
log-rank and Cox for every parameter) on the run's own per-patient rows. The target: 10,000
patients in under 20 seconds on the development machine (2 cores).
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


def database_url(n: int) -> str:
    template = os.environ.get("BENCH_DATABASE_URL")
    if template:
        return template.format(n=n)
    folder = ROOT / "var" / "bench"
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / f'trial-{n}-seed{SEED}.sqlite3'}"


def child(command: str, n: int) -> dict:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "inkt_trial.settings",
        "DATABASE_URL": database_url(n),
        "REDIS_URL": "",
        "CELERY_TASK_ALWAYS_EAGER": "1",
    }
    done = subprocess.run(
        [sys.executable, __file__, "--child", command, str(n)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode:
        raise SystemExit(f"{command} {n} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def setup():
    sys.path.insert(0, str(ROOT))
    import logging

    import django

    django.setup()
    logging.disable(logging.CRITICAL)


def generate(n: int) -> dict:
    setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from enrollment.models import Patient
    from outcomes import synthetic

    call_command("migrate", verbosity=0)
    if Patient.objects.exists():
        return {"patients": Patient.objects.count(), "seconds": 0.0, "generated": False}
    from django.contrib.auth.models import Group
    from django.db import transaction

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
    started = time.perf_counter()

    with transaction.atomic():
        synthetic.generate(seed=SEED, patients=n)
    return {
        "patients": Patient.objects.count(),
        "seconds": round(time.perf_counter() - started, 1),
        "generated": True,
    }


def measure(n: int) -> dict:
    setup()
    import pandas as pd
    from django.contrib.auth import get_user_model
    from django.utils import timezone
    from lifelines import CoxPHFitter, KaplanMeierFitter
    from lifelines.statistics import logrank_test

    from outcomes import analysis, endpoints, services, snapshot
    from outcomes.models import EndpointRun

    baseline_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    cutoff = timezone.localdate()
    run = EndpointRun.objects.create(
        cutoff=cutoff, requested_by=get_user_model().objects.get(username="statistician")
    )
    started = time.perf_counter()
    services.run_compute(run.pk)  # what the Celery task does, all of it
    whole = time.perf_counter() - started
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    run.refresh_from_db()
    assert run.status == EndpointRun.DONE, run.error

    started = time.perf_counter()
    facts, _ = snapshot.read_facts(cutoff)
    read = time.perf_counter() - started
    started = time.perf_counter()
    rows = [
        (p.arm, r.param, r.days, r.event)
        for p in facts
        for r in endpoints.patient_endpoints(p, cutoff)
    ]
    engine = time.perf_counter() - started
    started = time.perf_counter()
    analysis.analyse(facts, cutoff)
    analysed = time.perf_counter() - started

    # lifelines alone, on the same rows: KM per arm, log-rank and Cox per parameter
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
    fits = time.perf_counter() - started
    return {
        "patients": len(facts),
        "run_seconds": round(whole, 2),
        "snapshot_seconds": round(read, 2),
        "engine_seconds": round(engine, 2),
        "analysis_seconds": round(analysed, 2),
        "lifelines_seconds": round(fits, 2),
        "ratio": round(whole / fits, 1) if fits else None,
        "peak_rss_mb": round(peak_rss / 1024, 1),
        "baseline_rss_mb": round(baseline_rss / 1024, 1),
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--patients", type=int, nargs="*", default=[84, 1000, 10000])
    parser.add_argument("--child", nargs=2, metavar=("COMMAND", "N"))
    options = parser.parse_args()
    if options.child:
        command, n = options.child
        result = {"generate": generate, "measure": measure}[command](int(n))
        print(json.dumps(result))
        return
    print(
        f"{'patients':>9} {'run s':>7} {'snapshot':>9} {'engine':>7} {'analysis':>9} "
        f"{'lifelines':>10} {'ratio':>6} {'peak RSS MB':>12} {'generated in':>13}"
    )
    for n in options.patients:
        made = child("generate", n)
        m = child("measure", n)
        print(
            f"{m['patients']:>9} {m['run_seconds']:>7} {m['snapshot_seconds']:>9} "
            f"{m['engine_seconds']:>7} {m['analysis_seconds']:>9} {m['lifelines_seconds']:>10} "
            f"{m['ratio']:>6} {m['peak_rss_mb']:>12} "
            f"{(str(made['seconds']) + ' s') if made['generated'] else 'earlier':>13}",
            flush=True,
        )


if __name__ == "__main__":
    main()
