"""Permuted blocks of random size: balance, block sizes, reproducibility, uploaded files."""

from collections import Counter

import pytest

from randomization import sequence as seq

ARMS = ("RPI", "RP")


def test_same_seed_gives_the_identical_sequence():
    first = seq.generate(seed=20230801, length=84, block_sizes=(2, 4, 6), arms=ARMS)
    again = seq.generate(seed=20230801, length=84, block_sizes=(2, 4, 6), arms=ARMS)
    assert first == again


def test_a_different_seed_gives_a_different_sequence():
    a = seq.generate(seed=1, length=84, block_sizes=(2, 4, 6), arms=ARMS)
    b = seq.generate(seed=2, length=84, block_sizes=(2, 4, 6), arms=ARMS)
    assert [s.arm for s in a] != [s.arm for s in b]


@pytest.mark.parametrize("sizes", [(2, 4, 6), (4, 8), (2, 6), (2, 4, 6, 8, 10)])
def test_many_generated_sequences_are_balanced_in_every_block_with_sizes_as_configured(sizes):
    used = Counter()
    for seed in range(400):
        slots = seq.generate(seed=seed, length=100, block_sizes=sizes, arms=ARMS)
        assert seq.block_balance(slots, ARMS)
        assert [s.position for s in slots] == list(range(1, len(slots) + 1))
        assert 100 <= len(slots) < 100 + max(sizes)
        blocks = {}
        for s in slots:
            blocks.setdefault(s.block, []).append(s)
        for members in blocks.values():
            assert len(members) == members[0].block_size
            assert members[0].block_size in sizes
            used[members[0].block_size] += 1
    assert set(used) == set(sizes)
    # Sizes are drawn uniformly: each within 10% of its expected share.
    total = sum(used.values())
    for size in sizes:
        assert abs(used[size] / total - 1 / len(sizes)) < 0.1 / len(sizes) * 3


def test_overall_allocation_is_balanced_at_each_block_end():
    slots = seq.generate(seed=7, length=84, block_sizes=(2, 4, 6), arms=ARMS)
    running = Counter()
    for i, s in enumerate(slots):
        running[s.arm] += 1
        is_block_end = i + 1 == len(slots) or slots[i + 1].block != s.block
        if is_block_end:
            assert running["RPI"] == running["RP"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"length": 50}, "at least 84"),
        ({"block_sizes": (3,)}, "Block size 3"),
        ({"block_sizes": ()}, "two different block sizes"),
        ({"arms": ("A", "A")}, "two distinct arms"),
        ({"length": 10**6}, "at most"),
    ],
)
def test_bad_parameters_are_refused(kwargs, message):
    params = {"seed": 1, "length": 84, "block_sizes": (2, 4), "arms": ARMS, **kwargs}
    with pytest.raises(seq.SequenceError, match=message):
        seq.generate(**params)


def test_strata_get_distinct_reproducible_seeds():
    assert seq.stratum_seed(5, "") == 5
    assert seq.stratum_seed(5, "A") == seq.stratum_seed(5, "A")
    assert seq.stratum_seed(5, "A") != seq.stratum_seed(5, "B")


def test_csv_round_trip():
    slots = seq.generate(seed=3, length=84, block_sizes=(2, 4, 6), arms=ARMS)
    text = seq.to_csv(("", s) for s in slots)
    parsed, problems = seq.parse_csv(text, arms=ARMS, strata=[""])
    assert problems == []
    assert parsed[""] == slots


def csv_of(rows):
    return "stratum,position,block,arm\n" + "\n".join(",".join(map(str, r)) for r in rows) + "\n"


def balanced_rows(n=84, stratum=""):
    """Blocks of 2 and 4 in turn (positions 1-2, 3-6, 7-8, 9-12...), RPI, RP alternating."""
    rows, block = [], 0
    while len(rows) < n:
        block += 1
        for k in range(2 if block % 2 else 4):
            rows.append((stratum, len(rows) + 1, block, "RP" if k % 2 else "RPI"))
    return rows[:n]


