from celery import shared_task

from enrollment import services


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def notify_awaiting_confirmation(screening_id: int) -> int:
    """E-mail the investigators that an eligible screening awaits their signature."""
    return services.screening_notify_investigators(screening_id=screening_id)
