"""How a run's results are kept (pure): the one document of older runs and the summary with a
row per patient give the same results; the exports' streamed text is the text of the whole."""

import json
from dataclasses import replace
from datetime import date

from outcomes import adam, analysis, exports, stored
from outcomes.tests.test_analysis import CUTOFF, patients


def document():
    """A run's results as runs were once stored: one document."""
    facts = patients()
    results = analysis.analyse(facts, CUTOFF)
    results["arm_codes"] = {"INKT-001": "A", "INKT-002": "B"}
    results["subjects"] = {p.key: {"age": 60, "randomized": p.start.isoformat()} for p in facts}
    results["qol"] = adam.qol_results(facts)
    return results


def test_the_parts_and_the_summary_make_the_document_again():
    whole = document()
    summary = stored.summary_of(whole)
    assert not set(stored.PER_PATIENT) & set(summary)
    assert summary["arm_code_sets"] == {"RP": ["B"], "RPI": ["A"]}
    parts = list(stored.parts_of(whole))
    assert [p.key for p in parts] == ["INKT-001", "INKT-002"]
    assert stored.document(summary, parts) == {**whole, "arm_code_sets": summary["arm_code_sets"]}


def test_each_patient_handed_out_makes_the_same_rows_and_summary():
    whole = document()
    handed = []
    summary = analysis.analyse(
        patients(),
        CUTOFF,
        each=lambda p, adtte, responses: handed.append((p.key, adtte, responses)),
    )
    assert "adtte" not in summary and "responses" not in summary
    assert [key for key, _, _ in handed] == ["INKT-001", "INKT-002"]
    assert [row for _, adtte, _ in handed for row in adtte] == whole["adtte"]
    assert [row for _, _, responses in handed for row in responses] == whole["responses"]
    assert summary["summary"] == whole["summary"] and summary["n"] == whole["n"]


def test_a_masked_readers_labels_are_the_same_from_the_summary_alone():
    whole = document()
    summary = stored.summary_of(whole)
    assert (
        exports.arm_labels(summary, True)
        == exports.arm_labels(whole, True)
        == {
            "RPI": "A",
            "RP": "B",
        }
    )
    uncoded = {**whole, "arm_codes": {}}  # older runs: no codes, '?' for every patient
    assert exports.arm_labels(uncoded, True) == exports.arm_labels(stored.summary_of(uncoded), True)


def test_the_streamed_csv_and_json_are_the_whole_text():
    whole = document()
    meta = {"computed_at": "2027-06-02T10:00:00+00:00", "software_version": "inkt-trial test"}
    for table in ("adtte", "responses"):
        rows = exports.rows(whole, table, masked=True, meta=meta)
        assert "".join(exports.csv_chunks(iter(rows), batch=3)) == exports.to_csv(rows)
        head = {"study": "NCT05962450", "params": {"a": 1}}
        text = "".join(exports.json_chunks(head, iter(rows), json.dumps, batch=3))
        assert text == json.dumps({**head, "rows": rows})
        streamed = exports.each_row(
            stored.summary_of(whole), table, masked=True, meta=meta, source=iter(whole[table])
        )
        assert list(streamed) == rows
    assert "".join(exports.csv_chunks([])) == exports.to_csv([])
    assert json.loads("".join(exports.json_chunks({}, [], json.dumps))) == {"rows": []}


def test_packed_rows_unpack_to_the_same_rows_in_the_same_key_order():
    whole = document()
    for key in ("INKT-001", "INKT-002"):
        rows = [row for row in whole["adtte"] if row["USUBJID"] == key]
        packed = stored.pack(rows)
        assert packed[stored.PACKED] == list(rows[0])  # the keys written once
        assert {"STUDYID", "USUBJID", "ARM", "AVALU", "DCUTDT"} <= set(packed["same"])
        assert "PARAMCD" not in packed["same"]
        back = stored.unpack(json.loads(json.dumps(packed)))
        assert back == rows
        assert [list(row) for row in back] == [list(row) for row in rows]
        assert len(json.dumps(packed)) < len(json.dumps(rows)) / 2


def test_values_equal_in_python_but_not_in_json_are_not_shared():
    rows = [{"a": 1, "b": "x"}, {"a": 1.0, "b": "x"}, {"a": True, "b": "x"}]
    packed = stored.pack(rows)
    assert packed["same"] == {"b": "x"}
    assert json.dumps(stored.unpack(packed)) == json.dumps(rows)
    twice = [{"a": 1, "b": [2]}, {"a": 1, "b": [2]}]  # nothing of their own: still two rows
    assert stored.unpack(json.loads(json.dumps(stored.pack(twice)))) == twice


def test_rows_of_differing_shapes_or_one_row_are_kept_as_they_are():
    assert stored.pack([{"a": 1}]) == [{"a": 1}]
    assert stored.pack([]) == []
    mixed = [{"a": 1, "b": 2}, {"a": 1, "b": 2, "BEST": True}]
    assert stored.pack(mixed) is mixed
    reordered = [{"a": 1, "b": 2}, {"b": 2, "a": 1}]
    assert stored.pack(reordered) is reordered
    assert stored.unpack(mixed) is mixed


def test_scores_on_the_same_dates_pack_and_unpack_as_adam_gives_them():
    d1, d2 = date(2026, 1, 1), date(2026, 3, 1)
    aligned = patients()[0]
    aligned = replace(
        aligned, qol={"QL2": ((d1, 50.0), (d2, None)), "SUM": ((d1, 71.5), (d2, 60.25))}
    )
    packed = stored.pack_scores(aligned.qol)
    assert packed[stored.PACKED] == ["2026-01-01", "2026-03-01"]  # each date once
    unpacked = stored.unpack_scores(json.loads(json.dumps(packed)))
    assert unpacked == adam.qol_results([aligned])[aligned.key]
    assert stored.pack_scores({}) is None and stored.unpack_scores(None) is None
    misaligned = patients()[0].qol  # SUM not scored on the second date: kept as given
    assert stored.pack_scores(misaligned) is None
    assert stored.pack_scores({"QL2": ((d1, 50.0),), "PF2": ((d2, 80.0),)}) is None
    as_given = {"QL2": [["2026-01-01", 50.0]]}
    assert stored.unpack_scores(as_given) is as_given


def test_an_adtte_export_has_the_adam_column_order_however_the_rows_were_kept():
    whole = document()
    assert all(tuple(row) == analysis.ADTTE_COLUMNS for row in whole["adtte"])
    meta = {"computed_at": "2026-12-03T10:00:00+00:00", "software_version": "test"}
    shuffled = [dict(sorted(row.items())) for row in whole["adtte"]]  # as jsonb gives them
    for source in (whole["adtte"], shuffled):
        first = next(exports.each_row(whole, "adtte", masked=False, meta=meta, source=source))
        assert tuple(first)[: len(analysis.ADTTE_COLUMNS)] == analysis.ADTTE_COLUMNS
        assert tuple(first)[len(analysis.ADTTE_COLUMNS) :] == ("COMPDTM", "SOFTVER")
