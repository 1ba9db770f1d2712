"""Records numbered PREFIX0001, PREFIX0002...: the next free number, under the unique constraint
(screenings S-0001, patients INKT-001, data queries Q-0001)."""

from django.db import IntegrityError, transaction
from django.db.models.functions import Length

from inkt_trial.errors import DomainError


def create_numbered(
    model, number_field: str, prefix: str, width: int, *, by, history_reason: str = "", **fields
):
    """Create a row with the next free number (PREFIX0001...). The unique constraint decides
    between simultaneous requests; the loser retries with the following number."""
    for _ in range(20):
        last = (
            model._base_manager.filter(**{f"{number_field}__startswith": prefix})
            .order_by(Length(number_field).desc(), f"-{number_field}")  # S-10000 after S-9999
            .values_list(number_field, flat=True)
            .first()
        )
        number = f"{prefix}{(int(last[len(prefix) :]) + 1 if last else 1):0{width}d}"
        try:
            with transaction.atomic():
                record = model(**{number_field: number}, **fields)
                record._history_user = by
                if history_reason:
                    record._change_reason = history_reason
                record.save()
                return record
        except IntegrityError:
            if not model._base_manager.filter(**{number_field: number}).exists():
                raise  # another constraint than the number's uniqueness
            continue
    raise DomainError("Could not allocate a number; please try again.")
