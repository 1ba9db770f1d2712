"""API plumbing shared by every app: refused operations answer 400 with a clear message; the
serializers and helpers every app's API uses (the patient named by study ID, the audit trail, a
CSV download)."""

import csv
import io

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpResponse
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from inkt_trial.errors import DomainError
from inkt_trial.views import patient_model


def exception_handler(exc, context):
    if isinstance(exc, DomainError):
        body = {"detail": exc.message or "The request was refused.", **exc.field_errors}
        return Response(body, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, DjangoValidationError):
        body = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        return Response(body, status=status.HTTP_400_BAD_REQUEST)
    return drf_exception_handler(exc, context)


ERROR_SCHEMA = {
    "type": "object",
    "description": "A refusal: `detail`, and per field the messages (a list of strings).",
    "properties": {"detail": {"type": "string"}},
    "additionalProperties": True,
}
ERRORS = {
    "400": "Refused: `detail` and per-field messages say why (never a 500).",
    "401": "Not authenticated.",
    "403": "Not permitted for this role.",
    "404": "No such record (or not one this role may see).",
}
EXTRA = {
    ("/api/auth/token/", "post"): {"429": "Too many attempts: throttled or locked for a while."},
    ("/api/outcomes/runs/", "post"): {"503": "The task queue cannot be reached; the run is kept."},
    ("/api/outcomes/runs/{id}/retry/", "post"): {"503": "The task queue cannot be reached."},
}


def document_error_responses(result, generator, request, public):
    """drf-spectacular post-processing: every operation documents the refusals it can answer
    (the JSON error shape of `exception_handler` and `inkt_trial.hardening`), so that the schema
    says what the API does."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            for code, text in {**ERRORS, **EXTRA.get((path, method), {})}.items():
                responses.setdefault(code, {"description": text, "content": error})
    return result


class PatientField(serializers.SlugRelatedField):
    """An enrolled patient named by study ID in requests (every app about patients uses it)."""

    def __init__(self, **kwargs):
        super().__init__(slug_field="study_id", queryset=patient_model().objects.all(), **kwargs)


class ChangeSerializer(serializers.Serializer):
    field = serializers.CharField()
    old = serializers.CharField(allow_null=True)
    new = serializers.CharField(allow_null=True)


class HistorySerializer(serializers.Serializer):
    when = serializers.DateTimeField()
    who = serializers.CharField()
    type = serializers.CharField()
    reason = serializers.CharField()
    changes = ChangeSerializer(many=True)


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value):
    """Text a spreadsheet would run as a formula (=, +, -, @, tab, carriage return first)
    behind an apostrophe, shown as typed and never run (OWASP, CSV injection); numbers and
    dates as they are."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_response(rows: list[list], header: list[str], filename: str) -> HttpResponse:
    """A CSV download whose free text (reasons, descriptions, answers) cannot run in a
    spreadsheet."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([spreadsheet_safe(value) for value in row] for row in rows)
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
