from django.conf import settings
from django.db import models
from django.utils import timezone

from dosing import chain, protocol
from dosing.rules import DEVIATION_TEXT, Formula
from enrollment.dates import shown
from enrollment.models import Patient
from inkt_trial.audit import ClinicalRecord

FORMULA_CHOICES = [(Formula.MOSTELLER.value, "Mosteller"), (Formula.DUBOIS.value, "DuBois")]


class InfusionSchedule(ClinicalRecord):
    """The iNKT infusion plan of one RPI patient: up to 6 courses, every 14 days."""

    patient = models.OneToOneField(
        Patient, on_delete=models.PROTECT, related_name="infusion_schedule"
    )
    first_planned_date = models.DateField(help_text="Planned date of course 1.")
    window_days = models.PositiveSmallIntegerField(
        default=protocol.DEFAULT_WINDOW_DAYS, help_text="Each course may be given ± this many days."
    )
    bsa_formula = models.CharField(
        "BSA formula", max_length=10, choices=FORMULA_CHOICES, default=Formula.MOSTELLER.value
    )
    target_cells_per_m2 = models.BigIntegerField(
        help_text="Planned cells per m² for each course (10^8 to 10^9)."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["patient"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(window_days__lte=7), name="window_at_most_7_days"
            )
        ]

    def __str__(self):
        return f"Infusion schedule of {self.patient}"


