import pytest

from safety.tables import Event, csv_rows, percent, safety_table

GI, BLOOD = "Gastrointestinal disorders", "Blood and lymphatic system disorders"
IRR_SOC = "Injury, poisoning and procedural complications"

# Five treated patients: three RPI (a, b, c), two RP (d, e); f was never treated.
POPULATION = {"a": "RPI", "b": "RPI", "c": "RPI", "d": "RP", "e": "RP"}
EVENTS = [
    Event("a", GI, "Diarrhea", 1),
    Event("a", GI, "Diarrhea", 3, serious=True),  # a's worst diarrhoea: grade 3
    Event("a", GI, "Nausea", 2),
    Event("b", GI, "Diarrhea", 2),
    Event("b", IRR_SOC, "Infusion related reaction", 2),
    Event("b", IRR_SOC, "Infusion related reaction", 1),
    Event("d", BLOOD, "Anemia", 5, serious=True, discontinuation=True),
    Event("d", GI, "Nausea", 1),
    Event("f", GI, "Nausea", 4),  # outside the safety population: ignored
]


def table(**kwargs):
    return safety_table(POPULATION, EVENTS, arms=("RPI", "RP"), infusion_arm="RPI", **kwargs)


def test_summary_counts_patients_once():
    summary = {key: counts for key, _, counts in table().summary}
    assert table().population == {"RPI": 3, "RP": 2}
    assert summary["any"] == {"RPI": 2, "RP": 1}
    assert summary["grade3"] == {"RPI": 1, "RP": 1}
    assert summary["serious"] == {"RPI": 1, "RP": 1}
    assert summary["discontinuation"] == {"RPI": 0, "RP": 1}
    assert summary["fatal"] == {"RPI": 0, "RP": 1}


def test_rows_by_soc_and_term_with_the_worst_grade_per_patient():
    rows = {(r.soc, r.term): r.counts for r in table().rows}
    assert [key for key in rows] == [
        (BLOOD, ""),
        (BLOOD, "Anemia"),
        (GI, ""),
        (GI, "Diarrhea"),
        (GI, "Nausea"),
        (IRR_SOC, ""),
        (IRR_SOC, "Infusion related reaction"),
    ]
    diarrhoea = rows[(GI, "Diarrhea")]["RPI"]
    assert diarrhoea.patients == 2 and diarrhoea.events == 3
    assert diarrhoea.by_worst_grade == {1: 0, 2: 1, 3: 1, 4: 0, 5: 0}
    assert diarrhoea.grade3 == 1
    gi_rpi = rows[(GI, "")]["RPI"]  # a: worst 3 (diarrhoea), b: worst 2
    assert gi_rpi.by_worst_grade == {1: 0, 2: 1, 3: 1, 4: 0, 5: 0}
    gi_rp = rows[(GI, "")]["RP"]  # d's nausea; f is not in the population
    assert (gi_rp.patients, gi_rp.by_worst_grade[1], gi_rp.by_worst_grade[4]) == (1, 1, 0)
    assert rows[(BLOOD, "Anemia")]["RPI"].patients == 0


def test_infusion_reactions_for_the_infusion_arm_only():
    irr, crs = table().infusion
    assert (irr.term, irr.counts["RPI"].patients, irr.counts["RPI"].events) == (
        "Infusion related reaction",
        1,
        2,
    )
    assert irr.counts["RPI"].by_worst_grade[2] == 1
    assert (crs.term, crs.counts["RPI"].patients) == ("Cytokine release syndrome", 0)
    masked = safety_table(
        POPULATION, EVENTS, arms=("RPI", "RP"), hidden_terms=("Infusion related reaction",)
    )
    assert masked.infusion == []
    assert all(r.soc != IRR_SOC for r in masked.rows)
    assert {k: v for k, _, v in masked.summary}["any"] == {"RPI": 2, "RP": 1}


def test_refusals():
    with pytest.raises(ValueError, match="arms not in the table"):
        safety_table({"a": "X"}, [], arms=("RPI", "RP"))
    with pytest.raises(ValueError, match="not a CTCAE grade"):
        safety_table({"a": "RP"}, [Event("a", GI, "Nausea", 6)], arms=("RPI", "RP"))


def test_percent_and_csv():
    assert percent(1, 3) == 33.3 and percent(0, 0) is None
    rows = csv_rows(table(), labels={"RPI": "A", "RP": "B"})
    header, lines = rows[0], rows[1:]
    assert header[:7] == ["section", "soc", "term", "arm", "population", "patients", "percent"]
    first = dict(zip(header, lines[0], strict=True))
    assert (first["term"], first["arm"], first["patients"], first["percent"]) == (
        "Any adverse event",
        "A",
        2,
        66.7,
    )
    diarrhoea = [r for r in lines if r[2] == "Diarrhea" and r[3] == "A"][0]
    assert dict(zip(header, diarrhoea, strict=True))["worst_grade_3"] == 1
    assert [r[0] for r in lines].count("infusion_reactions") == 2
