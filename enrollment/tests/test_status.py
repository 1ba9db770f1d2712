"""The patient's course: status changes, ends of treatment per drug, what each refuses after it,
and the states they lead to (enrollment/status.py, pure)."""

from datetime import date

import pytest

from enrollment import status
from enrollment.status import (
    CHANGES,
    CLINICAL,
    COMPLETED,
    DEATH,
    IN_FOLLOW_UP,
    INKT,
    INVESTIGATOR,
    LOST,
    OFF_STUDY_STATE,
    ON_STUDY,
    ON_TREATMENT,
    OTHER,
    OTHER_TRIAL,
    PD1,
    PROGRESSION,
    REGORAFENIB,
    STUDY_END,
    SURVIVAL,
    TREATMENT,
    WITHDRAWAL_ALL,
    WITHDRAWAL_TREATMENT,
    Change,
    DrugEnd,
    Evidence,
)

ENROLLED, RANDOMIZED, TODAY = date(2026, 1, 10), date(2026, 1, 20), date(2026, 9, 1)
RPI, RP = ("inkt", "pd1", "regorafenib"), ("pd1", "regorafenib")
OTHER_OFF_STUDY = [LOST, OTHER_TRIAL, INVESTIGATOR, STUDY_END]


def errors(new, others=(), **known):
    return status.check_change(new, others, enrolled=ENROLLED, today=TODAY, **known)


def death(day=date(2026, 5, 1), cause="Tumour progression", **fields):
    return Change(DEATH, day, cause=cause, **fields)


def withdrawal(day=date(2026, 4, 1), allowed=False):
    return Change(WITHDRAWAL_ALL, day, public_records_allowed=allowed)


def scan(day):
    return Evidence(day, CLINICAL, "a scan")


def contact(day, public=False):
    return Evidence(day, SURVIVAL, "a survival contact", public_records=public)


def dose(day, drug=PD1, what="a dose of the PD-1 antibody"):
    return Evidence(day, TREATMENT, what, drug=drug)


# check_change: the fields of a change -----------------------------------------------------------


def test_dates_against_enrolment_and_today():
    assert errors(Change(LOST, date(2026, 3, 1))) == {}
    assert errors(Change(LOST, ENROLLED)) == {}
    assert errors(Change(LOST, TODAY)) == {}
    assert errors(Change(LOST, date(2026, 1, 9)))["date"] == ["Before enrolment (10 Jan 2026)."]
    assert errors(Change(LOST, date(2026, 9, 2)))["date"] == ["Cannot be in the future."]
    assert "One of: death," in errors(Change("holiday", date(2026, 3, 1)))["kind"][0]


def test_each_kind_is_recorded_once():
    lost = Change(LOST, date(2026, 3, 1))
    assert "Lost to follow-up is already recorded." in errors(lost, [lost])["kind"]
    treatment = Change(WITHDRAWAL_TREATMENT, date(2026, 3, 1))
    again = errors(treatment, [treatment])["kind"][0]
    assert again == "Withdrawal of consent to treatment (follow-up continues) is already recorded."
    assert errors(death(), [death()])["kind"] == ["Death is already recorded."]
    assert errors(Change(WITHDRAWAL_TREATMENT, date(2026, 2, 20)), [lost]) == {}


def test_only_a_death_has_a_cause_and_a_death_needs_one():
    assert errors(Change(LOST, date(2026, 3, 1), cause="HCC"))["cause"] == [
        "Only a death has a cause."
    ]
    assert errors(death(cause=""))["cause"] == ["Give the cause of death (or 'unknown')."]
    assert "cause" in errors(death(cause="   "))
    assert errors(death(cause="unknown")) == {}


def test_public_records_flags_belong_to_their_kind():
    assert errors(withdrawal(allowed=True)) == {}
    lost = errors(Change(LOST, date(2026, 3, 1), public_records_allowed=True))
    assert lost["public_records_allowed"] == [
        "Only a withdrawal of consent to all further data says this."
    ]
    assert "public_records_allowed" in errors(death(public_records_allowed=True))
    assert errors(death(from_public_records=True)) == {}
    withdrawn = errors(Change(WITHDRAWAL_ALL, date(2026, 4, 1), from_public_records=True))
    assert withdrawn["from_public_records"] == ["Only a death may come from public records."]


