"""Day 0 is randomization everywhere (the protocol's time frames run from it): the 8-weekly
imaging schedule, the questionnaire visits and the day-42 rule of the response engine, on the
patient page as in the endpoint runs."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from assessments import services as imaging
from assessments.forms import visit_choices
from assessments.selectors import imaging_schedule
from randomization.selectors import day_zero

pytestmark = pytest.mark.django_db


def test_schedule_visits_and_response_rules_count_from_randomization(randomized, enrol):
    patient = randomized("RP", days_ago=100)
    with connection.cursor() as cursor:  # enrolled 20 days before randomization
        cursor.execute(
            "UPDATE enrollment_patient SET enrolled_at = %s WHERE id = %s",
            [timezone.now() - timedelta(days=120), patient.pk],
        )
    patient.refresh_from_db()
    randomized_on = timezone.localdate() - timedelta(days=100)
    assert day_zero(patient) == randomized_on
    assert day_zero(enrol()) is None  # not randomized: no trial time yet
    today = timezone.localdate()
    first = imaging_schedule(patient, today=today)[0]
    assert first["planned"] == randomized_on + timedelta(days=56)
    assert [v for v, _ in visit_choices(patient, today=today)][:2] == ["baseline", "visit-1"]
    assert "visit-2" not in dict(visit_choices(patient, today=today))  # due from day 105
    assert imaging._enrolled(patient) == randomized_on  # the day-42 rule's day 0


def test_messages_on_pages_read_dates_as_the_templates_do():
    """One date format on the pages: 1 Dec 2026 in templates and in the services' messages
    (the exports and the API keep ISO 8601)."""
    from datetime import date

    from assessments import qlqc30
    from enrollment.dates import shown

    assert shown(date(2026, 12, 1)) == "1 Dec 2026" and shown(None) == "–"
    problems = qlqc30.check_date(
        "visit-1",
        date(2026, 3, 5),
        consent=date(2026, 3, 1),
        today=date(2026, 6, 1),
        randomized=date(2026, 3, 10),
        first_dose=None,
        end_of_treatment=None,
    )
    assert problems == ["Visit questionnaires follow randomization (10 Mar 2026).", problems[1]]
    assert "2026-" not in " ".join(problems)
