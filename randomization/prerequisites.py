"""What must hold before a patient is randomized, beyond randomization's own rules, as checks
the apps above register (their AppConfig.ready): randomization never imports them.

A check takes the patient and returns the refusal's message, or None when it holds."""

from collections.abc import Callable

CHECKS: list[Callable] = []


def register(check: Callable) -> Callable:
    if check not in CHECKS:
        CHECKS.append(check)
    return check


def refusals(patient) -> list[str]:
    return [message for check in CHECKS if (message := check(patient))]