# check_change: a death --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "alive",
    [dose(date(2026, 5, 3)), scan(date(2026, 5, 3)), contact(date(2026, 5, 3))],
    ids=["dose", "scan", "contact"],
)
def test_a_death_is_refused_when_the_patient_was_alive_after_it(alive):
    refused = errors(death(), evidence=[alive])
    assert refused["date"] == [
        f"The patient is known to have been alive on 3 May 2026 ({alive.what})."
    ]


def test_a_death_names_the_first_day_the_patient_was_known_alive_after_it():
    evidence = [scan(date(2026, 4, 20)), scan(date(2026, 6, 2)), contact(date(2026, 5, 9))]
    assert (
        "alive on 9 May 2026 (a survival contact)" in errors(death(), evidence=evidence)["date"][0]
    )
    assert errors(death(), evidence=[scan(date(2026, 5, 1))]) == {}  # the day itself


def test_a_death_against_a_fatal_adverse_event():
    mismatch = errors(death(), fatal_event_dates=[date(2026, 5, 2)])
    assert mismatch["date"] == ["A fatal adverse event records the death on 2 May 2026."]
    assert errors(death(), fatal_event_dates=[date(2026, 5, 1)]) == {}


def test_a_death_before_another_change_is_refused():
    later = errors(death(), [Change(LOST, date(2026, 6, 1))])
    assert later["date"] == ["Lost to follow-up is recorded after it (1 Jun 2026)."]
    treatment = errors(death(), [Change(WITHDRAWAL_TREATMENT, date(2026, 5, 20))])
    assert "Withdrawal of consent to treatment" in treatment["date"][0]
    assert errors(death(), [Change(LOST, date(2026, 5, 1))]) == {}


@pytest.mark.parametrize("kind", OTHER_OFF_STUDY)
def test_a_death_may_follow_an_end_of_study_other_than_withdrawal(kind):
    assert errors(death(), [Change(kind, date(2026, 3, 1))]) == {}


def test_a_death_after_withdrawal_of_all_data():
    refused = errors(death(), [withdrawal()])
    assert refused["date"] == [
        "Consent to all further data was withdrawn on 1 Apr 2026 and does not allow public "
        "records: no death can be recorded after it."
    ]
    not_public = errors(death(), [withdrawal(allowed=True)])
    assert not_public["from_public_records"] == [
        "Consent to all further data was withdrawn on 1 Apr 2026: a later death may come from "
        "public records only."
    ]
    assert errors(death(from_public_records=True), [withdrawal(allowed=True)]) == {}
    assert errors(death(date(2026, 4, 1)), [withdrawal()]) == {}  # the day itself


# check_change: the ends of study and the withdrawal of consent to treatment ----------------------


@pytest.mark.parametrize("kind", [WITHDRAWAL_ALL, OTHER_TRIAL, INVESTIGATOR, STUDY_END])
def test_nothing_but_a_death_after_an_end_of_study(kind):
    refused = errors(Change(kind, date(2026, 6, 1)), [Change(LOST, date(2026, 4, 1))])
    assert refused["kind"] == ["The patient is already off study: Lost to follow-up on 1 Apr 2026."]


def test_already_off_study_names_the_first_end_of_study():
    off = [Change(INVESTIGATOR, date(2026, 5, 1)), Change(OTHER_TRIAL, date(2026, 3, 1))]
    refused = errors(Change(LOST, date(2026, 6, 1)), off)
    assert refused["kind"] == [
        "The patient is already off study: Entered another clinical trial on 1 Mar 2026."
    ]


@pytest.mark.parametrize("kind", [WITHDRAWAL_TREATMENT, WITHDRAWAL_ALL, *OTHER_OFF_STUDY])
def test_no_change_after_the_death(kind):
    refused = errors(Change(kind, date(2026, 5, 2)), [death()])
    assert "After the patient's death (1 May 2026)." in refused["date"]
    assert errors(Change(kind, date(2026, 5, 1)), [death()]) == {}


@pytest.mark.parametrize(
    ("later", "message"),
    [
        (dose(date(2026, 4, 3), REGORAFENIB, "regorafenib"), "Regorafenib is recorded"),
        (scan(date(2026, 4, 3)), "A scan is recorded"),
        (contact(date(2026, 4, 3)), "A survival contact is recorded"),
    ],
    ids=["dose", "scan", "contact"],
)
def test_withdrawal_of_all_data_is_refused_with_any_evidence_after_it(later, message):
    refused = errors(withdrawal(), evidence=[later])
    assert refused["date"] == [f"{message} after it (3 Apr 2026)."]
    assert errors(withdrawal(date(2026, 4, 3)), evidence=[later]) == {}  # the day itself


