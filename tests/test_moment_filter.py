"""`|moment` shows what `|date:"DATETIME_FORMAT"` shows (the pages' one format), for every
month, times around midnight in the local time zone, naive and aware values, and what is not a
datetime (None, an empty string: nothing)."""

from datetime import UTC, datetime, timedelta

import pytest
from django.template import engines
from django.test import override_settings

DJANGO = engines["django"].from_string('{{ value|date:"DATETIME_FORMAT" }}')
OURS = engines["django"].from_string("{{ value|moment }}")


def moments():
    start = datetime(2025, 12, 31, 15, 59, tzinfo=UTC)  # midnight in Shanghai
    for hours in range(0, 24 * 400, 37):
        yield start + timedelta(hours=hours, minutes=hours % 60)
    yield datetime(2026, 3, 29, 1, 30, tzinfo=UTC)  # the clocks go forward in London
    yield datetime(2026, 7, 4, 9, 5)  # naive


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "Europe/London", "America/Los_Angeles"])
def test_moment_shows_what_the_datetime_format_shows(zone):
    with override_settings(TIME_ZONE=zone):
        for value in [*moments(), None, ""]:
            context = {"value": value}
            assert OURS.render(context) == DJANGO.render(context), value


def test_moment_is_the_pages_format():
    value = datetime(2026, 12, 1, 14, 5, tzinfo=UTC)
    with override_settings(TIME_ZONE="UTC"):
        assert OURS.render({"value": value}) == "1 Dec 2026 14:05"
