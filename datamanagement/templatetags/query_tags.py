from django import template
from django.urls import reverse
from django.utils.text import Truncator

from datamanagement import locks, queries, selectors
from datamanagement.models import DataQuery
from datamanagement.targets import BY_MODEL
from datamanagement.views import MATRIX_PERMISSIONS, query_links

register = template.Library()

DASHBOARD_QUERIES = 25  # the oldest open queries the dashboard lists; the query list has all


@register.inclusion_tag("datamanagement/_record_queries.html", takes_context=True)
def record_queries(context, record):
    """The queries of one record (on its audit-trail page) and, for the data manager, the
    form to raise one. Nothing for a user who may not see queries."""
    user = context["request"].user
    if not user.has_perm("datamanagement.view_dataquery"):
        return {"visible": False}
    return {"visible": True, "perms": context["perms"], "record": record, **query_links(record)}


@register.inclusion_tag("datamanagement/_flag.html", takes_context=True)
def query_flag(context, record, field=None):
    """A flag by a record (or one of its fields) that has open queries."""
    user = context["request"].user
    if record is None or not user.has_perm("datamanagement.view_dataquery"):
        return {"open": []}
    found = [
        q
        for q in query_links(record)["queries"]
        if q.state == "open" and (field is None or q.field == field)
    ]
    return {"open": found}


@register.inclusion_tag("datamanagement/_open_queries.html", takes_context=True)
def open_queries(context):
    """The dashboard's open queries, oldest first, with their age."""
    user = context["request"].user
    if not user.has_perm("datamanagement.view_dataquery"):
        return {"visible": False}
    rows = selectors.open_by_age(limit=DASHBOARD_QUERIES)
    for row in rows:  # the link and the shortened question, prepared here
        row["url"] = reverse("datamanagement:query", args=[row["query"].pk])
        row["question"] = _shortened(row["query"].question, 70)
    total = len(rows)
    if total == DASHBOARD_QUERIES:  # perhaps more: counted
        total = selectors.open_count()
    return {"visible": True, "rows": rows, "total": total, "casebook": matrix_url(context)}


def _shortened(text: str, length: int) -> str:
    """The truncatechars filter's result: a text no longer than `length` is never cut, so only
    the longer ones go through Django's Truncator."""
    return text if len(text) <= length else Truncator(text).chars(length)


@register.inclusion_tag("datamanagement/_patient_queries.html", takes_context=True)
def patient_queries(context, patient):
    """The patient page's open and answered queries, on any of the patient's records."""
    user = context["request"].user
    if not user.has_perm("datamanagement.view_dataquery"):
        return {"visible": False}
    found = DataQuery.objects.filter(patient=patient, state__in=queries.UNRESOLVED)
    # the box names each query by its number, record type, field and state: no one's name
    return {"visible": True, "queries": list(found.select_related("content_type"))}


@register.inclusion_tag("datamanagement/_verification.html", takes_context=True)
def source_verification(context, record):
    """The record's SDV state on its audit-trail page, and the monitor's button."""
    user = context["request"].user
    if not user.has_perm("datamanagement.view_sourceverification"):
        return {"visible": False}
    if type(record)._meta.label_lower not in BY_MODEL:
        return {"visible": False}
    return {
        "visible": True,
        "record": record,
        "label": type(record)._meta.label_lower,
        "can_verify": user.has_perm("datamanagement.verify_source"),
        "next": context["request"].path,
        **selectors.verification_of(record),
    }


@register.inclusion_tag("datamanagement/_patient_lock.html", takes_context=True)
def patient_lock(context, patient):
    """The patient page's lock line: up to when the records are frozen, by which lock, and the
    data manager's links to lock or unfreeze."""
    user = context["request"].user
    if not user.has_perm("datamanagement.view_datalock"):
        return {"visible": False}
    rows = selectors.lock_rows([patient.pk])
    until = locks.frozen_until(rows, patient.pk)
    lock = locks.freezing_lock(rows, patient.pk, until) if until else None
    return {
        "visible": True,
        "patient": patient,
        "until": until,
        "lock": selectors.lock_list().filter(number=lock.number).first() if lock else None,
        "can_lock": user.has_perm("datamanagement.lock_data"),
    }


@register.simple_tag(takes_context=True)
def matrix_url(context) -> str:
    """The casebook matrix's address for a user who may open it, else nothing (the patient
    list and the dashboard link it)."""
    user = context["request"].user
    return reverse("datamanagement:matrix") if user.has_perms(MATRIX_PERMISSIONS) else ""
