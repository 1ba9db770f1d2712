from django.conf import settings
from django.db import models
from django.utils import timezone

from enrollment import eligibility as el
from enrollment import status
from enrollment.dates import shown
from inkt_trial.audit import ClinicalRecord

YES_NO = [(True, "Yes"), (False, "No")]
SERUM_UNITS = [("umol/L", "µmol/L"), ("mg/dL", "mg/dL")]


class Outcome(models.TextChoices):
    ELIGIBLE = "eligible", "Eligible"
    SCREEN_FAILURE = "screen_failure", "Screen failure"


class Screening(ClinicalRecord):
    """One screening of one person. Re-screening is a new record pointing at the earlier one."""

    screening_number = models.CharField(max_length=16, unique=True, editable=False)
    rescreen_of = models.OneToOneField(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="rescreened_by",
        help_text="The earlier screen failure this record re-screens.",
    )

    # Identity and consent
    date_of_birth = models.DateField()
    sex = models.CharField(max_length=1, choices=[(s.value, s.name.title()) for s in el.Sex])
    consent_date = models.DateField(help_text="Date the written informed consent was signed.")
    screening_date = models.DateField(help_text="Date of the screening visit and laboratory tests.")
    height_cm = models.DecimalField("height (cm)", max_digits=4, decimal_places=1)
    weight_kg = models.DecimalField("weight (kg)", max_digits=4, decimal_places=1)

    # Laboratory values as entered, with their units and the local lab's ULN
    bilirubin = models.DecimalField("total bilirubin", max_digits=6, decimal_places=2)
    bilirubin_unit = models.CharField(max_length=8, choices=SERUM_UNITS)
    bilirubin_uln = models.DecimalField(
        "bilirubin upper limit of normal",
        max_digits=6,
        decimal_places=2,
        help_text="The local laboratory's ULN, in the same unit as the bilirubin value.",
    )
    albumin = models.DecimalField("serum albumin", max_digits=5, decimal_places=2)
    albumin_unit = models.CharField(max_length=8, choices=[("g/L", "g/L"), ("g/dL", "g/dL")])
    inr = models.DecimalField("INR", max_digits=4, decimal_places=2)
    creatinine = models.DecimalField(
        "serum creatinine", max_digits=6, decimal_places=2, null=True, blank=True
    )
    creatinine_unit = models.CharField(max_length=8, choices=SERUM_UNITS, default="umol/L")
    measured_gfr_ml_min = models.DecimalField(
        "measured GFR (mL/min)",
        max_digits=5,
        decimal_places=1,
        null=True,
        blank=True,
        help_text="Leave empty to use the CKD-EPI 2021 estimate from creatinine.",
    )
    ascites = models.CharField(
        max_length=16,
        choices=[("none", "None"), ("mild", "Mild"), ("moderate_severe", "Moderate to severe")],
    )
    encephalopathy = models.CharField(
        "hepatic encephalopathy",
        max_length=16,
        choices=[("none", "None"), ("grade_1_2", "Grade 1-2"), ("grade_3_4", "Grade 3-4")],
    )

    # Disease and prior treatment
    bclc_stage = models.CharField(
        "BCLC stage", max_length=1, choices=[(s, s) for s in ("0", "A", "B", "C", "D")]
    )
    bclc_by_ct = models.BooleanField("confirmed by CT", default=False)
    bclc_by_mri = models.BooleanField("confirmed by MRI", default=False)
    bclc_by_histopathology = models.BooleanField("confirmed by histopathology", default=False)
    prior_regimen = models.CharField(
        max_length=200,
        help_text="Anti-angiogenic drug + PD-1 antibody, e.g. lenvatinib + sintilimab",
    )
    prior_regimen_start = models.DateField("prior regimen start date")
    prior_progression = models.BooleanField(
        "progressed on that regimen",
        choices=YES_NO,
        help_text="Documented progression after the anti-angiogenic drug + PD-1 antibody.",
    )
    prior_progression_date = models.DateField(
        "date of documented progression", null=True, blank=True
    )
    life_expectancy_12_weeks = models.BooleanField(
        "life expectancy of at least 12 weeks", choices=YES_NO
    )

    # Exclusion criteria: an explicit answer for every one (True = present = excluded)
    hypertension_cardiac = models.BooleanField(choices=YES_NO)
    cns_or_other_malignancy = models.BooleanField(choices=YES_NO)
    uncontrolled_immune_infectious = models.BooleanField(choices=YES_NO)
    hiv_syphilis = models.BooleanField(choices=YES_NO)
    transplant = models.BooleanField(choices=YES_NO)
    immunotherapy_allergy = models.BooleanField(choices=YES_NO)
    serious_complications = models.BooleanField(choices=YES_NO)
    pregnancy_lactation = models.BooleanField(choices=YES_NO)
    antibody_antiangiogenic_allergy = models.BooleanField(choices=YES_NO)
    unsuitable_for_cell_therapy = models.BooleanField(choices=YES_NO)

    # Derived by enrollment.eligibility on every save, never typed
    age_years = models.PositiveSmallIntegerField(editable=False)
    bilirubin_umol_l = models.DecimalField(max_digits=8, decimal_places=2, editable=False)
    albumin_g_l = models.DecimalField(max_digits=6, decimal_places=2, editable=False)
    bilirubin_x_uln = models.DecimalField(max_digits=6, decimal_places=2, editable=False)
    egfr = models.DecimalField(
        "eGFR CKD-EPI 2021", max_digits=5, decimal_places=1, null=True, editable=False
    )
    child_pugh_points = models.PositiveSmallIntegerField(editable=False)
    child_pugh_class = models.CharField(max_length=1, editable=False)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, editable=False)
    failed_criteria = models.JSONField(default=list, editable=False)

    # Investigator's electronic signature
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
    )
    confirmed_at = models.DateTimeField(null=True, blank=True, editable=False)
    signature_meaning = models.CharField(max_length=400, blank=True, editable=False)
    signature_name = models.CharField(
        "signed by (printed name)", max_length=200, blank=True, editable=False
    )
    # Reopened after a signature, for a correction (the investigator signs it again)
    reopened_at = models.DateTimeField(null=True, blank=True, editable=False)
    reopened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
    )
    reopen_reason = models.TextField(blank=True, editable=False)

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        permissions = [
            ("confirm_eligibility", "Can confirm eligibility (electronic signature)"),
            ("reopen_screening", "Can reopen a signed screening for a correction"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(outcome__in=["eligible", "screen_failure"]),
                name="screening_outcome_known",
            ),
            models.CheckConstraint(
                condition=models.Q(confirmed_at__isnull=True) | models.Q(reopened_at__isnull=True),
                name="reopened_screening_not_signed",
            ),
        ]
        indexes = [  # the dashboard's screenings to sign, read at any size without a scan
            models.Index(
                fields=["created_at"],
                condition=models.Q(outcome="eligible", confirmed_at=None),
                name="screenings_to_confirm",
            ),
            models.Index(
                fields=["created_at"],
                condition=models.Q(reopened_at__isnull=False),
                name="screenings_reopened",
            ),
        ]

    def __str__(self):
        return self.screening_number

    def freeze_key(self):
        patient = getattr(self, "patient", None) if self.pk else None
        return (patient.pk if patient else None, self.screening_date)

    @property
    def bclc_confirmed_by(self) -> frozenset[str]:
        methods = {
            el.Confirmation.CT: self.bclc_by_ct,
            el.Confirmation.MRI: self.bclc_by_mri,
            el.Confirmation.HISTOPATHOLOGY: self.bclc_by_histopathology,
        }
        return frozenset(m.value for m, present in methods.items() if present)

    @property
    def bclc_confirmation_text(self) -> str:
        names = {"ct": "CT", "mri": "MRI", "histopathology": "histopathology"}
        return ", ".join(names[m] for m in sorted(self.bclc_confirmed_by)) or "nothing recorded"

    @property
    def exclusion_answers(self) -> list[tuple[str, bool]]:
        return [(c.text, getattr(self, c.code)) for c in el.ANSWERED_EXCLUSIONS]

    @property
    def failed_criteria_text(self) -> list[str]:
        return [el.CRITERIA[code].failure_text for code in self.failed_criteria]

    @property
    def version(self) -> int | None:
        """The audit trail's id of the current version: what a signature applies to."""
        return self.history.order_by("-history_id").values_list("history_id", flat=True).first()

    @property
    def is_confirmed(self) -> bool:
        return self.confirmed_at is not None

    @property
    def is_reopened(self) -> bool:
        return self.reopened_at is not None

    @property
    def status(self) -> str:
        enrolled = hasattr(self, "patient")
        if self.is_reopened:
            return "Reopened for correction"
        if self.outcome == Outcome.SCREEN_FAILURE:
            return "Enrolled, eligibility violation" if enrolled else "Screen failure"
        if enrolled and not self.is_confirmed:
            return "Enrolled, awaiting signature"
        return "Enrolled" if self.is_confirmed else "Eligible, awaiting confirmation"


