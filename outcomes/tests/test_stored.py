"""How a run's results are kept (pure): the one document of older runs and the summary with a
row per patient give the same results; the exports' streamed text is the text of the whole."""

import json

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
