"""The visit form: the visit, its vital signs and one row per laboratory test (value, unit, and
the site's own range when it differs from the default)."""

from crispy_forms.helper import FormHelper
from django import forms

from inkt_trial.widgets import DateInput
from safety import labs
from safety.visit_models import ASCITES, ECOG_CHOICES, ENCEPHALOPATHY, NUMBERED, VISIT_KINDS
from safety.visits import VISIT_FIELDS


def _number(label, **kwargs):
    return forms.DecimalField(label=label, required=False, **kwargs)


class VisitForm(forms.Form):
    visit_date = forms.DateField(widget=DateInput())
    kind = forms.ChoiceField(label="Visit", choices=VISIT_KINDS)
    number = forms.IntegerField(
        required=False, min_value=1, max_value=999, help_text="Course or week number."
    )
    ecog = forms.TypedChoiceField(
        label="ECOG performance status",
        coerce=int,
        empty_value=None,
        required=False,
        choices=[("", "Not assessed"), *ECOG_CHOICES],
    )
    systolic_bp_mmhg = forms.IntegerField(label="Systolic BP (mmHg)", required=False)
    diastolic_bp_mmhg = forms.IntegerField(label="Diastolic BP (mmHg)", required=False)
    heart_rate_bpm = forms.IntegerField(label="Heart rate (/min)", required=False)
    temperature_c = _number("Temperature (°C)", max_digits=4, decimal_places=1)
    weight_kg = _number("Weight (kg)", max_digits=5, decimal_places=1)
    respiratory_rate_per_min = forms.IntegerField(label="Respiratory rate (/min)", required=False)
    spo2_percent = forms.IntegerField(label="SpO2 (%)", required=False)
    ascites = forms.ChoiceField(choices=ASCITES, initial="none")
    encephalopathy = forms.ChoiceField(
        label="Hepatic encephalopathy", choices=ENCEPHALOPATHY, initial="none"
    )
    on_anticoagulation = forms.BooleanField(
        required=False, help_text="INR is then graded against the baseline INR."
    )

    def __init__(self, *args, entered_tests=(), with_reason=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.entered_tests = set(entered_tests)  # a correction cannot remove a value
        for code, test in labs.TESTS.items():
            self.fields[f"{code}_value"] = _number(test.name, max_digits=14, decimal_places=4)
            self.fields[f"{code}_unit"] = forms.ChoiceField(
                label=f"{test.name} unit",
                choices=[(u, u) for u in test.units],
                initial=test.unit,
                required=False,
            )
            for bound in ("lln", "uln"):
                self.fields[f"{code}_{bound}"] = _number(
                    f"{test.name} {bound.upper()}", max_digits=14, decimal_places=4
                )
        for code in labs.TESTS:  # the lab table: compact inputs, labelled by their row
            for part in ("value", "unit", "lln", "uln"):
                field = self.fields[f"{code}_{part}"]
                css = "form-select form-select-sm" if part == "unit" else "form-control-sm"
                field.widget.attrs.update(
                    {"class": css if part == "unit" else f"form-control {css}",
                     "aria-label": field.label}
                )  # fmt: skip
        if with_reason:
            self.fields["reason"] = forms.CharField(
                widget=forms.Textarea(attrs={"rows": 2}), help_text="Why is this changed?"
            )
        self.helper = FormHelper()
        self.helper.form_tag = False

    @property
    def lab_rows(self):
        """(test, [value, unit, lln, uln] bound fields), for the table of the template."""
        return [
            (test, [self[f"{code}_{part}"] for part in ("value", "unit", "lln", "uln")])
            for code, test in labs.TESTS.items()
        ]

    @property
    def visit_fields(self):
        return [self[name] for name in VISIT_FIELDS]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("kind") not in NUMBERED:
            cleaned["number"] = None
        values = []
        for code in labs.TESTS:
            value = cleaned.pop(f"{code}_value", None)
            unit = cleaned.pop(f"{code}_unit", None)
            lln, uln = cleaned.pop(f"{code}_lln", None), cleaned.pop(f"{code}_uln", None)
            if value is None:
                if code in self.entered_tests:
                    self.add_error(f"{code}_value", "A value entered is corrected, not removed.")
                continue
            unit = unit or labs.TESTS[code].unit
            values.append({"test": code, "value": value, "unit": unit, "lln": lln, "uln": uln})
        cleaned["values"] = values
        return cleaned


class DismissForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=1000,
        help_text="Why no adverse event is recorded (e.g. a haemolysed sample, already recorded).",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
