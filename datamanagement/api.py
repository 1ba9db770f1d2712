from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.filters import OrderingFilter
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param
from rest_framework.views import APIView

from accounts.permissions import has_perms
from datamanagement import matrix, queries, selectors, services
from datamanagement.models import DataLock, DataQuery, DataUnfreeze
from datamanagement.targets import BY_MODEL
from datamanagement.views import MATRIX_PERMISSIONS, casebook_response, matrix_filters
from inkt_trial.api import HistorySerializer, PatientField
from inkt_trial.audit import history_of
from inkt_trial.errors import DomainError


class QuerySerializer(serializers.ModelSerializer):
    record = serializers.ChoiceField(
        choices=sorted(BY_MODEL), write_only=True, help_text="app_label.model of the record."
    )
    record_type = serializers.CharField(source="content_type.model", read_only=True)
    record_id = serializers.IntegerField(source="object_id", min_value=1, max_value=2**62)
    study_id = serializers.CharField(
        source="patient.study_id", read_only=True, default=None, allow_null=True
    )
    raised_by = serializers.CharField(source="raised_by.username", read_only=True)
    answered_by = serializers.CharField(
        source="answered_by.username", read_only=True, default=None, allow_null=True
    )
    closed_by = serializers.CharField(
        source="closed_by.username", read_only=True, default=None, allow_null=True
    )
    age_days = serializers.SerializerMethodField()

    class Meta:
        model = DataQuery
        fields = [
            "id",
            "number",
            "record",
            "record_type",
            "record_id",
            "field",
            "study_id",
            "question",
            "state",
            "raised_by",
            "raised_at",
            "answer",
            "answered_by",
            "answered_at",
            "corrected",
            "closed_by",
            "closed_at",
            "cancel_reason",
            "age_days",
        ]
        read_only_fields = [
            "number",
            "state",
            "raised_at",
            "answer",
            "answered_at",
            "corrected",
            "closed_at",
            "cancel_reason",
        ]

    def get_age_days(self, query) -> int:
        from django.utils import timezone

        return queries.age_days(timezone.localdate(query.raised_at), timezone.localdate())

    def create(self, data):
        model = BY_MODEL[data["record"]].model
        record = model.objects.filter(pk=data["object_id"]).first()
        if record is None:
            raise DomainError(field_errors={"record_id": ["No such record."]})
        return services.query_raise(
            record=record,
            field=data["field"],
            question=data["question"],
            by=self.context["request"].user,
        )


class AnswerSerializer(serializers.Serializer):
    answer = serializers.CharField()
    correct = serializers.BooleanField(
        default=False, help_text="Correct the queried field to `value` (through its service)."
    )
    value = serializers.JSONField(
        required=False,
        allow_null=True,
        help_text="The corrected value, as the record's API takes it (a date as YYYY-MM-DD).",
    )


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField()


class QueryViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Data queries on a field of a clinical record: raised (POST) by the data manager, answered
    by the coordinator (with a correction of the value, or not), closed or reopened by the
    raiser, cancelled with a reason. Filters: `state`, `study_id`, `record`, `older_than_days`."""

    serializer_class = QuerySerializer
    filterset_class = selectors.QueryFilter
    filter_backends = [DjangoFilterBackend, OrderingFilter]
    ordering_fields = ["raised_at", "number"]

    def get_queryset(self):
        return selectors.query_list()

    def get_permissions(self):
        if self.action == "create":
            return [has_perms("datamanagement.raise_query")()]
        return super().get_permissions()

    def _done(self, query):
        return Response(QuerySerializer(query).data)

    @extend_schema(request=AnswerSerializer, responses=QuerySerializer)
    @action(
        detail=True, methods=["post"], permission_classes=[has_perms("datamanagement.answer_query")]
    )
    def answer(self, request, pk=None):
        body = AnswerSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        query = self.get_object()
        value = body.validated_data.get("value")
        if body.validated_data["correct"]:
            value = _parsed(query, value)
        return self._done(
            services.query_answer(
                query=query,
                by=request.user,
                answer=body.validated_data["answer"],
                value=value,
                correct=body.validated_data["correct"],
            )
        )

    @extend_schema(request=None, responses=QuerySerializer)
    @action(
        detail=True, methods=["post"], permission_classes=[has_perms("datamanagement.raise_query")]
    )
    def close(self, request, pk=None):
        return self._done(services.query_close(query=self.get_object(), by=request.user))

    @extend_schema(request=ReasonSerializer, responses=QuerySerializer)
    @action(
        detail=True, methods=["post"], permission_classes=[has_perms("datamanagement.raise_query")]
    )
    def reopen(self, request, pk=None):
        return self._with_reason(request, services.query_reopen)

    @extend_schema(request=ReasonSerializer, responses=QuerySerializer)
    @action(
        detail=True, methods=["post"], permission_classes=[has_perms("datamanagement.raise_query")]
    )
    def cancel(self, request, pk=None):
        return self._with_reason(request, services.query_cancel)

    def _with_reason(self, request, service):
        body = ReasonSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return self._done(service(query=self.get_object(), by=request.user, **body.validated_data))

    @extend_schema(responses=HistorySerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def history(self, request, pk=None):
        """Every step of the query: who, when, what changed and why."""
        return Response(HistorySerializer(history_of(self.get_object()), many=True).data)


def _parsed(query: DataQuery, value):
    """The corrected value read by the queried field's own form field (dates, numbers,
    choices as the pages take them); refused where the value is corrected on its own page."""
    from django import forms
    from django.core.exceptions import ValidationError

    from datamanagement.views import correction_field

    field = correction_field(query)
    if field is None:
        raise DomainError(
            "This value is corrected on the record's own page.",
            field_errors={"value": ["This value is corrected on the record's own page."]},
        )
    if value is not None and not isinstance(value, str | int | float | bool):
        raise DomainError(
            field_errors={"value": ["Give the value as text, a number or true/false."]}
        )
    numeric = isinstance(value, int | float) and not isinstance(value, bool)
    if numeric or (isinstance(value, bool) and not isinstance(field, forms.BooleanField)):
        value = str(value)  # read as the page's text would be
    try:
        return field.clean(value if value is not None else "")
    except ValidationError as error:
        raise DomainError(field_errors={"value": list(error.messages)}) from None


class VerifyBody(serializers.Serializer):
    record = serializers.ChoiceField(choices=sorted(BY_MODEL), help_text="app_label.model")
    record_id = serializers.IntegerField(min_value=1, max_value=2**62)
    version = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=2**62,
        help_text="The version you verified (the record's history id): refused if it changed.",
    )


class VerificationSerializer(serializers.Serializer):
    record = serializers.CharField()
    record_id = serializers.IntegerField()
    version = serializers.IntegerField()
    verified_by = serializers.CharField()
    verified_at = serializers.DateTimeField()


class VerifyView(APIView):
    """Mark a record's current version source-data verified (the monitor). The record counts
    as verified until it changes."""

    permission_classes = [has_perms("datamanagement.verify_source")]

    @extend_schema(request=VerifyBody, responses={201: VerificationSerializer})
    def post(self, request):
        body = VerifyBody(data=request.data)
        body.is_valid(raise_exception=True)
        target = BY_MODEL[body.validated_data["record"]]
        record = target.model.objects.filter(pk=body.validated_data["record_id"]).first()
        if record is None:
            raise DomainError(field_errors={"record_id": ["No such record."]})
        done = services.source_verify(
            record=record, by=request.user, version=body.validated_data.get("version")
        )
        return Response(
            {
                "record": body.validated_data["record"],
                "record_id": record.pk,
                "version": done.version,
                "verified_by": done.verified_by.username,
                "verified_at": done.verified_at,
            },
            status=201,
        )


class ProgressCellSerializer(serializers.Serializer):
    form = serializers.CharField()
    records = serializers.IntegerField()
    verified = serializers.IntegerField()


class ProgressRowSerializer(serializers.Serializer):
    study_id = serializers.CharField()
    forms = ProgressCellSerializer(many=True)


class ProgressView(APIView):
    """SDV progress per patient and per form: records, and how many are verified as they now
    are."""

    permission_classes = [has_perms("datamanagement.view_sourceverification")]

    @extend_schema(responses=ProgressRowSerializer(many=True))
    def get(self, request):
        from inkt_trial.views import patient_model

        progress = selectors.sdv_progress()
        ids = dict(
            patient_model()
            .objects.filter(pk__in=progress["patients"])
            .values_list("pk", "study_id")
        )
        return Response(
            [
                {
                    "study_id": ids[pid],
                    "forms": [{"form": form, **cell} for form, cell in sorted(cells.items())],
                }
                for pid, cells in sorted(progress["patients"].items(), key=lambda i: ids[i[0]])
            ]
        )


# Database lock ---------------------------------------------------------------------------------


class UnfreezeSerializer(serializers.ModelSerializer):
    study_id = serializers.CharField(
        source="patient.study_id", read_only=True, default=None, allow_null=True
    )
    unfrozen_by = serializers.CharField(source="unfrozen_by.username", read_only=True)

    class Meta:
        model = DataUnfreeze
        fields = ["study_id", "reason", "unfrozen_by", "unfrozen_at"]


class LockSerializer(serializers.ModelSerializer):
    study_id = PatientField(
        source="patient",
        required=False,
        allow_null=True,
        help_text="The patient whose records are frozen; none: every patient and screening.",
    )
    locked_by = serializers.CharField(source="locked_by.username", read_only=True)
    unfreezes = UnfreezeSerializer(many=True, read_only=True)
    in_force = serializers.SerializerMethodField(
        help_text="Not unfrozen as a whole (patients unfrozen out of it are listed)."
    )

    class Meta:
        model = DataLock
        fields = [
            "id",
            "number",
            "study_id",
            "cutoff",
            "reason",
            "locked_by",
            "locked_at",
            "summary",
            "in_force",
            "unfreezes",
        ]
        read_only_fields = ["number", "locked_at", "summary"]

    def get_in_force(self, lock) -> bool:
        return lock.in_force

    def create(self, data):
        return services.data_lock(
            by=self.context["request"].user,
            patient=data.get("patient"),
            cutoff=data["cutoff"],
            reason=data["reason"],
        )


class UnfreezeBody(serializers.Serializer):
    reason = serializers.CharField()
    study_id = PatientField(
        required=False,
        allow_null=True,
        help_text="One patient out of a lock of every patient; none: the whole lock.",
    )


class BlockersQuery(serializers.Serializer):
    cutoff = serializers.DateField()
    study_id = PatientField(required=False, allow_null=True)


class BlockersSerializer(serializers.Serializer):
    cutoff = serializers.DateField()
    study_id = serializers.CharField(allow_null=True)
    blockers = serializers.ListField(child=serializers.CharField())


class LockViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Database locks: the data manager freezes the records of one patient (`study_id`) or of
    every patient dated up to `cutoff`, with the `reason`, once nothing is left to settle there
    (`blockers/?cutoff=`: open queries, unsigned reads, discordances awaiting adjudication);
    `.../unfreeze/` ends a lock (or one patient's part of a lock of every patient)."""

    serializer_class = LockSerializer
    permission_classes = [has_perms("datamanagement.view_datalock")]

    def get_queryset(self):
        return selectors.lock_list()

    def get_permissions(self):
        if self.action == "create":
            return [has_perms("datamanagement.lock_data")()]
        return super().get_permissions()

    @extend_schema(request=UnfreezeBody, responses=LockSerializer)
    @action(
        detail=True, methods=["post"], permission_classes=[has_perms("datamanagement.lock_data")]
    )
    def unfreeze(self, request, pk=None):
        body = UnfreezeBody(data=request.data)
        body.is_valid(raise_exception=True)
        lock = self.get_object()
        services.data_unfreeze(
            lock=lock,
            by=request.user,
            reason=body.validated_data["reason"],
            patient=body.validated_data.get("study_id"),
        )
        return Response(LockSerializer(selectors.lock_list().get(pk=lock.pk)).data)

    @extend_schema(parameters=[BlockersQuery], responses=BlockersSerializer)
    @action(
        detail=False,
        methods=["get"],
        pagination_class=None,
        filter_backends=[],
        permission_classes=[has_perms("datamanagement.lock_data")],
    )
    def blockers(self, request):
        """What must be settled before the data up to `cutoff` can be locked."""
        query = BlockersQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        patient = query.validated_data.get("study_id")
        found = selectors.lock_blockers(
            cutoff=query.validated_data["cutoff"],
            patient_ids=None if patient is None else [patient.pk],
        )
        return Response(
            {
                "cutoff": query.validated_data["cutoff"],
                "study_id": patient.study_id if patient else None,
                "blockers": found,
            }
        )


