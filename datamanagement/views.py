from django.contrib import messages
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db.models import JSONField
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View
from django.views.generic import FormView, ListView, TemplateView

from datamanagement import selectors, services
from datamanagement.casebook import TRIAL_ID
from datamanagement.forms import AnswerForm, LockForm, RaiseForm, ReasonForm, UnfreezeForm
from datamanagement.models import concrete_field, field_label
from datamanagement.pdf import casebook_pdf
from datamanagement.targets import BY_MODEL
from inkt_trial.errors import DomainError
from inkt_trial.views import Permission, add_domain_error, patient_model
from inkt_trial.widgets import DateInput


def record_link(record) -> str | None:
    """The record's audit-trail page, where its queries are listed and raised."""
    target = BY_MODEL.get(type(record)._meta.label_lower)
    if isinstance(record, patient_model()):
        return reverse("enrollment:patient_history", args=[record.study_id])
    if target is None or target.history is None:
        return None
    try:
        return reverse(target.history, args=[record.pk])
    except NoReverseMatch:
        return None


def field_value(record, field: str):
    """The queried field's value (none for the patient's pseudo-fields)."""
    if record is None or concrete_field(type(record), field) is None:
        return None
    return getattr(record, field, None)


def correction_field(query):
    """The form field a correction of the queried value is read with, or None where the value
    is corrected on the record's own page (no correcting service, a pseudo-field, structured
    JSON such as seriousness criteria or regions)."""
    target = BY_MODEL.get(f"{query.content_type.app_label}.{query.content_type.model}")
    if target is None or target.correct is None:
        return None
    model = ContentType.objects.get_for_id(query.content_type_id).model_class()
    found = concrete_field(model, query.field)
    if found is None or isinstance(found, JSONField):
        return None
    field = found.formfield()
    if field is not None and getattr(field.widget, "input_type", None) == "date":
        field.widget = DateInput()
    return field


class QueryListView(Permission, ListView):
    permission_required = "datamanagement.view_dataquery"
    template_name = "datamanagement/query_list.html"
    paginate_by = 50

    def get_queryset(self):
        self.filterset = selectors.QueryFilter(
            self.request.GET, queryset=selectors.query_list().order_by("-raised_at")
        )
        return self.filterset.qs

    def get_context_data(self, **kwargs):
        return super().get_context_data(filterset=self.filterset, **kwargs)


class QueryRaiseView(Permission, FormView):
    """Raise a query on a field of one record (?record=app_label.model&id=<pk>)."""

    permission_required = "datamanagement.raise_query"
    template_name = "datamanagement/raise.html"

    @cached_property
    def record(self):
        target = BY_MODEL.get(self.request.GET.get("record", ""))
        key = self.request.GET.get("id", "")
        if target is None or not (key.isascii() and key.isdigit()) or len(key) > 18:
            raise Http404
        return get_object_or_404(target.model, pk=int(key))

    def get_form(self, form_class=None):
        target = BY_MODEL[type(self.record)._meta.label_lower]
        fields = [(f, field_label(type(self.record), f)) for f in target.fields]
        return RaiseForm(fields=fields, **self.get_form_kwargs())

    def get_initial(self):
        return {"field": self.request.GET.get("field", "")}

    def form_valid(self, form):
        try:
            query = services.query_raise(
                record=self.record, by=self.request.user, **form.cleaned_data
            )
        except DomainError as error:
            add_domain_error(form, error)
            return self.form_invalid(form)
        messages.success(self.request, f"Query {query} raised.")
        return redirect("datamanagement:query", pk=query.pk)

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            record=self.record, record_url=record_link(self.record), **kwargs
        )


