from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms

from dosing import rules
from dosing.models import FORMULA_CHOICES, Apheresis, DrugExposure, Infusion, ReleaseTest
from inkt_trial.widgets import DateInput, DateTimeInput


class CellsFormField(forms.CharField):
    """Cells as typed: 500000000, 5e8 or 5x10^8."""

    def __init__(self, **kwargs):
        kwargs.setdefault("help_text", "e.g. 5e8 or 500000000")
        super().__init__(**kwargs)

    def prepare_value(self, value):
        return (
            f"{value:.4g}".replace("e+0", "e").replace("e+", "e")
            if isinstance(value, int)
            else value
        )

    def to_python(self, value):
        value = super().to_python(value)
        if value in self.empty_values:
            return None
        try:
            return rules.parse_cells(value)
        except ValueError as error:
            raise forms.ValidationError(str(error)) from None


def _helper(form_id: str, label: str) -> FormHelper:
    helper = FormHelper()
    helper.form_id = form_id
    helper.add_input(Submit("save", label))
    return helper


class ScheduleForm(forms.Form):
    first_planned_date = forms.DateField(widget=DateInput())
    window_days = forms.IntegerField(min_value=0, max_value=7, initial=3)
    bsa_formula = forms.ChoiceField(choices=FORMULA_CHOICES, label="BSA formula")
    target_cells_per_m2 = CellsFormField(label="Target cells per m²", initial="5e8")

    def __init__(self, *args, with_reason=False, **kwargs):
        super().__init__(*args, **kwargs)
        if with_reason:
            self.fields["reason"] = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))
        self.helper = _helper("schedule-form", "Save schedule")


class InfusionForm(forms.Form):
    status = forms.ChoiceField(
        choices=[(Infusion.GIVEN, "Given"), (Infusion.MISSED, "Missed")],
        widget=forms.RadioSelect,
        initial=Infusion.GIVEN,
    )
    infused_at = forms.DateTimeField(
        label="Date and time of infusion",
        required=False,
        widget=DateTimeInput(),
    )
    weight_kg = forms.DecimalField(
        label="Weight today (kg)", max_digits=4, decimal_places=1, required=False
    )
    bsa_formula = forms.ChoiceField(choices=FORMULA_CHOICES, label="BSA formula")
    target_cells_per_m2 = CellsFormField(label="Target cells per m²", required=False)
    cells_infused = CellsFormField(label="Cells infused", required=False)
    bag_study_id = forms.CharField(
        label="Study ID on the bag",
        max_length=16,
        required=False,
        help_text="Bedside check: scan or type the bag's label.",
    )
    bag_date_of_birth = forms.DateField(
        label="Date of birth on the bag", required=False, widget=DateInput()
    )
    batch_number = forms.CharField(label="Batch number on the bag", max_length=40, required=False)
    infusion_reaction = forms.BooleanField(required=False)
    reaction_description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    deviation_reason = forms.CharField(
        label="Reason for a deviation (delay, missed course, reduced dose, out-of-range dose)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper("infusion-form", "Record course")


class DrugExposureForm(forms.ModelForm):
    class Meta:
        model = DrugExposure
        fields = [
            "drug",
            "product",
            "event",
            "dose",
            "unit",
            "route",
            "start_date",
            "end_date",
            "reason",
        ]
        widgets = {
            "start_date": DateInput(),
            "end_date": DateInput(),
            "reason": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper("drug-form", "Save")


def _with_reason(form: forms.Form, with_reason: bool) -> None:
    if with_reason:
        form.fields["reason"] = forms.CharField(
            label="Reason for the correction", widget=forms.Textarea(attrs={"rows": 2})
        )


class ApheresisForm(forms.ModelForm):
    class Meta:
        model = Apheresis
        fields = ["date", "volume_ml", "site", "notes"]
        widgets = {"date": DateInput(), "notes": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, with_reason=False, **kwargs):
        super().__init__(*args, **kwargs)
        _with_reason(self, with_reason)
        self.helper = _helper("apheresis-form", "Save apheresis")


class BatchForm(forms.Form):
    apheresis = forms.ModelChoiceField(queryset=Apheresis.objects.none(), empty_label=None)
    batch_number = forms.CharField(label="Batch number (as on the bag)", max_length=40)
    manufactured_on = forms.DateField(widget=DateInput())
    expires_at = forms.DateTimeField(label="Expiry", widget=DateTimeInput())
    cells_total = CellsFormField(label="Cells in the bag")
    volume_ml = forms.DecimalField(label="Bag volume (mL)", max_digits=6, decimal_places=1)

    def __init__(self, *args, patient, with_reason=False, **kwargs):
        super().__init__(*args, **kwargs)
        if with_reason:
            del self.fields["apheresis"]  # the apheresis of a batch does not change
        else:
            self.fields["apheresis"].queryset = Apheresis.objects.filter(patient=patient)
        _with_reason(self, with_reason)
        self.helper = _helper("batch-form", "Save batch")


class PassFailSelect(forms.NullBooleanSelect):
    def __init__(self, attrs=None):
        super().__init__(attrs)
        self.choices = [("unknown", "—"), ("true", "Pass: no growth / negative"), ("false", "Fail")]


class ReleaseTestForm(forms.Form):
    assay = forms.ChoiceField(label="Test", choices=ReleaseTest.ASSAYS)
    result_passed = forms.NullBooleanField(
        label="Result (sterility, mycoplasma)",
        required=False,
        widget=PassFailSelect(),
    )
    value = forms.DecimalField(
        label="Value (endotoxin EU/mL; viability, iNKT purity %)",
        max_digits=8,
        decimal_places=2,
        required=False,
    )
    method = forms.CharField(max_length=120, required=False)
    tested_on = forms.DateField(widget=DateInput())

    def __init__(self, *args, with_reason=False, **kwargs):
        super().__init__(*args, **kwargs)
        if with_reason:
            del self.fields["assay"]  # a retest corrects the same test
        _with_reason(self, with_reason)
        self.helper = _helper("release-test-form", "Save result")


class ReleaseForm(forms.Form):
    released_at = forms.DateTimeField(
        label="Released at", required=False, widget=DateTimeInput(), help_text="Default: now."
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper("release-form", "Release the batch for infusion")
