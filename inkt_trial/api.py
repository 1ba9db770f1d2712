"""API plumbing shared by every app: refused operations answer 400 with a clear message."""

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from inkt_trial.errors import DomainError


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
