from django import forms

from assessments import qlqc30
from assessments.reads import visit_schedule
from enrollment import course
from inkt_trial.widgets import DateInput
from randomization.selectors import day_zero

BLANK = ""


def item_field(name: int) -> str:
    return f"item_{name}"


def visit_choices(patient, *, today) -> list[tuple[str, str]]:
    """Baseline, the 8-weekly visits due so far, and end of treatment when it is recorded."""
    visits = [qlqc30.BASELINE]
    start = day_zero(patient)
    if start is not None:
        visits += [f"visit-{n}" for n, *_ in visit_schedule(start, until=today)]
    if course.treatment_ended_on(patient) is not None:
        visits.append(qlqc30.END_OF_TREATMENT)
    return [(v, qlqc30.visit_name(v)) for v in visits]


class QuestionnaireForm(forms.Form):
    """The 30 items of the QLQ-C30 with their allowed answers; any item may stay blank."""

    visit = forms.ChoiceField()
    completed_on = forms.DateField(widget=DateInput())

    def __init__(self, *args, visits, labels, with_reason=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["visit"].choices = visits
        for item in qlqc30.ITEMS:
            self.fields[item_field(item)] = forms.TypedChoiceField(
                label=f"{item}. {labels[item]}",
                choices=[(BLANK, "blank")] + [(n, str(n)) for n in qlqc30.answer_choices(item)],
                coerce=int,
                empty_value=None,
                required=False,
                widget=forms.RadioSelect,
                initial=BLANK,
            )
        if with_reason:
            self.fields["reason"] = forms.CharField(
                widget=forms.Textarea(attrs={"rows": 2}), help_text="Why is this changed?"
            )

    def items(self):
        """(item number, bound field) for the template's grid."""
        return [(item, self[item_field(item)]) for item in qlqc30.ITEMS]

    def clean(self):
        """The service's own keys: the 30 items become one `answers` mapping."""
        cleaned = super().clean()
        cleaned["answers"] = {str(i): cleaned.pop(item_field(i), None) for i in qlqc30.ITEMS}
        return cleaned

    @staticmethod
    def initial_from(questionnaire) -> dict:
        return {
            "visit": questionnaire.visit,
            "completed_on": questionnaire.completed_on,
            **{
                item_field(i): BLANK if v is None else v
                for i, v in ((int(k), v) for k, v in questionnaire.answers.items())
            },
        }
