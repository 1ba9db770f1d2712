"""Reads shared by the pages and the API."""

import django_filters
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from datamanagement import queries
from datamanagement.models import DataQuery
from datamanagement.targets import TARGETS


def query_list():
    return DataQuery.objects.select_related(
        "patient", "content_type", "raised_by", "answered_by", "closed_by"
    )


def queries_of(record):
    return query_list().filter(
        content_type=ContentType.objects.get_for_model(record), object_id=record.pk
    )


def open_by_age(*, today=None) -> list[dict]:
    """Open queries, oldest first, with their age in days and its band (the dashboard)."""
    today = today or timezone.localdate()
    rows = []
    for query in query_list().filter(state=queries.OPEN).order_by("raised_at"):
        days = queries.age_days(timezone.localdate(query.raised_at), today)
        rows.append({"query": query, "days": days, "band": queries.age_band(days)})
    return rows


RECORD_CHOICES = [(t.model._meta.model_name, t.model._meta.verbose_name) for t in TARGETS]


class QueryFilter(django_filters.FilterSet):
    state = django_filters.ChoiceFilter(choices=list(queries.STATES.items()))
    study_id = django_filters.CharFilter(field_name="patient__study_id", label="Study ID")
    record = django_filters.ChoiceFilter(
        field_name="content_type__model", choices=RECORD_CHOICES, label="Record"
    )
    older_than_days = django_filters.NumberFilter(
        method="filter_older", label="Raised more than this many days ago"
    )

    class Meta:
        model = DataQuery
        fields = ["state", "study_id", "record", "older_than_days"]

    def filter_older(self, queryset, name, value):
        if value is None or value < 0 or value > 100_000:
            return queryset.none() if value is not None else queryset
        cutoff = timezone.now() - timezone.timedelta(days=int(value))
        return queryset.filter(raised_at__lt=cutoff)
