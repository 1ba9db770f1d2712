"""Demo users (one per role) and a dozen screened patients in various states."""

import random
import secrets
from datetime import timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from accounts.roles import DATA_MANAGER, MONITOR, ROLES
from assessments import services as imaging_services
from datamanagement import deviation_selectors, deviation_services
from datamanagement.selectors import lock_blockers
from datamanagement.services import data_lock
from datamanagement.tasks import run_edit_checks
from dosing import services as dosing_services
from dosing.fixtures import released_bag
from enrollment import services
from enrollment.demo import demo_values
from enrollment.models import Patient, Screening
from outcomes import synthetic, synthetic_clinic
from randomization import services as randomization_services
from randomization.models import Allocation, AllocationSequence
from safety import services as safety_services
from safety.models import ClinicalVisit, CtcaeTerm, LabValue, ProposedAdverseEvent

DEMO_NAMES = {
    "coordinator": ("Chen", "Li"),
    "investigator": ("Wang", "Fang"),
    "radiologist": ("Zhao", "Min"),
    "radiologist2": ("Sun", "Hao"),
    "adjudicator": ("Zhou", "Lei"),
    "statistician": ("Wu", "Ying"),
    "datamanager": ("Xu", "Jing"),
    "monitor": ("Liu", "Yang"),
}
USER_ROLE = {
    "coordinator": "coordinator",
    "investigator": "investigator",
    "radiologist": "radiologist",
    "radiologist2": "radiologist",
    "adjudicator": "adjudicator",
    "statistician": "statistician",
    "datamanager": DATA_MANAGER,
    "monitor": MONITOR,
}


