import time

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from outcomes import synthetic, synthetic_bulk


class Command(BaseCommand):
    help = (
        "Generate a complete synthetic trial through the product's services (screening, "
        "randomization, infusions, double reads with disagreements, adverse events, "
        "questionnaires, follow-up). Needs the demo users (manage.py demo_data). From "
        f"{synthetic.BULK_FROM_PATIENTS} patients on, the same records are built by the "
        "services' rules and written in batches (outcomes/synthetic_bulk.py), up to "
        f"{synthetic_bulk.MAX_PATIENTS:,} patients."
    )

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument("--patients", type=int, default=84)

    def handle(self, *args, seed, patients, **options):
        if patients < 1:
            raise CommandError("--patients must be at least 1.")
        started = time.perf_counter()
        try:
            with transaction.atomic():
                counts = synthetic.generate(seed=seed, patients=patients)
        except Exception as error:
            raise CommandError(f"The synthetic trial was not created: {error}") from error
        self.stdout.write(
            f"Synthetic trial (seed {seed}): {counts.screened} screened, "
            f"{counts.screen_failures} screen failures, {counts.randomized} randomized "
            f"({', '.join(f'{a} {n}' for a, n in sorted(counts.arms.items()))}), "
            f"{counts.adjudicated} adjudicated, {counts.deaths} deaths, in "
            f"{time.perf_counter() - started:.0f} s."
        )