def test_uploaded_file_problems_are_reported_line_by_line():
    rows = balanced_rows()
    rows[4] = ("", 5, 2, "XYZ")  # line 6: unknown arm
    rows[9] = ("", 10, 4, "RPI")  # block 4 (positions 9-12, lines 10-13) now 3 RPI, 1 RP
    text = csv_of(rows)
    _, problems = seq.parse_csv(text, arms=ARMS, strata=[""])
    lines = dict(problems)
    assert "Unknown arm 'XYZ'" in lines[6]
    assert "Block 4" in lines[13] and "not balanced" in lines[13]


def test_positions_must_be_consecutive():
    rows = balanced_rows()
    rows[20] = ("", 99, rows[20][2], rows[20][3])
    _, problems = seq.parse_csv(csv_of(rows), arms=ARMS, strata=[""])
    assert any(line == 22 and "expected 21" in msg for line, msg in problems)


def test_missing_column_and_short_sequence_are_refused():
    _, problems = seq.parse_csv("position,arm\n1,RPI\n", arms=ARMS, strata=[""])
    assert problems == [(1, "Missing column(s): block.")]
    _, problems = seq.parse_csv(csv_of(balanced_rows(20)), arms=ARMS, strata=[""])
    assert any("at least 84" in msg for _, msg in problems)


def test_block_split_in_two_is_refused():
    rows = balanced_rows()
    rows[1] = ("", 2, 2, "RP")  # block 1, then block 2, then block 1 again
    rows[2] = ("", 3, 1, "RP")
    _, problems = seq.parse_csv(csv_of(rows), arms=ARMS, strata=[""])
    assert any("not contiguous" in msg for _, msg in problems)


def test_stratified_upload_needs_known_strata():
    rows = balanced_rows(84, "A") + balanced_rows(84, "B")
    parsed, problems = seq.parse_csv(csv_of(rows), arms=ARMS, strata=["A", "B"])
    assert problems == [] and set(parsed) == {"A", "B"}
    _, problems = seq.parse_csv(csv_of(rows + [("C", 1, 1, "RP")]), arms=ARMS, strata=["A", "B"])
    assert any("Unknown stratum 'C'" in msg for _, msg in problems)


def test_blocks_all_of_one_size_are_refused_as_guessable():
    rows = [("", i, (i + 1) // 2, "RPI" if i % 2 else "RP") for i in range(1, 85)]
    _, problems = seq.parse_csv(csv_of(rows), arms=ARMS, strata=[""])
    assert any("same size" in msg for _, msg in problems)
    with pytest.raises(seq.SequenceError, match="two different block sizes"):
        seq.generate(seed=1, length=84, block_sizes=(4,), arms=ARMS)


def test_malformed_files_are_problems_not_crashes():
    rows = balanced_rows()
    text = csv_of(rows).replace("\n,3,2,RPI\n", "\n,3,2,RPI,extra\n")
    _, problems = seq.parse_csv(text, arms=ARMS, strata=[""])
    assert (4, "More values than the header has columns.") in problems
    huge = "stratum,position,block,arm\n" + '"' + "x" * 200_000 + '",1,1,RPI\n'
    _, problems = seq.parse_csv(huge, arms=ARMS, strata=[""])
    assert problems and "not a readable CSV" in problems[0][1]
    rows[0] = ("", 1, -1, "RPI")
    _, problems = seq.parse_csv(csv_of(rows), arms=ARMS, strata=[""])
    assert any("start at 1" in msg for _, msg in problems)


def test_huge_blocks_are_refused():
    rows = [("", i, 1, "RPI" if i % 2 else "RP") for i in range(1, 85)]
    _, problems = seq.parse_csv(csv_of(rows), arms=ARMS, strata=[""])
    assert any("at most 20" in msg for _, msg in problems)
    with pytest.raises(seq.SequenceError, match="over the maximum"):
        seq.generate(seed=1, length=84, block_sizes=(2, 10**9), arms=ARMS)


def test_line_numbers_count_blank_lines():
    text = csv_of(balanced_rows()).replace("\n,2,1,RP\n", "\n\n,2,1,XX\n")
    _, problems = seq.parse_csv(text, arms=ARMS, strata=[""])
    assert [line for line, msg in problems if "'XX'" in msg] == [4]
