from crispy_forms.helper import FormHelper
from django import forms

from dosing.models import Infusion
from inkt_trial.widgets import DateInput, DateTimeInput
from safety import rules
from safety.models import ACTION, OUTCOME, RELATIONSHIP, CtcaeTerm, SaeReport

SERIOUS_LABELS = {
    "death": "Results in death",
    "life_threatening": "Life-threatening",
    "hospitalization": "Requires or prolongs hospitalization",
    "disability": "Persistent or significant disability",
    "congenital_anomaly": "Congenital anomaly / birth defect",
    "important_medical_event": "Important medical event",
}


def _date():
    return DateInput()


def _moment():
    return DateTimeInput()


class AdverseEventForm(forms.Form):
    """The term is picked by typing (term, SOC or MedDRA code, see static/js/ae_form.js); the
    grade offers only the grades CTCAE defines for that term, each with its definition."""

    meddra_code = forms.IntegerField(
        widget=forms.HiddenInput,
        error_messages={"required": "Choose the CTCAE term: type part of it, its SOC or code."},
    )
    specification = forms.CharField(
        required=False, max_length=200, help_text="Only for 'Other, specify' terms."
    )
    grade = forms.TypedChoiceField(coerce=int, widget=forms.RadioSelect, choices=())
    onset = forms.DateField(widget=_date())
    resolution = forms.DateField(required=False, widget=_date())
    outcome = forms.ChoiceField(choices=OUTCOME, initial="not_recovered")
    death_date = forms.DateField(required=False, widget=_date(), help_text="Grade 5 only.")
    serious_criteria = forms.MultipleChoiceField(
        required=False,
        widget=forms.CheckboxSelectMultiple,
        choices=[(c, SERIOUS_LABELS[c]) for c in rules.SERIOUS_CRITERIA],
        help_text="Any criterion makes the event serious (an SAE).",
    )
    awareness_at = forms.DateTimeField(
        required=False,
        widget=_moment(),
        label="Site aware of the SAE at",
        help_text="The initial report is due within 24 hours of this.",
    )
    initial_report_at = forms.DateTimeField(
        required=False, widget=_moment(), label="Initial SAE report sent at"
    )
    action_inkt = forms.ChoiceField(choices=ACTION, initial="none", label="Action: iNKT cells")
    action_pd1 = forms.ChoiceField(choices=ACTION, initial="none", label="Action: PD-1 antibody")
    action_regorafenib = forms.ChoiceField(
        choices=ACTION, initial="none", label="Action: regorafenib"
    )
    infusion = forms.ModelChoiceField(
        queryset=Infusion.objects.none(),
        required=False,
        label="Followed iNKT course",
        help_text="For an infusion-related reaction or CRS: the course it followed.",
    )

    def __init__(self, *args, patient, rpi: bool, with_reason=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.term = self._term()
        grade = self.fields["grade"]
        grade.error_messages["invalid_choice"] = "Choose the term first."
        if self.term is not None:
            grade.choices = [(g, f"Grade {g}: {text}") for g, text in self.term.grades.items()]
            grade.error_messages["invalid_choice"] = rules.grade_message(tuple(self.term.grades))
        if rpi:
            self.fields["infusion"].queryset = Infusion.objects.filter(
                patient=patient, status=Infusion.GIVEN
            ).order_by("course_number")
            self.fields["infusion"].label_from_instance = lambda i: (
                f"Course {i.course_number}, {i.infused_at:%Y-%m-%d}"
            )
        else:
            del self.fields["action_inkt"], self.fields["infusion"]
        if with_reason:
            self.fields["reason"] = forms.CharField(
                widget=forms.Textarea(attrs={"rows": 2}), help_text="Why is this changed?"
            )

    def _term(self):
        code = self.data.get("meddra_code") if self.is_bound else self.initial.get("meddra_code")
        code = str(code or "")
        if not (code.isascii() and code.isdigit() and len(code) < 10):
            return None
        return CtcaeTerm.objects.filter(meddra_code=int(code)).first()

    def clean_meddra_code(self):
        if self.term is None:
            raise forms.ValidationError("Not a CTCAE v5.0 term.")
        return self.cleaned_data["meddra_code"]

    def clean(self):
        """The service's own keys: the term itself rather than its code."""
        cleaned = super().clean()
        if "meddra_code" in cleaned:
            cleaned["term"] = self.term
            del cleaned["meddra_code"]
        return cleaned


class CausalityForm(forms.Form):
    relationship_inkt = forms.ChoiceField(label="Related to iNKT cells")
    relationship_pd1 = forms.ChoiceField(label="Related to the PD-1 antibody")
    relationship_regorafenib = forms.ChoiceField(label="Related to regorafenib")
    reason = forms.CharField(required=False, help_text="Optional comment for the audit trail.")

    def __init__(self, *args, rpi: bool, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [(k, v) for k, v in RELATIONSHIP if k not in ("not_assessed", "not_applicable")]
        for name in ("relationship_inkt", "relationship_pd1", "relationship_regorafenib"):
            self.fields[name].choices = choices
        if not rpi:
            del self.fields["relationship_inkt"]
        self.helper = FormHelper()
        self.helper.form_tag = False


class SaeReportForm(forms.ModelForm):
    class Meta:
        model = SaeReport
        fields = ["kind", "sent_at", "information"]
        widgets = {"sent_at": _moment(), "information": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