class Command(BaseCommand):
    help = "Create a demo user per role (passwords printed once) and a dozen screenings."

    def add_arguments(self, parser):
        parser.add_argument(
            "--patients",
            type=int,
            default=84,
            help="Randomized patients of the synthetic trial made first (0: none).",
        )
        parser.add_argument("--seed", type=int, default=2026)

    def handle(self, *args, patients=84, seed=2026, **options):
        User = get_user_model()
        created = {}
        for username, (last, first) in DEMO_NAMES.items():
            if User.objects.filter(username=username).exists():
                continue
            password = secrets.token_urlsafe(9)
            user = User.objects.create_user(
                username=username,
                password=password,
                first_name=first,
                last_name=last,
                email=f"{username}@example.org",
                is_staff=USER_ROLE[username] == DATA_MANAGER,
            )
            user.groups.add(Group.objects.get(name=USER_ROLE[username]))
            created[username] = password
        if created:
            self.stdout.write("Demo users (the passwords are shown only this once):")
            for username, password in created.items():
                self.stdout.write(f"  {username:<13} {password:<14} {ROLES[USER_ROLE[username]]}")
        else:
            self.stdout.write(
                "Demo users exist already; `python manage.py changepassword NAME` "
                "sets a new password."
            )
        if Screening.objects.exists():
            return
        if patients:
            self.stdout.write(f"Generating a synthetic trial of {patients} patients...")
            with transaction.atomic():
                counts = synthetic.generate(seed=seed, patients=patients, clinical=True)
            self.stdout.write(
                f"  {counts.screened} screened, {counts.randomized} randomized, "
                f"{counts.adjudicated} adjudicated, {counts.deaths} deaths."
            )
            self.stdout.write(
                f"  {ClinicalVisit.objects.count()} clinical visits, "
                f"{LabValue.objects.count()} laboratory values, "
                f"{ProposedAdverseEvent.objects.filter(state='proposed').count()} proposed "
                "adverse event(s) pending; "
                + ", ".join(f"{k}: {v}" for k, v in counts.showcase.items())
                + "."
            )
        with transaction.atomic():
            self._screenings(User.objects.get(username="coordinator"), created.get("investigator"))
        self.stdout.write(f"{Screening.objects.count()} demo screenings created.")
        raised = run_edit_checks()  # as the nightly run would
        self.stdout.write(f"{raised} data queries raised by the edit checks.")
        with transaction.atomic():
            self._deviations(
                User.objects.get(username="coordinator"), User.objects.get(username="datamanager")
            )
        lock = self._lock(User.objects.get(username="datamanager"))
        if lock is not None:
            self.stdout.write(
                f"Database lock {lock} of {lock.patient} up to {lock.cutoff} (a clean patient)."
            )

    def _lock(self, data_manager):
        """The first patient whose records up to a year ago are clean, locked to show it."""
        cutoff = timezone.localdate() - timedelta(days=365)
        for patient in Patient.objects.filter(allocation__randomized_at__date__lt=cutoff)[:20]:
            if not lock_blockers(cutoff=cutoff, patient_ids=[patient.pk]):
                return data_lock(
                    by=data_manager,
                    patient=patient,
                    cutoff=cutoff,
                    reason="Demo data: the first year's records cleaned and verified",
                )
        return None

    def _deviations(self, coordinator, data_manager):
        """A deviation recorded by hand, and the review of the first one the records show."""
        allocation = Allocation.objects.select_related("patient").order_by("randomized_at").first()
        if allocation is None:
            return
        today = timezone.localdate()
        randomized_on = timezone.localdate(allocation.randomized_at)
        deviation_services.deviation_record(
            patient=allocation.patient,
            by=coordinator,
            occurred_on=min(randomized_on + timedelta(days=15), today),
            identified_on=min(randomized_on + timedelta(days=20), today),
            category="procedure",
            description="Safety laboratory tests drawn 4 days after the visit",
            classification="minor",
            corrective_action="Visit schedule sent to the patient's laboratory",
            status="closed",
        )
        log = deviation_selectors.log()
        derived = next((e for e in log if e.source == "derived"), None)
        if derived is not None:
            deviation_services.deviation_review(
                key=derived.key,
                by=data_manager,
                classification=derived.classification,
                corrective_action="Discussed with the site at the monitoring visit",
            )
        self.stdout.write(f"{len(log)} protocol deviations in the log.")

    def _screenings(self, coordinator, investigator_password):
        today = timezone.localdate()
        f = "F"
        cases = [
            {},
            {"sex": f, "creatinine": Decimal("0.8"), "creatinine_unit": "mg/dL"},
            {
                "albumin": Decimal("3.1"),
                "albumin_unit": "g/dL",
                "inr": Decimal("1.8"),
                "ascites": "mild",
            },  # Child-Pugh B
            {
                "bilirubin": Decimal("1.6"),
                "bilirubin_unit": "mg/dL",
                "bilirubin_uln": Decimal("1.2"),
            },
            {"bilirubin": Decimal("48"), "bilirubin_uln": Decimal("21")},  # >= 2 x ULN
            {"creatinine": Decimal("135")},  # eGFR < 60
            {"bclc_stage": "B"},
            {"hiv_syphilis": True},
            {"date_of_birth": today.replace(year=today.year - 79)},  # too old
            {
                "albumin": Decimal("24"),
                "inr": Decimal("2.5"),
                "ascites": "moderate_severe",
                "bilirubin": Decimal("40"),
                "bilirubin_uln": Decimal("21"),
            },  # Child-Pugh C
            {"sex": f, "measured_gfr_ml_min": Decimal("72"), "creatinine": None},
            {"sex": f, "prior_regimen": "Apatinib + camrelizumab"},
        ]
        screenings = [
            services.screening_create(values=demo_values(today, **case), by=coordinator)
            for case in cases
        ]
        users = get_user_model().objects
        investigator = users.get(username="investigator")
        if not investigator_password:
            return
        patients = [
            services.screening_confirm(
                screening=screening,
                by=investigator,
                password=investigator_password,
                version=screening.version,
            )
            for screening in (screenings[0], screenings[1], screenings[2], screenings[3])
        ]
        for rank, patient in enumerate(patients):  # history, medications, screening visit
            rng = random.Random(f"demo/{rank}")
            synthetic_clinic.history(rng, screening=patient.screening, by=coordinator, rank=rank)
            synthetic_clinic.baseline_visit(
                rng, patient=patient, by=coordinator, day=patient.screening.screening_date
            )
        if not AllocationSequence.objects.filter(is_active=True).exists():
            sequence = randomization_services.sequence_generate(
                by=users.get(username="statistician"), length=100, block_sizes=[2, 4, 6]
            )  # codes A/B: the administrator maps them, the statistician stays masked
            randomization_services.arm_codes_set(
                sequence=sequence,
                by=users.get(username="datamanager"),
                code_a_arm="RPI",
                reason="Demo data: arm codes mapped",
            )
        # Three are randomized; the fourth waits on the coordinator's dashboard.
        wanted = Allocation.objects.count() + 3
        if wanted > randomization_services.enrolment_limit():
            randomization_services.enrolment_limit_set(
                by=users.get(username="datamanager"),
                patients=wanted,
                reason="Demo data: three patients beyond the synthetic trial, to show the pages",
            )
        allocations = [
            randomization_services.patient_randomize(patient=patient, by=coordinator)
            for patient in patients[:3]
        ]
        now = timezone.now()
        for allocation in allocations:
            dosing_services.drug_exposure_record(
                patient=allocation.patient,
                by=coordinator,
                drug="pd1",
                product="sintilimab",
                event="administration",
                dose=Decimal(200),
                unit="mg",
                route="iv",
                start_date=today,
            )
            dosing_services.drug_exposure_record(
                patient=allocation.patient,
                by=coordinator,
                drug="regorafenib",
                event="period",
                dose=Decimal(160),
                unit="mg",
                route="oral",
                start_date=today,
            )
            # Imaging: two readers and the baseline scan, on the demo radiologists' worklists.
            imaging_services.readers_assign(
                patient=allocation.patient,
                by=coordinator,
                reader_1=users.get(username="radiologist"),
                reader_2=users.get(username="radiologist2"),
            )
            imaging_services.scan_register(
                patient=allocation.patient,
                by=coordinator,
                scan_date=today,
                kind="baseline",
                modality="CT",
                regions=["chest", "abdomen", "pelvis"],
            )
            # Quality of life at baseline, an adverse event each, and one overdue SAE.
            imaging_services.questionnaire_record(
                patient=allocation.patient,
                by=coordinator,
                visit="baseline",
                completed_on=today,
                answers={str(i): (5 if i > 28 else 1 + i % 3) for i in range(1, 31) if i != 7},
            )
            safety_services.ae_record(
                patient=allocation.patient,
                by=coordinator,
                term=CtcaeTerm.objects.get(term="Fatigue"),
                grade=1,
                onset=today,
            )
            if allocation == allocations[0]:
                safety_services.ae_record(
                    patient=allocation.patient,
                    by=coordinator,
                    term=CtcaeTerm.objects.get(term="Hypertension"),
                    grade=3,
                    onset=today - timedelta(days=2),
                    serious_criteria=["hospitalization"],
                    awareness_at=now - timedelta(hours=30),
                )
            if allocation.arm != "RPI":
                continue
            dosing_services.schedule_create(
                patient=allocation.patient,
                by=coordinator,
                first_planned_date=today,
                target_cells_per_m2=5 * 10**8,
            )
            dosing_services.infusion_record(
                patient=allocation.patient,
                by=coordinator,
                infused_at=now,
                weight_kg=Decimal("64.0"),
                target_cells_per_m2=5 * 10**8,
                cells_infused=870_000_000,
                **released_bag(
                    patient=allocation.patient,
                    by=coordinator,
                    infused_at=now,
                    batch_number=f"DEMO-{allocation.patient.study_id}-1",
                ),
            )
            safety_services.ae_record(
                patient=allocation.patient,
                by=coordinator,
                term=CtcaeTerm.objects.get(term="Infusion related reaction"),
                grade=2,
                onset=today,
                infusion=allocation.patient.infusions.get(course_number=1),
            )