@pytest.mark.parametrize("kind", OTHER_OFF_STUDY)
def test_other_ends_of_study_accept_survival_evidence_after_them(kind):
    change = Change(kind, date(2026, 4, 1))
    assert errors(change, evidence=[contact(date(2026, 6, 1))]) == {}
    assert errors(change, evidence=[scan(date(2026, 6, 1))])["date"] == [
        "A scan is recorded after it (1 Jun 2026)."
    ]
    rego = [dose(date(2026, 4, 2), REGORAFENIB, "regorafenib")]
    assert errors(change, evidence=rego)["date"] == [
        "Regorafenib is recorded after it (2 Apr 2026)."
    ]


def test_withdrawal_of_treatment_against_the_doses_and_the_end_of_study():
    treatment = Change(WITHDRAWAL_TREATMENT, date(2026, 4, 1))
    refused = errors(treatment, evidence=[dose(date(2026, 4, 15), REGORAFENIB, "regorafenib")])
    assert refused["date"] == ["Regorafenib is recorded after it (15 Apr 2026)."]
    assert errors(treatment, evidence=[scan(date(2026, 5, 1)), contact(date(2026, 6, 1))]) == {}
    assert errors(treatment, evidence=[dose(date(2026, 4, 1))]) == {}  # the last dose that day
    lost = Change(LOST, date(2026, 3, 20))
    assert errors(treatment, [lost])["date"] == [
        "The patient is off study since 20 Mar 2026 (Lost to follow-up)."
    ]
    assert errors(Change(WITHDRAWAL_TREATMENT, date(2026, 3, 20)), [lost]) == {}


def test_a_withdrawal_allowing_public_records_refuses_other_contacts_after_it():
    refused = errors(withdrawal(allowed=True), evidence=[contact(date(2026, 6, 1))])
    assert refused["date"] == ["A survival contact is recorded after it (1 Jun 2026)."]


def test_a_withdrawal_allowing_public_records_accepts_survival_status_from_them():
    # The contact was accepted after the withdrawal (refusal() lets it in); correcting the
    # withdrawal afterwards must not be refused because of it.
    later = contact(date(2026, 6, 1), public=True)
    assert (
        status.refusal(
            [withdrawal(allowed=True)], later.date, what="x", survival=True, public_records=True
        )
        is None
    )
    assert errors(withdrawal(allowed=True), evidence=[later]) == {}


def test_a_withdrawal_of_all_data_dated_before_a_recorded_death_is_refused():
    # The same two records are refused when the death comes second.
    assert errors(death(), [withdrawal()])
    assert errors(withdrawal(), [death()])


# refusal: what a change refuses after it ---------------------------------------------------------


def refused(changes, day, **kw):
    return status.refusal(changes, day, what="scan", **kw)


def test_nothing_refused_without_changes():
    assert refused([], date(2026, 6, 1)) is None
    assert refused([], date(2026, 6, 1), survival=True) is None


def test_after_the_death_everything_is_refused():
    changes = [withdrawal(allowed=True), death(from_public_records=True)]
    message = "The patient died on 1 May 2026: no scan can be dated after it."
    assert refused([death()], date(2026, 5, 2)) == message
    assert refused([death()], date(2026, 5, 2), survival=True) == message
    assert refused(changes, date(2026, 5, 2), survival=True, public_records=True) == message
    assert refused([death()], date(2026, 5, 1)) is None  # the day itself


def test_after_withdrawal_of_all_data():
    day = date(2026, 4, 2)
    message = (
        "Consent to all further data was withdrawn on 1 Apr 2026: no scan dated after it is "
        "accepted."
    )
    hint = " Survival status may still come from public records, as the consent allows."
    assert refused([withdrawal()], day) == message
    assert refused([withdrawal()], day, survival=True) == message
    assert refused([withdrawal()], day, survival=True, public_records=True) == message
    assert refused([withdrawal(allowed=True)], day) == message
    assert refused([withdrawal(allowed=True)], day, survival=True) == message + hint
    assert refused([withdrawal(allowed=True)], day, survival=True, public_records=True) is None
    assert refused([withdrawal()], date(2026, 4, 1)) is None  # the day itself


