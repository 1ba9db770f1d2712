from django.conf import settings
from django.db import models

from enrollment.models import Patient
from inkt_trial.audit import ClinicalRecord
from outcomes import followup


class FollowUp(ClinicalRecord):
    """One follow-up record: a survival contact, the death, a new anticancer therapy, the
    withdrawal of consent or the loss to follow-up (rules: outcomes/followup.py)."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="follow_ups")
    kind = models.CharField(max_length=12, choices=list(followup.KINDS.items()))
    date = models.DateField()
    alive = models.BooleanField(
        default=True, help_text="Survival contacts: alive on that date (no: confirms the death)."
    )
    cause = models.CharField("cause of death", max_length=200, blank=True)
    therapy = models.CharField("new anticancer therapy", max_length=200, blank=True)
    notes = models.TextField(blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["patient", "date", "id"]
        verbose_name = "follow-up record"

    def __str__(self):
        return f"{self.get_kind_display()} {self.date}"

    def as_rule(self) -> followup.Record:
        return followup.Record(self.kind, self.date, self.alive, self.cause, self.therapy)
