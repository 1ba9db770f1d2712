"""Reads shared by the pages and the API."""

import django_filters
from django.db.models import Q

from enrollment.models import Outcome, Patient, Screening

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
        for field in self.form.fields.values():  # Bootstrap look for the screening log page
            if field.widget.input_type == "select":
                field.widget.attrs["class"] = "form-select form-select-sm"
            else:
                field.widget.attrs["class"] = "form-control form-control-sm"
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
