from itertools import groupby

from django.contrib import messages
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db.models import JSONField
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views import View
from django.views.generic import FormView, ListView, TemplateView

from datamanagement import matrix, selectors, services
from datamanagement.casebook import TRIAL_ID
from datamanagement.forms import (
    AnswerForm,
    CasebookFilterForm,
    LockForm,
    RaiseForm,
    ReasonForm,
    UnfreezeForm,
)
from datamanagement.models import concrete_field, field_label
from datamanagement.pdf import casebook_pdf
from datamanagement.targets import BY_MODEL
from enrollment.dates import shown
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
    target = BY_MODEL.get(type(record)._meta.label_lower)
    if target is not None and target.value_of is not None:
        return target.value_of(record, field)  # as the correction takes it
    return getattr(record, field, None)


def correction_field(query):
    """The form field a correction of the queried value is read with, or None where the value
    is corrected on the record's own page (no correcting service, a pseudo-field, structured
    JSON such as seriousness criteria or regions)."""
    target = BY_MODEL.get(f"{query.content_type.app_label}.{query.content_type.model}")
    if target is None or not target.corrects(query.field):
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
        fields = [
            (f, field_label(type(self.record), f)) for f in (*target.fields, *target.elsewhere)
        ]
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


def open_queries_link(patient, count: int) -> str | None:
    """The patient's open queries on /queries/ (the patient list's column), when there are."""
    if not count:
        return None
    query = urlencode({"study_id": patient.study_id, "state": "open"})
    return f"{reverse('datamanagement:queries')}?{query}"


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


# The casebook matrix ----------------------------------------------------------------------------

# Who sees the matrix: the roles that see data queries and arms (coordinator, investigator, data
# manager, monitor). Its iNKT columns reveal the arm: never the statistician (who may be
# masked), nor the blinded readers.
MATRIX_PERMISSIONS = ("datamanagement.view_dataquery", "randomization.view_arm")

# Each state's text in the cell (the colour only repeats it) and its Bootstrap look.
LOOKS = {
    matrix.NOT_DUE: ("ND", "text-bg-light border"),
    matrix.DUE: ("D", "text-bg-info"),
    matrix.OVERDUE: ("OD", "text-bg-danger"),
    matrix.ENTERED: ("E", "text-bg-primary"),
    matrix.QUERIED: ("Q", "text-bg-warning"),
    matrix.VERIFIED: ("V", "text-bg-success"),
    matrix.LOCKED: ("L", "text-bg-dark"),
    matrix.NOT_APPLICABLE: ("NA", "text-bg-light text-muted border"),
    matrix.NONE: ("0", "text-bg-light border"),
}

# Column (its key before "-") -> the patient page's box, and the page that enters a missing
# form with the permission it needs (None: entered in the box).
PLACES = {
    "screening": ("", None, None),
    "randomization": ("randomization", "randomization:randomize", "randomization.add_allocation"),
    "course": ("treatment", None, None),
    "scan": ("imaging", None, None),
    "qlq": ("quality-of-life", "assessments:questionnaire_create", "assessments.add_questionnaire"),
    "adverse-events": ("adverse-events", "safety:event_create", "safety.add_adverseevent"),
    "cell-product": ("cell-product", "dosing:apheresis", "dosing.add_apheresis"),
    "visits": ("labs", "safety:visit_create", "safety.add_clinicalvisit"),
    "medications": ("medications-panel", None, None),
    "history": ("medications-panel", None, None),
    "follow-up": ("follow-up", "outcomes:followup_create", "outcomes.add_followup"),
    "status": ("course", "enrollment:status_change", "enrollment.add_statuschange"),
}


def matrix_filters(data) -> dict:
    """The matrix's filters read from a query string; DomainError (400) when refused."""
    form = CasebookFilterForm(data)
    if not form.is_valid():
        errors = {field: list(messages) for field, messages in form.errors.items()}
        raise DomainError("The filters were refused.", field_errors=errors)
    return {
        "search": form.cleaned_data["search"],
        "states": form.cleaned_data["status"],
        "groups": form.cleaned_data["group"],
        "page": form.cleaned_data["page"] or 1,
    }


