from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms

from datamanagement import matrix


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
