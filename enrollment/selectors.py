"""Reads shared by the pages and the API."""

import django_filters
from django import forms
from django.db.models import Q

from enrollment import columns, evidence, medications
from enrollment.models import (
    ConcomitantMedication,
    EligibilityViolation,
    MedicalHistory,
    Outcome,
    Patient,
    Screening,
)
from inkt_trial import memo

STATUS_CHOICES = [
    ("screen_failure", "Screen failure"),
    ("awaiting_confirmation", "Eligible, awaiting confirmation"),
    ("enrolled", "Enrolled"),
    ("reopened", "Reopened for correction"),
]


def screening_list():
    return Screening.objects.select_related("patient", "created_by", "confirmed_by", "rescreen_of")


def patient_list():
    return Patient.objects.select_related("screening", "enrolled_by")


@memo.per_id
def violations_of(patient_ids) -> dict[int, list[EligibilityViolation]]:
    """Each patient's eligibility violations, resolved or not (by the day found), in one query;
    once per request (the patient page's alert and its deviations read the same: read them,
    never change them)."""
    found: dict[int, list[EligibilityViolation]] = {}
    rows = EligibilityViolation.objects.filter(patient_id__in=list(patient_ids))
    for violation in rows.order_by("found_on", "id"):  # the model's order, with no join
        found.setdefault(violation.patient_id, []).append(violation)
    return found


def patient_search(patients, text: str):
    """The patients whose study ID or screening number contains `text`."""
    return patients.filter(
        Q(study_id__icontains=text) | Q(screening__screening_number__icontains=text)
    )


class ScreeningFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(
        label="Status", choices=STATUS_CHOICES, method="filter_status"
    )
    outcome = django_filters.ChoiceFilter(label="Outcome", choices=Outcome.choices)
    child_pugh_class = django_filters.ChoiceFilter(
        label="Child-Pugh class", choices=[("A", "A"), ("B", "B"), ("C", "C")]
    )
    search = django_filters.CharFilter(method="filter_search", label="Screening number or study ID")
    screened_from = django_filters.DateFilter(
        label="Screened from", field_name="screening_date", lookup_expr="gte"
    )
    screened_to = django_filters.DateFilter(
        label="Screened to", field_name="screening_date", lookup_expr="lte"
    )

    class Meta:
        model = Screening
        fields = ["status", "outcome", "child_pugh_class", "search", "screened_from", "screened_to"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _bootstrap(self.form)
        for name in ("screened_from", "screened_to"):
            self.form.fields[name].widget.input_type = "date"

    def filter_status(self, queryset, name, value):
        if value == "screen_failure":
            return queryset.filter(outcome=Outcome.SCREEN_FAILURE, patient__isnull=True)
        if value == "awaiting_confirmation":
            return queryset.filter(
                outcome=Outcome.ELIGIBLE, confirmed_at__isnull=True, patient__isnull=True
            )
        if value == "reopened":
            return queryset.filter(reopened_at__isnull=False)
        return queryset.filter(patient__isnull=False)

    def filter_search(self, queryset, name, value):
        return queryset.filter(
            Q(screening_number__icontains=value) | Q(patient__study_id__icontains=value)
        )


def _bootstrap(form) -> None:
    """The filter forms' Bootstrap look."""
    for field in form.fields.values():
        if field.widget.input_type == "select":
            field.widget.attrs["class"] = "form-select form-select-sm"
        else:
            field.widget.attrs["class"] = "form-control form-control-sm"


class _PatientFilter(django_filters.FilterSet):
    """Search by study ID or screening number, and by the registered columns that filter (the
    arm, the status), each with the values the user may choose: a masked statistician chooses
    among codes, and a user who does not see a column chooses nothing."""

    search = django_filters.CharFilter(
        method="filter_search", label="Study ID or screening number", max_length=40
    )

    class Meta:
        model = Patient
        fields = ["study_id", "search"]

    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, request=request, **kwargs)
        user = getattr(request, "user", None)
        hidden = {"study_id"}  # the API's exact match; the page searches
        for name in list(self.filters):
            column = columns.get(name)
            if column is None or column.narrow is None:
                continue
            choices = column.choices(user) if user and column.shown_to(user) else []
            chosen = django_filters.ChoiceFilter(
                choices=choices, method="filter_column", label=column.label, field_name=name
            )
            chosen.parent, chosen.model = self, Patient
            self.filters[name] = chosen
            if not choices:  # a column the user does not see: refused, and not offered
                hidden.add(name)
        _bootstrap(self.form)
        for name in hidden:
            self.form.fields[name].widget = forms.HiddenInput()

    def filter_search(self, queryset, name, value):
        return patient_search(queryset, value)

    def filter_column(self, queryset, name, value):
        return columns.get(name).narrow(queryset, value, self.request.user)