class Patient(ClinicalRecord):
    """An enrolled participant: a confirmed, consented, eligible screening with a study ID."""

    study_id = models.CharField(max_length=16, unique=True, editable=False)
    screening = models.OneToOneField(Screening, on_delete=models.PROTECT, related_name="patient")
    enrolled_at = models.DateTimeField()
    enrolled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["study_id"]

    def __str__(self):
        return self.study_id

    def freeze_key(self):
        return (self.pk, timezone.localdate(self.enrolled_at))


class StatusChange(ClinicalRecord):
    """A dated change of the patient's course: death, withdrawal of consent (to treatment, or
    to all further data), lost to follow-up, another trial, the investigator's decision, the end
    of the study (rules: enrollment/status.py)."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="status_changes")
    kind = models.CharField(max_length=24, choices=list(status.CHANGES.items()))
    date = models.DateField()
    cause = models.CharField("cause of death", max_length=200, blank=True)
    details = models.TextField(blank=True)
    public_records_allowed = models.BooleanField(
        "survival status from public records allowed",
        default=False,
        help_text="Withdrawal of all further data: the consent allows survival status to be "
        "taken from public records afterwards.",
    )
    from_public_records = models.BooleanField(
        "from public records",
        default=False,
        help_text="A death known from public records (after withdrawal of consent).",
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["patient", "date", "id"]
        verbose_name = "status change"
        constraints = [
            models.UniqueConstraint(fields=["patient", "kind"], name="one_status_change_per_kind")
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {shown(self.date)}"

    def freeze_key(self):
        return (self.patient_id, self.date)

    def as_rule(self) -> status.Change:
        return status.Change(
            self.kind,
            self.date,
            self.cause,
            self.details,
            self.public_records_allowed,
            self.from_public_records,
        )


class TreatmentEnd(ClinicalRecord):
    """The end of treatment with one drug (iNKT cells, PD-1 antibody, regorafenib), with its
    reason, as the coordinator records it. Progression on the accepted reads, a drug withdrawn
    for an adverse event and the 6th iNKT course stop a drug without one (enrollment.course)."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="treatment_ends")
    drug = models.CharField(max_length=12, choices=list(status.DRUGS.items()))
    date = models.DateField(help_text="The last day of treatment with the drug.")
    reason = models.CharField(max_length=12, choices=list(status.END_REASONS.items()))
    details = models.TextField(blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["patient", "date", "drug"]
        verbose_name = "end of treatment"
        constraints = [models.UniqueConstraint(fields=["patient", "drug"], name="one_end_per_drug")]

    def __str__(self):
        return f"{self.get_drug_display()} ended {shown(self.date)}"

    def freeze_key(self):
        return (self.patient_id, self.date)

    def as_rule(self) -> status.DrugEnd:
        return status.DrugEnd(self.drug, self.date, self.reason, self.details)


class CourseState(models.Model):
    """The patient's current state (status.STATES) as enrollment/course.py derives it from
    every record of the course: what the patient list shows and filters by at any size. Each
    clinical record's save marks it outdated (an empty state) in the record's own transaction,
    and it is derived again once that commits (course.states_outdated, states_refresh).
    Derived, not entered: no audit trail of its own (the records it comes from have theirs).
    `rules` names the rules that derived it; a row outdated, or derived under other rules, is
    read as missing, and derived by the reader."""

    patient = models.OneToOneField(
        Patient, on_delete=models.CASCADE, primary_key=True, related_name="course_state"
    )
    state = models.CharField(max_length=16, choices=list(status.STATES.items()))
    rules = models.CharField(max_length=64)

    class Meta:
        indexes = [models.Index(fields=["rules", "state"], name="course_state_by_state")]

    def __str__(self):
        return f"{self.patient_id}: {self.state}"


class EligibilityViolation(ClinicalRecord):
    """A randomized patient whom a corrected screening shows ineligible. The patient stays
    randomized and in the analysis (intention to treat); the violation is a protocol deviation,
    listed with the deviations and counted in the CONSORT flow. A later correction that makes
    the patient eligible again resolves it (both stay in the audit trail)."""

    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="eligibility_violations"
    )
    failed_criteria = models.JSONField(default=list)
    found_on = models.DateField()
    screening_version = models.PositiveIntegerField(
        help_text="The audit trail's id of the corrected screening that showed it."
    )
    correction_reason = models.TextField()
    resolved_on = models.DateField(null=True, blank=True)
    resolution = models.TextField(blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["patient", "found_on", "id"]

    def __str__(self):
        return f"Eligibility violation of {self.patient} ({shown(self.found_on)})"

    def freeze_key(self):
        return (self.patient_id, self.found_on)

    @property
    def failed_criteria_text(self) -> list[str]:
        return [
            el.CRITERIA[c].failure_text if c in el.CRITERIA else c for c in self.failed_criteria
        ]


ROUTES = [
    ("oral", "Oral"),
    ("intravenous", "Intravenous"),
    ("subcutaneous", "Subcutaneous"),
    ("intramuscular", "Intramuscular"),
    ("topical", "Topical"),
    ("transdermal", "Transdermal"),
    ("inhaled", "Inhaled"),
    ("nasal", "Nasal"),
    ("ophthalmic", "Ophthalmic"),
    ("otic", "Otic"),
    ("rectal", "Rectal"),
    ("vaginal", "Vaginal"),
    ("sublingual", "Sublingual"),
    ("other", "Other"),
]
DOSE_UNITS = [
    ("mg", "mg"),
    ("g", "g"),
    ("ug", "µg"),
    ("IU", "IU"),
    ("mL", "mL"),
    ("mg/kg", "mg/kg"),
    ("mg/m2", "mg/m²"),
    ("tablet", "tablet(s)"),
    ("capsule", "capsule(s)"),
    ("puff", "puff(s)"),
    ("drop", "drop(s)"),
    ("application", "application(s)"),
    ("other", "other"),
]


class ConcomitantMedication(ClinicalRecord):
    """A medication the person takes, from screening on (prior medications too: a start before
    the consent makes it one). Recorded against the screening, so that it can be entered before
    enrolment; the patient is the screening's. Warnings (enrollment.medications) are derived on
    read, never stored."""

    screening = models.ForeignKey(Screening, on_delete=models.PROTECT, related_name="medications")
    name = models.CharField(
        max_length=200, help_text="Generic or brand name, as on the prescription."
    )
    indication = models.CharField(max_length=200)
    dose = models.DecimalField(max_digits=10, decimal_places=3)
    dose_unit = models.CharField(max_length=12, choices=DOSE_UNITS)
    route = models.CharField(max_length=16, choices=ROUTES)
    frequency = models.CharField(max_length=60, help_text="e.g. once daily, BID, every 3 weeks")
    start_date = models.DateField()
    stop_date = models.DateField(null=True, blank=True)
    ongoing = models.BooleanField(default=False)
    atc_code = models.CharField(
        "ATC code",
        max_length=7,
        blank=True,
        help_text="WHO ATC code, at any level (J01FA09, J01FA, J01 ...), where known.",
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["screening", "-ongoing", "-start_date", "id"]
        verbose_name = "concomitant medication"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ongoing=True, stop_date__isnull=True)
                | models.Q(ongoing=False, stop_date__isnull=False),
                name="medication_ongoing_xor_stopped",
                violation_error_message="Give the stop date, or mark the medication ongoing "
                "(not both).",
            ),
            models.CheckConstraint(
                condition=models.Q(stop_date__isnull=True)
                | models.Q(stop_date__gte=models.F("start_date")),
                name="medication_stops_after_start",
                violation_error_message="The stop date is before the start date.",
            ),
        ]

    def __str__(self):
        return f"{self.name} from {shown(self.start_date)}"

    def freeze_key(self):
        patient = getattr(self.screening, "patient", None)
        return (patient.pk if patient else None, self.start_date)

    @property
    def prior_to_study(self) -> bool:
        """Started before the informed consent: a prior medication (still concomitant if it
        goes on)."""
        return self.start_date < self.screening.consent_date


class MedicalHistory(ClinicalRecord):
    """A past or ongoing condition, taken at screening (recorded against the screening, before
    or after enrolment). Its start is a partial ISO 8601 date (YYYY, YYYY-MM or YYYY-MM-DD), as
    people remember it. A lock freezes it by the screening date: the history is what was known
    at the screening visit."""

    screening = models.ForeignKey(
        Screening, on_delete=models.PROTECT, related_name="medical_history"
    )
    condition = models.CharField(
        max_length=200, help_text="The diagnosis as a MedDRA-like term, e.g. Chronic hepatitis B."
    )
    start = models.CharField("start (YYYY, YYYY-MM or YYYY-MM-DD)", max_length=10, blank=True)
    ongoing = models.BooleanField(default=True)
    details = models.TextField(blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["screening", "-ongoing", "start", "id"]
        verbose_name = "medical history entry"
        verbose_name_plural = "medical history"

    def __str__(self):
        return self.condition

    def freeze_key(self):
        patient = getattr(self.screening, "patient", None)
        return (patient.pk if patient else None, self.screening.screening_date)