@pytest.mark.parametrize(
    ("kind", "label"),
    [
        (LOST, "Lost to follow-up"),
        (OTHER_TRIAL, "Entered another clinical trial"),
        (INVESTIGATOR, "Investigator's decision (not in the patient's best interest to continue)"),
        (STUDY_END, "End of the study"),
    ],
)
def test_after_another_end_of_study_only_survival_status_is_accepted(kind, label):
    changes = [Change(kind, date(2026, 4, 1))]
    assert refused(changes, date(2026, 4, 2)) == (
        f"The patient is off study since 1 Apr 2026 ({label}): no scan dated after it is accepted."
    )
    assert refused(changes, date(2026, 4, 2), survival=True) is None
    assert refused(changes, date(2026, 4, 1)) is None  # the day itself


def test_withdrawal_of_consent_to_treatment_refuses_nothing():
    changes = [Change(WITHDRAWAL_TREATMENT, date(2026, 4, 1))]
    assert refused(changes, date(2026, 6, 1)) is None
    assert refused(changes, date(2026, 6, 1), survival=True) is None


# treatment_stop ---------------------------------------------------------------------------------


def test_a_drug_without_end_or_change_goes_on():
    assert status.treatment_stop([], [], PD1) is None
    assert status.treatment_stop([], [DrugEnd(INKT, date(2026, 3, 1), COMPLETED)], PD1) is None


def test_a_drug_stops_at_its_own_end():
    ends = [DrugEnd(PD1, date(2026, 4, 1), PROGRESSION), DrugEnd(INKT, date(2026, 3, 1), COMPLETED)]
    assert status.treatment_stop([], ends, PD1) == (
        date(2026, 4, 1),
        "end of treatment with PD-1 antibody (disease progression)",
        "Disease progression",
    )
    assert status.treatment_stop([], ends, INKT) == (
        date(2026, 3, 1),
        "end of treatment with iNKT cells (completed the 6 courses)",
        "Completed the 6 courses",
    )


@pytest.mark.parametrize(
    ("kind", "why"),
    [
        (WITHDRAWAL_TREATMENT, "withdrawal of consent to treatment (follow-up continues)"),
        (WITHDRAWAL_ALL, "withdrawal of consent to all further data"),
        (DEATH, "death"),
        (LOST, "lost to follow-up"),
        (STUDY_END, "end of the study"),
    ],
)
def test_any_change_stops_every_drug(kind, why):
    changes = [Change(kind, date(2026, 3, 15))]
    for drug in RPI:
        stop = status.treatment_stop(changes, [], drug)
        assert (stop.day, stop.why, stop.reason) == (date(2026, 3, 15), why, CHANGES[kind])


def test_the_earliest_stop_wins():
    changes = [Change(WITHDRAWAL_TREATMENT, date(2026, 3, 15))]
    late = [DrugEnd(PD1, date(2026, 4, 1), PROGRESSION)]
    early = [DrugEnd(PD1, date(2026, 3, 1), PROGRESSION)]
    assert status.treatment_stop(changes, late, PD1)[0] == date(2026, 3, 15)
    assert status.treatment_stop(changes, early, PD1)[0] == date(2026, 3, 1)


# check_drug_end ---------------------------------------------------------------------------------


def end_errors(new, others=(), *, drugs=RPI, randomized=RANDOMIZED, **known):
    return status.check_drug_end(
        new, others, drugs=drugs, randomized=randomized, today=TODAY, **known
    )


def end(drug=PD1, day=date(2026, 4, 1), reason=PROGRESSION, details=""):
    return DrugEnd(drug, day, reason, details)


def test_an_end_of_treatment_of_a_drug_of_the_arm():
    assert end_errors(end()) == {}
    assert end_errors(end(REGORAFENIB), drugs=RP) == {}
    assert end_errors(end(), randomized=None) == {
        "drug": ["The patient is not randomized: there is no treatment to end."]
    }
    assert end_errors(end(INKT), drugs=RP) == {
        "drug": ["Not a drug of the patient's arm (PD-1 antibody, Regorafenib)."]
    }
    assert end_errors(end(reason="boredom")) == {"reason": ["Choose one of the listed reasons."]}


def test_each_drug_ends_once():
    assert end_errors(end(), [end(day=date(2026, 3, 1))])["drug"] == [
        "The end of treatment with PD-1 antibody is already recorded."
    ]
    assert end_errors(end(), [end(REGORAFENIB), end(INKT)]) == {}


