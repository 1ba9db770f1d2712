"""Electronic signatures (21 CFR 11.200): the signer re-enters their password. Wrong passwords
are counted like failed log-ins, and signing locks for a while after too many."""

from django.conf import settings
from django.core.cache import cache

from inkt_trial.errors import DomainError


def check_signature_password(user, password: str) -> None:
    key = f"signature-failures:{user.pk}"
    failures = cache.get(key, 0)
    if failures >= settings.AXES_FAILURE_LIMIT:
        raise DomainError(
            "Too many wrong passwords: signing is locked for a while.",
            field_errors={"password": ["Too many wrong passwords; try again later."]},
        )
    if not user.check_password(password or ""):
        cache.set(key, failures + 1, timeout=int(settings.AXES_COOLOFF_TIME.total_seconds()))
        raise DomainError(
            "The password is not correct; the signature was not applied.",
            field_errors={"password": ["The password is not correct."]},
        )
    cache.delete(key)