def patient_filter() -> type[django_filters.FilterSet]:
    """The patient list's filter set, with one filter per registered column that filters
    (known once every app has registered its columns)."""
    filters = {
        c.key: django_filters.CharFilter(label=c.label, help_text=c.help)
        for c in columns.every()
        if c.narrow is not None
    }
    return type("PatientFilter", (_PatientFilter,), filters)


# Medical history and concomitant medications ---------------------------------------------------


def medication_list():
    return ConcomitantMedication.objects.select_related(
        "screening__patient", "recorded_by"
    ).order_by("screening", "-ongoing", "-start_date", "id")


def history_list():
    return MedicalHistory.objects.select_related("screening__patient", "recorded_by").order_by(
        "screening", "-ongoing", "start", "id"
    )


def hbv_in(history) -> bool:
    """Hepatitis B in the medical history, still present (an ongoing entry)."""
    return any(entry.ongoing and medications.is_hbv(entry.condition) for entry in history)


def medication_warnings(screening_ids) -> dict[int, list[medications.Warning]]:
    """The warnings of each screening's medications and history (enrollment.medications), in
    a fixed number of queries whatever their number. Treatment starts on the patient's day 0
    (randomization); none before."""
    ids = list(screening_ids)
    meds: dict[int, list] = {sid: [] for sid in ids}
    for m in ConcomitantMedication.objects.filter(screening_id__in=ids):
        meds[m.screening_id].append(m)
    history: dict[int, list] = {sid: [] for sid in ids}
    for entry in MedicalHistory.objects.filter(screening_id__in=ids):
        history[entry.screening_id].append(entry)
    patients = dict(Patient.objects.filter(screening_id__in=ids).values_list("screening_id", "pk"))
    return _warnings(meds, history, patients)


def _warnings(meds, history, patients) -> dict[int, list[medications.Warning]]:
    """The warnings of each screening's medication and history records, treatment starting on
    the day 0 of its patient ({screening id: patient id})."""
    plans = evidence.plans_of(patients.values())
    return {
        sid: medications.warnings(
            [_medication(m) for m in meds[sid]],
            hbv=hbv_in(history[sid]),
            treatment_start=(plans.get(patients.get(sid)) or (None,))[0],
        )
        for sid in meds
    }


def _medication(m: ConcomitantMedication) -> medications.Medication:
    return medications.Medication(
        key=m.pk,
        name=m.name,
        start=m.start_date,
        stop=None if m.ongoing else m.stop_date,
        atc=m.atc_code,
        route=m.route,
        dose=m.dose,
        unit=m.dose_unit,
        frequency=m.frequency,
    )


def medication_panel(screening) -> dict:
    """The medical history and medications of one screening (ongoing first), each medication
    with its warnings, and the warnings about the patient as a whole."""
    meds = list(
        ConcomitantMedication.objects.filter(screening=screening).order_by(
            "-ongoing", "-start_date", "id"
        )
    )
    history = list(
        MedicalHistory.objects.filter(screening=screening).order_by("-ongoing", "start", "id")
    )
    patient = getattr(screening, "patient", None)
    found = _warnings(
        {screening.pk: meds},  # in the model's order, as medication_warnings reads them
        {screening.pk: history},
        {} if patient is None else {screening.pk: patient.pk},
    )[screening.pk]
    for medication in meds:
        medication.screening = screening
        medication.warnings = [w for w in found if w.medication == medication.pk]
    return {
        "history": history,
        "medications": meds,
        "patient_warnings": [w for w in found if w.medication is None],
        "warnings": found,
    }
