"""SUSAR rule and expedited-report clocks (ICH E2A; EU 536/2014 art. 42; 21 CFR 312.32)."""

from datetime import date

import pytest

from safety import ctcae
from safety.susar import (
    EXPECTED,
    NOT_SERIOUS,
    NOT_SUSPECTED,
    PENDING,
    REFERENCE_SAFETY_INFORMATION,
    SUSAR,
    check_reports,
    listed,
    proposed_expectedness,
    report_clock,
    susar_status,
)

D0 = date(2026, 3, 2)


def test_every_rsi_term_is_a_ctcae_v5_term_of_the_shipped_list():
    names = {t.term for t in ctcae.read_terms()}
    for drug, terms in REFERENCE_SAFETY_INFORMATION.items():
        missing = sorted(set(terms) - names)
        assert not missing, (drug, missing)


def test_the_rsi_lists_each_drugs_known_reactions():
    assert listed("inkt", "Cytokine release syndrome")
    assert listed("regorafenib", "Palmar-plantar erythrodysesthesia syndrome")
    assert listed("regorafenib", "Upper gastrointestinal hemorrhage")  # any haemorrhage
    assert listed("pd1", "Pneumonitis")
    assert not listed("inkt", "Pneumonitis")
    assert not listed("pd1", "Palmar-plantar erythrodysesthesia syndrome")


def test_other_specify_terms_match_by_their_keywords():
    term = "Hepatobiliary disorders - Other, specify"
    assert listed("pd1", term, "Immune-mediated hepatitis")
    assert not listed("pd1", term, "Cholangitis")
    assert proposed_expectedness("pd1", term, "Cholangitis") == "unexpected"


def status(serious=True, **kw):
    relationships = {d: kw.get(d, "not_related") for d in ("inkt", "pd1", "regorafenib")}
    expectedness = {d: kw.get(f"{d}_exp", "not_assessed") for d in relationships}
    return susar_status(serious=serious, relationships=relationships, expectedness=expectedness)


def test_susar_is_serious_suspected_and_unexpected():
    assert status(pd1="probable", pd1_exp="unexpected") == SUSAR


def test_a_non_serious_event_is_never_a_susar():
    assert status(serious=False, pd1="definite", pd1_exp="unexpected") == NOT_SERIOUS


def test_unlikely_or_not_related_is_not_suspected():
    assert status(pd1="unlikely", pd1_exp="unexpected") == NOT_SUSPECTED
    assert status() == NOT_SUSPECTED


def test_expected_for_the_suspected_drug_is_not_a_susar():
    assert status(regorafenib="possible", regorafenib_exp="expected") == EXPECTED


def test_unexpected_for_one_of_two_suspected_drugs_is_a_susar():
    assert (
        status(
            regorafenib="possible",
            regorafenib_exp="expected",
            pd1="possible",
            pd1_exp="unexpected",
        )
        == SUSAR
    )


def test_unassessed_causality_or_expectedness_is_pending():
    assert status(inkt="not_assessed") == PENDING
    assert status(pd1="possible") == PENDING


@pytest.mark.parametrize(
    "fatal, due, follow_up",
    [(True, date(2026, 3, 9), date(2026, 3, 17)), (False, date(2026, 3, 17), None)],
)
def test_fatal_or_life_threatening_in_7_days_others_in_15(fatal, due, follow_up):
    clock = report_clock(
        aware=D0, fatal_or_life_threatening=fatal, reported=None, followed_up=None, today=D0
    )
    assert (clock.due, clock.follow_up_due, clock.overdue) == (due, follow_up, False)


def test_day_7_is_on_time_day_8_is_late():
    def overdue(today, reported=None):
        return report_clock(
            aware=D0,
            fatal_or_life_threatening=True,
            reported=reported,
            followed_up=None,
            today=today,
        ).overdue

    assert not overdue(date(2026, 3, 9))
    assert overdue(date(2026, 3, 10))
    assert overdue(date(2026, 3, 20), reported=date(2026, 3, 10))  # sent, but late
    assert not overdue(date(2026, 3, 20), reported=date(2026, 3, 9))


def test_the_complete_report_is_due_8_days_after_the_initial_one():
    clock = report_clock(
        aware=D0,
        fatal_or_life_threatening=True,
        reported=date(2026, 3, 4),
        followed_up=None,
        today=date(2026, 3, 13),
    )
    assert clock.follow_up_due == date(2026, 3, 12) and clock.follow_up_overdue


def test_report_dates_refused_where_they_do_not_belong():
    errors = check_reports(
        susar=False,
        aware=D0,
        reported=D0,
        followed_up=None,
        fatal_or_life_threatening=False,
        narrative="x",
        today=D0,
    )
    assert "susar_report_at" in errors
    errors = check_reports(
        susar=True,
        aware=D0,
        reported=date(2026, 3, 1),
        followed_up=date(2026, 3, 3),
        fatal_or_life_threatening=False,
        narrative="",
        today=D0,
    )
    assert set(errors) == {"susar_report_at", "susar_follow_up_at", "narrative"}


def test_a_susar_downgraded_after_its_report_keeps_the_dates_sent():
    kept = dict(
        susar=False,
        aware=D0,
        reported=D0,
        followed_up=None,
        fatal_or_life_threatening=False,
        narrative="x",
        today=D0,
    )
    assert check_reports(**kept, reported_before=True) == {}
    assert "susar_report_at" in check_reports(**kept)
