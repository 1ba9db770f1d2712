"""The protocol deviations the records show, from worked examples: each rule, its default
classification and its stable key."""

from datetime import UTC, date, datetime, timedelta

from datamanagement import deviations as dv
from datamanagement.deviations import (
    Course,
    PatientFacts,
    Procedure,
    SeriousEvent,
    Violation,
    Visit,
)

DAY0 = date(2026, 1, 5)  # randomization
CONSENT = date(2025, 12, 20)
TODAY = date(2026, 6, 1)
NOW = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


def facts(**kw) -> PatientFacts:
    return PatientFacts(
        **{
            "patient_id": 7,
            "study_id": "INKT-007",
            "consent_on": CONSENT,
            "today": TODAY,
            "now": NOW,
            **kw,
        }
    )


def derived(**kw):
    return [(d.rule, d.classification, d.key) for d in dv.derive(facts(**kw))]


def visit(number, **kw) -> Visit:
    planned = DAY0 + timedelta(days=56 * number)
    return Visit(number, planned - timedelta(days=7), planned + timedelta(days=7), **kw)


def test_records_that_follow_the_protocol_show_no_deviation():
    on_time = Course(1, 1, DAY0, DAY0, ())
    v1 = visit(1, scan_on=DAY0 + timedelta(56), questionnaire_on=DAY0 + timedelta(57))
    assert dv.derive(facts(courses=(on_time,), visits=(v1,))) == []


def test_an_eligibility_violation_is_major_dated_at_randomization():
    found = dv.derive(
        facts(violations=(Violation(3, DAY0, date(2026, 2, 1), ("Prior organ allograft",)),))
    )
    assert [(d.rule, d.classification, d.key) for d in found] == [
        ("eligibility", "major", "eligibility:INKT-007:violation-3")
    ]
    assert (found[0].occurred_on, found[0].identified_on) == (DAY0, date(2026, 2, 1))
    assert "Prior organ allograft" in found[0].description


def test_a_procedure_before_the_consent_is_major_and_one_on_the_day_is_not():
    before = Procedure("scan-4", "Scan (scheduled)", CONSENT - timedelta(1), date(2026, 1, 2))
    same_day = Procedure("randomization", "Randomization", CONSENT)
    found = dv.derive(facts(procedures=(before, same_day), consent_entered_on=date(2026, 3, 1)))
    assert [(d.rule, d.classification, d.key) for d in found] == [
        ("consent", "major", "consent:INKT-007:scan-4")
    ]
    # identified when the later of the two records was entered: the corrected consent date
    assert found[0].identified_on == date(2026, 3, 1)


def test_a_delayed_course_is_one_minor_window_deviation_with_its_reason():
    codes = ("delayed", "outside_window")
    late = Course(9, 2, DAY0 + timedelta(14), DAY0 + timedelta(22), codes, "Fever")
    found = dv.derive(facts(courses=(late,)))
    assert [(d.rule, d.classification, d.key) for d in found] == [
        ("inkt-window", "minor", "inkt-window:INKT-007:course-2")
    ]
    assert "8 days after its planned date" in found[0].description
    assert "(Fever)" in found[0].description
    assert found[0].occurred_on == DAY0 + timedelta(22)


def test_a_course_given_early_is_a_window_deviation_too():
    early = Course(9, 2, DAY0 + timedelta(14), DAY0 + timedelta(10), ("outside_window",))
    (found,) = dv.derive(facts(courses=(early,)))
    assert found.rule == "inkt-window" and "4 days before" in found.description


def test_a_missed_course_is_minor_dated_at_its_planned_date():
    missed = Course(9, 3, DAY0 + timedelta(28), None, ("missed",), "Hospitalised")
    (found,) = dv.derive(facts(courses=(missed,)))
    assert (found.rule, found.classification, found.occurred_on) == (
        "inkt-missed",
        "minor",
        DAY0 + timedelta(28),
    )


def test_a_dose_off_the_computed_one_is_minor_and_outside_the_range_major():
    reduced = Course(9, 1, DAY0, DAY0, ("reduced_dose",), "Low yield")
    both = Course(10, 2, DAY0 + timedelta(14), DAY0 + timedelta(14), ("dose_out_of_range",))
    assert derived(courses=(reduced, both)) == [
        ("inkt-dose", "minor", "inkt-dose:INKT-007:course-1"),
        ("inkt-dose-range", "major", "inkt-dose-range:INKT-007:course-2"),
    ]


def test_a_course_that_breaks_two_rules_gives_two_deviations():
    codes = ("delayed", "outside_window", "increased_dose")
    course = Course(9, 2, DAY0 + timedelta(14), DAY0 + timedelta(20), codes)
    assert sorted(r for r, _, _ in derived(courses=(course,))) == ["inkt-dose", "inkt-window"]


def test_a_dose_outside_the_range_is_listed_once_as_the_major_deviation():
    codes = ("delayed", "outside_window", "increased_dose", "dose_out_of_range")
    course = Course(9, 2, DAY0 + timedelta(14), DAY0 + timedelta(20), codes)
    assert sorted(r for r, _, _ in derived(courses=(course,))) == ["inkt-dose-range", "inkt-window"]


