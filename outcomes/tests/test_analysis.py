"""A run's analysis (pure): the fingerprint of its facts, and each patient's rows handed out
one patient at a time."""

import hashlib
import json
from dataclasses import asdict, replace
from datetime import date, timedelta

import pytest

from outcomes import analysis
from outcomes import endpoints as ep

START = date(2026, 1, 1)
CUTOFF = date(2027, 6, 1)


def day(n):
    return START + timedelta(days=n)


def patients():
    mrecist = ep.Series(
        (ep.Timepoint(day(56), "PR"), ep.Timepoint(day(112), "PD")), "PR", day(56), day(112)
    )
    irecist = ep.Series(
        (ep.Timepoint(day(56), "iPR"), ep.Timepoint(day(112), "iUPD")),
        "iPR",
        day(56),
        None,
        unconfirmed_iupd=day(112),
    )
    return [
        ep.Patient(
            key="INKT-002",
            arm="RP",
            start=START,
            baseline_scan=True,
            series={ep.MRECIST: mrecist, ep.IRECIST: irecist},
            death=day(300),
            last_alive=day(290),
            qol={"QL2": ((day(-3), 50.0), (day(56), None)), "SUM": ((day(-3), 71.5),)},
        ),
        ep.Patient(
            key="INKT-001",
            arm="RPI",
            start=day(10),
            baseline_scan=False,
            series={ep.MRECIST: None, ep.IRECIST: None},
            new_therapy=day(200),
            alive_after_cutoff=True,
            awaiting_adjudication=True,
        ),
    ]


def digest_by_deep_copy(facts, cutoff, params):
    """How the digest was computed before: every patient copied, then one JSON text."""
    payload = {
        "cutoff": cutoff.isoformat(),
        "params": asdict(params),
        "patients": [asdict(p) for p in sorted(facts, key=lambda p: p.key)],
    }
    text = json.dumps(payload, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def test_the_digest_is_the_one_runs_stored_before():
    for facts in (patients(), patients()[:1], []):
        assert analysis.digest(facts, CUTOFF, ep.DEFAULTS) == digest_by_deep_copy(
            facts, CUTOFF, ep.DEFAULTS
        )


def test_equal_facts_in_any_order_give_the_same_digest():
    first = analysis.digest(patients(), CUTOFF, ep.DEFAULTS)
    assert analysis.digest(list(reversed(patients())), CUTOFF, ep.DEFAULTS) == first
    assert len(first) == 64


def _changed(facts, index, **changes):
    out = list(facts)
    out[index] = replace(out[index], **changes)
    return out


@pytest.mark.parametrize(
    "change",
    [
        lambda f: _changed(f, 0, key="INKT-003"),
        lambda f: _changed(f, 0, arm="RPI"),
        lambda f: _changed(f, 0, start=day(1)),
        lambda f: _changed(f, 1, baseline_scan=True),
        lambda f: _changed(f, 0, death=day(301)),
        lambda f: _changed(f, 0, last_alive=None),
        lambda f: _changed(f, 1, new_therapy=day(201)),
        lambda f: _changed(f, 1, alive_after_cutoff=False),
        lambda f: _changed(f, 1, awaiting_adjudication=False),
        lambda f: _changed(f, 0, qol={**f[0].qol, "QL2": ((day(-3), 50.5), (day(56), None))}),
        lambda f: _changed(
            f,
            0,
            series={
                **f[0].series,
                ep.MRECIST: replace(
                    f[0].series[ep.MRECIST],
                    timepoints=(ep.Timepoint(day(56), "PR"), ep.Timepoint(day(113), "PD")),
                ),
            },
        ),
        lambda f: _changed(
            f,
            0,
            series={
                **f[0].series,
                ep.IRECIST: replace(f[0].series[ep.IRECIST], unconfirmed_iupd=None),
            },
        ),
        lambda f: f[:1],
    ],
)
def test_any_changed_fact_changes_the_digest(change):
    facts = patients()
    assert analysis.digest(change(facts), CUTOFF, ep.DEFAULTS) != analysis.digest(
        facts, CUTOFF, ep.DEFAULTS
    )


def test_the_cutoff_and_the_parameters_change_the_digest():
    facts = patients()
    same = analysis.digest(facts, CUTOFF, ep.DEFAULTS)
    assert analysis.digest(facts, CUTOFF + timedelta(days=1), ep.DEFAULTS) != same
    sensitivity = ep.Params(death_is_ttd_event=True)
    assert analysis.digest(facts, CUTOFF, sensitivity) != same
