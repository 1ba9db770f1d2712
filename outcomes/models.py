from django.conf import settings
from django.db import models

from enrollment.dates import shown
from enrollment.models import Patient
from inkt_trial.audit import ClinicalRecord
from outcomes import followup


class FollowUp(ClinicalRecord):
    """One follow-up record: a survival contact or a new anticancer therapy (rules:
    outcomes/followup.py). The death, withdrawals and ends of study are status changes of the
    patient (enrollment.StatusChange)."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="follow_ups")
    kind = models.CharField(max_length=12, choices=list(followup.KINDS.items()))
    date = models.DateField()
    alive = models.BooleanField(
        default=True, help_text="Survival contacts: alive on that date (no: confirms the death)."
    )
    therapy = models.CharField("new anticancer therapy", max_length=200, blank=True)
    cause = models.CharField(
        "cause of death (before the deaths moved to the patient's status)",
        max_length=200,
        blank=True,
        editable=False,
    )
    from_public_records = models.BooleanField(
        default=False,
        help_text="Survival status taken from public records (after a withdrawal of consent "
        "that allows it).",
    )
    notes = models.TextField(blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["patient", "date", "id"]
        verbose_name = "follow-up record"

    def __str__(self):
        return f"{self.get_kind_display()} {shown(self.date)}"

    def freeze_key(self):
        return (self.patient_id, self.date)

    def as_rule(self) -> followup.Record:
        return followup.Record(
            self.kind, self.date, self.alive, self.therapy, self.from_public_records
        )


class EndpointRun(models.Model):
    """One computation of the endpoints for a data cut-off: computed by a Celery task from one
    consistent snapshot, kept with its time, software version and data fingerprint. Not a
    clinical record: it is derived, never edited; a failed or stalled run may be retried."""

    QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
    STATUSES = [(QUEUED, "Queued"), (RUNNING, "Running"), (DONE, "Done"), (FAILED, "Failed")]

    cutoff = models.DateField("data cut-off")
    death_is_ttd_event = models.BooleanField(
        default=False, help_text="Sensitivity analysis: death counts as QoL deterioration."
    )
    status = models.CharField(max_length=8, choices=STATUSES, default=QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    step = models.CharField(max_length=120, blank=True)
    error = models.TextField(blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    software_version = models.CharField(max_length=80, blank=True)
    data_digest = models.CharField(max_length=64, blank=True)
    patients = models.PositiveIntegerField(null=True, blank=True)
    data_lock = models.JSONField(
        default=dict,
        editable=False,
        help_text="Whether every patient's records up to the cut-off were frozen by a database "
        "lock when the run read them (locked, as_of, locks, patients, unlocked).",
    )
    results = models.JSONField(null=True, blank=True, editable=False)
    log = models.JSONField(
        default=list, editable=False, help_text="What happened to the run, oldest first."
    )

    class Meta:
        ordering = ["-requested_at"]
        verbose_name = "endpoint run"

    def __str__(self):
        return f"Endpoint run {self.pk} (cut-off {shown(self.cutoff)})"


class PatientResult(models.Model):
    """One patient's part of a done run's results, kept as a row (outcomes/run_results.py reads
    them back): the patient's ADTTE rows, response rows, subject facts (ADSL), QLQ-C30 scores
    (ADQS) and arm code. The run itself keeps only the summary. Runs stored before these rows
    hold everything in EndpointRun.results. Derived and never edited, like the run."""

    run = models.ForeignKey(EndpointRun, on_delete=models.CASCADE, related_name="patient_results")
    position = models.PositiveIntegerField(help_text="The patient's place in the run (by key).")
    key = models.CharField("USUBJID", max_length=16)
    code = models.CharField(
        "arm code", max_length=3, blank=True, help_text="The slot's arm as a masked reader sees it."
    )
    adtte = models.JSONField(default=list)
    responses = models.JSONField(default=list)
    subject = models.JSONField(null=True)
    qol = models.JSONField(null=True, help_text="Scale code -> [ISO date, score]; none: no scores.")

    class Meta:
        ordering = ["run", "position"]
        constraints = [
            models.UniqueConstraint(fields=["run", "position"], name="one_patient_per_place"),
            models.UniqueConstraint(fields=["run", "key"], name="one_row_per_patient"),
        ]

    def __str__(self):
        return f"{self.key} in run {self.run_id}"
