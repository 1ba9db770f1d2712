"""Per-patient endpoints: every censoring rule of the spec (FDA 2018 table) on hand-worked
cases. Day 0 is 2026-01-01; imaging every 56 days +/- 7, so 'two missed' is more than 126
days after the last adequate assessment."""

from datetime import date, timedelta

import pytest

from outcomes import endpoints as ep

START = date(2026, 1, 1)
CUTOFF = date(2027, 6, 1)


def day(n):
    return START + timedelta(days=n)


def series(*timepoints, best="SD", first_response=None, progression=None):
    return ep.Series(
        tuple(ep.Timepoint(day(d), r) for d, r in timepoints),
        best,
        first_response and day(first_response),
        progression and day(progression),
    )


def patient(mrecist=None, irecist=None, **facts):
    values = {
        "key": "INKT-001",
        "arm": "RPI",
        "start": START,
        "baseline_scan": True,
        "series": {ep.MRECIST: mrecist, ep.IRECIST: irecist},
    }
    values.update(facts)
    return ep.Patient(**values)


def test_progression_at_an_assessment_is_the_event():
    p = patient(series((56, "SD"), (112, "PD"), progression=112))
    result = ep.pfs(p, ep.MRECIST, CUTOFF)
    assert (result.param, result.days, result.event) == ("PFS", 112, True)
    assert result.reason == "progression by mRECIST"
    assert result.months == round(112 / 30.4375, 4)


def test_no_progression_no_death_censored_at_last_adequate_assessment():
    p = patient(series((56, "SD"), (112, "PR"), (168, "NE")))
    result = ep.pfs(p, ep.MRECIST, CUTOFF)
    assert (result.days, result.event) == (112, False)  # the NE timepoint is not adequate
    assert "last adequate assessment" in result.reason


def test_no_baseline_and_no_post_baseline_assessment():
    none_at_baseline = ep.pfs(patient(series(), baseline_scan=False), ep.MRECIST, CUTOFF)
    assert (none_at_baseline.days, none_at_baseline.event) == (0, False)
    assert "no baseline" in none_at_baseline.reason
    nothing_after = ep.pfs(patient(series()), ep.MRECIST, CUTOFF)
    assert (nothing_after.days, nothing_after.event) == (0, False)
    assert "no post-baseline assessment" in nothing_after.reason


def test_death_before_the_first_assessment_is_an_event():
    result = ep.pfs(patient(series(), death=day(30)), ep.MRECIST, CUTOFF)
    assert (result.days, result.event, result.reason) == (30, True, "death")


def test_death_after_two_missed_assessments_is_censored():
    # last adequate day 56; death on day 183 = 127 days later (> 126): censored at day 56
    late = ep.pfs(patient(series((56, "SD")), death=day(183)), ep.MRECIST, CUTOFF)
    assert (late.days, late.event) == (56, False)
    assert "two or more missed" in late.reason and "126" in late.reason
    # 126 days later is still within the rule: an event
    close = ep.pfs(patient(series((56, "SD")), death=day(182)), ep.MRECIST, CUTOFF)
    assert (close.days, close.event) == (182, True)
    # no assessment at all: the gap runs from day 0
    early = ep.pfs(patient(series(), death=day(127)), ep.MRECIST, CUTOFF)
    assert (early.days, early.event) == (0, False)


def test_new_therapy_before_progression_censors_before_it():
    p = patient(series((56, "SD"), (112, "SD"), (168, "PD"), progression=168), new_therapy=day(130))
    result = ep.pfs(p, ep.MRECIST, CUTOFF)
    assert (result.days, result.event) == (112, False)
    assert "new anticancer therapy" in result.reason


def test_cutoff_hides_what_came_after_it():
    p = patient(series((56, "SD"), (112, "PD"), progression=112), death=day(200))
    result = ep.pfs(p, ep.MRECIST, day(100))
    assert (result.days, result.event) == (56, False)
    os_ = ep.overall_survival(patient(series(), death=day(200), last_alive=day(150)), day(100))
    assert (os_.days, os_.event) == (0, False)  # known alive on day 150 is after the cut-off


def test_irecist_progression_is_the_confirmed_iupd_date():
    p = patient(
        series((56, "PR"), progression=None),
        series(
            (56, "iPR"),
            (112, "iUPD"),
            (168, "iCPD"),
            best="iPR",
            first_response=56,
            progression=112,
        ),
    )
    result = ep.pfs(p, ep.IRECIST, CUTOFF)
    assert (result.param, result.days, result.event) == ("PFSI", 112, True)


