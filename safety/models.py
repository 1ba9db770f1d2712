from django.conf import settings
from django.db import models
from django.utils import timezone

from dosing.models import Infusion
from enrollment.dates import shown
from enrollment.models import Patient
from inkt_trial.audit import ClinicalRecord
from safety import susar


def _day(moment):
    return moment and timezone.localdate(moment)


class CtcaeTerm(models.Model):
    """One CTCAE v5.0 term (read-only reference data, loaded by a migration)."""

    meddra_code = models.PositiveIntegerField(unique=True)
    soc = models.CharField("system organ class", max_length=120, db_index=True)
    term = models.CharField(max_length=200, db_index=True)
    grade1 = models.TextField(blank=True)
    grade2 = models.TextField(blank=True)
    grade3 = models.TextField(blank=True)
    grade4 = models.TextField(blank=True)
    grade5 = models.TextField(blank=True)
    definition = models.TextField(blank=True)

    class Meta:
        ordering = ["soc", "term"]
        verbose_name = "CTCAE term"

    def __str__(self):
        return f"{self.term} ({self.meddra_code})"

    @property
    def grades(self) -> dict[int, str]:
        return {g: getattr(self, f"grade{g}") for g in range(1, 6) if getattr(self, f"grade{g}")}


RELATIONSHIP = [
    ("not_assessed", "Not yet assessed"),
    ("not_related", "Not related"),
    ("unlikely", "Unlikely"),
    ("possible", "Possible"),
    ("probable", "Probable"),
    ("definite", "Definite"),
    ("not_applicable", "Not applicable (not given)"),
]
ACTION = [
    ("none", "Dose not changed"),
    ("interrupted", "Interrupted"),
    ("reduced", "Reduced"),
    ("withdrawn", "Withdrawn"),
    ("not_applicable", "Not applicable"),
]
OUTCOME = [
    ("recovered", "Recovered"),
    ("recovering", "Recovering"),
    ("not_recovered", "Not recovered"),
    ("sequelae", "Recovered with sequelae"),
    ("fatal", "Fatal"),
    ("unknown", "Unknown"),
]
DRUGS = ("inkt", "pd1", "regorafenib")
EXPECTEDNESS = [
    ("not_assessed", "Not yet assessed"),
    ("expected", "Expected (listed in the reference safety information)"),
    ("unexpected", "Unexpected"),
    ("not_applicable", "Not applicable (not given)"),
]
SUSAR_STATUS = list(susar.STATUS_LABELS.items())