class QueryDetailView(Permission, TemplateView):
    """A query: the question, the value, the answer (with a correction) and the raiser's
    close, reopen or cancel."""

    permission_required = "datamanagement.view_dataquery"
    template_name = "datamanagement/query.html"

    @cached_property
    def query(self):
        return get_object_or_404(selectors.query_list(), pk=self.kwargs["pk"])

    def forms(self, data=None):
        user = self.request.user
        record = self.query.record
        found = {}
        if user.has_perm("datamanagement.answer_query") and self.query.state == "open":
            initial = {"value": field_value(record, self.query.field)}
            found["answer_form"] = AnswerForm(
                data if data and "answer" in data else None,
                value_field=correction_field(self.query),
                initial=initial,
            )
        if user.has_perm("datamanagement.raise_query"):
            if self.query.state in ("answered", "closed"):
                found["reopen_form"] = ReasonForm(
                    data if data and "reopen" in data else None,
                    submit="Reopen",
                    form_id="reopen-form",
                    prefix="reopen",
                )
            if self.query.state in ("open", "answered"):
                found["cancel_form"] = ReasonForm(
                    data if data and "cancel" in data else None,
                    submit="Cancel the query",
                    form_id="cancel-form",
                    prefix="cancel",
                )
        return found

    def get_context_data(self, **kwargs):
        record = self.query.record
        context = {
            "query": self.query,
            "record": record,
            "record_url": record_link(record) if record else None,
            "value": field_value(record, self.query.field),
            "can_close": self.request.user.has_perm("datamanagement.raise_query")
            and self.query.state == "answered",
            **self.forms(),
        }
        context.update(kwargs)
        return super().get_context_data(**context)

    def post(self, request, pk):
        data = request.POST
        try:
            if "close" in data:
                services.query_close(query=self.query, by=request.user)
                messages.success(request, f"Query {self.query} closed.")
                return redirect("datamanagement:query", pk=pk)
            forms = self.forms(data)
            form = next((f for f in forms.values() if f.is_bound), None)
            if form is None or not form.is_valid():
                return self.render_to_response(self.get_context_data(**forms))
            if isinstance(form, AnswerForm):
                services.query_answer(
                    query=self.query,
                    by=request.user,
                    answer=form.cleaned_data["answer"],
                    value=form.cleaned_data.get("value"),
                    correct=form.cleaned_data["correct"],
                )
            elif form.prefix == "reopen":
                services.query_reopen(query=self.query, by=request.user, **form.cleaned_data)
            else:
                services.query_cancel(query=self.query, by=request.user, **form.cleaned_data)
        except DomainError as error:
            forms = self.forms(data)
            form = next((f for f in forms.values() if f.is_bound), None)
            if form is not None:
                form.is_valid()
                add_domain_error(form, error)
            else:
                messages.error(request, error.message)
            return self.render_to_response(self.get_context_data(**forms))
        messages.success(request, f"Query {self.query}: done.")
        return redirect("datamanagement:query", pk=pk)


def query_links(record):
    """For the templates: the record's queries and where to raise one."""
    return {
        "queries": list(selectors.queries_of(record)),
        "raise_url": reverse("datamanagement:raise")
        + f"?record={type(record)._meta.label_lower}&id={record.pk}",
        "queryable": type(record)._meta.label_lower in BY_MODEL,
    }


class VerifyView(Permission, View):
    """The monitor's source-data verification of a record's current version (POST)."""

    permission_required = "datamanagement.verify_source"

    def post(self, request):
        target = BY_MODEL.get(request.POST.get("record", ""))
        key = request.POST.get("id", "")
        if target is None or not (key.isascii() and key.isdigit()) or len(key) > 18:
            raise Http404
        record = get_object_or_404(target.model, pk=int(key))
        version = request.POST.get("version", "")
        try:
            services.source_verify(
                record=record,
                by=request.user,
                version=int(version) if version.isascii() and version.isdigit() else None,
            )
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, f"{record} is source-data verified.")
        back = request.POST.get("next", "")
        if url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
            return redirect(back)
        return redirect("datamanagement:sdv")