def test_ttp_censors_deaths_at_the_last_adequate_assessment():
    p = patient(series((56, "SD")), death=day(90))
    result = ep.ttp(p, ep.MRECIST, CUTOFF)
    assert (result.param, result.days, result.event) == ("TTP", 56, False)
    assert "death without progression" in result.reason


def test_overall_survival():
    dead = ep.overall_survival(patient(series(), death=day(400)), CUTOFF)
    assert (dead.days, dead.event) == (400, True)
    alive = ep.overall_survival(patient(series(), last_alive=day(300)), CUTOFF)
    assert (alive.days, alive.event) == (300, False)
    long = ep.overall_survival(patient(series(), last_alive=day(1200)), day(1300))
    assert (long.days, long.event) == (round(36 * 30.4375), False)  # 36-month time frame
    assert "administrative" in long.reason


def test_duration_of_response_for_responders_only():
    responder = patient(
        series((56, "PR"), (112, "PR"), (168, "PD"), best="PR", first_response=56, progression=168)
    )
    result = ep.dor(responder, ep.MRECIST, CUTOFF)
    assert (result.param, result.days, result.event) == ("DOR", 112, True)
    ongoing = patient(series((56, "PR"), (112, "PR"), best="PR", first_response=56))
    censored = ep.dor(ongoing, ep.MRECIST, CUTOFF)
    assert (censored.days, censored.event) == (56, False)
    assert ep.dor(patient(series((56, "SD"))), ep.MRECIST, CUTOFF) is None


def test_pfs_horizon_of_24_months():
    p = patient(series(*[(56 * k, "SD") for k in range(1, 16)]))
    result = ep.pfs(p, ep.MRECIST, day(900))
    assert (result.days, result.event) == (round(24 * 30.4375), False)


def test_time_to_deterioration_runs_from_day_0():
    scores = [(day(-3), 50.0), (day(56), 33.3), (day(112), 30.0)]
    result = ep.time_to_deterioration(patient(series(), qol={"QL2": scores}), "QL2", CUTOFF)
    assert (result.param, result.days, result.event) == ("TTDQL2", 56, True)
    later = ep.time_to_deterioration(patient(series(), qol={"QL2": scores}), "QL2", day(100))
    assert (later.days, later.event) == (56, False)  # the confirming visit is after the cut-off


def test_every_row_of_a_patient():
    rows = ep.patient_endpoints(patient(series((56, "SD")), series((56, "iSD"))), CUTOFF)
    params = [r.param for r in rows]
    assert params[:5] == ["PFS", "TTP", "PFSI", "TTPI", "OS"]
    assert "TTDQL2" in params and "TTDSUM" in params and len(params) == 5 + 16


@pytest.mark.parametrize("best", ["CR", "PR", "iCR", "iPR"])
def test_response_sets(best):
    assert best in ep.RESPONDED and best in ep.CONTROLLED


def test_no_accepted_series_yet_counts_deaths_only():
    waiting = patient(None, None)
    assert ep.pfs(waiting, ep.MRECIST, CUTOFF).days == 0
    died = ep.pfs(patient(None, None, death=day(40)), ep.IRECIST, CUTOFF)
    assert (died.days, died.event) == (40, True)
    assert ep.dor(waiting, ep.MRECIST, CUTOFF) is None


def test_progression_after_two_missed_assessments_is_censored():
    # SD at day 56, then nothing until PD at day 300 (244 days later, more than 126)
    late = patient(series((56, "SD"), (300, "PD"), progression=300))
    for result in (ep.pfs(late, ep.MRECIST, CUTOFF), ep.ttp(late, ep.MRECIST, CUTOFF)):
        assert (result.days, result.event) == (56, False)
        assert "two or more missed" in result.reason
    responder = patient(
        series((56, "PR"), (400, "PD"), best="PR", first_response=56, progression=400)
    )
    dor = ep.dor(responder, ep.MRECIST, CUTOFF)
    assert (dor.days, dor.event) == (0, False)


def test_irecist_progression_confirmed_after_the_cutoff_does_not_count():
    s = ep.Series(
        (ep.Timepoint(day(56), "iSD"), ep.Timepoint(day(112), "iUPD")),
        "iSD",
        None,
        day(112),
        confirmed_on=day(170),
    )
    result = ep.pfs(patient(None, s), ep.IRECIST, day(150))
    assert (result.days, result.event) == (112, False)


def test_without_an_accepted_series_the_reason_says_so():
    result = ep.pfs(patient(None, None, death=day(150)), ep.MRECIST, CUTOFF)
    assert (result.days, result.event) == (0, False)
    assert result.reason.endswith("(no accepted read series yet)")