class AdverseEvent(ClinicalRecord):
    """A CTCAE v5.0 adverse event. Seriousness, treatment-emergence and the SAE report due time
    are derived; causality is the investigator's."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="adverse_events")
    term = models.ForeignKey(CtcaeTerm, on_delete=models.PROTECT, related_name="+")
    specification = models.CharField(max_length=200, blank=True)
    grade = models.PositiveSmallIntegerField()
    onset = models.DateField()
    resolution = models.DateField(null=True, blank=True)
    outcome = models.CharField(max_length=14, choices=OUTCOME, default="not_recovered")
    death_date = models.DateField(null=True, blank=True)
    serious_criteria = models.JSONField(default=list, blank=True)
    serious = models.BooleanField(default=False, editable=False)
    awareness_at = models.DateTimeField(
        null=True, blank=True, help_text="When the site learnt of a serious event."
    )
    initial_report_at = models.DateTimeField(null=True, blank=True)
    relationship_inkt = models.CharField(
        max_length=14, choices=RELATIONSHIP, default="not_assessed"
    )
    relationship_pd1 = models.CharField(max_length=14, choices=RELATIONSHIP, default="not_assessed")
    relationship_regorafenib = models.CharField(
        max_length=14, choices=RELATIONSHIP, default="not_assessed"
    )
    action_inkt = models.CharField(max_length=14, choices=ACTION, default="none")
    action_pd1 = models.CharField(max_length=14, choices=ACTION, default="none")
    action_regorafenib = models.CharField(max_length=14, choices=ACTION, default="none")
    infusion = models.ForeignKey(
        Infusion,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="adverse_events",
        help_text="The iNKT course this event followed (an infusion-related reaction).",
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    # Cell-therapy toxicities (safety/crs.py): the ASTCT inputs of a CRS or ICANS event, and the
    # ASTCT grade they give, which is the event's grade (grade 5 aside: a death).
    astct_inputs = models.JSONField("ASTCT inputs", default=dict, blank=True)
    astct_grade = models.PositiveSmallIntegerField(
        "ASTCT grade", null=True, blank=True, editable=False
    )
    # Serious events (safety/susar.py): the narrative, the investigator's expectedness per
    # drug, the derived SUSAR status and the expedited report's dates.
    narrative = models.TextField(blank=True, help_text="The SAE narrative.")
    expectedness_inkt = models.CharField(
        max_length=14, choices=EXPECTEDNESS, default="not_assessed"
    )
    expectedness_pd1 = models.CharField(max_length=14, choices=EXPECTEDNESS, default="not_assessed")
    expectedness_regorafenib = models.CharField(
        max_length=14, choices=EXPECTEDNESS, default="not_assessed"
    )
    susar_status = models.CharField(
        "SUSAR status",
        max_length=14,
        choices=SUSAR_STATUS,
        default=susar.NOT_SERIOUS,
        editable=False,
    )
    susar_report_at = models.DateTimeField(
        null=True, blank=True, help_text="Expedited SUSAR report sent (authority, ethics)."
    )
    susar_follow_up_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Fatal or life-threatening SUSAR: the complete report, 8 days later at most.",
    )

    class Meta:
        ordering = ["patient", "onset"]
        permissions = [
            ("assess_causality", "Can assess the relationship to study treatment"),
            ("view_safety_tables", "Can view the safety tables by arm"),
            ("view_susar_listing", "Can view the SUSAR listing and its report clocks"),
        ]
        indexes = [  # the dashboard's overdue reports, read at any size without a scan
            models.Index(
                fields=["awareness_at"],
                condition=models.Q(serious=True, initial_report_at=None),
                name="sae_initial_report_missing",
            ),
            models.Index(
                fields=["awareness_at", "id"],
                condition=models.Q(susar_status=susar.SUSAR),
                name="susars",
            ),
        ]

    def __str__(self):
        return f"{self.term.term} grade {self.grade} ({shown(self.onset)})"

    def freeze_key(self):
        return (self.patient_id, self.onset)

    @property
    def treatment_emergent(self) -> bool:
        """Derived when read, from the doses recorded so far (a dose entered later, dated
        before the onset, makes the event treatment-emergent; so does an onset within
        settings.TEAE_WINDOW_DAYS of the last dose). `_dose_span` may be set by a list that
        fetched the dose spans of all its patients at once."""
        from dosing.selectors import dose_spans
        from safety.selectors import emergent

        if not hasattr(self, "_dose_span"):
            self._dose_span = dose_spans([self.patient_id]).get(self.patient_id)
        return emergent(self, self._dose_span)

    @property
    def is_susar(self) -> bool:
        return self.susar_status == susar.SUSAR

    @property
    def fatal_or_life_threatening(self) -> bool:
        return bool({"death", "life_threatening"} & set(self.serious_criteria or ()))

    @property
    def susar_clock(self) -> susar.Clock | None:
        """The expedited-report clock of a SUSAR (None otherwise)."""
        if not self.is_susar or self.awareness_at is None:
            return None
        return susar.report_clock(
            aware=_day(self.awareness_at),
            fatal_or_life_threatening=self.fatal_or_life_threatening,
            reported=_day(self.susar_report_at),
            followed_up=_day(self.susar_follow_up_at),
            today=timezone.localdate(),
        )


class SaeReport(ClinicalRecord):
    """A follow-up (or final) report of a serious adverse event to the sponsor; the initial
    report's time is on the event itself."""

    FOLLOW_UP, FINAL = "follow_up", "final"
    KINDS = [(FOLLOW_UP, "Follow-up report"), (FINAL, "Final report")]

    event = models.ForeignKey(AdverseEvent, on_delete=models.PROTECT, related_name="reports")
    kind = models.CharField(max_length=10, choices=KINDS, default=FOLLOW_UP)
    sent_at = models.DateTimeField()
    information = models.TextField(help_text="What is new since the last report.")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["event", "sent_at"]
        verbose_name = "SAE report"

    def __str__(self):
        return f"{self.get_kind_display()} of {self.event} ({self.sent_at:%Y-%m-%d %H:%M})"

    def freeze_key(self):
        return (self.event.patient_id, timezone.localdate(self.sent_at))


from safety.visit_models import (  # noqa: E402  the clinical visits and their lab values
    ClinicalVisit,
    LabValue,
    ProposedAdverseEvent,
)

__all__ = [
    "AdverseEvent",
    "ClinicalVisit",
    "CtcaeTerm",
    "LabValue",
    "ProposedAdverseEvent",
    "SaeReport",
]
