"""One way to show a date on every page: 1 Dec 2026, and 1 Dec 2026 14:05 with the time (the
exports and the API keep ISO 8601). The input formats stay Django's for en-GB."""

from django.conf.locale.en_GB.formats import DATE_INPUT_FORMATS, DATETIME_INPUT_FORMATS  # noqa: F401

DATE_FORMAT = "j M Y"
SHORT_DATE_FORMAT = "j M Y"
TIME_FORMAT = "H:i"
DATETIME_FORMAT = "j M Y H:i"
SHORT_DATETIME_FORMAT = "j M Y H:i"