def test_end_dates_against_randomization_and_today():
    assert end_errors(end(day=date(2026, 9, 2)))["date"] == ["Cannot be in the future."]
    assert end_errors(end(day=date(2026, 1, 19)))["date"] == ["Before randomization (20 Jan 2026)."]
    assert end_errors(end(day=RANDOMIZED)) == {}
    assert end_errors(end(day=TODAY)) == {}


def test_reasons_and_their_details():
    sixth = DrugEnd(INKT, date(2026, 3, 30), COMPLETED, "course 6 given")
    assert end_errors(end(INKT, reason=COMPLETED), derived=[sixth]) == {}
    assert end_errors(end(INKT, reason=COMPLETED))["reason"] == [
        "The 6 courses are not all recorded."
    ]
    assert end_errors(end(PD1, reason=COMPLETED))["reason"] == [
        "Only the iNKT cells have a fixed number of courses."
    ]
    assert end_errors(end(reason=OTHER))["details"] == ["Say what the other reason is."]
    assert "details" in end_errors(end(reason=OTHER, details="  "))
    assert end_errors(end(reason=OTHER, details="Moved abroad")) == {}


def test_no_dose_of_that_drug_after_its_end():
    rego = [dose(date(2026, 4, 5), REGORAFENIB, "regorafenib")]
    assert end_errors(end(REGORAFENIB), evidence=rego)["date"] == [
        "Regorafenib was given after it (5 Apr 2026)."
    ]
    assert end_errors(end(PD1), evidence=rego) == {}
    assert end_errors(end(REGORAFENIB), evidence=[scan(date(2026, 4, 5))]) == {}
    last = [dose(date(2026, 4, 1), REGORAFENIB, "regorafenib")]
    assert end_errors(end(REGORAFENIB), evidence=last) == {}  # the last dose that day


def test_the_dose_after_it_is_named_as_written():
    pd1 = [dose(date(2026, 4, 15))]
    treatment = errors(Change(WITHDRAWAL_TREATMENT, date(2026, 4, 1)), evidence=pd1)
    assert treatment["date"] == ["A dose of the PD-1 antibody is recorded after it (15 Apr 2026)."]
    inkt = [dose(date(2026, 4, 15), INKT, "course 3 of iNKT cells")]
    assert end_errors(end(INKT), evidence=inkt)["date"] == [
        "Course 3 of iNKT cells was given after it (15 Apr 2026)."
    ]


def test_no_end_of_treatment_after_the_death():
    changes = [death(date(2026, 3, 31))]
    assert end_errors(end(), changes=changes)["date"] == [
        "The patient died on 31 Mar 2026: no end of treatment can be dated after it."
    ]
    assert end_errors(end(day=date(2026, 3, 31)), changes=changes) == {}


# course -----------------------------------------------------------------------------------------


def path(*, randomized=None, drugs=RPI, ends=(), changes=()):
    course = status.course(
        enrolled=ENROLLED, randomized=randomized, drugs=drugs, ends=ends, changes=changes
    )
    return [(t.date, t.state, t.reason) for t in course]


STUDY = (ENROLLED, ON_STUDY, "Enrolled")
TREATED = (RANDOMIZED, ON_TREATMENT, "Randomized")


def test_enrolled_then_randomized():
    assert path() == [STUDY]
    assert path(randomized=RANDOMIZED) == [STUDY, TREATED]


def test_treatment_goes_on_while_a_drug_of_the_arm_goes_on():
    ends = [end(PD1), end(REGORAFENIB)]
    assert path(randomized=RANDOMIZED, ends=ends) == [STUDY, TREATED]


def test_in_follow_up_when_every_drug_has_stopped_on_the_last_stop():
    ends = [
        end(REGORAFENIB, date(2026, 4, 1)),
        end(INKT, date(2026, 3, 1), COMPLETED),
        end(PD1, date(2026, 4, 10), "toxicity"),
    ]
    assert path(randomized=RANDOMIZED, ends=ends)[-1] == (
        date(2026, 4, 10),
        IN_FOLLOW_UP,
        "End of treatment with iNKT cells (completed the 6 courses); end of treatment with "
        "Regorafenib (disease progression); end of treatment with PD-1 antibody (unacceptable "
        "toxicity)",
    )


