"""The patient list's columns beyond enrollment's own fields: the patient's status (here) and
what the apps above give (the arm, the open data queries), each registered in that app's
AppConfig.ready so that enrollment lists them without importing the app.

A column reads a whole page of patients in a fixed number of queries, shows only to the users
it names (the arm as each role may see it, no query to the statistician), and may narrow the
list by a value (`narrow`: a queryset in, a queryset out, never by anything the user may not
see)."""

from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Q, QuerySet

from enrollment import course, status

User = object  # the request's user


@dataclass(frozen=True)
class Column:
    key: str  # the API field, and the filter's name when the column filters
    label: str
    order: int  # place from the left, after the study ID, screening and enrolment
    shown_to: Callable[[User], bool]
    values: Callable[[list, User], dict]  # Patient rows -> {patient id: value}
    kind: type = str  # the value's type in the API: str or int (null where not shown)
    help: str = ""  # what the API documents
    text: Callable[[object], str] = str  # the value as the page shows it
    link: Callable[[object, object], str | None] | None = None  # (patient, value) -> a page
    choices: Callable[[User], list[tuple[str, str]]] | None = None  # filter values, per user
    narrow: Callable[[QuerySet, str, User], QuerySet] | None = None


_COLUMNS: dict[str, Column] = {}


def register(column: Column) -> Column:
    _COLUMNS[column.key] = column
    return column


def every() -> list[Column]:
    return sorted(_COLUMNS.values(), key=lambda c: c.order)


def get(key: str) -> Column | None:
    return _COLUMNS.get(key)


def shown(user) -> list[Column]:
    return [c for c in every() if c.shown_to(user)]


def values(patients, user) -> dict[str, dict]:
    """{column key: {patient id: value}} of the columns this user sees, for a page."""
    patients = list(patients)
    return {c.key: c.values(patients, user) for c in shown(user)}


# The patient's status: in the patient record's own app. It needs the end-of-treatment view
# permission, as the status box and API do: an end of iNKT treatment reveals the arm.


def _states(patients, user) -> dict[int, str]:
    return course.current_states(patients)


STATUS_CHUNK = 500  # patients whose course is derived at a time when filtering by status


def _with_state(queryset, value, user):
    """The patients whose current state is `value`: those stored with it (CourseState), and
    among the others (never stored, outdated, or stored under other rules) those whose derived
    state is `value` (read in chunks of a fixed number of queries each)."""
    stored = course.valid_states()
    unstored = list(
        queryset.exclude(pk__in=stored.values("patient_id"))
        .select_related(None)
        .only("pk", "enrolled_at")
        .order_by("pk")
    )
    kept = []
    for start in range(0, len(unstored), STATUS_CHUNK):
        chunk = unstored[start : start + STATUS_CHUNK]
        kept += [pid for pid, state in course.derived_states(chunk).items() if state == value]
    return queryset.filter(
        Q(pk__in=stored.filter(state=value).values("patient_id")) | Q(pk__in=kept)
    )


register(
    Column(
        key="status",
        label="Status",
        order=20,
        shown_to=lambda user: user.has_perm("enrollment.view_treatmentend"),
        values=_states,
        help="The patient's course: "
        + ", ".join(status.STATES)
        + " (null for a role that does not see it).",
        text=lambda value: status.STATES.get(value, ""),
        choices=lambda user: list(status.STATES.items()),
        narrow=_with_state,
    )
)
