from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from enrollment import course
from enrollment.models import Patient

CHUNK = 500  # patients derived at a time: memory bounded at any size
SHOWN = 50  # differences listed by --check


class Command(BaseCommand):
    help = (
        "Derive and store the current state (enrollment.models.CourseState) of every patient "
        "whose stored state cannot be read: missing (an upgrade from a version that did not "
        "store it), outdated (a refresh that did not run) or derived under other rules (a "
        "change of the course rules). Run after migrate. --all derives every patient's state "
        "again; --check only compares every stored state with the one derived now, and fails "
        "if any differs."
    )

    def add_arguments(self, parser):
        parser.add_argument("--all", action="store_true", dest="every")
        parser.add_argument("--check", action="store_true")

    def handle(self, *args, every, check, **options):
        patients = Patient.objects.order_by("pk")
        total = patients.count()
        if not (every or check):
            patients = patients.exclude(pk__in=course.valid_states().values("patient_id"))
        ids = list(patients.values_list("pk", flat=True))
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
            self.stdout.write(
                f"{len(ids)} of {total} patients' states derived and stored ({changed} changed)."
            )
            return
        for pid, stored, derived in differing[:SHOWN]:
            shown = stored or "nothing under the current rules"
            self.stdout.write(f"patient {pid}: stored {shown}, derived {derived}")
        if len(differing) > SHOWN:
            self.stdout.write(f"... and {len(differing) - SHOWN} more.")
        if differing:
            raise CommandError(f"{len(differing)} of {total} stored states differ.")
        self.stdout.write(f"{total} patients' states agree.")
