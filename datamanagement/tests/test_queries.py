from datetime import date

import pytest

from datamanagement import queries
from datamanagement.queries import (
    ANSWER,
    ANSWERED,
    CANCEL,
    CANCELLED,
    CLOSE,
    CLOSED,
    OPEN,
    REOPEN,
    QueryError,
    next_state,
)


@pytest.mark.parametrize(
    "state, action, after",
    [
        (OPEN, ANSWER, ANSWERED),
        (ANSWERED, CLOSE, CLOSED),
        (ANSWERED, REOPEN, OPEN),
        (CLOSED, REOPEN, OPEN),
        (OPEN, CANCEL, CANCELLED),
        (ANSWERED, CANCEL, CANCELLED),
    ],
)
def test_the_steps_a_query_takes(state, action, after):
    assert next_state(state, action) == after


@pytest.mark.parametrize(
    "state, action",
    [
        (OPEN, CLOSE),  # closed only once answered
        (ANSWERED, ANSWER),
        (CLOSED, ANSWER),
        (CLOSED, CANCEL),
        (CANCELLED, REOPEN),
        (CANCELLED, ANSWER),
        (OPEN, REOPEN),
    ],
)
def test_steps_that_do_not_apply_are_refused(state, action):
    with pytest.raises(QueryError, match=queries.STATES[state].lower()):
        next_state(state, action)


def test_unknown_action():
    with pytest.raises(QueryError, match="Unknown"):
        next_state(OPEN, "delete")


def test_age_and_its_band():
    raised = date(2026, 11, 1)
    assert queries.age_days(raised, date(2026, 11, 1)) == 0
    assert queries.age_days(raised, date(2026, 10, 30)) == 0  # never negative
    assert queries.age_band(queries.age_days(raised, date(2026, 11, 7))) == "under 7 days"
    assert queries.age_band(queries.age_days(raised, date(2026, 11, 8))) == "7 to 29 days"
    assert queries.age_band(queries.age_days(raised, date(2026, 12, 1))) == "30 days or more"


@pytest.mark.parametrize(
    "text",
    ["", "Grade?", "x" * 70, "y" * 71, "Is the onset date right? " * 5, "e\u0301" * 60 + "tail"],
)
def test_the_dashboard_shortens_a_question_as_truncatechars_did(text):
    from django.template.defaultfilters import truncatechars

    from datamanagement.templatetags.query_tags import _shortened

    assert _shortened(text, 70) == truncatechars(text, 70)
