from crispy_forms.helper import FormHelper
from django import forms

from dosing.models import Infusion
from inkt_trial.widgets import DateInput, DateTimeInput
from safety import crs, rules, susar
from safety.models import ACTION, EXPECTEDNESS, OUTCOME, RELATIONSHIP, CtcaeTerm, SaeReport

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


def _choices(table):
    return [(key, label) for key, (label, _grade) in table.items()]


def astct_fields() -> dict[str, forms.Field]:
    """The ASTCT inputs of CRS and ICANS (safety/crs.py), named astct_<input>."""
    fields = {
        "astct_max_temperature_c": forms.DecimalField(
            required=False,
            max_digits=3,
            decimal_places=1,
            label="Maximum temperature (C)",
            help_text=f"Fever is >= {crs.FEVER_C:.1f} C.",
        ),
        "astct_antipyretic_or_anticytokine": forms.BooleanField(
            required=False,
            label="Had fever, then antipyretic or anticytokine therapy (tocilizumab, steroids)",
            help_text="Fever is then no longer required: hypotension and hypoxia grade the CRS.",
        ),
        "astct_hypotension": forms.ChoiceField(
            required=False, choices=_choices(crs.HYPOTENSION), label="Hypotension"
        ),
        "astct_oxygen": forms.ChoiceField(
            required=False, choices=_choices(crs.OXYGEN), label="Hypoxia: oxygen needed"
        ),
    }
    for item, (label, points) in crs.ICE_ITEMS.items():
        fields[f"astct_ice_{item}"] = forms.IntegerField(
            required=False, min_value=0, max_value=points, label=f"ICE: {label} (0-{points})"
        )
    fields["astct_ice_unarousable"] = forms.BooleanField(
        required=False, label="Unarousable: unable to perform the ICE assessment"
    )
    for key, table, label in (
        ("consciousness", crs.CONSCIOUSNESS, "Depressed level of consciousness"),
        ("seizure", crs.SEIZURE, "Seizure"),
        ("motor", crs.MOTOR, "Motor findings"),
        ("icp", crs.ICP, "Elevated ICP / cerebral oedema"),
    ):
        fields[f"astct_{key}"] = forms.ChoiceField(
            required=False, choices=_choices(table), label=label
        )
    return fields


def astct_inputs(syndrome: str | None, cleaned: dict) -> dict:
    """The stored inputs of the syndrome from the form's fields (none for another term)."""
    if syndrome == crs.CRS:
        temperature = cleaned.get("astct_max_temperature_c")
        return {
            "max_temperature_c": None if temperature is None else float(temperature),
            "antipyretic_or_anticytokine": bool(cleaned.get("astct_antipyretic_or_anticytokine")),
            "hypotension": cleaned.get("astct_hypotension") or "none",
            "oxygen": cleaned.get("astct_oxygen") or "none",
        }
    if syndrome == crs.ICANS:
        inputs = {key: cleaned.get(f"astct_{key}") or "none" for key in ("seizure", "motor", "icp")}
        inputs["consciousness"] = cleaned.get("astct_consciousness") or "normal"
        if cleaned.get("astct_ice_unarousable"):
            inputs["ice_unarousable"] = True
        else:
            inputs.update({f"ice_{i}": cleaned.get(f"astct_ice_{i}") for i in crs.ICE_ITEMS})
        return inputs
    return {}