class RefusalsInJson(BaseContentNegotiation):
    """Whatever the client accepts (`application/pdf` included, never a 406): the answer is the
    PDF, a refusal the JSON `Error`."""

    def select_parser(self, request, parsers):
        return parsers[0]

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class CasebookView(APIView):
    """The patient's casebook as a PDF, for the investigator's archive: every form, the
    eligibility signatures, the data queries, the source-data verification of each record and
    a summary of each record's audit trail. A running header and footer on every page name
    the trial, the patient, the time of generation and the page."""

    permission_classes = [has_perms("datamanagement.download_casebook")]
    renderer_classes = [JSONRenderer]
    content_negotiation_class = RefusalsInJson

    @extend_schema(
        responses={
            (200, "application/pdf"): OpenApiResponse(
                OpenApiTypes.BINARY, description="The casebook (a download)."
            )
        }
    )
    def get(self, request, study_id):
        return casebook_response(study_id, request.user)


# The casebook matrix ----------------------------------------------------------------------------


class CasebookColumnSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    title = serializers.CharField()
    group = serializers.ChoiceField(choices=list(matrix.GROUPS))


class CasebookEntrySerializer(serializers.Serializer):
    record = serializers.CharField(help_text="app_label.model, as data queries name records.")
    id = serializers.IntegerField()
    date = serializers.DateField(help_text="Its clinical date (what a database lock freezes).")


