from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from enrollment import course
from enrollment.models import Patient

CHUNK = 500  # patients derived at a time: memory bounded at any size
SHOWN = 50  # differences listed by --check


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
        differing, changed = [], 0
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            if check:
                differing += course.states_compared(chunk)
                continue
            before = course.stored_states(chunk)
            with transaction.atomic():
                after = course.states_refresh(chunk)
            changed += sum(before.get(pid) != state for pid, state in after.items())
        if not check:
            self.stdout.write(f"{len(ids)} patients' states stored ({changed} changed).")
            return
        for pid, stored, derived in differing[:SHOWN]:
            shown = stored or "nothing under the current rules"
            self.stdout.write(f"patient {pid}: stored {shown}, derived {derived}")
        if len(differing) > SHOWN:
            self.stdout.write(f"... and {len(differing) - SHOWN} more.")
        if differing:
            raise CommandError(f"{len(differing)} of {len(ids)} stored states differ.")
        self.stdout.write(f"{len(ids)} patients' states agree.")
