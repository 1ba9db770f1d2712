"""A released bag for a course that tests, the demo data and the synthetic trial record: the
patient's apheresis (the first, made on the day of randomization if none), a batch passing
every release test, released by `by` at randomization (or the day of its manufacture) and
expiring 30 days after the infusion. Returns the bedside-check fields to pass to
services.infusion_record."""

from datetime import datetime, time, timedelta
from decimal import Decimal

from django.utils import timezone

from dosing import chain, services
from dosing.models import Apheresis

PASSING = {
    chain.Assay.STERILITY: {"result_passed": True},
    chain.Assay.MYCOPLASMA: {"result_passed": True},
    chain.Assay.ENDOTOXIN: {"value": Decimal("0.2")},
    chain.Assay.VIABILITY: {"value": Decimal("92")},
    chain.Assay.PURITY: {"value": Decimal("96")},
}


def released_bag(
    *, patient, by, infused_at, batch_number: str | None = None, cells_total: int = 5 * 10**9
) -> dict:
    randomized_at = patient.allocation.randomized_at
    day = timezone.localdate(randomized_at)
    apheresis = Apheresis.objects.filter(patient=patient).order_by("date", "pk").first()
    if apheresis is None:
        apheresis = services.apheresis_record(
            patient=patient, by=by, date=day, volume_ml=Decimal("180.0"), site="Apheresis unit"
        )
    number = batch_number or f"{patient.study_id}-{patient.cell_batches.count() + 1}"
    batch = services.batch_record(
        apheresis=apheresis,
        by=by,
        batch_number=number,
        manufactured_on=apheresis.date,
        expires_at=max(infused_at, timezone.now()) + timedelta(days=30),
        cells_total=cells_total,
        volume_ml=Decimal("100.0"),
    )
    for assay, result in PASSING.items():
        services.release_test_record(
            batch=batch, by=by, assay=assay.value, tested_on=apheresis.date, **result
        )
    start_of_manufacture = timezone.make_aware(datetime.combine(apheresis.date, time.min))
    released_at = min(max(randomized_at, start_of_manufacture), timezone.now())
    services.batch_release(batch=batch, by=by, released_at=released_at)
    return {
        "batch_number": batch.batch_number,
        "bag_study_id": patient.study_id,
        "bag_date_of_birth": patient.screening.date_of_birth,
    }
