"""Every write of the outcomes app: keyword-only functions, one transaction each."""

import gc
import logging
import platform
from contextlib import contextmanager
from datetime import datetime, time, timedelta

import lifelines
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from kombu.exceptions import OperationalError

from enrollment import course
from enrollment.models import Patient
from inkt_trial import bulk
from inkt_trial.audit import apply_changes
from inkt_trial.errors import DomainError
from outcomes import adam, analysis, endpoints, followup, snapshot, stored
from outcomes.models import EndpointRun, FollowUp, PatientResult
from randomization.models import Allocation

log = logging.getLogger(__name__)

ENTERED = ("kind", "date", "alive", "therapy", "from_public_records", "notes")


def _check(record: FollowUp) -> None:
    patient = Patient.objects.get(pk=record.patient_id)
    others = [o.as_rule() for o in FollowUp.objects.filter(patient=patient).exclude(pk=record.pk)]
    errors = followup.check(
        record.as_rule(),
        others,
        enrolled=timezone.localdate(patient.enrolled_at),
        today=timezone.localdate(),
        changes=course.changes_of(patient.pk),
    )
    if errors:
        raise DomainError("The follow-up record was not saved.", field_errors=errors)


@transaction.atomic
def followup_record(*, patient: Patient, by, **data) -> FollowUp:
    Patient.objects.select_for_update().get(pk=patient.pk)  # checked in turn
    record = FollowUp(
        patient=patient, recorded_by=by, **{k: v for k, v in data.items() if k in ENTERED}
    )
    _check(record)
    record._history_user = by
    record.save()
    return record


@transaction.atomic
def followup_correct(*, record: FollowUp, by, reason: str, **changes) -> FollowUp:
    Patient.objects.select_for_update().get(pk=record.patient_id)
    record = FollowUp.objects.get(pk=record.pk)
    apply_changes(record, changes, ENTERED)
    _check(record)
    record.save_with_reason(reason, by=by)
    return record


# Endpoint runs ---------------------------------------------------------------------------------

STALLED_AFTER = timedelta(minutes=5)  # a running run without a heartbeat for this long


class QueueUnavailable(DomainError):
    """The task queue cannot be reached: the run is recorded as failed, with this reason."""


def software_version() -> str:
    return (
        f"inkt-trial {settings.SOFTWARE_VERSION}; lifelines {lifelines.__version__}; "
        f"Python {platform.python_version()}"
    )


def _note(run_id: int, event: str, **details) -> None:
    """Add a line to the run's log, under a row lock (the worker and the web may both write)."""
    with transaction.atomic():
        run = EndpointRun.objects.select_for_update().only("log").get(pk=run_id)
        entry = {"at": timezone.now().isoformat(), "event": event, **details}
        EndpointRun.objects.filter(pk=run_id).update(log=[*run.log, entry])


def _enqueue(run: EndpointRun) -> None:
    from outcomes.tasks import compute_endpoints

    try:
        compute_endpoints.apply_async(args=[run.pk], retry=False)
    except (OperationalError, ConnectionError, OSError) as error:
        reason = (
            f"The task queue could not be reached ({type(error).__name__}); "
            "the run was not started. Retry it when the queue is back."
        )
        EndpointRun.objects.filter(pk=run.pk).update(
            status=EndpointRun.FAILED, error=reason, finished_at=timezone.now()
        )
        _note(run.pk, "failed", error=reason)
        raise QueueUnavailable(
            "The task queue (Redis) cannot be reached: the run is recorded as not started. "
            "Retry it when the queue is back."
        ) from None


def run_start(*, cutoff, by, death_is_ttd_event: bool = False) -> EndpointRun:
    """Record a run and hand it to a Celery worker (in the embedded default, computed at once)."""
    if cutoff > timezone.localdate():
        raise DomainError(field_errors={"cutoff": ["A data cut-off cannot be in the future."]})
    end_of_day = timezone.make_aware(datetime.combine(cutoff + timedelta(days=1), time.min))
    if not Allocation.objects.filter(randomized_at__lt=end_of_day).exists():
        raise DomainError(
            field_errors={"cutoff": ["No patient had been randomized by this cut-off."]}
        )
    run = EndpointRun.objects.create(
        cutoff=cutoff,
        death_is_ttd_event=death_is_ttd_event,
        requested_by=by,
        log=[{"at": timezone.now().isoformat(), "event": "requested", "by": str(by)}],
    )
    _enqueue(run)
    run.refresh_from_db()
    return run


def run_state(run: EndpointRun, *, now=None) -> str:
    """The status as the user should read it: a running run whose worker stopped reporting is
    'stalled' (retry it)."""
    now = now or timezone.now()
    beat = run.heartbeat_at or run.started_at
    if run.status == EndpointRun.RUNNING and beat and now - beat > STALLED_AFTER:
        return "stalled"
    if run.status == EndpointRun.QUEUED and now - run.requested_at > STALLED_AFTER:
        return "waiting"  # no worker has taken it: it may be retried (a lost message)
    return run.status


def run_retry(*, run: EndpointRun, by) -> EndpointRun:
    with transaction.atomic():  # one retry at a time: a double click queues it once
        run = EndpointRun.objects.select_for_update().get(pk=run.pk)
        if run_state(run) not in (EndpointRun.FAILED, "stalled", "waiting"):
            raise DomainError(
                "Only a failed, stalled or long-waiting run can be retried "
                f"(this one is {run_state(run)})."
            )
        EndpointRun.objects.filter(pk=run.pk).update(
            status=EndpointRun.QUEUED,
            requested_at=timezone.now(),
            error="",
            progress=0,
            step=f"retry requested by {by}",
            log=[
                *run.log,
                {
                    "at": timezone.now().isoformat(),
                    "event": "retry",
                    "by": str(by),
                    "after": run.error or run_state(run),
                },
            ],
        )
    _enqueue(run)
    run.refresh_from_db()
    return run


