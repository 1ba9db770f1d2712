import re

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from simple_history.models import HistoricalRecords

from datamanagement import deviations, queries
from inkt_trial.audit import ClinicalRecord, DeletionRefused


class DataQuery(models.Model):
    """A question about one field of one clinical record (rules: datamanagement/queries.py).
    Every step (raised, answered, closed, reopened, cancelled) is a version of the audit trail;
    a query is never deleted."""

    number = models.CharField(max_length=12, unique=True, editable=False)
    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT)
    object_id = models.PositiveBigIntegerField()
    record = GenericForeignKey("content_type", "object_id")
    field = models.CharField(max_length=60)
    patient = models.ForeignKey(
        settings.TRIAL_PATIENT_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="data_queries",
    )
    question = models.TextField()
    state = models.CharField(max_length=10, choices=queries.STATE_CHOICES)
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    raised_at = models.DateTimeField()
    answer = models.TextField(blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    answered_at = models.DateTimeField(null=True, blank=True)
    corrected = models.BooleanField(
        default=False,
        help_text="The answer corrected the value (the correction's reason names the query).",
    )
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.TextField(blank=True)
    edit_check = models.CharField(
        max_length=40,
        blank=True,
        editable=False,
        help_text="The automatic edit check that raised it (datamanagement/checks.py).",
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["raised_at", "id"]
        verbose_name = "data query"
        constraints = [
            models.UniqueConstraint(
                fields=["edit_check", "content_type", "object_id", "field"],
                condition=~models.Q(edit_check=""),
                name="an_edit_check_raises_once",
            )
        ]
        verbose_name_plural = "data queries"
        permissions = [
            ("raise_query", "Can raise, close, reopen and cancel data queries"),
            ("answer_query", "Can answer data queries (and correct the value)"),
            ("verify_source", "Can mark records source-data verified (SDV)"),
            ("download_casebook", "Can download a patient's casebook PDF"),
        ]
        indexes = [
            models.Index(fields=["content_type", "object_id"]),
            # the dashboard's oldest open queries, and their count, at any size
            models.Index(
                fields=["raised_at", "id"], condition=models.Q(state="open"), name="open_queries"
            ),
        ]

    def __str__(self):
        return self.number

    @property
    def field_label(self) -> str:
        return field_label(self.content_type.model_class(), self.field)


PSEUDO_FIELDS = {"scans": "scans (the imaging schedule)", "questionnaires": "QLQ-C30 visits"}
PSEUDO_VISIT = re.compile(r"^(scan|qlq)-visit-(\d{1,3})$")  # what an edit check finds missing


def concrete_field(model, field: str):
    """The model's own field of that name, or None (a reverse relation, a pseudo-field)."""
    try:
        found = model._meta.get_field(field)
    except FieldDoesNotExist:
        return None
    return found if getattr(found, "concrete", False) else None


def field_label(model, field: str) -> str:
    """A field's name as the pages show it; the patient's pseudo-fields (a visit's scan or
    questionnaire, what the edit checks find missing) by their description."""
    found = concrete_field(model, field)
    if found is not None:
        return str(found.verbose_name)
    visit = PSEUDO_VISIT.match(field)
    if visit:
        what = "scan" if visit.group(1) == "scan" else "QLQ-C30"
        return f"{what} of visit {visit.group(2)}"
    return PSEUDO_FIELDS.get(field, field)


class SourceVerification(models.Model):
    """A monitor's source-data verification of one version of a record (SDV). The record is
    verified while its current version is the one verified: any change un-verifies it, with
    nothing to update (datamanagement.selectors)."""

    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT)
    object_id = models.PositiveBigIntegerField()
    record = GenericForeignKey("content_type", "object_id")
    patient = models.ForeignKey(
        settings.TRIAL_PATIENT_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="source_verifications",
    )
    version = models.PositiveBigIntegerField(help_text="The audit trail's id of the version.")
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    verified_at = models.DateTimeField()
    history = HistoricalRecords()

    class Meta:
        ordering = ["verified_at", "id"]
        verbose_name = "source-data verification"
        indexes = [models.Index(fields=["content_type", "object_id"])]
        constraints = [
            models.UniqueConstraint(
                fields=["content_type", "object_id", "version"], name="one_sdv_per_version"
            )
        ]

    def __str__(self):
        return f"SDV of {self.content_type.model} {self.object_id} (version {self.version})"


class DataLock(models.Model):
    """A database lock: the clinical records of one patient, or of every patient (and every
    screening), dated up to the cut-off are frozen (rules: datamanagement/locks.py) until a
    data manager unfreezes them with a reason (DataUnfreeze). Never changed, never deleted."""

    number = models.CharField(max_length=12, unique=True, editable=False)
    patient = models.ForeignKey(
        settings.TRIAL_PATIENT_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="data_locks",
        help_text="Empty: every patient, and every screening.",
    )
    cutoff = models.DateField("frozen up to")
    reason = models.TextField()
    locked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    locked_at = models.DateTimeField()
    summary = models.JSONField(
        default=dict,
        editable=False,
        help_text="What the lock covered when it was made: the number of patients.",
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["-locked_at", "-id"]
        verbose_name = "database lock"
        permissions = [("lock_data", "Can lock and unfreeze the data (database lock)")]

    def __str__(self):
        return self.number

    @property
    def in_force(self) -> bool:
        """Not unfrozen as a whole (one patient may be, out of a lock of every patient)."""
        return not any(u.patient_id is None for u in self.unfreezes.all())

    def delete(self, *args, **kwargs):
        raise DeletionRefused("A database lock is never deleted: unfreeze it, with a reason.")


class DataUnfreeze(models.Model):
    """The end of a lock, for every patient it froze or for one patient out of a lock of every
    patient, with the data manager's reason."""

    lock = models.ForeignKey(DataLock, on_delete=models.PROTECT, related_name="unfreezes")
    patient = models.ForeignKey(
        settings.TRIAL_PATIENT_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Empty: the whole lock.",
    )
    reason = models.TextField()
    unfrozen_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    unfrozen_at = models.DateTimeField()
    history = HistoricalRecords()

    class Meta:
        ordering = ["unfrozen_at", "id"]
        verbose_name = "unfreeze"
        constraints = [
            models.UniqueConstraint(
                fields=["lock"], condition=models.Q(patient__isnull=True), name="unfrozen_once"
            ),
            models.UniqueConstraint(
                fields=["lock", "patient"],
                condition=models.Q(patient__isnull=False),
                name="a_patient_unfrozen_once",
            ),
        ]

    def __str__(self):
        return f"Unfreeze of {self.lock}"

    def delete(self, *args, **kwargs):
        raise DeletionRefused("An unfreeze is never deleted.")


class DeviationFollowUp(ClinicalRecord):
    """What a deviation's classification and follow-up hold, recorded by hand or the review of
    a derived one (rules: datamanagement/deviation_log.py). A database lock does not freeze it
    (ClinicalRecord.freeze_key: None): classifying, correcting and reporting a deviation to the
    ethics committee go on after the data are locked."""

    classification = models.CharField(max_length=5, choices=deviations.CLASSIFICATION_CHOICES)
    corrective_action = models.TextField(blank=True)
    preventive_action = models.TextField(blank=True)
    reported_to_ec_on = models.DateField("reported to the ethics committee", null=True, blank=True)
    status = models.CharField(
        max_length=6, choices=deviations.STATUS_CHOICES, default=deviations.OPEN
    )

    class Meta:
        abstract = True


class ProtocolDeviation(DeviationFollowUp):
    """A protocol deviation recorded by hand (those the records show are derived:
    datamanagement/deviations.py). Audited, corrected with a reason, never deleted; not frozen
    by a database lock (DeviationFollowUp)."""

    number = models.CharField(max_length=12, unique=True, editable=False)
    patient = models.ForeignKey(
        settings.TRIAL_PATIENT_MODEL, on_delete=models.PROTECT, related_name="protocol_deviations"
    )
    occurred_on = models.DateField("date of the deviation")
    identified_on = models.DateField("date identified")
    category = models.CharField(max_length=20, choices=deviations.CATEGORY_CHOICES)
    description = models.TextField()
    classified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        editable=False,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The data manager or investigator who classified it (none: as recorded).",
    )
    classified_at = models.DateTimeField(null=True, blank=True, editable=False)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["patient", "occurred_on", "id"]
        verbose_name = "protocol deviation"
        permissions = [
            (
                "classify_deviation",
                "Can classify protocol deviations (major/minor) and review derived ones",
            )
        ]

    def __str__(self):
        return f"Protocol deviation {self.number}"


class DeviationReview(DeviationFollowUp):
    """The review of a derived deviation, under its stable key: the classification confirmed or
    changed, the corrective and preventive actions, the report to the ethics committee. It keeps
    the deviation as the records showed it at the last review, so that a reviewed deviation the
    records no longer show stays in the log. Its clinical date is `occurred_on`."""

    key = models.CharField(max_length=80, unique=True)
    patient = models.ForeignKey(
        settings.TRIAL_PATIENT_MODEL, on_delete=models.PROTECT, related_name="deviation_reviews"
    )
    rule = models.CharField(max_length=20, choices=[(r, r) for r in deviations.RULES])
    occurred_on = models.DateField("date of the deviation")
    identified_on = models.DateField("date identified", null=True, blank=True)
    description = models.TextField(help_text="As the records showed it at the review.")
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField()

    class Meta:
        ordering = ["patient", "occurred_on", "key"]
        verbose_name = "review of a derived deviation"

    def __str__(self):
        return f"Review of {self.key}"
