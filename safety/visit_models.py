"""A clinical visit (ECOG, vital signs, the liver signs Child-Pugh needs) and its laboratory
values, graded by CTCAE v5.0 (safety/labs.py); a value that reaches grade 3 or rises 2 grades
from baseline proposes an adverse event, which the coordinator accepts or dismisses."""

from django.conf import settings
from django.db import models

from enrollment.dates import shown
from enrollment.eligibility import Ascites, Encephalopathy
from enrollment.models import Patient
from inkt_trial.audit import ClinicalRecord
from safety import labs

SCREENING, COURSE, WEEK, UNSCHEDULED = "screening", "course", "week", "unscheduled"
VISIT_KINDS = [
    (SCREENING, "Screening (baseline)"),
    (COURSE, "Treatment course"),
    (WEEK, "Study week"),
    (UNSCHEDULED, "Unscheduled"),
]
NUMBERED = (COURSE, WEEK)
ECOG_CHOICES = [
    (0, "0 - Fully active"),
    (1, "1 - Restricted in strenuous activity"),
    (2, "2 - Ambulatory, capable of self-care, up > 50 % of waking hours"),
    (3, "3 - Limited self-care, confined to bed or chair > 50 % of waking hours"),
    (4, "4 - Completely disabled"),
]
ASCITES = [
    (Ascites.NONE.value, "None"),
    (Ascites.MILD.value, "Mild"),
    (Ascites.MODERATE_SEVERE.value, "Moderate to severe"),
]
ENCEPHALOPATHY = [
    (Encephalopathy.NONE.value, "None"),
    (Encephalopathy.GRADE_1_2.value, "Grade 1-2"),
    (Encephalopathy.GRADE_3_4.value, "Grade 3-4"),
]
TEST_CHOICES = [(code, test.name) for code, test in labs.TESTS.items()]


class ClinicalVisit(ClinicalRecord):
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="clinical_visits")
    visit_date = models.DateField()
    kind = models.CharField(max_length=12, choices=VISIT_KINDS)
    number = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="The course or week number (course and week visits)."
    )
    ecog = models.PositiveSmallIntegerField(
        "ECOG performance status", null=True, blank=True, choices=ECOG_CHOICES
    )
    systolic_bp_mmhg = models.PositiveSmallIntegerField(null=True, blank=True)
    diastolic_bp_mmhg = models.PositiveSmallIntegerField(null=True, blank=True)
    heart_rate_bpm = models.PositiveSmallIntegerField(null=True, blank=True)
    temperature_c = models.DecimalField(max_digits=4, decimal_places=1, null=True, blank=True)
    weight_kg = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)
    respiratory_rate_per_min = models.PositiveSmallIntegerField(null=True, blank=True)
    spo2_percent = models.PositiveSmallIntegerField("SpO2 (%)", null=True, blank=True)
    ascites = models.CharField(max_length=16, choices=ASCITES, default=Ascites.NONE.value)
    encephalopathy = models.CharField(
        "hepatic encephalopathy",
        max_length=16,
        choices=ENCEPHALOPATHY,
        default=Encephalopathy.NONE.value,
    )
    on_anticoagulation = models.BooleanField(
        default=False, help_text="INR is then graded against the baseline INR (CTCAE v5.0)."
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["patient", "visit_date"]
        constraints = [
            models.UniqueConstraint(fields=["patient", "visit_date"], name="one_visit_a_day"),
        ]

    def __str__(self):
        return f"{self.label} visit ({shown(self.visit_date)})"

    @property
    def label(self) -> str:
        if self.kind == COURSE:
            return f"Course {self.number}"
        if self.kind == WEEK:
            return f"Week {self.number}"
        return dict(VISIT_KINDS).get(self.kind, self.kind).split(" (")[0]

    def freeze_key(self):
        return (self.patient_id, self.visit_date)


class LabValue(ClinicalRecord):
    """One laboratory value of a visit: as entered, in the test's canonical unit, with the local
    range (the test's default unless the site gives its own) and the CTCAE v5.0 grades."""

    visit = models.ForeignKey(ClinicalVisit, on_delete=models.PROTECT, related_name="labs")
    test = models.CharField(max_length=16, choices=TEST_CHOICES)
    value_entered = models.DecimalField(max_digits=14, decimal_places=4)
    unit_entered = models.CharField(max_length=12)
    value = models.DecimalField(
        "value in the canonical unit", max_digits=18, decimal_places=4, editable=False
    )
    lln = models.DecimalField("LLN", max_digits=14, decimal_places=4, null=True, blank=True)
    uln = models.DecimalField("ULN", max_digits=14, decimal_places=4, null=True, blank=True)
    baseline_value = models.DecimalField(
        max_digits=18, decimal_places=4, null=True, blank=True, editable=False
    )
    baseline_date = models.DateField(null=True, blank=True, editable=False)
    term = models.CharField("CTCAE term", max_length=200, blank=True, editable=False)
    grade = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)
    baseline_grade = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["visit", "test"]
        constraints = [
            models.UniqueConstraint(fields=["visit", "test"], name="one_value_per_test_a_visit"),
        ]

    def __str__(self):
        return f"{self.test_name} {self.value_entered.normalize():f} {self.unit_entered}"

    @property
    def test_name(self) -> str:
        return labs.TESTS[self.test].name

    @property
    def unit(self) -> str:
        return labs.TESTS[self.test].unit

    @property
    def range_shown(self) -> str:
        """The range the value was graded by, in its canonical unit ("site" when the site's)."""
        test = labs.TESTS[self.test]
        low = test.lln if self.lln is None else self.lln
        high = test.uln if self.uln is None else self.uln
        shown_range = " – ".join(f"{b.normalize():f}" if b is not None else "" for b in (low, high))
        site = self.lln is not None or self.uln is not None
        return f"{shown_range} {test.unit}" + (" (site)" if site else "")

    def freeze_key(self):
        return (self.visit.patient_id, self.visit.visit_date)


class ProposedAdverseEvent(ClinicalRecord):
    """An adverse event a lab value proposes (grade 3 or more, or a shift of 2 grades from
    baseline): the coordinator accepts it (an AdverseEvent is then recorded, pre-filled) or
    dismisses it with a reason. Never recorded silently."""

    PROPOSED, ACCEPTED, DISMISSED = "proposed", "accepted", "dismissed"
    STATES = [(PROPOSED, "Proposed"), (ACCEPTED, "Accepted"), (DISMISSED, "Dismissed")]

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    lab = models.ForeignKey(LabValue, on_delete=models.PROTECT, related_name="proposals")
    term = models.ForeignKey("safety.CtcaeTerm", on_delete=models.PROTECT, related_name="+")
    grade = models.PositiveSmallIntegerField()
    why = models.CharField(max_length=200)
    state = models.CharField(max_length=10, choices=STATES, default=PROPOSED)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    dismissal_reason = models.TextField(blank=True)
    adverse_event = models.ForeignKey(
        "safety.AdverseEvent", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["patient", "pk"]
        verbose_name = "proposed adverse event"
        permissions = [
            ("decide_proposedadverseevent", "Can accept or dismiss a proposed adverse event"),
        ]

    def __str__(self):
        return f"Proposed: {self.term.term} grade {self.grade}"

    def freeze_key(self):
        return (self.patient_id, self.lab.visit.visit_date)
