import secrets

from django.conf import settings
from django.db import models

from enrollment.dates import shown
from enrollment.models import Patient
from inkt_trial.audit import ClinicalRecord


def new_reading_label() -> str:
    """An opaque label under which readers see a patient: no study ID, no arm, no clinical data."""
    return "R-" + "".join(secrets.choice("ABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(6))


class ReaderAssignment(ClinicalRecord):
    """The two radiologists who read every scan of one patient, over the whole trial."""

    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="reader_assignments"
    )
    slot = models.PositiveSmallIntegerField(choices=[(1, "Reader 1"), (2, "Reader 2")])
    reader = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reading_label = models.CharField(max_length=12, unique=True, default=new_reading_label)

    class Meta:
        ordering = ["reading_label"]  # never the study ID: it would show enrolment order
        constraints = [
            models.UniqueConstraint(fields=["patient", "slot"], name="one_reader_per_slot"),
            models.UniqueConstraint(fields=["patient", "reader"], name="two_different_readers"),
        ]

    def __str__(self):
        return f"{self.reading_label} reader {self.slot}"


class Scan(ClinicalRecord):
    BASELINE, SCHEDULED, UNSCHEDULED = "baseline", "scheduled", "unscheduled"

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="scans")
    scan_date = models.DateField()
    kind = models.CharField(
        max_length=12,
        choices=[
            (BASELINE, "Baseline"),
            (SCHEDULED, "Scheduled (8-weekly)"),
            (UNSCHEDULED, "Unscheduled"),
        ],
    )
    modality = models.CharField(max_length=3, choices=[("CT", "CT"), ("MRI", "MRI")])
    regions = models.JSONField(default=list, help_text="chest, abdomen, pelvis")
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["patient", "scan_date"]
        constraints = [
            models.UniqueConstraint(fields=["patient", "scan_date"], name="one_scan_per_day"),
            models.UniqueConstraint(
                fields=["patient"], condition=models.Q(kind="baseline"), name="one_baseline_scan"
            ),
        ]

    def __str__(self):
        return f"Scan of {shown(self.scan_date)}"

    def freeze_key(self):
        return (self.patient_id, self.scan_date)

    @property
    def before_consent(self) -> bool:
        """Routine imaging the baseline came from, done before the patient consented."""
        return self.scan_date < self.patient.screening.consent_date


class Read(ClinicalRecord):
    """One reader's measurements of one scan (JSON, see README), until locked by signature."""

    scan = models.ForeignKey(Scan, on_delete=models.PROTECT, related_name="reads")
    assignment = models.ForeignKey(ReaderAssignment, on_delete=models.PROTECT, related_name="reads")
    data = models.JSONField()
    locked_at = models.DateTimeField(null=True, blank=True, editable=False)
    signature_meaning = models.CharField(max_length=300, blank=True, editable=False)
    signature_name = models.CharField(
        "signed by (printed name)", max_length=200, blank=True, editable=False
    )

    class Meta:
        ordering = ["scan__scan_date"]
        constraints = [
            models.UniqueConstraint(fields=["scan", "assignment"], name="one_read_per_reader_scan")
        ]
        permissions = [("read_images", "Can read scans of assigned patients (blinded)")]

    def __str__(self):
        return f"Read of {self.assignment.reading_label} on {shown(self.scan.scan_date)}"

    def freeze_key(self):
        return (self.assignment.patient_id, self.scan.scan_date)


class Adjudication(ClinicalRecord):
    """The adjudicator's choice of one reader's whole series, up to the last scan compared;
    a later discordance (after more scans) is adjudicated again."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="adjudications")
    covers_until = models.DateField(help_text="The last scan date of the series compared.")
    accepted_slot = models.PositiveSmallIntegerField(choices=[(1, "Reader 1"), (2, "Reader 2")])
    reason = models.TextField()
    adjudicator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-decided_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "covers_until"], name="one_decision_per_extent"
            )
        ]
        permissions = [
            ("adjudicate", "Can adjudicate discordant reads (blinded)"),
            ("view_agreement", "Can see reader agreement"),
            ("view_response", "Can see accepted tumour responses"),
        ]

    def __str__(self):
        return f"Adjudication (reader {self.accepted_slot} accepted)"

    def freeze_key(self):
        return (self.patient_id, self.covers_until)


class EvaluatedSeries(models.Model):
    """One reader's series as the response engine evaluated it, kept so that runs and pages
    do not evaluate it again (assessments/series_codec.py). Derived, not clinical data: the key
    is the content of everything the evaluation read (engine version, criterion, day 0, the
    signed reads), so a row can never be stale, only unused; rows may be deleted at any time
    and are evaluated again when needed. Not audited for that reason (the reads it comes from
    are)."""

    key = models.CharField(max_length=64, primary_key=True)
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="+")
    engine = models.CharField(max_length=16)
    criterion = models.CharField(max_length=8)
    result = models.JSONField()
    computed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["patient", "engine"])]

    def __str__(self):
        return f"Evaluated {self.criterion} series of patient {self.patient_id}"


class Questionnaire(ClinicalRecord):
    """An EORTC QLQ-C30 v3.0 questionnaire of one visit: the answers as given (blank items are
    null) and the scores the pure module computed from them."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="questionnaires")
    visit = models.CharField(
        max_length=20, help_text="baseline, visit-1, visit-2 ... or end-of-treatment"
    )
    completed_on = models.DateField()
    answers = models.JSONField(help_text='Item number -> answer, e.g. {"1": 2, "2": null}.')
    scores = models.JSONField(editable=False, default=dict)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["patient", "completed_on"]
        verbose_name = "QLQ-C30 questionnaire"
        constraints = [
            models.UniqueConstraint(fields=["patient", "visit"], name="one_questionnaire_per_visit")
        ]

    def __str__(self):
        return f"QLQ-C30 {self.visit} ({self.completed_on})"

    def freeze_key(self):
        return (self.patient_id, self.completed_on)
