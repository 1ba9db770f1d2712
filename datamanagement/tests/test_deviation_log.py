"""The deviation log from worked examples: derived deviations with their reviews (kept when the
records no longer show them), filters, CSV rows, the ethics committee's listing, the checks of
what a person records, and what a review may change without a reason."""

from datetime import date, timedelta

from datamanagement import deviation_log as log
from datamanagement import deviations as dv
from datamanagement.deviation_log import Follow, Reviewed

DAY0 = date(2026, 1, 5)

MISSED = dv.Derived(
    "inkt-missed:INKT-007:course-3", 7, "INKT-007", "inkt-missed", DAY0, None, "Missed"
)
LATE_SCAN = dv.Derived(
    "scan-late:INKT-007:visit-1", 7, "INKT-007", "scan-late", DAY0 + timedelta(70), None, "Late"
)


def review(derived_one, **follow) -> Reviewed:
    return Reviewed(derived_one, Follow(**{"classification": "minor", **follow}))


def test_a_derived_deviation_not_reviewed_has_the_rules_classification():
    (entry,) = log.entries([MISSED], [])
    assert (entry.classification, entry.default_classification) == ("minor", "minor")
    assert entry.status == dv.NOT_REVIEWED and not entry.confirmed and entry.shown


def test_a_review_sets_the_classification_and_follow_up():
    (entry,) = log.entries([MISSED], [review(MISSED, classification="major", status="closed")])
    assert (entry.classification, entry.default_classification) == ("major", "minor")
    assert entry.status == "closed" and entry.confirmed and entry.shown


def test_a_reviewed_deviation_the_records_no_longer_show_stays_listed():
    found = log.entries([], [review(LATE_SCAN, corrective_action="Scan rebooked")])
    assert [(e.key, e.shown, e.status) for e in found] == [(LATE_SCAN.key, False, "open")]
    assert found[0].status_text == "Open; no longer shown by the records"


def test_one_nobody_reviewed_just_disappears_when_the_records_change():
    assert log.entries([], []) == []


def test_the_log_filters_by_patient_classification_category_and_date():
    (missed,) = log.entries([MISSED], [])
    (late,) = log.entries([LATE_SCAN], [])
    assert log.matches(missed, study_id="INKT-007", classification="minor", category="inkt")
    assert not log.matches(missed, study_id="INKT-008")
    assert not log.matches(missed, classification="major")
    assert not log.matches(missed, category="imaging")
    assert log.matches(late, date_from=DAY0 + timedelta(70), date_to=DAY0 + timedelta(70))
    assert not log.matches(late, date_to=DAY0 + timedelta(69))
    assert not log.matches(missed, date_from=DAY0 + timedelta(1))


def test_a_csv_row_holds_every_column_with_iso_dates():
    (entry,) = log.entries(
        [MISSED],
        [review(MISSED, corrective_action="Retrained", reported_to_ec_on=date(2026, 2, 1))],
    )
    row = dict(zip(log.LOG_HEADER, log.csv_row(entry), strict=True))
    assert row["date"] == DAY0.isoformat() and row["reported_to_ethics_committee"] == "2026-02-01"
    assert row["category"] == "iNKT cells: schedule and dose"
    assert (row["classification"], row["classification_confirmed"]) == ("minor", "yes")
    assert row["corrective_action"] == "Retrained" and row["source"] == "derived"


def test_the_ethics_committee_gets_majors_one_by_one_and_minors_counted():
    major = dv.Derived("consent:INKT-009:randomization", 9, "INKT-009", "consent", DAY0, None, "C")
    other = dv.Derived(
        "inkt-missed:INKT-009:course-1", 9, "INKT-009", "inkt-missed", DAY0, None, ""
    )
    found = log.entries([MISSED, LATE_SCAN, major, other], [])
    majors, minors = log.ethics_committee(found)
    assert [e.key for e in majors] == [major.key]
    assert [(s.category, s.deviations, s.patients) for s in minors] == [
        ("inkt", 2, 2),
        ("imaging", 1, 1),
    ]
    assert log.ec_row(majors[0])[:2] == ["INKT-009", DAY0.isoformat()]


