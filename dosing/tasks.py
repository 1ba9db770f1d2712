from celery import shared_task
from django.utils import timezone

from dosing import services


@shared_task
def flag_due_infusions() -> int:
    """Daily (Celery beat): flag courses due within 3 days and overdue ones, e-mail them."""
    return services.reminders_flag(today=timezone.localdate())