def runs_requeue_stalled(*, now=None) -> int:
    """Queue again, without a person, every run that a worker took and stopped reporting on
    (killed, or its machine lost) and every run queued for long that no worker took (the
    message lost, e.g. Redis restarted empty); each gets a line in its log. The count."""
    now = now or timezone.now()
    found = 0
    for run in EndpointRun.objects.filter(
        status__in=(EndpointRun.RUNNING, EndpointRun.QUEUED)
    ).defer("results"):
        state = run_state(run, now=now)
        if state not in ("stalled", "waiting"):
            continue
        with transaction.atomic():
            locked = EndpointRun.objects.select_for_update().defer("results").get(pk=run.pk)
            if run_state(locked, now=now) != state:
                continue  # a worker reported in the meantime
            EndpointRun.objects.filter(pk=run.pk).update(
                status=EndpointRun.QUEUED, requested_at=now, step=f"requeued ({state})"
            )
        _note(run.pk, "requeued", after=state)
        try:
            _enqueue(run)
        except QueueUnavailable:
            continue  # recorded as failed with the reason; a person may retry
        found += 1
    return found


class _PatientRows:
    """Each patient's part of the results stored as a row (outcomes.models.PatientResult) as the
    analysis hands it out, a batch at a time (inkt_trial/bulk.py: COPY on PostgreSQL): a run of
    many patients holds no more than a batch of them. The rows of a run not done are never
    read; a retry replaces them."""

    BATCH = 500
    COLUMNS = ("run_id", "position", "key", "code", "adtte", "responses", "subject", "qol")

    def __init__(self, run_id: int, codes: dict[str, str], subjects: dict[str, dict]):
        PatientResult.objects.filter(run_id=run_id).delete()  # an earlier attempt's
        self.run_id, self.codes, self.subjects = run_id, codes, subjects
        self.batch: list[tuple] = []
        self.position = 0
        self.arms_and_codes: set[tuple[str, str]] = set()

    def add(self, patient: endpoints.Patient, adtte: list[dict], responses: list[dict]) -> None:
        code = self.codes.get(patient.key)
        self.arms_and_codes |= stored.arms_and_codes(
            stored.Part(patient.key, code, adtte, [], None, None)
        )
        self.batch.append(
            (
                self.run_id,
                self.position,
                patient.key,
                code or "",
                stored.pack(adtte),
                stored.pack(responses),
                self.subjects.get(patient.key),  # for the CDISC ADSL (outcomes/adam.py)
                stored.pack_scores(patient.qol)  # for the CDISC ADQS
                or adam.qol_results([patient]).get(patient.key),
            )
        )
        self.position += 1
        if len(self.batch) >= self.BATCH:
            self.flush()

    def flush(self) -> None:
        bulk.write(PatientResult, self.COLUMNS, self.batch)
        self.batch = []


@contextmanager
def _without_cycle_collection():
    """A run's facts and rows (millions of objects at 10,000 patients) live until it ends and
    hold no reference cycles: Python's cyclic garbage collector would walk all of them again
    and again for nothing (a fifth of a 10,000-patient run, measured). Reference counting
    still frees everything; the collector is back as it was afterwards, whatever happens."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def run_compute(run_id: int) -> str:
    """The task's body: the snapshot, the pure analysis, the results stored with the run: its
    summary in the run, each patient's part as a row (outcomes/run_results.py reads both)."""
    run = EndpointRun.objects.get(pk=run_id)
    if run.status == EndpointRun.DONE:
        return "already done"
    now = timezone.now()
    EndpointRun.objects.filter(pk=run.pk).update(
        status=EndpointRun.RUNNING,
        started_at=now,
        heartbeat_at=now,
        attempts=F("attempts") + 1,
        progress=1,
        step="reading the data",
        error="",
        software_version=software_version(),
    )
    _note(run.pk, "started")

    def progress(percent: int, step: str) -> None:
        EndpointRun.objects.filter(pk=run.pk).update(
            progress=percent, step=step[:120], heartbeat_at=timezone.now()
        )

    try:
        with _without_cycle_collection():
            facts, codes, lock, subjects = snapshot.read(run.cutoff)
            params = endpoints.Params(death_is_ttd_event=run.death_is_ttd_event)
            fingerprint = analysis.digest(facts, run.cutoff, params)
            rows = _PatientRows(run.pk, codes, subjects)
            results = analysis.analyse(facts, run.cutoff, params, progress=progress, each=rows.add)
            rows.flush()
            results["arm_code_sets"] = stored.code_sets(rows.arms_and_codes)
    except Exception as error:  # the run says why; the task itself ends normally
        log.exception("endpoint run %s failed", run.pk)
        PatientResult.objects.filter(run_id=run.pk).delete()
        reason = f"{type(error).__name__}: {error}"
        EndpointRun.objects.filter(pk=run.pk).update(
            status=EndpointRun.FAILED, error=reason, finished_at=timezone.now()
        )
        _note(run.pk, "failed", error=reason)
        return "failed"
    EndpointRun.objects.filter(pk=run.pk).update(
        status=EndpointRun.DONE,
        progress=100,
        step="done",
        results=results,
        data_digest=fingerprint,
        patients=len(facts),
        data_lock=lock.as_dict(),
        finished_at=timezone.now(),
    )
    _note(run.pk, "done", patients=len(facts))
    return "done"