def test_a_course_owed_with_nothing_recorded_once_its_window_closed_is_minor():
    owed = ((1, DAY0 + timedelta(3)), (2, DAY0 + timedelta(17)), (3, DAY0 + timedelta(31)))
    given = Course(9, 1, DAY0, DAY0, ())
    on_day_31 = derived(courses=(given,), owed_courses=owed, today=DAY0 + timedelta(31))
    assert on_day_31 == [("inkt-not-recorded", "minor", "inkt-not-recorded:INKT-007:course-2")]
    (found,) = dv.derive(facts(courses=(given,), owed_courses=owed, today=DAY0 + timedelta(31)))
    assert found.occurred_on == DAY0 + timedelta(17)
    # a course recorded as missed is the missed course's deviation, not this one
    missed = Course(10, 2, DAY0 + timedelta(14), None, ("missed",))
    later = derived(courses=(given, missed), owed_courses=owed, today=DAY0 + timedelta(32))
    assert [r for r, _, _ in later] == ["inkt-missed", "inkt-not-recorded"]
    assert later[1][2].endswith("course-3")


def test_a_scan_missing_14_days_after_its_window_is_major():
    v1 = visit(1)  # window closes DAY0 + 63
    assert derived(visits=(v1,), today=DAY0 + timedelta(63 + 14)) == []
    found = dv.derive(facts(visits=(v1,), today=DAY0 + timedelta(63 + 15)))
    assert [(d.rule, d.classification, d.key) for d in found] == [
        ("scan-missed", "major", "scan-missed:INKT-007:visit-1")
    ]
    assert found[0].occurred_on == DAY0 + timedelta(63)


def test_a_late_scan_is_minor_and_one_in_its_window_is_not():
    in_window = visit(1, scan_on=DAY0 + timedelta(63), questionnaire_on=DAY0 + timedelta(63))
    late = visit(2, scan_on=DAY0 + timedelta(112 + 9), questionnaire_on=DAY0 + timedelta(119))
    found = dv.derive(facts(visits=(in_window, late)))
    assert [(d.rule, d.classification, d.key) for d in found] == [
        ("scan-late", "minor", "scan-late:INKT-007:visit-2")
    ]
    assert "2 days after its window" in found[0].description


def test_a_scheduled_scan_before_the_first_window_is_minor():
    early = Procedure("scan-5", "Scan (scheduled)", DAY0 + timedelta(40))
    on_time = Procedure("scan-6", "Scan (scheduled)", DAY0 + timedelta(49))
    assert derived(scheduled_scans=(early, on_time), first_window_opens=DAY0 + timedelta(49)) == [
        ("scan-early", "minor", "scan-early:INKT-007:scan-5")
    ]


def test_a_questionnaire_missing_at_a_visit_held_or_late_is_minor():
    held = visit(1, scan_on=DAY0 + timedelta(56))
    late = visit(2, scan_on=DAY0 + timedelta(112), questionnaire_on=DAY0 + timedelta(120))
    not_held = visit(3)  # no scan: no questionnaire is expected (the scan is the deviation)
    found = derived(visits=(held, late, not_held), today=DAY0 + timedelta(168 + 7))
    assert found == [
        ("qlq-missed", "minor", "qlq-missed:INKT-007:visit-1"),
        ("qlq-late", "minor", "qlq-late:INKT-007:visit-2"),
    ]


def test_an_sae_reported_after_24_hours_or_not_yet_is_major():
    aware = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    on_time = SeriousEvent(1, "Anemia", aware, aware + timedelta(hours=24))
    late = SeriousEvent(2, "Sepsis", aware, aware + timedelta(hours=30))
    unsent = SeriousEvent(3, "Colitis", aware, None)
    found = dv.derive(facts(serious_events=(on_time, late, unsent)))
    assert [(d.rule, d.classification, d.key) for d in found] == [
        ("sae-late", "major", "sae-late:INKT-007:ae-2"),
        ("sae-late", "major", "sae-late:INKT-007:ae-3"),
    ]
    assert "sent 6 h late (3 Mar 2026 16:00)" in found[0].description
    assert "not sent, due 3 Mar 2026 10:00" in found[1].description
    # not sent, but the clock has not run out yet: nothing
    assert derived(serious_events=(unsent,), now=aware + timedelta(hours=23)) == []


def test_every_rule_names_why_it_has_its_classification():
    for rule in dv.RULES.values():
        assert rule.classification in dv.CLASSIFICATIONS and rule.finds and rule.why
    majors = {code for code, rule in dv.RULES.items() if rule.classification == dv.MAJOR}
    assert majors == {"eligibility", "consent", "inkt-dose-range", "scan-missed", "sae-late"}


def test_a_key_names_its_rule_patient_and_item():
    assert dv.parse_key("inkt-window:INKT-007:course-2") == ("inkt-window", "INKT-007", "course-2")
    for odd in ("DV-0001", "nope:INKT-007:x", "scan-late::visit-1", "a:b:c:d", ""):
        assert dv.parse_key(odd) is None