class ProgressView(Permission, TemplateView):
    """SDV progress per patient and per form."""

    permission_required = "datamanagement.view_sourceverification"
    template_name = "datamanagement/sdv.html"

    def get_context_data(self, **kwargs):
        progress = selectors.sdv_progress()
        patients = {p.pk: p for p in patient_model().objects.filter(pk__in=progress["patients"])}
        rows = []
        for pid, cells in sorted(
            progress["patients"].items(), key=lambda item: patients[item[0]].study_id
        ):
            total = sum(c["records"] for c in cells.values())
            done = sum(c["verified"] for c in cells.values())
            rows.append(
                {
                    "patient": patients[pid],
                    "cells": [cells.get(form) for form in progress["forms"]],
                    "records": total,
                    "verified": done,
                }
            )
        forms = progress["forms"]
        totals = [
            {
                "records": sum((r["cells"][i] or {}).get("records", 0) for r in rows),
                "verified": sum((r["cells"][i] or {}).get("verified", 0) for r in rows),
            }
            for i in range(len(forms))
        ]
        return super().get_context_data(forms=forms, rows=rows, totals=totals, **kwargs)


class LockListView(Permission, TemplateView):
    """The database locks, and the data manager's form to lock the data of every patient or
    one (?study_id= fills it in)."""

    permission_required = "datamanagement.view_datalock"
    template_name = "datamanagement/locks.html"

    def get_context_data(self, form=None, **kwargs):
        if form is None and self.request.user.has_perm("datamanagement.lock_data"):
            form = LockForm(initial={"study_id": self.request.GET.get("study_id", "")[:16]})
        return super().get_context_data(locks=selectors.lock_list(), form=form, **kwargs)

    def post(self, request):
        if not request.user.has_perm("datamanagement.lock_data"):
            raise PermissionDenied
        form = LockForm(request.POST)
        if form.is_valid():
            try:
                lock = services.data_lock(
                    by=request.user,
                    patient=form.cleaned_data["study_id"],
                    cutoff=form.cleaned_data["cutoff"],
                    reason=form.cleaned_data["reason"],
                )
            except DomainError as error:
                add_domain_error(form, error)
            else:
                messages.success(request, f"Database lock {lock} made.")
                return redirect("datamanagement:locks")
        return self.render_to_response(self.get_context_data(form=form))


class UnfreezeView(Permission, FormView):
    """End a lock, or one patient's part of a lock of every patient, with the reason."""

    permission_required = "datamanagement.lock_data"
    template_name = "datamanagement/unfreeze.html"

    @cached_property
    def lock(self):
        return get_object_or_404(selectors.lock_list(), pk=self.kwargs["pk"])

    def get_form(self, form_class=None):
        return UnfreezeForm(whole_only=self.lock.patient_id is not None, **self.get_form_kwargs())

    def get_initial(self):
        return {"study_id": self.request.GET.get("study_id", "")[:16]}

    def form_valid(self, form):
        try:
            services.data_unfreeze(
                lock=self.lock,
                by=self.request.user,
                reason=form.cleaned_data["reason"],
                patient=form.cleaned_data.get("study_id"),
            )
        except DomainError as error:
            add_domain_error(form, error)
            return self.form_invalid(form)
        messages.success(self.request, f"{self.lock} unfrozen.")
        return redirect("datamanagement:locks")

    def get_context_data(self, **kwargs):
        return super().get_context_data(lock=self.lock, **kwargs)


def casebook_response(study_id: str, user) -> HttpResponse:
    """The patient's casebook PDF as a download (the page and the API); 404 for an unknown
    patient."""
    if not patient_model().objects.filter(study_id=study_id).exists():
        raise Http404
    now = timezone.now()
    response = HttpResponse(casebook_pdf(study_id, user=user, now=now), "application/pdf")
    stamp = timezone.localtime(now).strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = (
        f'attachment; filename="{TRIAL_ID}-{study_id}-casebook-{stamp}.pdf"'
    )
    response["Cache-Control"] = "private, no-store"  # a patient's whole record
    return response


class CasebookView(Permission, View):
    """The patient's casebook PDF (datamanagement/casebook.py says what it holds)."""

    permission_required = "datamanagement.download_casebook"

    def get(self, request, study_id):
        return casebook_response(study_id, request.user)
