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
    last = date(2026, 3, 1)
    assert rules.treatment_emergent(date(2026, 3, 31), date(2026, 2, 1), last)  # day 30
    assert not rules.treatment_emergent(date(2026, 4, 1), date(2026, 2, 1), last)  # day 31
    assert rules.treatment_emergent(
        date(2026, 4, 1), date(2026, 2, 1), last, days_after_last_dose=31
    )
    assert rules.treatment_emergent(date(2027, 1, 1), date(2026, 2, 1), None)  # on treatment


def test_sae_initial_report_is_due_within_24_hours():
    aware = datetime(2026, 3, 1, 9, 0)
    assert rules.sae_initial_report_due(aware) == datetime(2026, 3, 2, 9, 0)
    assert not rules.sae_overdue(aware, None, aware + timedelta(hours=23))
    assert rules.sae_overdue(aware, None, aware + timedelta(hours=25))
    assert rules.sae_overdue(aware, aware + timedelta(hours=30), aware + timedelta(hours=40))


def test_an_unreported_sae_is_overdue_exactly_when_aware_before_the_dashboards_cutoff():
    now = datetime(2026, 3, 2, 9, 0)
    cutoff = rules.sae_unreported_overdue_if_aware_before(now)
    for minutes in (-1, 0, 1):
        aware = now - timedelta(hours=24, minutes=minutes)
        assert (aware < cutoff) == rules.sae_overdue(aware, None, now)


def test_sae_clock_checks():

    now = datetime(2026, 5, 10, 12, 0)
    onset = date(2026, 5, 8)
    ok = rules.check_sae_times(
        onset=onset, serious=True, awareness=now - timedelta(hours=30), initial_report=now, now=now
    )
    assert ok == {}
    errors = rules.check_sae_times(
        onset=onset,
        serious=True,
        awareness=datetime(2026, 5, 7, 9, 0),
        initial_report=datetime(2026, 5, 7, 8, 0),
        now=now,
    )
    assert errors["awareness_at"] == ["Cannot be before the onset."]
    assert "precede" in errors["initial_report_at"][0]
    errors = rules.check_sae_times(
        onset=onset, serious=True, awareness=None, initial_report=now, now=now
    )
    assert "When did the site learn" in errors["awareness_at"][0]
    future = now + timedelta(minutes=5)
    errors = rules.check_sae_times(
        onset=onset, serious=True, awareness=future, initial_report=future, now=now
    )
    assert "future" in errors["awareness_at"][0] and "future" in errors["initial_report_at"][-1]


def test_follow_up_report_checks():

    now = datetime(2026, 5, 10, 12, 0)
    initial = now - timedelta(days=2)
    fine = dict(serious=True, initial_report=initial, sent=now, now=now, final_sent=None)
    assert rules.check_follow_up(**fine) == {}
    assert "event" in rules.check_follow_up(**{**fine, "serious": False})
    assert (
        "initial report first"
        in rules.check_follow_up(**{**fine, "initial_report": None})["sent_at"][0]
    )
    assert (
        "Before the initial"
        in rules.check_follow_up(**{**fine, "sent": initial - timedelta(hours=1)})["sent_at"][0]
    )
    assert (
        "future"
        in rules.check_follow_up(**{**fine, "sent": now + timedelta(hours=1)})["sent_at"][0]
    )
    assert "final report" in rules.check_follow_up(**{**fine, "final_sent": initial})["kind"][0]


def test_infusion_link():

    assert rules.infusion_link_problems(onset=date(2026, 1, 2), infused_on=date(2026, 1, 2)) == []
    assert (
        "before this course"
        in rules.infusion_link_problems(onset=date(2026, 1, 1), infused_on=date(2026, 1, 2))[0]
    )
    assert "not given" in rules.infusion_link_problems(onset=date(2026, 1, 1), infused_on=None)[0]


def test_sae_clock_of_a_non_serious_event_and_with_follow_ups():
    now = datetime(2026, 5, 10, 12, 0)
    onset = date(2026, 5, 8)
    plain = rules.check_sae_times(
        onset=onset, serious=False, awareness=now, initial_report=None, now=now
    )
    assert "Only for a serious event" in plain["awareness_at"][0]
    reported = rules.check_sae_times(
        onset=onset,
        serious=False,
        awareness=None,
        initial_report=None,
        now=now,
        first_follow_up=now - timedelta(hours=1),
    )
    assert "stays serious" in reported["serious_criteria"][0]
    late_initial = rules.check_sae_times(
        onset=onset,
        serious=True,
        awareness=now - timedelta(days=1),
        initial_report=now,
        now=now,
        first_follow_up=now - timedelta(hours=1),
    )
    assert "came before it" in late_initial["initial_report_at"][0]


def test_final_report_is_the_last_one():
    now = datetime(2026, 5, 10, 12, 0)
    fine = dict(serious=True, initial_report=now - timedelta(days=3), now=now, final_sent=None)
    early = rules.check_follow_up(
        **fine, kind="final", sent=now - timedelta(days=2), last_sent=now - timedelta(days=1)
    )
    assert "comes after the last one" in early["sent_at"][0]
    assert (
        rules.check_follow_up(**fine, kind="final", sent=now, last_sent=now - timedelta(days=1))
        == {}
    )


def test_death_dates_and_the_fatal_outcome():
    future = errors(
        grade=5, death_date=TODAY + timedelta(days=1), serious_criteria=("death",), outcome="fatal"
    )
    assert "future" in future["death_date"][0]
    fatal_grade_3 = errors(grade=3, outcome="fatal")
    assert "grade 5 in CTCAE" in fatal_grade_3["grade"][0]
    assert "Only a grade 5" in errors(grade=3, death_date=date(2026, 3, 1))["death_date"][0]
    assert (
        "outcome is fatal"
        in errors(
            grade=5, death_date=date(2026, 3, 1), serious_criteria=("death",), outcome="recovered"
        )["outcome"][0]
    )
