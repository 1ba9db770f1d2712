from celery import shared_task

from outcomes import services


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def compute_endpoints(run_id: int) -> str:
    """Compute one endpoint run. Acknowledged only when done: a worker killed mid-run gives
    the message back to the queue, and the next worker starts the run again."""
    return services.run_compute(run_id)


@shared_task(ignore_result=True)
def requeue_stalled_runs() -> int:
    """Celery beat, every 5 minutes: queue again the runs nobody is computing."""
    return services.runs_requeue_stalled()