def test_the_rp_arm_needs_only_its_two_drugs_to_stop():
    ends = [end(PD1), end(REGORAFENIB, date(2026, 4, 3))]
    assert path(randomized=RANDOMIZED, drugs=RP, ends=ends)[-1][:2] == (
        date(2026, 4, 3),
        IN_FOLLOW_UP,
    )


def test_withdrawal_of_consent_to_treatment_leads_to_follow_up_on_its_date():
    changes = [Change(WITHDRAWAL_TREATMENT, date(2026, 3, 5))]
    assert path(randomized=RANDOMIZED, changes=changes) == [
        STUDY,
        TREATED,
        (
            date(2026, 3, 5),
            IN_FOLLOW_UP,
            "Withdrawal of consent to treatment (follow-up continues)",
        ),
    ]


def test_an_end_of_study_in_follow_up_closes_the_course():
    ends = [end(PD1), end(REGORAFENIB)]
    changes = [Change(LOST, date(2026, 6, 1))]
    assert path(randomized=RANDOMIZED, drugs=RP, ends=ends, changes=changes)[-2:] == [
        (
            date(2026, 4, 1),
            IN_FOLLOW_UP,
            "End of treatment with PD-1 antibody (disease "
            "progression); end of treatment with Regorafenib (disease progression)",
        ),
        (date(2026, 6, 1), OFF_STUDY_STATE, "Lost to follow-up"),
    ]


def test_a_death_on_treatment_goes_straight_to_off_study():
    assert path(randomized=RANDOMIZED, changes=[death(cause="Sepsis")]) == [
        STUDY,
        TREATED,
        (date(2026, 5, 1), OFF_STUDY_STATE, "Death (Sepsis)"),
    ]


def test_off_study_before_randomization():
    changes = [Change(WITHDRAWAL_ALL, date(2026, 1, 15))]
    assert path(randomized=RANDOMIZED, changes=changes) == [
        STUDY,
        (date(2026, 1, 15), OFF_STUDY_STATE, "Withdrawal of consent to all further data"),
    ]


def test_drugs_of_each_arm():
    assert status.drugs_of_arm(True) == ("inkt", "pd1", "regorafenib")
    assert status.drugs_of_arm(False) == ("pd1", "regorafenib")


def test_a_death_after_the_contact_that_confirmed_it_is_refused():
    confirming = [Evidence(date(2026, 5, 3), status.DEATH_CONFIRMED, "a contact")]
    assert errors(death(date(2026, 5, 2)), evidence=confirming) == {}
    late = errors(death(date(2026, 5, 4)), evidence=confirming)
    assert late["date"] == ["A contact confirmed the death on 3 May 2026."]


def test_an_end_of_study_before_a_later_withdrawal_of_consent_to_treatment_is_refused():
    withdrawal = Change(WITHDRAWAL_TREATMENT, date(2026, 4, 1))
    assert errors(Change(LOST, date(2026, 5, 1)), [withdrawal]) == {}
    early = errors(Change(LOST, date(2026, 3, 1)), [withdrawal])
    assert early["date"] == [
        "Withdrawal of consent to treatment (follow-up continues) is recorded after it "
        "(1 Apr 2026)."
    ]


def test_discontinued_by_the_backbone_reason_only():
    inkt = status.Stop(
        date(2026, 5, 1), "end of treatment with iNKT cells", "Completed the 6 courses"
    )
    pd1 = status.Stop(date(2026, 3, 1), "death", "Unacceptable toxicity")
    rego = status.Stop(date(2026, 4, 1), "x", "Disease progression")
    assert status.discontinued({INKT: inkt, PD1: pd1, REGORAFENIB: rego}, RPI) == (
        "Disease progression"  # the backbone's last stop, never the iNKT-only reason
    )
    assert status.discontinued({INKT: None, PD1: pd1, REGORAFENIB: rego}, RPI) is None
    assert status.discontinued({PD1: pd1, REGORAFENIB: rego}, RP) == "Disease progression"
    assert status.discontinued({PD1: pd1, REGORAFENIB: None}, RP) is None


def test_a_form_is_still_owed_after_a_stop_only_if_its_window_had_opened():
    stop = date(2026, 5, 10)
    assert status.still_owed(date(2026, 5, 10), stop)
    assert not status.still_owed(date(2026, 5, 11), stop)
    assert status.still_owed(date(2027, 1, 1), None)