# What a person records or reviews ---------------------------------------------------------------


def problems(**kw):
    values = {
        "occurred_on": date(2026, 3, 1),
        "identified_on": date(2026, 3, 3),
        "reported_to_ec_on": None,
        "category": "procedure",
        "classification": "minor",
        "status": "open",
        "description": "Blood sample taken out of window",
        "corrective_action": "",
        "today": date(2026, 3, 10),
        **kw,
    }
    return log.record_problems(**values)


def test_a_deviation_recorded_by_hand_is_checked():
    assert problems() == {}
    assert problems(occurred_on=date(2026, 3, 11))["occurred_on"] == ["Cannot be in the future."]
    assert problems(identified_on=date(2026, 2, 28))["identified_on"] == [
        "Cannot be before the deviation."
    ]
    assert "category" in problems(category="weather")
    assert "description" in problems(description="  ")
    assert "classification" in problems(classification="critical")
    assert "status" in problems(status="pending")
    assert problems(status="closed")["corrective_action"] == [
        "A deviation is closed once its corrective action is."
    ]
    assert problems(status="closed", corrective_action="Re-consented") == {}
    assert "reported_to_ec_on" in problems(reported_to_ec_on=date(2026, 2, 1))
    assert "reported_to_ec_on" in problems(reported_to_ec_on=date(2026, 3, 11))


def test_a_review_needs_a_reason_to_change_what_was_stated_before():
    minor = Follow("minor")
    # the first review of a derived deviation: a reason only against the rule's classification
    assert log.review_refusal(current=None, default="minor", new=minor, reason="") is None
    assert log.review_refusal(current=None, default="major", new=minor, reason="") == (
        "Give the reason for changing the classification (major to minor)."
    )
    assert log.review_refusal(current=None, default="major", new=minor, reason="Routine") is None
    # filling what was empty, confirming and closing are the review's own steps
    done = Follow("minor", corrective_action="Retrained", status="closed")
    assert log.review_refusal(current=minor, default="minor", new=done, reason="") is None
    proposed = Follow("minor", confirmed=False, record_id=4)
    assert log.review_refusal(current=proposed, default="minor", new=minor, reason="") is None
    # changing what someone stated, or reopening, is a correction
    other = Follow("minor", corrective_action="Re-consented", status="closed")
    reopened = Follow("minor", corrective_action="Retrained")
    assert log.review_refusal(current=done, default="minor", new=other, reason="") == (
        "Give the reason for changing the corrective action."
    )
    assert log.review_refusal(current=done, default="minor", new=reopened, reason="") == (
        "Give the reason for changing the status (reopened)."
    )
    assert (
        log.review_refusal(current=done, default="minor", new=reopened, reason="Not done") is None
    )


def test_the_audit_trail_names_the_review_s_steps_when_no_reason_is_given():
    first = Follow("minor", corrective_action="Retrained", reported_to_ec_on=date(2026, 3, 1))
    steps = log.review_steps(current=None, new=first)
    assert steps == [
        "classification confirmed",
        "corrective action recorded",
        "date reported to the ethics committee recorded",
    ]
    assert log.review_reason(reason="", steps=steps).startswith("Reviewed: classification")
    assert log.review_reason(reason=" Audit finding ", steps=steps) == "Audit finding"
    closed = Follow("minor", corrective_action="Retrained", status="closed")
    assert log.review_steps(current=Follow("minor", corrective_action="Retrained"), new=closed) == [
        "closed"
    ]
    assert log.review_changes_nothing(current=closed, default="minor", new=closed)
    assert not log.review_changes_nothing(current=None, default="minor", new=closed)
