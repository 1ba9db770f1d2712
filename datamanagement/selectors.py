"""Reads shared by the pages and the API."""

import django_filters
from django.contrib.contenttypes.models import ContentType
from django.db.models import Max
from django.utils import timezone

from datamanagement import queries
from datamanagement.models import DataQuery, SourceVerification
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
        method="filter_older",
        label="Raised more than this many days ago",
        min_value=0,
        max_value=100_000,
        decimal_places=0,
    )

    class Meta:
        model = DataQuery
        fields = ["state", "study_id", "record", "older_than_days"]

    def filter_older(self, queryset, name, value):
        if value is None:
            return queryset
        cutoff = timezone.now() - timezone.timedelta(days=int(value))
        return queryset.filter(raised_at__lt=cutoff)


def current_version(record) -> int | None:
    """The audit trail's id of the record's current version (what a verification names)."""
    return record.history.order_by("-history_id").values_list("history_id", flat=True).first()


def verification_of(record) -> dict:
    """The record's SDV state: verified (its current version is the one verified), changed
    since it was verified, or not verified."""
    latest = (
        SourceVerification.objects.filter(
            content_type=ContentType.objects.get_for_model(record), object_id=record.pk
        )
        .select_related("verified_by")
        .order_by("-verified_at", "-id")
        .first()
    )
    return sdv_state(latest, current_version(record))


def sdv_state(latest, version: int | None) -> dict:
    """A record's SDV state from its latest verification and its current version: verified
    (the current version is the one verified), changed since it was verified, or not
    verified."""
    if latest is None:
        state = "not verified"
    elif latest.version == version:
        state = "verified"
    else:
        state = "changed since verified"
    return {"state": state, "latest": latest, "version": version}


def sdv_progress(patient_ids=None) -> dict:
    """Per patient and per form (record type): records, and how many are verified as they now
    are. A fixed number of queries: two per form, and one for the verifications."""
    verified = {
        (ct, obj): version
        for ct, obj, version in SourceVerification.objects.order_by(
            "verified_at", "id"
        ).values_list("content_type_id", "object_id", "version")
    }  # the latest verification of each record wins
    rows: dict = {}
    forms = []
    for target in TARGETS:
        model = target.model
        forms.append(model._meta.verbose_name)
        ct = ContentType.objects.get_for_model(model).pk
        records = model.objects.filter(**{f"{target.patient_path}__isnull": False})
        if patient_ids is not None:
            records = records.filter(**{f"{target.patient_path}__in": list(patient_ids)})
        owners = dict(records.values_list("pk", target.patient_path))
        current = dict(
            model.history.model.objects.filter(id__in=list(owners))
            .values("id")
            .annotate(last=Max("history_id"))
            .values_list("id", "last")
        )
        for pk, patient_id in owners.items():
            cell = rows.setdefault(patient_id, {}).setdefault(
                model._meta.verbose_name, {"records": 0, "verified": 0}
            )
            cell["records"] += 1
            done = verified.get((ct, pk))
            cell["verified"] += done is not None and done == current.get(pk)
    return {"forms": forms, "patients": rows}