def _place(column: str):
    key = column if column in PLACES else column.split("-", 1)[0]
    return PLACES[key]


def cell_link(cell: matrix.Cell, patient, user) -> str | None:
    """Where a cell leads: its record's audit trail (queries, SDV), the patient page's box of a
    log, the page that enters a missing form (for a user who may), the patient's queries."""
    box, entry_page, permission = _place(cell.column)
    page = reverse("enrollment:patient_detail", args=[patient.study_id]) + (
        f"#{box}" if box else ""
    )
    if len(cell.entries) == 1:
        entry = cell.entries[0]
        target = BY_MODEL.get(entry.record)
        if target is not None and target.history is not None:
            return reverse(target.history, args=[entry.id])
        return page
    if cell.entries:
        return page
    if cell.state == matrix.QUERIED:  # on the patient's visit
        return reverse("datamanagement:queries") + "?" + urlencode({"study_id": patient.study_id})
    if cell.state == matrix.NOT_APPLICABLE:
        return None
    missing = cell.state in (matrix.DUE, matrix.OVERDUE, matrix.NONE)
    if missing and entry_page and user.has_perm(permission):
        return reverse(entry_page, args=[patient.study_id])
    return page


def cell_title(cell: matrix.Cell, column: matrix.Column) -> str:
    """The cell's state in words (the badge's title): the form, the state, the window or the
    records, and why it is not applicable."""
    words = [f"{column.title}: {matrix.STATES[cell.state]}"]
    window = cell.window
    if len(cell.entries) == 1:
        words.append(f"dated {shown(cell.entries[0].date)}")
    elif cell.entries:
        words.append(f"{len(cell.entries)} records")
    elif window is None and cell.state == matrix.NOT_DUE:
        words.append("not scheduled yet")
    elif window is not None and cell.state == matrix.NOT_DUE:
        words.append(f"opens {shown(window.opens)}")
    elif window is not None and cell.state == matrix.DUE:
        closes = f" to {shown(window.closes)}" if window.closes else ""
        words.append(f"from {shown(window.opens)}{closes}")
    elif window is not None and cell.state == matrix.OVERDUE:
        words.append(f"window closed {shown(window.closes)}")
    if cell.why:
        words.append(cell.why)
    return "; ".join(words)


class MatrixView(Permission, TemplateView):
    """The casebook matrix: patients by their scheduled forms, each with its state; filtered
    by patient, by state (patients with any cell in it) and by column group; paged."""

    permission_required = MATRIX_PERMISSIONS
    template_name = "datamanagement/matrix.html"

    def get_context_data(self, **kwargs):
        form = CasebookFilterForm(self.request.GET)
        try:
            filters = matrix_filters(self.request.GET)
        except DomainError:
            form.is_valid()  # its errors are shown; the matrix shows unfiltered
            filters = {"page": 1}
        found = selectors.matrix_page(**filters)
        if filters["page"] > 1 and not found["rows"]:
            raise Http404("No such page.")
        user = self.request.user
        columns = found["columns"]
        rows = [
            {
                "patient": patient,
                "cells": [
                    {
                        "state": cell.state,
                        "label": matrix.STATES[cell.state],
                        "text": LOOKS[cell.state][0],
                        "look": LOOKS[cell.state][1],
                        "title": cell_title(cell, column),
                        "link": cell_link(cell, patient, user),
                    }
                    for cell, column in zip(cells, columns, strict=True)
                ],
            }
            for patient, cells in found["rows"]
        ]
        return super().get_context_data(
            form=form,
            columns=columns,
            groups=[
                (matrix.GROUPS[group], len(list(members)))
                for group, members in groupby(columns, key=lambda c: c.group)
            ],
            rows=rows,
            legend=[(LOOKS[s][0], LOOKS[s][1], label) for s, label in matrix.STATES.items()],
            count=found["count"],
            page=found["page"],
            previous_url=self._page_url(found["page"] - 1) if found["page"] > 1 else None,
            next_url=self._page_url(found["page"] + 1) if found["has_next"] else None,
            **kwargs,
        )

    def _page_url(self, number: int) -> str:
        query = self.request.GET.copy()
        query["page"] = number
        return f"?{query.urlencode()}"
