from datetime import date

from outcomes.followup import (
    CONTACT,
    DEATH,
    LOST,
    NEW_THERAPY,
    WITHDRAWAL,
    Record,
    check,
    death_date,
)

ENROLLED, TODAY = date(2026, 1, 10), date(2026, 9, 1)


def errors(new, others=(), **known):
    return check(new, others, enrolled=ENROLLED, today=TODAY, **known)


def test_dates_against_enrolment_and_today():
    assert errors(Record(CONTACT, date(2026, 3, 1))) == {}
    assert "Before enrolment" in errors(Record(CONTACT, date(2026, 1, 9)))["date"][0]
    assert "future" in errors(Record(CONTACT, date(2026, 9, 2)))["date"][0]
    assert "kind" in errors(Record("holiday", date(2026, 3, 1)))


def test_death_needs_a_cause_and_is_recorded_once():
    assert "cause" in errors(Record(DEATH, date(2026, 5, 1)))
    first = Record(DEATH, date(2026, 5, 1), cause="Liver failure")
    assert errors(first) == {}
    assert "already recorded" in errors(first, [first])["kind"][0]
    assert death_date([Record(CONTACT, date(2026, 2, 1)), first]) == date(2026, 5, 1)


def test_death_against_the_rest_of_the_record():
    death = Record(DEATH, date(2026, 5, 1), cause="Tumour progression")
    alive = [Record(CONTACT, date(2026, 5, 3))]
    assert "alive on 3 May 2026" in errors(death, alive)["date"][0]
    assert "alive on 20 May 2026" in errors(death, alive_dates=[date(2026, 5, 20)])["date"][0]
    mismatch = errors(death, fatal_event_dates=[date(2026, 5, 2)])
    assert "fatal adverse event records the death on 2 May 2026" in mismatch["date"][0]
    assert errors(death, fatal_event_dates=[date(2026, 5, 1)]) == {}


def test_nothing_after_death_but_a_confirming_contact():
    death = Record(DEATH, date(2026, 5, 1), cause="Sepsis")
    assert (
        "After the patient's death" in errors(Record(CONTACT, date(2026, 6, 1)), [death])["date"][0]
    )
    assert (
        "After" in errors(Record(NEW_THERAPY, date(2026, 6, 1), therapy="TACE"), [death])["date"][0]
    )
    assert errors(Record(CONTACT, date(2026, 6, 1), alive=False), [death]) == {}
    assert "Record the death" in errors(Record(CONTACT, date(2026, 6, 1), alive=False))["alive"][0]
    early = errors(Record(CONTACT, date(2026, 4, 1), alive=False), [death])
    assert "Before the recorded death" in early["date"][0]


def test_new_therapy_withdrawal_and_loss():
    assert "therapy" in errors(Record(NEW_THERAPY, date(2026, 4, 1)))
    withdrawn = Record(WITHDRAWAL, date(2026, 4, 1))
    assert (
        "withdrawn on 1 Apr 2026"
        in errors(Record(CONTACT, date(2026, 4, 2)), [withdrawn])["date"][0]
    )
    assert errors(Record(CONTACT, date(2026, 3, 2)), [withdrawn]) == {}
    later = errors(withdrawn, [Record(CONTACT, date(2026, 4, 5))])
    assert "contact is recorded after it" in later["date"][0]
    lost = Record(LOST, date(2026, 4, 1))
    assert "already recorded" in errors(lost, [lost])["kind"][0]


def test_a_death_moved_or_removed_keeps_the_record_consistent():
    therapy = Record(NEW_THERAPY, date(2026, 4, 20), therapy="TACE")
    moved = errors(Record(DEATH, date(2026, 4, 1), cause="HCC"), [therapy])
    assert "New anticancer therapy is recorded after it" in moved["date"][0]
    confirming = Record(CONTACT, date(2026, 5, 3), alive=False)
    later = errors(Record(DEATH, date(2026, 5, 10), cause="HCC"), [confirming])
    assert "confirmed the death on 3 May 2026" in later["date"][0]
    removed = errors(Record(CONTACT, date(2026, 5, 1)), [confirming])
    assert "the death record stays" in removed["kind"][0]


def test_fields_belong_to_their_kind():
    assert "cause" in errors(Record(CONTACT, date(2026, 3, 1), cause="HCC"))
    assert "therapy" in errors(Record(DEATH, date(2026, 3, 1), cause="x", therapy="TACE"))
    assert "alive" in errors(Record(NEW_THERAPY, date(2026, 3, 1), alive=False, therapy="TACE"))