class AdverseEventForm(forms.Form):
    """The term is picked by typing (term, SOC or MedDRA code, see static/js/ae_form.js); the
    grade offers only the grades CTCAE defines for that term, each with its definition. For
    cytokine release syndrome and ICANS the ASTCT inputs are asked and the grade is computed
    from them (a different grade chosen is refused by the service)."""

    meddra_code = forms.IntegerField(
        widget=forms.HiddenInput,
        error_messages={"required": "Choose the CTCAE term: type part of it, its SOC or code."},
    )
    specification = forms.CharField(
        required=False, max_length=200, help_text="Only for 'Other, specify' terms."
    )
    grade = forms.TypedChoiceField(
        coerce=int, widget=forms.RadioSelect, choices=(), required=False, empty_value=None
    )
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

    narrative = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        label="SAE narrative",
        help_text="What happened, in order: the event, its treatment, its course.",
    )
    susar_report_at = forms.DateTimeField(
        required=False,
        widget=_moment(),
        label="Expedited SUSAR report sent at",
        help_text="Fatal or life-threatening: 7 days from awareness; other SUSARs: 15 days.",
    )
    susar_follow_up_at = forms.DateTimeField(
        required=False,
        widget=_moment(),
        label="Complete SUSAR report sent at",
        help_text="Fatal or life-threatening SUSAR: within 8 more days.",
    )

    def __init__(self, *args, patient, rpi: bool, with_reason=False, **kwargs):
        initial = kwargs.get("initial") or {}
        for key, value in (initial.pop("astct_inputs", None) or {}).items():
            initial[f"astct_{key}"] = value
        super().__init__(*args, **kwargs)
        self.fields.update(astct_fields())
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.term = self._term()
        grade = self.fields["grade"]
        grade.error_messages["invalid_choice"] = "Choose the term first."
        if self.term is not None:
            grade.choices = [(g, f"Grade {g}: {text}") for g, text in self.term.grades.items()]
            grade.error_messages["invalid_choice"] = rules.grade_message(tuple(self.term.grades))
        if not self.is_bound and self.syndrome and self.initial.get("grade") != 5:
            self.initial.pop("grade", None)  # computed again from the inputs on saving
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
        cleaned["astct_inputs"] = astct_inputs(self.syndrome, cleaned)
        for name in [n for n in cleaned if n.startswith("astct_") and n != "astct_inputs"]:
            del cleaned[name]
        return cleaned

    @property
    def syndrome(self) -> str | None:
        """CRS or ICANS when the chosen term (and specification) is one: its inputs shown."""
        if self.term is None:
            return None
        source = self.data if self.is_bound else self.initial
        return crs.syndrome_of(self.term.term, str(source.get("specification") or ""))

    def astct_crs_fields(self):
        return [self[f"astct_{key}"] for key in crs.CRS_KEYS]

    def astct_icans_fields(self):
        return [self[f"astct_{key}"] for key in crs.ICANS_KEYS]


class CausalityForm(forms.Form):
    """Relationship and expectedness per study drug. Expectedness is proposed from the
    reference safety information (safety/susar.py): "expected" when the drug's list has the
    term; the investigator decides."""

    relationship_inkt = forms.ChoiceField(label="Related to iNKT cells")
    expectedness_inkt = forms.ChoiceField(label="Expected for iNKT cells")
    relationship_pd1 = forms.ChoiceField(label="Related to the PD-1 antibody")
    expectedness_pd1 = forms.ChoiceField(label="Expected for the PD-1 antibody")
    relationship_regorafenib = forms.ChoiceField(label="Related to regorafenib")
    expectedness_regorafenib = forms.ChoiceField(label="Expected for regorafenib")
    reason = forms.CharField(required=False, help_text="Optional comment for the audit trail.")

    def __init__(self, *args, rpi: bool, proposed: dict[str, str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [(k, v) for k, v in RELATIONSHIP if k not in ("not_assessed", "not_applicable")]
        expectedness = [(k, v) for k, v in EXPECTEDNESS if k != "not_applicable"]
        for drug in susar.DRUGS:
            self.fields[f"relationship_{drug}"].choices = choices
            field = self.fields[f"expectedness_{drug}"]
            field.choices = expectedness
            field.required = False  # left out: unchanged
            if proposed and drug in proposed:
                listed = proposed[drug] == "expected"
                field.help_text = (
                    "Listed in the reference safety information: proposed expected."
                    if listed
                    else "Not listed in the reference safety information: proposed unexpected."
                )
        if not rpi:
            del self.fields["relationship_inkt"], self.fields["expectedness_inkt"]

    def clean(self):
        cleaned = super().clean()
        return {k: v for k, v in cleaned.items() if v or not k.startswith("expectedness_")}
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
