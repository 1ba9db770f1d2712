from celery import shared_task

from datamanagement import services


@shared_task
def run_edit_checks() -> int:
    """Nightly (Celery beat): every edit check for every patient; the number of new queries."""
    return len(services.checks_run())
