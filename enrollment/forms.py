from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Div, Fieldset, Layout, Submit
from django import forms

from enrollment import eligibility as el
from enrollment import status
from enrollment.course import CHANGE_FIELDS, END_FIELDS
from enrollment.medication_services import HISTORY_FIELDS, MEDICATION_FIELDS
from enrollment.models import (
    ConcomitantMedication,
    MedicalHistory,
    Screening,
    StatusChange,
    TreatmentEnd,
)
from enrollment.services import ENTERED_FIELDS
from inkt_trial.widgets import DateInput

EXCLUSION_FIELDS = [c.code for c in el.ANSWERED_EXCLUSIONS]
YES_NO_FIELDS = ["prior_progression", "life_expectancy_12_weeks", *EXCLUSION_FIELDS]


def _yes_no(label: str, help_text: str = "") -> forms.TypedChoiceField:
    """A required explicit answer: no default, so an unanswered question is refused."""
    return forms.TypedChoiceField(
        label=label,
        help_text=help_text,
        choices=[("True", "Yes"), ("False", "No")],
        coerce=lambda v: v == "True",
        widget=forms.RadioSelect,
        required=True,
    )


def _row(*fields, cols=3):
    return Div(*[Div(f, css_class=f"col-md-{12 // cols}") for f in fields], css_class="row")


class ScreeningForm(forms.ModelForm):
    class Meta:
        model = Screening
        fields = list(ENTERED_FIELDS)
        widgets = {
            f: DateInput()
            for f in (
                "date_of_birth",
                "consent_date",
                "screening_date",
                "prior_regimen_start",
                "prior_progression_date",
            )
        }

    def __init__(self, *args, with_reason: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        for name in YES_NO_FIELDS:
            model_field = Screening._meta.get_field(name)
            label = el.CRITERIA[name].text if name in el.CRITERIA else model_field.verbose_name
            self.fields[name] = _yes_no(label[0].upper() + label[1:], model_field.help_text)
            if self.instance.pk is not None:
                self.initial[name] = str(getattr(self.instance, name))
        for name in ("bilirubin_unit", "albumin_unit", "creatinine_unit"):
            self.fields[name].widget.attrs["aria-label"] = f"{name.split('_')[0]} unit"
        if with_reason:
            self.fields["reason"] = forms.CharField(
                label="Reason for the change",
                widget=forms.Textarea(attrs={"rows": 2}),
                help_text="Required for every change of a saved record; kept in the audit trail.",
            )
        self.helper = FormHelper()
        self.helper.form_id = "screening-form"
        self.helper.layout = Layout(
            Fieldset(
                "Patient and consent",
                _row("date_of_birth", "sex", "consent_date"),
                _row("screening_date", "height_cm", "weight_kg"),
            ),
            Fieldset(
                "Laboratory values",
                _row("bilirubin", "bilirubin_unit", "bilirubin_uln"),
                _row("albumin", "albumin_unit", "inr"),
                _row("creatinine", "creatinine_unit", "measured_gfr_ml_min"),
                _row("ascites", "encephalopathy", cols=2),
            ),
            Fieldset(
                "Disease and prior treatment",
                _row("bclc_stage", "bclc_by_ct", "bclc_by_mri", "bclc_by_histopathology", cols=4),
                _row("prior_regimen", "prior_regimen_start", cols=2),
                _row("prior_progression", "prior_progression_date", cols=2),
                "life_expectancy_12_weeks",
            ),
            Fieldset(
                "Exclusion criteria (Yes = present)",
                *[
                    _row(*EXCLUSION_FIELDS[i : i + 2], cols=2)
                    for i in range(0, len(EXCLUSION_FIELDS), 2)
                ],
            ),
            *(["reason"] if with_reason else []),
            HTML('<div id="derived-panel-slot"></div>'),
            Submit("save", "Save screening"),
        )


class ConfirmEligibilityForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    agree = forms.BooleanField(label="I have read the statement above and sign it.", required=True)
    username = forms.CharField(
        required=False,  # refused with the reason when blank (inkt_trial.signature)
        label="Your user name",
        help_text="The first signature of a session needs both your user name and password.",
        widget=forms.TextInput(attrs={"autocomplete": "username"}),
    )
    password = forms.CharField(
        label="Your password (electronic signature)",
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, *args, with_username=True, **kwargs):
        super().__init__(*args, **kwargs)
        if not with_username:
            del self.fields["username"]
        self.helper = FormHelper()
        self.helper.add_input(Submit("sign", "Sign and confirm eligibility"))


def _with_reason(form, with_reason: bool, form_id: str, submit: str) -> None:
    if with_reason:
        form.fields["correction_reason"] = forms.CharField(
            label="Reason for the correction",
            widget=forms.Textarea(attrs={"rows": 2}),
            help_text="Why is this changed? (kept in the audit trail)",
        )
    form.helper = FormHelper()
    form.helper.form_id = form_id
    form.helper.add_input(Submit("save", submit))


class StatusChangeForm(forms.ModelForm):
    class Meta:
        model = StatusChange
        fields = list(CHANGE_FIELDS)
        widgets = {"date": DateInput(), "details": forms.Textarea(attrs={"rows": 2})}
        labels = {"kind": "Status change"}

    def __init__(self, *args, with_reason=False, **kwargs):
        super().__init__(*args, **kwargs)
        _with_reason(self, with_reason, "status-form", "Save status change")


class TreatmentEndForm(forms.ModelForm):
    class Meta:
        model = TreatmentEnd
        fields = list(END_FIELDS)
        widgets = {"date": DateInput(), "details": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, drugs=None, with_reason=False, **kwargs):
        super().__init__(*args, **kwargs)
        if drugs is not None:
            self.fields["drug"].choices = [(d, status.DRUGS[d]) for d in drugs]
        _with_reason(self, with_reason, "end-form", "Save end of treatment")


class ReopenScreeningForm(forms.Form):
    reason = forms.CharField(
        label="Why is the signed screening reopened?",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Kept in the audit trail with the signature it removes.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_id = "reopen-form"
        self.helper.add_input(Submit("reopen", "Reopen for correction"))


class MedicationForm(forms.ModelForm):
    class Meta:
        model = ConcomitantMedication
        fields = list(MEDICATION_FIELDS)
        widgets = {"start_date": DateInput(), "stop_date": DateInput()}
        help_texts = {"ongoing": "Ongoing: no stop date. Otherwise give the stop date."}

    def __init__(self, *args, with_reason=False, **kwargs):
        super().__init__(*args, **kwargs)
        _with_reason(self, with_reason, "medication-form", "Save medication")


class MedicalHistoryForm(forms.ModelForm):
    class Meta:
        model = MedicalHistory
        fields = list(HISTORY_FIELDS)
        widgets = {"details": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, with_reason=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["start"].widget.attrs["placeholder"] = "YYYY, YYYY-MM or YYYY-MM-DD"
        _with_reason(self, with_reason, "history-form", "Save medical history")


class MedicationStopForm(forms.Form):
    stop_date = forms.DateField(widget=DateInput())
    reason = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Optional: why it was stopped (kept in the audit trail).",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_id = "stop-form"
        self.helper.add_input(Submit("save", "Record the stop"))
