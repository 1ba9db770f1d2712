"""Facts read once per request (issue 16). A patient page's boxes each ask for the same course
facts (the ends of treatment the other records imply, progression on the accepted reads, the
reader comparison); within one GET or HEAD request they are read once and shared.

The memo lives as long as the request and no longer (data change between requests): the
middleware opens it for reads only (GET, HEAD), never for a request that writes; the edit
checks open it while they read (datamanagement.services.checks_run: the checks share the
imaging schedules), closed before they raise their queries. Elsewhere (services, Celery
tasks, the shell, the tests' direct calls) nothing is remembered.
Callers get their own containers: mutating a returned dict or list changes nothing
remembered."""

import copy
import functools
from collections.abc import Callable, Hashable, Iterable
from contextlib import contextmanager
from contextvars import ContextVar

_MEMO: ContextVar[dict | None] = ContextVar("inkt_request_memo", default=None)
_ABSENT = object()
SAFE_METHODS = ("GET", "HEAD")


@contextmanager
def request_scope():
    """Remember facts until the block ends (nested scopes share the outermost one)."""
    if _MEMO.get() is not None:
        yield
        return
    token = _MEMO.set({})
    try:
        yield
    finally:
        _MEMO.reset(token)


@contextmanager
def suspended():
    """Remember nothing, and read nothing remembered, until the block ends: for a write that
    derives from the records as they are now (enrollment.course.states_refresh)."""
    token = _MEMO.set(None)
    try:
        yield
    finally:
        _MEMO.reset(token)


def active() -> bool:
    return _MEMO.get() is not None


def _copied(value):
    """A container of its own for the caller (values inside are immutable or read-only)."""
    if isinstance(value, dict | list | set):
        return copy.copy(value)
    return value


def remember(key: Hashable, compute: Callable[[], object]):
    """compute(), once per request for `key`; every call outside a request computes."""
    memo = _MEMO.get()
    if memo is None:
        return compute()
    if key not in memo:
        memo[key] = compute()
    return _copied(memo[key])


def per_id(function: Callable[[list], dict]) -> Callable:
    """For a read of ids -> {id: value} (the ids it has nothing for absent): within a request,
    each id's value is read once, the ids not yet read in one call; the same answer as without
    the memo, keyed in the order of the ids asked."""

    @functools.wraps(function)
    def wrapper(ids: Iterable):
        memo = _MEMO.get()
        if memo is None:
            return function(ids)
        ids = list(dict.fromkeys(ids))
        missing = [i for i in ids if (function, i) not in memo]
        if missing:
            found = function(missing)
            for i in missing:
                memo[function, i] = found.get(i, _ABSENT)
        return {i: _copied(value) for i in ids if (value := memo[function, i]) is not _ABSENT}

    wrapper.uncached = function
    return wrapper


class RequestMemoMiddleware:
    """Opens the memo for the whole of a GET or HEAD request, the template rendering
    included (a page's boxes are rendered after its view returns)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method not in SAFE_METHODS:
            return self.get_response(request)
        with request_scope():
            return self.get_response(request)
