"""Form widgets every app shares."""

from django import forms


class DateInput(forms.DateInput):
    """A browser date picker. Its value is always ISO 8601 (the only format `<input
    type="date">` reads), whatever the language's own date format, so a stored date shows in an
    edit form and saves again unchanged."""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


class DateTimeInput(forms.DateTimeInput):
    """A browser date-and-time picker, its value ISO 8601 (`YYYY-MM-DDTHH:MM`)."""

    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%dT%H:%M")
