from datetime import date

import pytest

from assessments import reads
from assessments.recist import Criterion, ReadError

BASE = {
    "targets": [
        {"id": "T1", "organ": "liver", "diameter_mm": 40},
        {"id": "T2", "organ": "lung", "diameter_mm": 30},
    ],
    "non_targets": [{"id": "N1", "organ": "peritoneum"}],
}


def follow(t1, t2=0, **extra):
    return {
        "measurements": [
            {"lesion_id": "T1", "diameter_mm": t1},
            {"lesion_id": "T2", "diameter_mm": t2},
        ],
        "non_targets": {"N1": "present"},
        **extra,
    }


def test_json_series_gives_the_engines_responses():
    series = [
        (date(2026, 1, 1), BASE),
        (date(2026, 3, 1), follow(45)),
        (date(2026, 4, 26), follow(40)),
        (date(2026, 6, 21), follow(52)),
    ]
    result = reads.evaluate_series(series, enrolled=date(2026, 1, 5), criterion=Criterion.MRECIST)
    assert [t.overall for t in result.timepoints] == ["PR", "PR", "PD"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"targets": "x"}, "a list of objects"),
        ({"targets": [{"id": "T1", "organ": "liver", "diameter_mm": "big"}]}, "number of mm"),
        ({"targets": [{"id": "T1", "organ": "liver", "diameter_mm": 900}]}, "outside 0-500"),
        ({"targets": [{"organ": "liver", "diameter_mm": 20}]}, "id: a short text"),
        ({}, "at least one lesion"),
        ([], "an object"),
    ],
)
def test_bad_baseline_json_is_refused_with_reasons(data, message):
    with pytest.raises(ReadError) as refused:
        reads.parse_baseline(date(2026, 1, 1), data)
    assert any(
        message.replace("number of mm", "number of millimetres") in p
        for p in refused.value.problems
    ), refused.value.problems


def test_bad_follow_up_json_is_refused():
    with pytest.raises(ReadError, match="unknown status"):
        reads.parse_follow_up(
            date(2026, 3, 1), {"measurements": [], "non_targets": {"N1": "bigger"}}
        )
    with pytest.raises(ReadError, match="unknown kind"):
        reads.parse_follow_up(
            date(2026, 3, 1), {"new_lesions": [{"id": "L1", "organ": "bone", "kind": "blob"}]}
        )


def test_disagreement_on_a_timepoint_or_the_progression_date():
    enrolled = date(2026, 1, 5)
    one = [
        (date(2026, 1, 1), BASE),
        (date(2026, 3, 1), follow(45)),
        (date(2026, 4, 26), follow(56)),
    ]
    two = [
        (date(2026, 1, 1), BASE),
        (date(2026, 3, 1), follow(45)),
        (date(2026, 4, 26), follow(47)),
    ]
    a = reads.evaluate_series(one, enrolled=enrolled, criterion=Criterion.MRECIST)
    b = reads.evaluate_series(two, enrolled=enrolled, criterion=Criterion.MRECIST)
    found = reads.disagreements(a, b)
    assert any("PD vs PR" in f for f in found) and any("progression" in f for f in found)
    assert reads.disagreements(a, a) == []


def test_cohen_kappa_by_hand():
    # 10 pairs: agree on 7 (PR/PR x4, SD/SD x3); reader 1: PR 5, SD 5; reader 2: PR 6, SD 4
    pairs = [("PR", "PR")] * 4 + [("SD", "SD")] * 3 + [("PR", "SD")] + [("SD", "PR")] * 2
    # observed 0.7; chance (5x6 + 5x4) / 100 = 0.5; kappa (0.7 - 0.5) / 0.5 = 0.4
    assert reads.cohen_kappa(pairs) == 0.4
    assert reads.cohen_kappa([]) is None
    assert reads.cohen_kappa([("PR", "PR")] * 3) == 1.0