class CasebookCellSerializer(serializers.Serializer):
    column = serializers.CharField()
    state = serializers.ChoiceField(choices=list(matrix.STATES))
    label = serializers.CharField()
    entries = CasebookEntrySerializer(many=True)
    opens = serializers.DateField(allow_null=True, help_text="When the form's window opens.")
    closes = serializers.DateField(
        allow_null=True, help_text="When it closes (null: open-ended, or not scheduled yet)."
    )
    why = serializers.CharField(help_text="Why it is not applicable, or how treatment ended.")


class CasebookRowSerializer(serializers.Serializer):
    study_id = serializers.CharField()
    screening_number = serializers.CharField()
    cells = CasebookCellSerializer(many=True)


class CasebookSerializer(serializers.Serializer):
    count = serializers.IntegerField(
        allow_null=True,
        help_text="Patients matching; null when a `status` filter found the page before "
        "reading every patient.",
    )
    page = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    columns = CasebookColumnSerializer(many=True)
    results = CasebookRowSerializer(many=True)


def _cell(cell: matrix.Cell) -> dict:
    window = cell.window
    return {
        "column": cell.column,
        "state": cell.state,
        "label": matrix.STATES[cell.state],
        "entries": [{"record": e.record, "id": e.id, "date": e.date} for e in cell.entries],
        "opens": window.opens if window else None,
        "closes": window.closes if window else None,
        "why": cell.why,
    }


class MatrixView(APIView):
    """The casebook matrix: each patient's scheduled forms (screening, randomization, iNKT
    courses 1-6, imaging and QLQ-C30 visits, adverse events, follow-up, end of treatment and
    status) with the state of each: not_due, due, overdue, entered, queried, verified, locked,
    not_applicable, none. Filters: `search` (study ID or screening number), `status` (patients
    with any cell of the shown columns in one of these states), `group` (the columns shown);
    paged by 50 patients (`page`)."""

    permission_classes = [has_perms(*MATRIX_PERMISSIONS)]

    @extend_schema(
        parameters=[
            OpenApiParameter("search", str, description="Study ID or screening number."),
            OpenApiParameter("status", str, many=True, enum=list(matrix.STATES)),
            OpenApiParameter("group", str, many=True, enum=list(matrix.GROUPS)),
            OpenApiParameter("page", int, description="From 1."),
        ],
        responses=CasebookSerializer,
    )
    def get(self, request):
        filters = matrix_filters(request.query_params)
        found = selectors.matrix_page(**filters)
        page = found["page"]
        if page > 1 and not found["rows"]:
            raise NotFound("Invalid page.")

        def link(number):
            return replace_query_param(request.build_absolute_uri(), "page", number)

        return Response(
            {
                "count": found["count"],
                "page": page,
                "next": link(page + 1) if found["has_next"] else None,
                "previous": link(page - 1) if page > 1 else None,
                "columns": [
                    {"key": c.key, "label": c.label, "title": c.title, "group": c.group}
                    for c in found["columns"]
                ],
                "results": [
                    {
                        "study_id": patient.study_id,
                        "screening_number": patient.screening.screening_number,
                        "cells": [_cell(cell) for cell in cells],
                    }
                    for patient, cells in found["rows"]
                ],
            }
        )
