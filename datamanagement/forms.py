from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms

from datamanagement import matrix
from inkt_trial.widgets import DateInput


def _helper(form, form_id: str, submit: str) -> None:
    form.helper = FormHelper()
    form.helper.form_id = form_id
    form.helper.add_input(Submit("save", submit))


class RaiseForm(forms.Form):
    field = forms.ChoiceField(label="Field")
    question = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, fields, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["field"].choices = fields
        _helper(self, "raise-form", "Raise the query")


class AnswerForm(forms.Form):
    answer = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))
    correct = forms.BooleanField(
        required=False, label="Correct the value (the query is the correction's reason)"
    )

    def __init__(self, *args, value_field=None, **kwargs):
        super().__init__(*args, **kwargs)
        if value_field is not None:
            value_field.required = False
            value_field.label = f"Corrected {value_field.label or 'value'}"
            self.fields["value"] = value_field
        _helper(self, "answer-form", "Answer")

    def clean(self):
        data = super().clean()
        if data.get("correct") and "value" not in self.fields:
            self.add_error("correct", "This record is corrected on its own page.")
        return data


class ReasonForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, submit="Save", form_id="reason-form", **kwargs):
        super().__init__(*args, **kwargs)
        _helper(self, form_id, submit)


def _study_id(help_text: str):
    return forms.CharField(label="Study ID", required=False, max_length=16, help_text=help_text)


class LockForm(forms.Form):
    study_id = _study_id("Empty: every patient, and every screening.")
    cutoff = forms.DateField(label="Freeze the records dated up to", widget=DateInput())
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _helper(self, "lock-form", "Lock the data")

    def clean_study_id(self):
        return _patient(self.cleaned_data["study_id"])


class UnfreezeForm(forms.Form):
    study_id = _study_id("One patient out of a lock of every patient; empty: the whole lock.")
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, whole_only=False, **kwargs):
        super().__init__(*args, **kwargs)
        if whole_only:
            del self.fields["study_id"]
        _helper(self, "unfreeze-form", "Unfreeze")

    def clean_study_id(self):
        return _patient(self.cleaned_data["study_id"])


def _patient(study_id: str):
    from enrollment.models import Patient

    study_id = (study_id or "").strip()
    if not study_id:
        return None
    found = Patient.objects.filter(study_id=study_id).first()
    if found is None:
        raise forms.ValidationError("No patient has this study ID.")
    return found


class CasebookFilterForm(forms.Form):
    """The casebook matrix's filters, for the page and the API alike."""

    search = forms.CharField(required=False, max_length=40, label="Study ID or screening number")
    status = forms.MultipleChoiceField(
        required=False,
        choices=list(matrix.STATES.items()),
        label="Patients with a cell",
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
    )
    group = forms.MultipleChoiceField(
        required=False,
        choices=list(matrix.GROUPS.items()),
        label="Columns",
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
    )
    page = forms.IntegerField(required=False, min_value=1, max_value=1_000_000)
