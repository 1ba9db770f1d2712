"""The forms of the protocol deviation log: its filters (the page and the API read the same),
a deviation recorded by hand or corrected, and the review of any deviation."""

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.utils import timezone

from datamanagement import deviations
from inkt_trial.widgets import DateInput

ANY = [("", "any")]


def _text(required=True, **kwargs):
    return forms.CharField(
        required=required, widget=forms.Textarea(attrs={"rows": 2}), max_length=4000, **kwargs
    )


class DeviationFilterForm(forms.Form):
    study_id = forms.CharField(required=False, max_length=16, label="Patient (study ID)")
    classification = forms.ChoiceField(
        required=False, choices=ANY + deviations.CLASSIFICATION_CHOICES
    )
    category = forms.ChoiceField(required=False, choices=ANY + deviations.CATEGORY_CHOICES)
    date_from = forms.DateField(required=False, widget=DateInput(), label="From")
    date_to = forms.DateField(required=False, widget=DateInput(), label="To")

    def filters(self) -> dict:
        """The filters given, as deviation_selectors.log takes them."""
        return {k: v for k, v in self.cleaned_data.items() if v not in ("", None)}


class FollowFields(forms.Form):
    """Classification and follow-up: what the review sets, and a recorded deviation holds."""

    classification = forms.ChoiceField(
        choices=deviations.CLASSIFICATION_CHOICES, widget=forms.RadioSelect
    )
    corrective_action = _text(required=False)
    preventive_action = _text(required=False)
    reported_to_ec_on = forms.DateField(
        required=False, widget=DateInput(), label="Reported to the ethics committee on"
    )
    status = forms.ChoiceField(choices=deviations.STATUS_CHOICES, initial=deviations.OPEN)


class DeviationForm(FollowFields):
    """A deviation recorded by hand; with `reason`, its correction. A user who does not
    classify proposes the classification when recording and cannot change it afterwards."""

    occurred_on = forms.DateField(widget=DateInput(), label="Date of the deviation")
    identified_on = forms.DateField(
        widget=DateInput(), label="Date identified", initial=timezone.localdate
    )
    category = forms.ChoiceField(choices=deviations.CATEGORY_CHOICES)
    description = _text()
    field_order = [
        "occurred_on",
        "identified_on",
        "category",
        "description",
        "classification",
        "corrective_action",
        "preventive_action",
        "reported_to_ec_on",
        "status",
    ]

    def __init__(self, *args, with_reason=False, can_classify=True, **kwargs):
        super().__init__(*args, **kwargs)
        if not can_classify:
            field = self.fields["classification"]
            if with_reason:
                field.disabled = True
                field.help_text = "Changed by the data manager or an investigator (review)."
            else:
                field.help_text = "Proposed: the data manager or an investigator confirms it."
        if with_reason:
            self.fields["reason"] = _text(help_text="Why is this changed?")
        self.helper = FormHelper()
        self.helper.form_id = "deviation-form"
        self.helper.add_input(Submit("save", "Save the deviation"))


class ReviewForm(FollowFields):
    reason = _text(
        required=False,
        help_text="Required to classify a derived deviation otherwise than its rule, and to "
        "change an earlier review or a recorded deviation.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_id = "review-form"
        self.helper.add_input(Submit("save", "Save the review"))