def test_time_to_deterioration_stops_at_24_months():
    scores = [(day(-3), 50.0), (day(56 * 19), 48.0)]
    result = ep.time_to_deterioration(patient(series(), qol={"QL2": scores}), "QL2", day(1200))
    assert (result.days, result.event) == (round(24 * 30.4375), False)


def test_known_alive_after_the_cutoff_is_censored_on_the_cutoff_date():
    """A patient alive at the cut-off (a later record shows it) is censored on the cut-off
    date, not at the last contact before it; what came after is never an event."""
    cutoff = day(400)
    later_contact = patient(series(), last_alive=day(300), alive_after_cutoff=True)
    result = ep.overall_survival(later_contact, cutoff)
    assert (result.days, result.event, result.end) == (400, False, cutoff)
    assert "alive at data cut-off" in result.reason
    no_news = ep.overall_survival(patient(series(), last_alive=day(300)), cutoff)
    assert (no_news.days, no_news.event) == (300, False)
    died_later = patient(series(), last_alive=day(300), death=day(450), alive_after_cutoff=True)
    assert ep.overall_survival(died_later, cutoff).event is False
    assert "known alive after the cut-off" in ep.CONVENTIONS


def test_a_response_after_a_new_therapy_makes_no_responder_and_no_dor_row():
    """RECIST 1.1 / FDA 2018: best overall response counts the scans up to the start of a new
    anticancer therapy; a PR seen under the new therapy is not the study treatment's."""
    after = patient(series((56, "SD"), (112, "PR"), (168, "PR")), new_therapy=day(100))
    assert ep.best_response(after, ep.MRECIST, CUTOFF) == "SD"  # day 56 >= day 42
    assert ep.dor(after, ep.MRECIST, CUTOFF) is None
    before = patient(series((56, "PR"), (112, "PR"), (168, "PD")), new_therapy=day(130))
    assert ep.best_response(before, ep.MRECIST, CUTOFF) == "PR"
    row = ep.dor(before, ep.MRECIST, CUTOFF)
    assert (row.days, row.event) == (112 - 56, False)  # censored at the last scan before it


def test_best_response_counts_only_the_24_month_time_frame():
    late = patient(series((56, "SD"), (112, "SD"), (760, "PR")))
    assert ep.best_response(late, ep.MRECIST, day(900)) == "SD"
    assert ep.dor(late, ep.MRECIST, day(900)) is None


def test_a_patient_randomized_on_the_cutoff_day_is_censored_at_day_0_on_it():
    today = patient(series(), start=CUTOFF, qol={"QL2": [(CUTOFF, 60.0)]})
    rows = ep.patient_endpoints(today, CUTOFF)
    assert rows and all(r.end == CUTOFF and r.days == 0 and not r.event for r in rows)
    ttd = next(r for r in rows if r.param == "TTDQL2")
    assert "no follow-up score" in ttd.reason and "cut-off" in ttd.reason


def test_no_row_of_any_patient_ends_after_the_cutoff():
    """A bounded fuzz over random histories: every analysis date is on or before the cut-off
    and on or after the start."""
    import random

    rng = random.Random(2026)
    responses = ["CR", "PR", "SD", "NN", "PD", "NE"]
    for _ in range(400):
        start = START + timedelta(days=rng.randint(0, 600))
        cutoff = start + timedelta(days=rng.randint(0, 900))
        visits = sorted(rng.sample(range(1, 1000), rng.randint(0, 8)))
        points = [(start + timedelta(days=v), rng.choice(responses)) for v in visits]
        pd = next((d for d, r in points if r == "PD"), None)
        mrecist = ep.Series(tuple(ep.Timepoint(d, r) for d, r in points), "NE", None, pd)
        qol = sorted(
            (start + timedelta(days=rng.randint(-10, 900)), rng.uniform(0, 100))
            for _ in range(rng.randint(0, 6))
        )
        facts = ep.Patient(
            key="INKT-X",
            arm="RP",
            start=start,
            baseline_scan=rng.random() < 0.9,
            series={ep.MRECIST: mrecist, ep.IRECIST: None},
            death=rng.choice([None, start + timedelta(days=rng.randint(0, 1000))]),
            last_alive=start + timedelta(days=rng.randint(0, 1000)),
            new_therapy=rng.choice([None, start + timedelta(days=rng.randint(0, 1000))]),
            alive_after_cutoff=rng.random() < 0.5,
            qol={"QL2": qol, "SUM": qol},
        )
        for row in ep.patient_endpoints(facts, cutoff):
            assert start <= row.end <= cutoff, (row, cutoff)
            assert row.days == (row.end - start).days or row.param.startswith("DOR")
