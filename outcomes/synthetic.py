"""A synthetic trial: every record made through the product's own services, at the date it
would have been made (time-machine moves the clock), so that every rule is applied and every
page, table and plot has content. For demonstrations, the benchmark and tests; never for a
real trial database.

What is not a real person's: the synthetic readers' and the investigator's signatures are
applied without re-entering a password (hashing a password thousands of times would take an
hour), and their recorded meaning says "synthetic data".

Large trials (BULK_FROM_PATIENTS patients and more, or bulk=True) take the same draws but hand
the records to outcomes/synthetic_bulk.py, which builds them with the services' own rules and
writes them in batches: the same rows and audit history, minutes instead of hours.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import time_machine
from django.contrib.auth import get_user_model
from django.utils import timezone

from assessments import services as imaging
from assessments.models import Read, Scan
from dosing import services as dosing
from dosing.fixtures import released_bag
from dosing.selectors import dose_preview
from enrollment import course as patient_course
from enrollment import services as enrollment
from enrollment import status
from enrollment.demo import demo_values
from outcomes import services as outcomes
from outcomes import synthetic_bulk, synthetic_clinic
from randomization import services as randomization
from randomization.models import Allocation, AllocationSequence
from randomization.protocol import MAX_SEQUENCE_LENGTH
from safety import services as safety
from safety.models import CtcaeTerm

SYNTHETIC = " (Synthetic data: signed by the generator, not by a person.)"
INTERVAL = 56
AE_TERMS = (
    "Fatigue",
    "Hypertension",
    "Diarrhea",
    "Palmar-plantar erythrodysesthesia syndrome",
    "Aspartate aminotransferase increased",
    "Anorexia",
    "Rash maculo-papular",
)
# true medians in days (exponential times), the iNKT arm doing better
MEDIANS = {"RPI": {"pfs": 170, "os": 430}, "RP": {"pfs": 110, "os": 330}}
BULK_FROM_PATIENTS = 500  # smaller trials (the demo, the tests) go through the services


@dataclass
class Counts:
    screened: int = 0
    screen_failures: int = 0
    randomized: int = 0
    adjudicated: int = 0
    deaths: int = 0
    arms: dict[str, int] = field(default_factory=dict)
    showcase: dict[str, int] = field(default_factory=dict)  # synthetic_clinic.showcase's


def _moment(day: date, hour: int = 10) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour)))


class Services:
    """The generator's writes through the product's services, one record at a time (each
    service reads back what it needs and checks everything)."""

    screening_create = staticmethod(enrollment.screening_create)
    readers_assign = staticmethod(imaging.readers_assign)
    scan_register = staticmethod(imaging.scan_register)
    questionnaire_record = staticmethod(imaging.questionnaire_record)
    drug_exposure_record = staticmethod(dosing.drug_exposure_record)
    schedule_create = staticmethod(dosing.schedule_create)
    released_bag = staticmethod(released_bag)
    infusion_record = staticmethod(dosing.infusion_record)
    ae_record = staticmethod(safety.ae_record)
    treatment_end_record = staticmethod(patient_course.treatment_end_record)
    pending_adjudication = staticmethod(imaging.pending_adjudication)
    adjudicate = staticmethod(imaging.adjudicate)
    followup_record = staticmethod(outcomes.followup_record)
    status_change_record = staticmethod(patient_course.status_change_record)

    @staticmethod
    def enrol(screening, by, *, meaning):
        return enrollment._enrol(screening, by, meaning=meaning)

    @staticmethod
    def randomize(*, patient, by) -> str:
        return randomization.patient_randomize(patient=patient, by=by).arm

    @staticmethod
    def dose_preview(*, patient, **values) -> dict:
        return dose_preview(study_id=patient.study_id, **values)

    @staticmethod
    def read_signed(*, scan, reader, data, note) -> None:
        read = imaging.read_save(scan=scan, reader=reader, data=data)
        imaging._sign(Read.objects.get(pk=read.pk), reader, note=note)

    @staticmethod
    def scanned_after(patient, day: date) -> bool:
        return Scan.objects.filter(patient=patient, scan_date__gt=day).exists()

    def finish(self) -> None:
        pass


class Generator:
    def __init__(self, *, seed: int, today: date, users: dict, clinical: bool = False, writer=None):
        self.s = writer or Services()  # where the records go (outcomes/synthetic_bulk.py)
        self.rng = random.Random(seed)
        self.seed = seed
        self.clinical = clinical  # visits, labs, medications (outcomes/synthetic_clinic.py)
        self.courses: list = []
        self.today = today
        self.u = users
        self.counts = Counts()
        self.terms = {t.term: t for t in CtcaeTerm.objects.filter(term__in=AE_TERMS)}

    # the clock ----------------------------------------------------------------------------
    def at(self, day: date, hour: int = 10):
        return time_machine.travel(_moment(min(day, self.today), hour), tick=False)

    # one patient ----------------------------------------------------------------------------
    def patient(self, randomized_on: date) -> None:
        rng = self.rng
        self.counts.screened += 1
        with self.at(randomized_on - timedelta(days=5)):
            values = demo_values(
                randomized_on,
                sex=rng.choice("MF"),
                height_cm=Decimal(rng.randint(150, 185)),
                weight_kg=Decimal(rng.randint(48, 90)),
            )
            if rng.random() < 0.12:  # a screen failure, then nothing else
                values["life_expectancy_12_weeks"] = False
                self.s.screening_create(values=values, by=self.u["coordinator"])
                self.counts.screen_failures += 1
                return
            screening = self.s.screening_create(values=values, by=self.u["coordinator"])
        with self.at(randomized_on - timedelta(days=3)):
            scan0 = None
            patient = self.s.enrol(
                screening,
                self.u["investigator"],
                meaning=enrollment.SIGNATURE_MEANING + SYNTHETIC,
            )
            self.s.readers_assign(
                patient=patient,
                by=self.u["coordinator"],
                reader_1=self.u["radiologist"],
                reader_2=self.u["radiologist2"],
            )
        with self.at(randomized_on, 9):
            arm = self.s.randomize(patient=patient, by=self.u["coordinator"])
        self.counts.randomized += 1
        self.counts.arms[arm] = self.counts.arms.get(arm, 0) + 1
        with self.at(randomized_on, 11):
            scan0 = self.s.scan_register(
                patient=patient,
                by=self.u["coordinator"],
                scan_date=randomized_on - timedelta(days=rng.randint(1, 5)),
                kind="baseline",
                modality=rng.choice(("CT", "MRI")),
                regions=["chest", "abdomen"],
            )
            self.questionnaire(patient, "baseline", randomized_on, 0.7 + rng.random() * 0.2)

        # the course of the disease (true times, then what the schedule observes)
        progression = randomized_on + timedelta(
            days=max(20, int(rng.expovariate(0.693 / MEDIANS[arm]["pfs"])))
        )
        death = progression + timedelta(days=int(rng.expovariate(0.693 / 200)))
        if rng.random() < 0.1:  # dies before progression is seen
            death = randomized_on + timedelta(days=rng.randint(30, 300))
        death = min(
            death,
            randomized_on
            + timedelta(days=max(40, int(rng.expovariate(0.693 / MEDIANS[arm]["os"])))),
        )
        responder = rng.random() < (0.28 if arm == "RPI" else 0.15)
        # the 8-weekly scans while alive; the first on or after the true progression shows it
        scan_days, k = [], 1
        while True:
            day = randomized_on + timedelta(days=INTERVAL * k + rng.randint(-3, 3))
            if day >= death or day > self.today - timedelta(days=2):
                break
            scan_days.append(day)
            k += 1
        seen = next((d for d in scan_days if d >= progression), None)
        self.treatment(patient, arm, randomized_on, seen, death, Decimal(values["weight_kg"]))
        if self.clinical:  # its own random numbers: the rest of the trial is the same without
            self.courses.append(
                synthetic_clinic.clinic(
                    self,
                    patient=patient,
                    rank=self.counts.randomized - 1,
                    arm=arm,
                    randomized_on=randomized_on,
                    end_day=min(seen or death, death),
                    death=death,
                    responder=responder,
                )
            )

        # imaging every 8 weeks from randomization while alive
        base = {"T1": rng.randint(35, 70), "T2": rng.randint(14, 30)}
        baseline_read = {
            "targets": [
                {"id": "T1", "organ": "liver", "diameter_mm": base["T1"]},
                {"id": "T2", "organ": "lung", "diameter_mm": base["T2"]},
            ]
        }
        scans = [(scan0, baseline_read, baseline_read)]
        nadir = sum(base.values())
        factor, progressed_at = 1.0, None
        disagree_at = 1 if rng.random() < 0.12 else None
        for k, day in enumerate(scan_days, start=1):
            if progressed_at is None and day >= progression:
                progressed_at = day
                factor = (1.3 * nadir + 8) / sum(base.values())
            elif progressed_at is not None:
                factor += 12 / sum(base.values())  # grows on: iCPD at this scan
            elif responder:
                factor = min(factor, rng.uniform(0.45, 0.65))
            else:  # stable: never 20 % over the nadir
                factor = min(1.02, max(0.88, factor * rng.uniform(0.97, 1.03)))
            sizes = {lesion: round(size * factor) for lesion, size in base.items()}
            if progressed_at is None:
                nadir = min(nadir, sum(sizes.values()))
            one = {"measurements": [{"lesion_id": i, "diameter_mm": s} for i, s in sizes.items()]}
            two = one
            if disagree_at == k and progressed_at is None:
                # reader 2 measures the liver lesion 30 % larger: a different response
                bigger = {**sizes, "T1": round(sizes["T1"] * 1.3) + 6}
                two = {
                    "measurements": [{"lesion_id": i, "diameter_mm": s} for i, s in bigger.items()]
                }
            with self.at(day, 12):
                scan = self.s.scan_register(
                    patient=patient,
                    by=self.u["coordinator"],
                    scan_date=day,
                    kind="scheduled",
                    modality=scan0.modality,
                    regions=["chest", "abdomen"],
                )
                wellbeing = max(0.05, 0.75 - (0.25 if progressed_at else 0) - 0.02 * k)
                self.questionnaire(patient, f"visit-{k}", day, wellbeing)
            scans.append((scan, one, two))
            if progressed_at is not None and day > progressed_at:
                break  # the confirming scan: imaging stops
        self.reads(patient, scans, disagree=disagree_at is not None)
        self.follow_up(patient, randomized_on, progressed_at, death)

    def questionnaire(self, patient, visit, day, wellbeing):
        rng = self.rng
        answers = {}
        for item in range(1, 31):
            if rng.random() < 0.03:
                answers[str(item)] = None
                continue
            noise = rng.gauss(0, 0.5)
            if item > 28:
                answers[str(item)] = min(7, max(1, round(1 + 6 * wellbeing + noise)))
            else:
                answers[str(item)] = min(4, max(1, round(1 + 3 * (1 - wellbeing) + noise)))
        self.s.questionnaire_record(
            patient=patient,
            by=self.u["coordinator"],
            visit=visit,
            completed_on=day,
            answers=answers,
        )

    def treatment(self, patient, arm, start, seen, death, weight) -> None:
        """Until the scan that shows progression (`seen`), or death: PD-1 and regorafenib from
        day 1 (the regorafenib period closed at the end of treatment), iNKT courses (RPI)."""
        rng = self.rng
        end_day = min(seen or death, death)
        stop = min(end_day, self.today)
        ended = end_day <= self.today
        with self.at(start + timedelta(days=1)):
            self.s.drug_exposure_record(
                patient=patient,
                by=self.u["coordinator"],
                drug="pd1",
                product="sintilimab",
                event="administration",
                dose=Decimal(200),
                unit="mg",
                route="iv",
                start_date=start + timedelta(days=1),
            )
        with self.at(end_day if ended else start + timedelta(days=1), 8):
            self.s.drug_exposure_record(
                patient=patient,
                by=self.u["coordinator"],
                drug="regorafenib",
                event="period",
                dose=Decimal(160),
                unit="mg",
                route="oral",
                start_date=start + timedelta(days=1),
                end_date=end_day if ended else None,
            )
        given = None
        if arm == "RPI":
            first = start + timedelta(days=3)
            with self.at(start + timedelta(days=1)):
                self.s.schedule_create(
                    patient=patient,
                    by=self.u["coordinator"],
                    first_planned_date=first,
                    target_cells_per_m2=5 * 10**8,
                )
            for course in range(6):
                day = first + timedelta(days=14 * course)
                if day >= stop:
                    break
                weight = (weight * Decimal(str(round(rng.uniform(0.98, 1.02), 3)))).quantize(
                    Decimal("0.1")
                )  # drifts a little from course to course
                dose = self.s.dose_preview(
                    patient=patient, weight_kg=weight, target_cells_per_m2=5 * 10**8
                )["computed_dose_cells"]
                with self.at(day, 14):
                    bag = self.s.released_bag(
                        patient=patient,
                        by=self.u["coordinator"],
                        infused_at=timezone.now(),
                        batch_number=f"SYN-{patient.study_id}-{course + 1}",
                    )
                    given = self.s.infusion_record(
                        patient=patient,
                        by=self.u["coordinator"],
                        infused_at=timezone.now(),
                        weight_kg=weight,
                        target_cells_per_m2=5 * 10**8,
                        cells_infused=int(dose * rng.uniform(0.95, 1.05)),
                        **bag,
                    )
                if course == 0 and rng.random() < 0.2:
                    self.adverse_event(
                        patient, "Infusion related reaction", rng.choice((1, 2)), day, given, death
                    )
        for _ in range(rng.randint(0, 3)):
            onset = start + timedelta(days=rng.randint(2, 120))
            if onset < stop:
                self.adverse_event(patient, rng.choice(list(self.terms)), None, onset, None, death)
        if ended:
            with self.at(end_day, 16):
                for drug in status.drugs_of_arm(arm == "RPI"):
                    self.s.treatment_end_record(
                        patient=patient,
                        by=self.u["coordinator"],
                        drug=drug,
                        date=end_day,
                        reason=status.DIED if death == end_day else status.PROGRESSION,
                    )

    def adverse_event(self, patient, term_name, grade, onset, infusion, death) -> None:
        """An event of grade 1 to 3 from `onset`: resolved 3 to 25 days later, unless that is
        after today (recovering) or after the patient's death (not recovered: an event ongoing
        at death does not resolve; the services refuse a resolution after it)."""
        rng = self.rng
        term = self.terms.get(term_name) or CtcaeTerm.objects.get(term=term_name)
        grade = grade or rng.choice([g for g in term.grades if g <= 3])
        serious = grade == 3 and rng.random() < 0.4
        aware = _moment(onset, 16) if serious else None
        resolved = onset + timedelta(days=rng.randint(3, 25))
        outcome = "recovered"
        if resolved > self.today:
            resolved, outcome = None, "recovering"
        elif resolved > death:
            resolved, outcome = None, "not_recovered"
        with self.at(resolved or self.today, 17):  # entered when it resolved (or now)
            self.s.ae_record(
                patient=patient,
                by=self.u["coordinator"],
                term=term,
                grade=grade,
                onset=onset,
                serious_criteria=["hospitalization"] if serious else [],
                awareness_at=aware,
                initial_report_at=aware and aware + timedelta(hours=rng.randint(2, 20)),
                infusion=infusion,
                outcome=outcome,
                resolution=resolved,
            )

    def reads(self, patient, scans, *, disagree: bool) -> None:
        """Both readers read and sign every scan in date order; a discordance is adjudicated
        (the adjudicator accepts reader 1)."""
        last = scans[-1][0].scan_date
        for scan, one, two in scans:
            with self.at(max(scan.scan_date, scans[0][0].scan_date) + timedelta(days=1), 15):
                for reader, data in ((self.u["radiologist"], one), (self.u["radiologist2"], two)):
                    self.s.read_signed(scan=scan, reader=reader, data=data, note=SYNTHETIC)
        if disagree and self.s.pending_adjudication(patient):
            with self.at(last + timedelta(days=2), 16):
                self.s.adjudicate(
                    patient=patient,
                    by=self.u["adjudicator"],
                    accepted_slot=1,
                    reason="Reader 1 measured the liver lesion along its true long axis.",
                )
            self.counts.adjudicated += 1

    def follow_up(self, patient, start, progressed_at, death) -> None:
        rng = self.rng
        if progressed_at and rng.random() < 0.4:
            day = progressed_at + timedelta(days=rng.randint(10, 30))
            if day < death and day <= self.today:
                with self.at(day):
                    self.s.followup_record(
                        patient=patient,
                        by=self.u["coordinator"],
                        kind="new_therapy",
                        date=day,
                        therapy=rng.choice(("TACE", "Cabozantinib", "Radiotherapy")),
                    )
        day = start + timedelta(days=60)
        while day < death and day <= self.today - timedelta(days=1):
            if self.s.scanned_after(patient, day):
                day += timedelta(days=60)
                continue  # imaging still shows the patient alive
            with self.at(day):
                self.s.followup_record(
                    patient=patient, by=self.u["coordinator"], kind="contact", date=day
                )
            day += timedelta(days=60)
        if death <= self.today:
            with self.at(death + timedelta(days=2)):
                self.s.status_change_record(
                    patient=patient,
                    by=self.u["coordinator"],
                    kind=status.DEATH,
                    date=death,
                    cause=rng.choice(("Disease progression", "Liver failure", "Unknown")),
                )
            self.counts.deaths += 1


def generate(
    *,
    seed: int,
    patients: int,
    today: date | None = None,
    accrual_days: int = 700,
    clinical: bool = False,
    bulk: bool | None = None,
):
    """`patients` randomized (plus the screen failures met on the way), randomized evenly over
    `accrual_days` up to two months before today. `clinical`: with the medical history,
    medications, visits and lab values, CRS, ICANS and SUSARs (outcomes/synthetic_clinic.py);
    the rest is the same with or without them.
    `bulk`: the records built in memory by the services' own rules and written in batches
    (outcomes/synthetic_bulk.py: the same trial, much faster); None chooses it from
    BULK_FROM_PATIENTS patients on. The clinical side goes through the services only. Beyond
    one allocation sequence (MAX_SEQUENCE_LENGTH) only in bulk: the administrator puts a new
    version in force whenever one is used up."""
    if bulk is None:
        bulk = patients >= BULK_FROM_PATIENTS and not clinical
    if bulk and clinical:
        raise ValueError("the clinical side of a synthetic trial is made through the services")
    most = synthetic_bulk.MAX_PATIENTS if bulk else MAX_SEQUENCE_LENGTH
    if not 1 <= patients <= most:
        raise ValueError(f"between 1 and {most} patients")
    today = today or timezone.localdate()
    User = get_user_model()
    users = {
        name: User.objects.get(username=name)
        for name in (
            "coordinator",
            "investigator",
            "radiologist",
            "radiologist2",
            "adjudicator",
            "statistician",
            "datamanager",
        )
    }
    rng = random.Random(seed)
    days = sorted(
        today - timedelta(days=60 + rng.randint(0, accrual_days)) for _ in range(patients)
    )
    if not AllocationSequence.objects.filter(is_active=True).exists():
        with time_machine.travel(_moment(days[0] - timedelta(days=30)), tick=False):
            sequence = randomization.sequence_generate(
                by=users["statistician"],
                length=min(MAX_SEQUENCE_LENGTH, max(100, patients + 20)),
                block_sizes=[2, 4, 6],
                seed=seed,
            )  # codes A/B: the administrator maps them, the statistician stays masked
            randomization.arm_codes_set(
                sequence=sequence,
                by=users["datamanager"],
                code_a_arm="RPI",  # code A takes the slots an uncoded list gives RPI
                reason="Synthetic trial: arm codes mapped",
            )
    wanted = Allocation.objects.count() + patients
    if wanted > randomization.enrolment_limit():  # a trial larger than the protocol's 84
        randomization.enrolment_limit_set(
            by=users["datamanager"],
            patients=wanted,
            reason=f"Synthetic trial of {patients} patients (demonstration and benchmarks)",
        )
    writer = synthetic_bulk.Bulk(users=users) if bulk else None
    generator = Generator(seed=seed, today=today, users=users, clinical=clinical, writer=writer)
    for index, day in enumerate(days):
        while generator.counts.randomized <= index:
            generator.patient(day)
    generator.s.finish()
    if clinical:
        generator.counts.showcase = synthetic_clinic.showcase(generator)
    return generator.counts
