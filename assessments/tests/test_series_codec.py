"""Evaluated series kept once computed (pure): the key changes with every input, the stored
form reads back as the engine's own result, and a stored evaluation is used, not redone."""

import hashlib
import json
from datetime import date

import pytest

from assessments import reads, series_codec
from assessments.recist import Criterion
from assessments.tests.test_reads import BASE, follow

ENROLLED = date(2026, 1, 5)
SERIES = [
    (date(2026, 1, 1), BASE),
    (date(2026, 3, 1), follow(45)),
    (date(2026, 4, 26), follow(40)),
    (date(2026, 6, 21), follow(52)),
]


def key(series=SERIES, enrolled=ENROLLED, criterion=Criterion.MRECIST):
    return series_codec.key(series, enrolled=enrolled, criterion=criterion)


def test_the_key_is_the_content_of_every_input():
    assert key() == key(list(SERIES))  # equal content, equal key
    assert key() == key([(d, dict(reversed(list(x.items())))) for d, x in SERIES])  # key order
    others = {
        key(criterion=Criterion.IRECIST),
        key(enrolled=date(2026, 1, 6)),
        key(SERIES[:3]),
        key([*SERIES[:3], (date(2026, 6, 22), SERIES[3][1])]),
        key([*SERIES[:3], (SERIES[3][0], follow(53))]),
    }
    assert key() not in others and len(others) == 5


@pytest.mark.parametrize("criterion", list(Criterion))
def test_the_key_is_the_one_stored_series_were_kept_under(criterion):
    """Written out part by part, the key is still the hash of the whole list as json.dumps
    gives it: series stored before are found."""
    text = json.dumps(
        [
            series_codec.ENGINE,
            str(criterion),
            ENROLLED.isoformat(),
            [[d.isoformat(), x] for d, x in SERIES],
        ],
        sort_keys=True,
        separators=(",", ":"),
    )
    assert key(criterion=criterion) == hashlib.sha256(text.encode()).hexdigest()
    assert series_codec.keys(SERIES, enrolled=ENROLLED)[criterion] == key(criterion=criterion)


@pytest.mark.parametrize("criterion", list(Criterion))
def test_a_stored_series_reads_back_as_the_engine_gave_it(criterion):
    series = reads.evaluate_series(SERIES, enrolled=ENROLLED, criterion=criterion)
    assert series.first_response_date is not None and series.timepoints
    assert series_codec.load(series_codec.dump(series)) == series
    assert series_codec.load(json.loads(json.dumps(series_codec.dump(series)))) == series


def test_evaluations_answer_from_what_is_stored_and_remember_what_is_not(monkeypatch):
    first = series_codec.Evaluations()
    first.owner = 7
    evaluated = first.evaluate(SERIES, enrolled=ENROLLED, criterion=Criterion.MRECIST)
    assert (first.hits, first.misses) == (0, 1)
    ((stored_key, (owner, criterion, result)),) = first.new.items()
    assert (stored_key, owner, criterion) == (key(), 7, "mrecist")

    calls = []
    engine = reads.evaluate_series
    monkeypatch.setattr(
        reads, "evaluate_series", lambda *a, **k: calls.append(a) or engine(*a, **k)
    )
    second = series_codec.Evaluations({stored_key: result})
    again = second.evaluate(SERIES, enrolled=ENROLLED, criterion=Criterion.MRECIST)
    assert again == evaluated and calls == [] and second.new == {}
    # what the store holds is what is used: a stored result, not a recomputed one
    altered = {**result, "best_overall_response": "CR"}
    third = series_codec.Evaluations({stored_key: altered})
    assert third.evaluate(SERIES, enrolled=ENROLLED, criterion=Criterion.MRECIST) != evaluated
    # another input is evaluated
    second.evaluate(SERIES[:3], enrolled=ENROLLED, criterion=Criterion.MRECIST)
    assert len(calls) == 1 and second.misses == 1


def test_another_engine_is_another_key(monkeypatch):
    before = key()
    monkeypatch.setattr(series_codec, "ENGINE", "0" * 16)
    assert key() != before


def test_both_criteria_at_once_share_the_stored_keys_of_each():
    first = series_codec.Evaluations()
    both = first.evaluate_criteria(SERIES, enrolled=ENROLLED)
    assert set(first.new) == {key(criterion=c) for c in Criterion} and first.misses == 2
    assert both == {
        c: reads.evaluate_series(SERIES, enrolled=ENROLLED, criterion=c) for c in Criterion
    }
    stored = {k: result for k, (_owner, _c, result) in first.new.items()}
    second = series_codec.Evaluations(stored)
    assert second.evaluate_criteria(SERIES, enrolled=ENROLLED) == both
    assert (second.hits, second.misses, second.new) == (2, 0, {})
    one = series_codec.Evaluations({key(): stored[key()]})  # one criterion stored: both again
    assert one.evaluate_criteria(SERIES, enrolled=ENROLLED) == both and one.misses == 2