class Apheresis(ClinicalRecord):
    """The leukapheresis from which the patient's own iNKT cells are manufactured (RPI arm)."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="aphereses")
    date = models.DateField("apheresis date")
    volume_ml = models.DecimalField("volume collected (mL)", max_digits=6, decimal_places=1)
    site = models.CharField(max_length=120, blank=True, help_text="Where it was collected.")
    notes = models.TextField(blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["patient", "date", "pk"]
        verbose_name_plural = "aphereses"

    def __str__(self):
        return f"Apheresis of {shown(self.date)}"

    def freeze_key(self):
        return (self.patient_id, self.date)


class ManufacturingBatch(ClinicalRecord):
    """One bag of the patient's iNKT cells made from an apheresis: its batch number (on the
    bag's label), expiry, cells and volume; released by the investigator once every release
    test passes (dosing.chain). A bag is infused once."""

    apheresis = models.ForeignKey(Apheresis, on_delete=models.PROTECT, related_name="batches")
    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="cell_batches", editable=False
    )
    batch_number = models.CharField(max_length=40, unique=True)
    manufactured_on = models.DateField()
    expires_at = models.DateTimeField("expiry")
    cells_total = models.BigIntegerField("cells in the bag")
    volume_ml = models.DecimalField("bag volume (mL)", max_digits=6, decimal_places=1)
    released_at = models.DateTimeField(null=True, blank=True, editable=False)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        editable=False,
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["patient", "manufactured_on", "pk"]
        verbose_name_plural = "manufacturing batches"
        permissions = [("release_manufacturingbatch", "Release a cell-product batch")]
        constraints = [
            models.CheckConstraint(condition=models.Q(cells_total__gt=0), name="cells_in_bag"),
            models.CheckConstraint(condition=models.Q(volume_ml__gt=0), name="bag_volume"),
        ]

    def __str__(self):
        return f"Batch {self.batch_number}"

    def freeze_key(self):
        return (self.patient_id, self.manufactured_on)


class ReleaseTest(ClinicalRecord):
    """One release test of a batch: pass/fail as entered (sterility, mycoplasma) or a value
    judged by dosing.chain (endotoxin, viability, iNKT purity)."""

    ASSAYS = [(a.value, label) for a, label in chain.ASSAY_LABELS.items()]

    batch = models.ForeignKey(
        ManufacturingBatch, on_delete=models.PROTECT, related_name="release_tests"
    )
    assay = models.CharField("test", max_length=12, choices=ASSAYS)
    result_passed = models.BooleanField(
        "result (pass)", null=True, blank=True, help_text="Sterility and mycoplasma."
    )
    value = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    unit = models.CharField(max_length=10, blank=True, editable=False)
    method = models.CharField(max_length=120, blank=True)
    tested_on = models.DateField()
    passed = models.BooleanField(editable=False, default=False)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["batch", "assay"]
        constraints = [
            models.UniqueConstraint(fields=["batch", "assay"], name="one_result_per_test")
        ]

    def __str__(self):
        return f"{self.get_assay_display()} of batch {self.batch.batch_number}"

    def freeze_key(self):
        return (self.batch.patient_id, self.tested_on)

    def as_result(self) -> chain.AssayResult:
        return chain.AssayResult(self.assay, passed=self.result_passed, value=self.value)


class Infusion(ClinicalRecord):
    """One course of iNKT cells: given (with its dose) or missed (with the reason)."""

    GIVEN, MISSED = "given", "missed"

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="infusions")
    course_number = models.PositiveSmallIntegerField()
    status = models.CharField(max_length=6, choices=[(GIVEN, "Given"), (MISSED, "Missed")])
    planned_date = models.DateField(editable=False)
    infused_at = models.DateTimeField(null=True, blank=True)
    weight_kg = models.DecimalField(
        "weight on the day (kg)", max_digits=4, decimal_places=1, null=True, blank=True
    )
    height_cm = models.DecimalField(
        "height (cm, from screening)", max_digits=4, decimal_places=1, null=True, editable=False
    )
    bsa_formula = models.CharField("BSA formula", max_length=10, choices=FORMULA_CHOICES)
    bsa_m2 = models.DecimalField(
        "BSA (m²)", max_digits=5, decimal_places=4, null=True, editable=False
    )
    target_cells_per_m2 = models.BigIntegerField(null=True, blank=True)
    computed_dose_cells = models.BigIntegerField(null=True, editable=False)
    cells_infused = models.BigIntegerField(null=True, blank=True)
    batch_number = models.CharField("cell-product batch", max_length=40, blank=True)
    # The bedside check: the bag's label as scanned or typed, matched to the patient and to a
    # released batch of theirs (dosing.chain.bedside_mismatches) before the course is saved.
    bag_study_id = models.CharField("study ID on the bag", max_length=16, blank=True)
    bag_date_of_birth = models.DateField("date of birth on the bag", null=True, blank=True)
    batch = models.ForeignKey(
        ManufacturingBatch,
        on_delete=models.PROTECT,
        related_name="infusions",
        null=True,
        blank=True,
        editable=False,
    )
    infusion_reaction = models.BooleanField(default=False)
    reaction_description = models.TextField(blank=True)
    deviations = models.JSONField(default=list, editable=False)
    deviation_reason = models.TextField(
        blank=True, help_text="Required when the course deviates from the protocol."
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["patient", "course_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "course_number"], name="one_record_per_course"
            ),
            models.CheckConstraint(
                condition=models.Q(course_number__gte=1, course_number__lte=protocol.MAX_COURSES),
                name="course_1_to_6",
            ),
            models.UniqueConstraint(
                fields=["batch"], condition=models.Q(batch__isnull=False), name="one_course_per_bag"
            ),
        ]

    def __str__(self):
        return f"{self.patient} course {self.course_number}"

    def freeze_key(self):
        day = timezone.localdate(self.infused_at) if self.infused_at else self.planned_date
        return (self.patient_id, day)

    @property
    def deviation_texts(self) -> list[str]:
        return [DEVIATION_TEXT[code] for code in self.deviations]


class DrugExposure(ClinicalRecord):
    """PD-1 antibody or regorafenib (both arms): one administration, a prescribed period, or an
    interruption, with the reason for every interruption and dose change."""

    DRUGS = [("pd1", "PD-1 antibody"), ("regorafenib", "Regorafenib")]
    EVENTS = [
        ("administration", "Administration (single dose)"),
        ("period", "Prescribed period"),
        ("interruption", "Interruption"),
    ]
    UNITS = [("mg", "mg"), ("mg/kg", "mg/kg")]
    ROUTES = [("iv", "Intravenous"), ("oral", "Oral")]

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="drug_exposures")
    drug = models.CharField(max_length=12, choices=DRUGS)
    product = models.CharField(max_length=80, blank=True, help_text="e.g. sintilimab")
    event = models.CharField(max_length=14, choices=EVENTS)
    dose = models.DecimalField(max_digits=7, decimal_places=2, null=True, blank=True)
    unit = models.CharField(max_length=6, choices=UNITS, blank=True)
    route = models.CharField(max_length=5, choices=ROUTES, blank=True)
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)
    dose_changed = models.BooleanField(default=False, editable=False)
    reason = models.TextField(blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["patient", "drug", "start_date"]

    def __str__(self):
        what = f"{self.get_drug_display()} {self.get_event_display().lower()}"
        return f"{what} from {shown(self.start_date)}"

    def freeze_key(self):
        return (self.patient_id, self.start_date)


class InfusionReminder(models.Model):
    """Flagged by the daily task: a course due within 3 days, or overdue."""

    DUE, OVERDUE = "due", "overdue"

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    course_number = models.PositiveSmallIntegerField()
    planned_date = models.DateField()
    kind = models.CharField(max_length=8, choices=[(DUE, "Due soon"), (OVERDUE, "Overdue")])
    flagged_on = models.DateField()
    emailed = models.BooleanField(default=False)

    class Meta:
        ordering = ["planned_date", "patient"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "course_number", "kind"], name="one_reminder_per_course_kind"
            )
        ]

    def __str__(self):
        return f"{self.patient} course {self.course_number} {self.kind}"
