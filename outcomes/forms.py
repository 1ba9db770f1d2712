from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms

from inkt_trial.widgets import DateInput
from outcomes import followup


class FollowUpForm(forms.Form):
    kind = forms.ChoiceField(choices=list(followup.KINDS.items()), label="Record")
    date = forms.DateField(widget=DateInput())
    alive = forms.TypedChoiceField(
        label="Vital status (survival contacts)",
        choices=[(True, "Alive"), (False, "Dead (the death is recorded in the patient's status)")],
        coerce=lambda v: v in (True, "True"),
        initial=True,
        widget=forms.RadioSelect,
    )
    from_public_records = forms.BooleanField(
        required=False,
        label="From public records",
        help_text="After a withdrawal of consent that allows survival status from public "
        "records, only such contacts are accepted.",
    )
    therapy = forms.CharField(required=False, label="New anticancer therapy", max_length=200)
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, with_reason=False, **kwargs):
        super().__init__(*args, **kwargs)
        if with_reason:
            self.fields["reason"] = forms.CharField(
                widget=forms.Textarea(attrs={"rows": 2}), help_text="Why is this changed?"
            )
        self.helper = FormHelper()
        self.helper.form_id = "followup-form"
        self.helper.add_input(Submit("save", "Save follow-up record"))
