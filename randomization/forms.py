from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms

from randomization import protocol
from randomization.models import STRATIFIER_CHOICES


class _SequenceOptions(forms.Form):
    stratify_by = forms.ChoiceField(choices=STRATIFIER_CHOICES, required=False)
    uses_codes = forms.BooleanField(
        label="Hold the arms as codes A/B (the administrator maps them; the statistician stays "
        "masked)",
        required=False,
        initial=True,
    )
    uncoded_reason = forms.CharField(
        label="Reason for arm names instead of codes (administrator only)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    reason = forms.CharField(
        label="Reason (required to replace the sequence in force)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class GenerateForm(_SequenceOptions):
    length = forms.IntegerField(
        min_value=protocol.TARGET_PATIENTS,
        max_value=protocol.MAX_SEQUENCE_LENGTH,
        initial=protocol.TARGET_PATIENTS + 16,
        help_text="Slots per stratum.",
    )
    block_sizes = forms.CharField(
        initial=", ".join(map(str, protocol.DEFAULT_BLOCK_SIZES)),
        help_text="Even numbers, separated by commas; each block's size is drawn from them.",
    )
    seed = forms.IntegerField(
        required=False,
        min_value=0,
        max_value=2**63 - 1,
        help_text="Leave empty for a random seed; it is recorded either way.",
    )
    field_order = [
        "length",
        "block_sizes",
        "seed",
        "stratify_by",
        "uses_codes",
        "uncoded_reason",
        "reason",
    ]

    def clean_block_sizes(self):
        try:
            sizes = [
                int(part) for part in self.cleaned_data["block_sizes"].split(",") if part.strip()
            ]
        except ValueError:
            raise forms.ValidationError(
                "Whole numbers separated by commas, e.g. 2, 4, 6."
            ) from None
        if not sizes:
            raise forms.ValidationError("Give at least one block size.")
        return sizes

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_id = "generate-form"
        self.helper.add_input(Submit("generate", "Generate sequence"))


class UploadForm(_SequenceOptions):
    file = forms.FileField(help_text="CSV with the columns stratum, position, block, arm.")
    field_order = ["file", "stratify_by", "uses_codes", "uncoded_reason", "reason"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_id = "upload-form"
        self.helper.add_input(Submit("upload", "Check and upload"))


class CodesForm(forms.Form):
    code_a_arm = forms.ChoiceField(
        label="Code A stands for",
        choices=[(a, f"{a}: {label}") for a, label in protocol.ARMS.items()],
    )
    reason = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.add_input(Submit("map", "Save the mapping"))


class EnrolmentLimitForm(forms.Form):
    patients = forms.IntegerField(
        label="Patients who may be randomized in all", min_value=protocol.TARGET_PATIENTS
    )
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=1000)
