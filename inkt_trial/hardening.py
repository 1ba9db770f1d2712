"""What no request may bring to a view: NUL characters (PostgreSQL text cannot hold them, and a
search or an id with one made the server fail) and JSON nested deeper than any record of ours.
Refused with 400 before a view runs; API routes always answer JSON `{"detail": ...}`, also for
the errors Django raises itself (an oversized body, an unknown route, a failure)."""

import re
from urllib.parse import unquote_to_bytes

from django.http import HttpResponseBadRequest, JsonResponse
from django.views import defaults
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

MAX_JSON_DEPTH = 32  # the deepest record (a read: object > list > object) needs 4
JSON_NUL = re.compile(rb"\\u0000", re.IGNORECASE)
FORM = "application/x-www-form-urlencoded"


def is_api(request) -> bool:
    return request.path.startswith("/api/")


def refused(request, detail: str, status: int = 400):
    if is_api(request):
        return JsonResponse({"detail": detail}, status=status)
    return HttpResponseBadRequest(detail, content_type="text/plain; charset=utf-8")


def json_depth(data, limit: int = MAX_JSON_DEPTH) -> int:
    """How deep JSON text nests (brackets outside strings), counting no further than `limit`
    + 1: no recursion, so depth itself cannot break it."""
    depth = deepest = 0
    in_string = escaped = False
    for char in data.decode("utf-8", "replace") if isinstance(data, bytes) else data:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
            if deepest > limit:
                return deepest
        elif char in "]}":
            depth -= 1
    return deepest


class RequestHardeningMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        raw_path = request.META.get("PATH_INFO", "").encode("utf-8", "surrogateescape")
        query = request.META.get("QUERY_STRING", "").encode("latin-1", "replace")
        if b"\x00" in raw_path or b"\x00" in unquote_to_bytes(query):
            return refused(request, "The address holds a NUL character.")
        kind = (request.content_type or "").lower()
        if request.method in ("POST", "PUT", "PATCH") and (kind == FORM or "json" in kind):
            body = request.body  # within DATA_UPLOAD_MAX_MEMORY_SIZE, else Django refuses it
            if b"\x00" in (unquote_to_bytes(body) if kind == FORM else body) or (
                "json" in kind and JSON_NUL.search(body)
            ):
                return refused(request, "The request holds a NUL character.")
            if "json" in kind and json_depth(body) > MAX_JSON_DEPTH:
                return refused(request, f"JSON nested deeper than {MAX_JSON_DEPTH} levels.")
        return self.get_response(request)


class SafeJSONParser(JSONParser):
    """DRF's parser, with the depth limit also where the middleware was bypassed (a test
    client) and a RecursionError answered as a parse error."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels.") from None


# Django's own error pages, as JSON on API routes ------------------------------------------------


def bad_request(request, exception=None):
    if is_api(request):
        return JsonResponse({"detail": "Bad request (too large, or malformed)."}, status=400)
    return defaults.bad_request(request, exception)


def permission_denied(request, exception=None):
    if is_api(request):
        return JsonResponse({"detail": "You do not have permission."}, status=403)
    return defaults.permission_denied(request, exception)


def page_not_found(request, exception=None):
    if is_api(request):
        return JsonResponse({"detail": "Not found."}, status=404)
    return defaults.page_not_found(request, exception)


def server_error(request):
    if is_api(request):
        return JsonResponse({"detail": "Server error; it has been logged."}, status=500)
    return defaults.server_error(request)
