from datetime import date, datetime, timedelta

from safety import rules

CONSENT, TODAY = date(2026, 1, 10), date(2026, 6, 1)


def event(**changes):
    values = {
        "grade": 2,
        "grades_defined": (1, 2, 3, 4, 5),
        "onset": date(2026, 2, 1),
        "resolution": None,
        "serious_criteria": (),
    }
    return rules.Event(**{**values, **changes})


def errors(**changes):
    return rules.check_event(event(**changes), consent=CONSENT, today=TODAY)


def test_a_plain_event_is_accepted():
    assert errors() == {}


def test_grade_must_be_defined_for_the_term():
    assert "grade" in errors(grade=5, grades_defined=(1, 2, 3))
    assert (
        "CTCAE v5.0 defines grades 1, 2, 3" in errors(grade=4, grades_defined=(1, 2, 3))["grade"][0]
    )


def test_onset_before_consent_is_medical_history():
    assert "medical history" in errors(onset=date(2026, 1, 9))["onset"][0]


def test_dates_in_order_and_not_in_the_future():
    assert "resolution" in errors(resolution=date(2026, 1, 20))
    assert "onset" in errors(onset=date(2026, 7, 1))


def test_other_specify_needs_the_name():
    assert "specification" in errors(needs_specification=True)
    assert errors(needs_specification=True, specification="Hiccups, intractable") == {}


def test_grade_5_needs_death_date_and_the_death_criterion():
    found = errors(grade=5)
    assert "death_date" in found and "serious_criteria" in found
    assert errors(grade=5, death_date=date(2026, 2, 3), serious_criteria=("death",)) == {}
    assert "grade" in errors(serious_criteria=("death",))


def test_treatment_emergent_from_the_first_dose():
    assert rules.treatment_emergent(date(2026, 2, 1), date(2026, 2, 1))
    assert not rules.treatment_emergent(date(2026, 1, 31), date(2026, 2, 1))
    assert not rules.treatment_emergent(date(2026, 2, 1), None)


def test_sae_initial_report_is_due_within_24_hours():
    aware = datetime(2026, 3, 1, 9, 0)
    assert rules.sae_initial_report_due(aware) == datetime(2026, 3, 2, 9, 0)
    assert not rules.sae_overdue(aware, None, aware + timedelta(hours=23))
    assert rules.sae_overdue(aware, None, aware + timedelta(hours=25))
    assert rules.sae_overdue(aware, aware + timedelta(hours=30), aware + timedelta(hours=40))
