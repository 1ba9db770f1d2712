"""Electronic signatures (21 CFR 11.200(a)(1)): a signature is the user name and the password.
The first signing in a continuous period of access (a log-in session) asks for both; later
signings in the same session the password only. An API request has no such session: it gives
both every time. Wrong components are counted like failed log-ins (in the database), and
signing locks for a while after too many."""

from django.conf import settings
from django.core.cache import cache

from inkt_trial.errors import DomainError

IDENTIFIED = "signature-identified-user"  # session key: both components given in this session


def _session_user(request):
    session = getattr(request, "session", None)
    user = getattr(request, "user", None)
    if session is None or user is None or not user.is_authenticated:
        return None, None
    if session.get("_auth_user_id") != str(user.pk):
        return None, None  # not a log-in session (an API token)
    return session, user


def username_required(request) -> bool:
    """Whether this signing must give the user name too (the first in the session, or any
    without a log-in session)."""
    session, user = _session_user(request)
    return session is None or session.get(IDENTIFIED) != user.pk


def signed_in_session(request) -> None:
    """Record that this session's user has given both components: later signings need the
    password only, until they log out."""
    session, user = _session_user(request)
    if session is not None:
        session[IDENTIFIED] = user.pk


def check_signature_password(user, password: str, username: str | None = None) -> None:
    """The signature's components: the password, and the user name when given (it must be the
    signer's own)."""
    key = f"signature-failures:{user.pk}"
    failures = cache.get(key, 0)
    if failures >= settings.AXES_FAILURE_LIMIT:
        raise DomainError(
            "Too many wrong passwords: signing is locked for a while.",
            field_errors={"password": ["Too many wrong passwords; try again later."]},
        )
    wrong_name = username is not None and username.strip() != user.get_username()
    if wrong_name or not user.check_password(password or ""):
        cache.set(key, failures + 1, timeout=int(settings.AXES_COOLOFF_TIME.total_seconds()))
        errors = (
            {"username": ["This is not your user name: sign with your own."]}
            if wrong_name
            else {"password": ["The password is not correct."]}
        )
        raise DomainError(
            "The user name or password is not correct; the signature was not applied.",
            field_errors=errors,
        )
    cache.delete(key)


def require_components(request, username: str | None) -> str | None:
    """The user name the signing gives, refused when the session requires it and it is blank."""
    if username_required(request):
        if not (username or "").strip():
            raise DomainError(
                "The first signature of a session needs your user name and password.",
                field_errors={
                    "username": [
                        "Give your user name: the first signature of a "
                        "session needs both components."
                    ]
                },
            )
        return username
    return (username or "").strip() or None
