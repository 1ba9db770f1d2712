from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from enrollment import course
from enrollment.models import Patient

CHUNK = 500  # patients derived at a time: memory bounded at any size


class Command(BaseCommand):
    help = (
        "Derive and store every patient's current state (enrollment.models.CourseState), as "
        "each clinical record's save does for its patient: after an upgrade from a version "
        "that did not store it, or a change of the course rules. --check only compares the "
        "stored states with those derived now, and fails if any differs."
    )

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true")

    def handle(self, *args, check, **options):
        ids = list(Patient.objects.order_by("pk").values_list("pk", flat=True))
        differing = []
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            differing += course.states_compared(chunk)
            if not check:
                with transaction.atomic():
                    course.states_refresh(chunk)
        for pid, stored, derived in differing:
            self.stdout.write(f"patient {pid}: stored {stored or 'nothing'}, derived {derived}")
        if check and differing:
            raise CommandError(f"{len(differing)} of {len(ids)} stored states differ.")
        done = "agree" if check else f"stored ({len(differing)} changed)"
        self.stdout.write(f"{len(ids)} patients' states {done}.")