def test_visit_schedule_every_56_days_with_a_7_day_window():
    visits = reads.visit_schedule(date(2026, 1, 1), until=date(2026, 5, 1))
    assert [(n, planned) for n, planned, _, _ in visits] == [
        (1, date(2026, 2, 26)),
        (2, date(2026, 4, 23)),
    ]
    assert visits[0][2:] == (date(2026, 2, 19), date(2026, 3, 5))


def test_visit_schedule_stops_at_24_months_after_its_13th_visit():
    start = date(2026, 1, 1)
    visits = reads.visit_schedule(start, until=date(2030, 1, 1))
    assert len(visits) == 13  # day 728; a 14th (day 784) is past 730 days
    assert (visits[-1][1] - start).days == 728


def test_a_scan_files_to_its_visit_until_the_next_window_opens():
    opens = date(2026, 2, 19)  # visit 1 of a patient randomized on 1 Jan 2026
    assert not reads.files_to_visit(opens, date(2026, 2, 18))
    assert reads.files_to_visit(opens, opens)
    assert reads.files_to_visit(opens, date(2026, 4, 15))  # late, still visit 1
    assert not reads.files_to_visit(opens, date(2026, 4, 16))  # visit 2's window opens


def test_new_lesion_porta_hepatis_flag_is_parsed_strictly_and_stored():
    node = {"id": "P1", "organ": "porta hepatis", "kind": "lymph_node", "diameter_mm": 15}
    read = reads.parse_follow_up(
        date(2026, 3, 1), {"new_lesions": [{**node, "porta_hepatis": True}]}
    )
    assert read.new_lesions[0].porta_hepatis is True
    assert reads.to_json(read)["new_lesions"][0]["porta_hepatis"] is True
    assert (
        reads.parse_follow_up(date(2026, 3, 1), {"new_lesions": [node]})
        .new_lesions[0]
        .porta_hepatis
        is False
    )
    with pytest.raises(ReadError, match="porta_hepatis must be true or false"):
        reads.parse_follow_up(
            date(2026, 3, 1), {"new_lesions": [{**node, "porta_hepatis": "true"}]}
        )


PORTA_17 = {
    "targets": [
        {"id": "T1", "organ": "liver", "diameter_mm": 40},
        {
            "id": "N1",
            "organ": "porta hepatis",
            "diameter_mm": 17,
            "nodal": True,
            "porta_hepatis": True,
        },
    ]
}


def test_baseline_read_takes_a_porta_hepatis_node_of_15_to_20_mm_with_a_warning():
    day = date(2026, 1, 1)
    assert [t.id for t in reads.parse_baseline(day, PORTA_17).targets] == ["T1", "N1"]
    (warning,) = reads.baseline_warnings(day, PORTA_17)
    assert warning.startswith("Lesion N1:") and "iRECIST only" in warning
    series = [
        (day, PORTA_17),
        (
            date(2026, 3, 1),
            {
                "measurements": [
                    {"lesion_id": "T1", "diameter_mm": 40},
                    {"lesion_id": "N1", "diameter_mm": 17},
                ]
            },
        ),
    ]
    enrolled = date(2026, 1, 5)
    by_m = reads.evaluate_series(series, enrolled=enrolled, criterion=Criterion.MRECIST)
    by_i = reads.evaluate_series(series, enrolled=enrolled, criterion=Criterion.IRECIST)
    assert (by_m.baseline_sum, by_i.baseline_sum) == (40, 57)


def test_baseline_read_refuses_a_porta_hepatis_node_under_15_mm():
    small = {"targets": [{**PORTA_17["targets"][1], "diameter_mm": 14}]}
    with pytest.raises(ReadError) as refused:
        reads.parse_baseline(date(2026, 1, 1), small)
    assert refused.value.problems == [
        "Lesion N1: a target lymph node needs a short axis of at least 15 mm (14 mm)."
    ]
    assert reads.baseline_warnings(date(2026, 1, 1), small) == []
