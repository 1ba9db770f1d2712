"""How a date reads in a message or a record's name on a page: 1 Dec 2026, as the templates
show dates (inkt_trial/formats). The exports, the API fields and file names keep ISO 8601.
Pure: no Django, and below every domain app, so that their pure rules may use it."""

from datetime import date, datetime

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def shown(day: date | None) -> str:
    if day is None:
        return "–"
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def shown_moment(moment: datetime | None) -> str:
    """A date and time as the pages show them: 1 Dec 2026 14:05 (give it in local time)."""
    if moment is None:
        return "–"
    return f"{shown(moment.date())} {moment:%H:%M}"
