"""Survival contacts and new anticancer therapies against each other's fields and the patient's
status changes (outcomes/followup.py, pure)."""

from datetime import date

import pytest

from enrollment import status
from enrollment.status import Change
from outcomes.followup import CONTACT, NEW_THERAPY, Record, check

ENROLLED, TODAY = date(2026, 1, 10), date(2026, 9, 1)
DIED = Change(status.DEATH, date(2026, 5, 1), cause="Sepsis")


def errors(new, *changes):
    return check(new, [], enrolled=ENROLLED, today=TODAY, changes=changes)


def contact(day, **fields):
    return Record(CONTACT, day, **fields)


def therapy(day, name="TACE", **fields):
    return Record(NEW_THERAPY, day, therapy=name, **fields)


def withdrawal(allowed=False, day=date(2026, 4, 1)):
    return Change(status.WITHDRAWAL_ALL, day, public_records_allowed=allowed)


def test_dates_against_enrolment_and_today():
    assert errors(contact(date(2026, 3, 1))) == {}
    assert errors(contact(ENROLLED)) == {}
    assert errors(therapy(TODAY)) == {}
    assert errors(contact(date(2026, 1, 9)))["date"] == ["Before enrolment (10 Jan 2026)."]
    assert errors(contact(date(2026, 9, 2)))["date"] == ["Cannot be in the future."]


def test_only_contacts_and_new_therapies():
    assert errors(Record("death", date(2026, 3, 1))) == {"kind": ["One of: contact, new_therapy."]}
    assert "kind" in errors(Record("withdrawal", date(2026, 3, 1)))


def test_a_new_therapy_is_named_and_only_a_new_therapy_names_one():
    assert errors(therapy(date(2026, 3, 1), name=""))["therapy"] == [
        "Name the new anticancer therapy."
    ]
    assert "therapy" in errors(therapy(date(2026, 3, 1), name="  "))
    assert errors(contact(date(2026, 3, 1), therapy="TACE"))["therapy"] == [
        "Only a new anticancer therapy names one."
    ]


def test_alive_and_public_records_belong_to_contacts():
    assert errors(therapy(date(2026, 3, 1), alive=False))["alive"] == [
        "Only a survival contact says alive or dead."
    ]
    assert errors(therapy(date(2026, 3, 1), from_public_records=True))["from_public_records"] == [
        "Only survival status comes from public records."
    ]
    assert errors(contact(date(2026, 3, 1), from_public_records=True)) == {}


def test_a_contact_confirms_only_a_recorded_death_on_or_after_it():
    assert errors(contact(date(2026, 6, 1), alive=False))["alive"] == [
        "Record the death (date and cause) in the patient's status first."
    ]
    assert errors(contact(date(2026, 4, 30), alive=False), DIED)["date"] == [
        "Before the recorded death (1 May 2026)."
    ]
    assert errors(contact(date(2026, 5, 1), alive=False), DIED) == {}
    assert errors(contact(date(2026, 6, 1), alive=False), DIED) == {}


def test_nothing_alive_after_the_death():
    assert errors(contact(date(2026, 5, 2)), DIED)["date"] == [
        "The patient died on 1 May 2026: no survival contact can be dated after it."
    ]
    assert errors(therapy(date(2026, 5, 2)), DIED)["date"] == [
        "The patient died on 1 May 2026: no new anticancer therapy can be dated after it."
    ]
    assert errors(contact(date(2026, 5, 1)), DIED) == {}  # the day itself
    assert errors(contact(date(2026, 4, 1)), DIED) == {}


def test_after_withdrawal_of_all_data_only_public_records_the_consent_allows():
    after = date(2026, 4, 2)
    refused = errors(contact(after), withdrawal())
    assert refused["date"] == [
        "Consent to all further data was withdrawn on 1 Apr 2026: no survival contact dated "
        "after it is accepted."
    ]
    assert "date" in errors(contact(after, from_public_records=True), withdrawal())
    hinted = errors(contact(after), withdrawal(allowed=True))["date"][0]
    assert hinted.endswith(
        "Survival status may still come from public records, as the consent allows."
    )
    assert errors(contact(after, from_public_records=True), withdrawal(allowed=True)) == {}
    assert errors(contact(date(2026, 4, 1)), withdrawal()) == {}  # the day itself


def test_no_new_therapy_after_withdrawal_of_all_data():
    refused = errors(therapy(date(2026, 4, 2)), withdrawal(allowed=True))["date"][0]
    assert refused.startswith(
        "Consent to all further data was withdrawn on 1 Apr 2026: no new anticancer therapy"
    )
    assert errors(therapy(date(2026, 3, 20)), withdrawal()) == {}


@pytest.mark.parametrize(
    "kind",
    [status.LOST, status.STUDY_END, status.OTHER_TRIAL, status.INVESTIGATOR],
)
def test_follow_up_goes_on_after_other_ends_of_study(kind):
    off = Change(kind, date(2026, 4, 1))
    assert errors(contact(date(2026, 7, 1)), off) == {}
    assert errors(therapy(date(2026, 7, 1)), off) == {}


def test_follow_up_goes_on_after_withdrawal_of_consent_to_treatment():
    off = Change(status.WITHDRAWAL_TREATMENT, date(2026, 4, 1))
    assert errors(contact(date(2026, 7, 1)), off) == {}
    assert errors(therapy(date(2026, 7, 1)), off) == {}


def test_a_contact_confirming_the_death_after_withdrawal_needs_public_records():
    changes = [
        withdrawal(allowed=True),
        Change(status.DEATH, date(2026, 6, 1), cause="HCC", from_public_records=True),
    ]
    assert errors(contact(date(2026, 6, 10), alive=False, from_public_records=True), *changes) == {}
    assert "date" in errors(contact(date(2026, 6, 10), alive=False), *changes)
