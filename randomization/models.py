from django.conf import settings
from django.db import models
from django.utils import timezone

from enrollment.models import Patient
from inkt_trial.audit import ClinicalRecord, DeletionRefused, NoDeleteQuerySet
from randomization import protocol

ARM_CHOICES = [(arm, f"{arm}: {label}") for arm, label in protocol.ARMS.items()]
STRATIFIER_CHOICES = [("", "Not stratified")] + [
    (name, label) for name, (label, _strata) in protocol.STRATIFIERS.items()
]


class AllocationSequence(ClinicalRecord):
    """One version of the allocation list, for every stratum. Exactly one version is active;
    a new one replaces it only through the administrator, with a reason."""

    version = models.PositiveIntegerField(unique=True, editable=False)
    method = models.CharField(
        max_length=10, choices=[("generated", "Generated from a seed"), ("uploaded", "Uploaded")]
    )
    seed = models.BigIntegerField(null=True, blank=True, help_text="Master seed (generated lists).")
    block_sizes = models.JSONField(default=list, blank=True)
    length = models.PositiveIntegerField(help_text="Slots per stratum requested (at least 84).")
    stratify_by = models.CharField(max_length=32, blank=True, choices=STRATIFIER_CHOICES)
    uses_codes = models.BooleanField(
        default=True, help_text="Arms held as codes A/B; only the administrator maps them."
    )
    uncoded_reason = models.TextField(
        blank=True,
        help_text="Why the administrator chose arm names instead of codes (the statistician is "
        "then not masked).",
    )
    code_a_arm = models.CharField(
        "arm of code A",
        max_length=3,
        blank=True,
        choices=ARM_CHOICES,
        help_text="Set by the administrator; code B is the other arm.",
    )
    file_sha256 = models.CharField(max_length=64, blank=True, help_text="Of the uploaded file.")
    is_active = models.BooleanField(default=True)
    reason = models.TextField(blank=True, help_text="Why this version replaced the previous one.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-version"]
        permissions = [
            ("view_sequence", "Can see the allocation sequence (statistician, administrator)"),
            ("replace_sequence", "Can replace a sequence by a new version (administrator)"),
            ("set_arm_codes", "Can map arm codes A/B to the arms (administrator)"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["is_active"], condition=models.Q(is_active=True), name="one_active_sequence"
            )
        ]

    def __str__(self):
        return f"Allocation sequence v{self.version}"

    @property
    def strata(self) -> tuple[str, ...]:
        return protocol.STRATIFIERS[self.stratify_by][1] if self.stratify_by else ("",)

    @property
    def arms(self) -> tuple[str, str]:
        return protocol.ARM_CODES if self.uses_codes else (protocol.RPI, protocol.RP)

    def arm_of(self, slot_arm: str) -> str | None:
        """The treatment arm a slot's content stands for (None while codes are unmapped)."""
        if not self.uses_codes:
            return slot_arm
        if not self.code_a_arm:
            return None
        other = protocol.RP if self.code_a_arm == protocol.RPI else protocol.RPI
        return self.code_a_arm if slot_arm == "A" else other


class Slot(models.Model):
    """One position of a sequence. Written once with its sequence, never changed."""

    sequence = models.ForeignKey(AllocationSequence, on_delete=models.PROTECT, related_name="slots")
    stratum = models.CharField(max_length=16, blank=True)
    position = models.PositiveIntegerField()
    block = models.PositiveIntegerField()
    block_size = models.PositiveSmallIntegerField()
    arm = models.CharField(max_length=3, help_text="RPI/RP, or A/B for a coded sequence.")

    objects = NoDeleteQuerySet.as_manager()

    class Meta:
        ordering = ["sequence", "stratum", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["sequence", "stratum", "position"], name="one_slot_per_position"
            )
        ]

    def __str__(self):
        return f"v{self.sequence_id} {self.stratum or '-'} #{self.position}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise DeletionRefused("A slot of an allocation sequence is never changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise DeletionRefused("A slot of an allocation sequence is never deleted.")


class Allocation(ClinicalRecord):
    """A patient's randomization: the slot taken, and the arm it gave. Never edited."""

    patient = models.OneToOneField(Patient, on_delete=models.PROTECT, related_name="allocation")
    slot = models.OneToOneField(Slot, on_delete=models.PROTECT, related_name="allocation")
    arm = models.CharField(max_length=3, choices=ARM_CHOICES)
    stratum = models.CharField(max_length=16, blank=True)
    randomized_at = models.DateTimeField()
    randomized_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["randomized_at"]
        permissions = [
            ("view_arm", "Can see treatment arms (not the masked statistician)"),
        ]

    def __str__(self):  # no arm here: it would show wherever the record is named
        return f"Allocation of {self.patient}"

    def freeze_key(self):
        return (self.patient_id, timezone.localdate(self.randomized_at))

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise DeletionRefused("An allocation is never edited.")
        super().save(*args, **kwargs)


class EnrolmentLimit(ClinicalRecord):
    """The administrator's decision to randomize more patients than the protocol's 84
    (over-enrolment), with the reason; the latest decision is the limit in force."""

    patients = models.PositiveIntegerField(help_text="Patients who may be randomized in all.")
    reason = models.TextField()
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-decided_at", "-pk"]

    def __str__(self):
        return f"Over-enrolment up to {self.patients} ({self.decided_at:%Y-%m-%d})"


class SequenceAlert(models.Model):
    """Raised when a patient could not be randomized because the sequence ran out."""

    created_at = models.DateTimeField(auto_now_add=True)
    sequence = models.ForeignKey(AllocationSequence, on_delete=models.PROTECT, related_name="+")
    stratum = models.CharField(max_length=16, blank=True)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    resolved = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"Sequence exhausted for {self.patient} ({self.created_at:%Y-%m-%d})"
