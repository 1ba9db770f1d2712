"""Allocation sequences: permuted blocks of randomly varying size, 1:1 within every block.

Pure module (no Django). Sources: Altman DG, Bland JM. How to randomise. BMJ 1999;319:703-4
(permuted blocks, random block sizes so the next allocation cannot be guessed); Schulz KF,
Grimes DA. Allocation concealment in randomised trials. Lancet 2002;359:614-8.

A sequence is generated from a recorded integer seed with Python's Mersenne Twister
(`random.Random`). Python guarantees `random()` for a given seed across versions, not
`choice`/`shuffle`; so every draw here is made from `random()` itself, and the same seed, sizes
and length give the same sequence on any Python.
"""

from __future__ import annotations

import csv
import hashlib
import io
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from randomization import protocol


@dataclass(frozen=True)
class Slot:
    position: int  # 1-based, consecutive within a stratum
    block: int  # 1-based block number
    block_size: int
    arm: str


class SequenceError(ValueError):
    """A sequence or its parameters refused, with one message per problem."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("; ".join(problems))


def check_parameters(*, length: int, block_sizes: Sequence[int], arms: Sequence[str]) -> None:
    problems = []
    if len(arms) != 2 or len(set(arms)) != 2:
        problems.append("Exactly two distinct arms are needed for 1:1 allocation.")
    if len(set(block_sizes)) < 2:
        problems.append(
            "Give at least two different block sizes: with one size the next allocations could "
            "be guessed."
        )
    for size in block_sizes:
        if size < 2 or size % 2:
            problems.append(
                f"Block size {size} cannot hold the two arms 1:1 (use even sizes >= 2)."
            )
        elif size > protocol.MAX_BLOCK_SIZE:
            problems.append(f"Block size {size} is over the maximum of {protocol.MAX_BLOCK_SIZE}.")
    if length < protocol.TARGET_PATIENTS:
        problems.append(f"The length must be at least {protocol.TARGET_PATIENTS}.")
    if length > protocol.MAX_SEQUENCE_LENGTH:
        problems.append(f"The length must be at most {protocol.MAX_SEQUENCE_LENGTH}.")
    if problems:
        raise SequenceError(problems)


def generate(
    *, seed: int, length: int, block_sizes: Sequence[int], arms: Sequence[str]
) -> list[Slot]:
    """Whole blocks until at least `length` slots: each block's size is drawn uniformly from
    `block_sizes`, and it holds size/2 of each arm in random order. The last block is kept
    whole (balance over cutting at `length`), so the sequence may be a few slots longer."""
    check_parameters(length=length, block_sizes=block_sizes, arms=arms)
    rng = random.Random(seed)
    sizes = sorted(set(block_sizes))
    slots: list[Slot] = []
    block = 0
    while len(slots) < length:
        block += 1
        size = sizes[_below(rng, len(sizes))]
        content = [arms[0]] * (size // 2) + [arms[1]] * (size // 2)
        for i in range(len(content) - 1, 0, -1):  # Fisher-Yates
            j = _below(rng, i + 1)
            content[i], content[j] = content[j], content[i]
        slots += [
            Slot(position=len(slots) + i + 1, block=block, block_size=size, arm=arm)
            for i, arm in enumerate(content)
        ]
    return slots


def _below(rng: random.Random, n: int) -> int:
    """A uniform integer in [0, n) from `random()` alone (n is small here)."""
    return min(int(rng.random() * n), n - 1)


def stratum_seed(seed: int, stratum: str) -> int:
    """Each stratum's own seed, derived from the master seed and the stratum's name (SHA-256),
    so that strata are independent and each one is reproducible on its own."""
    if not stratum:
        return seed
    digest = hashlib.sha256(f"{seed}:{stratum}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


CSV_COLUMNS = ("stratum", "position", "block", "arm")


def to_csv(rows: Iterable[tuple[str, Slot]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for stratum, slot in rows:
        writer.writerow([stratum, slot.position, slot.block, slot.arm])
    return out.getvalue()


def parse_csv(
    text: str, *, arms: Sequence[str], strata: Sequence[str]
) -> tuple[dict[str, list[Slot]], list[tuple[int, str]]]:
    """Read an uploaded sequence: columns stratum (may be empty when not stratified), position,
    block, arm. Returns the slots per stratum and the problems as (line number, message); the
    sequence is usable only when there are no problems."""
    try:
        return _parse_csv(text, arms=arms, strata=strata)
    except csv.Error as error:
        return {}, [(0, f"The file is not a readable CSV: {error}.")]


def _parse_csv(text, *, arms, strata):
    problems: list[tuple[int, str]] = []
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in ("position", "block", "arm") if c not in header]
    if missing:
        return {}, [(1, f"Missing column(s): {', '.join(missing)}.")]
    per_stratum: dict[str, list[tuple[int, int, int, str]]] = {}
    for row in reader:
        line = reader.line_num
        if None in row:  # more values than columns
            problems.append((line, "More values than the header has columns."))
            continue
        row = {(k or "").strip(): (v or "").strip() for k, v in row.items()}
        stratum, arm = row.get("stratum", ""), row["arm"]
        bad = []
        if stratum not in strata:
            bad.append(f"unknown stratum {stratum!r} (expected {', '.join(map(repr, strata))})")
        if arm not in arms:
            bad.append(f"unknown arm {arm!r} (expected {' or '.join(arms)})")
        try:
            position, block = int(row["position"]), int(row["block"])
        except ValueError:
            bad.append("position and block must be whole numbers")
            position = block = 0
        if not bad and (position < 1 or block < 1):
            bad.append("position and block start at 1")
        if bad:
            message = "; ".join(bad)
            problems.append((line, f"{message[0].upper()}{message[1:]}."))
            continue
        per_stratum.setdefault(stratum, []).append((line, position, block, arm))

    result: dict[str, list[Slot]] = {}
    for stratum in strata:
        rows = per_stratum.get(stratum, [])
        label = f"stratum {stratum!r}" if stratum else "the sequence"
        if not rows:
            problems.append((1, f"No rows for {label}."))
            continue
        for expected, (line, position, _block, _arm) in enumerate(rows, start=1):
            if position != expected:
                problems.append(
                    (
                        line,
                        f"Position {position} in {label}: positions must run 1, 2, 3... "
                        f"in order (expected {expected}).",
                    )
                )
                break
        blocks: dict[int, list[tuple[int, str]]] = {}
        order: list[int] = []
        for line, _position, block, arm in rows:
            if block not in blocks:
                order.append(block)
                blocks[block] = []
            elif order[-1] != block:
                problems.append((line, f"Block {block} in {label} is not contiguous."))
            blocks[block].append((line, arm))
        if order != sorted(order):
            problems.append(
                (rows[0][0], f"Blocks in {label} must be numbered in increasing order.")
            )
        for block, members in blocks.items():
            if len(members) > protocol.MAX_BLOCK_SIZE:
                problems.append(
                    (
                        members[-1][0],
                        f"Block {block} in {label} has {len(members)} slots; "
                        f"blocks hold at most {protocol.MAX_BLOCK_SIZE}.",
                    )
                )
            counts = [sum(1 for _, a in members if a == arm) for arm in arms]
            if counts[0] != counts[1]:
                problems.append(
                    (
                        members[-1][0],
                        f"Block {block} in {label} is not balanced 1:1 "
                        f"({counts[0]} {arms[0]}, {counts[1]} {arms[1]}).",
                    )
                )
        result[stratum] = [
            Slot(position=p, block=b, block_size=len(blocks[b]), arm=a) for _, p, b, a in rows
        ]
    for stratum, slots in result.items() if not problems else ():
        if len({s.block_size for s in slots}) < 2:
            label = f"stratum {stratum!r}" if stratum else "the sequence"
            problems.append(
                (
                    1,
                    f"All blocks of {label} have the same size: the next allocations could be "
                    "guessed. Use blocks of randomly varying size.",
                )
            )
        if len(slots) < protocol.TARGET_PATIENTS:
            label = f"stratum {stratum!r}" if stratum else "the sequence"
            problems.append(
                (
                    1,
                    f"{label[0].upper()}{label[1:]} has {len(slots)} slots; "
                    f"at least {protocol.TARGET_PATIENTS} are needed.",
                )
            )
    problems.sort(key=lambda p: p[0])
    return result, problems


def block_balance(slots: Sequence[Slot], arms: Sequence[str]) -> bool:
    """Every block holds as many of one arm as of the other."""
    blocks: dict[int, list[str]] = {}
    for slot in slots:
        blocks.setdefault(slot.block, []).append(slot.arm)
    return all(content.count(arms[0]) == content.count(arms[1]) for content in blocks.values())


def stratum_of(stratify_by: str, patient_values: dict) -> str:
    """The stratum a patient belongs to (empty when the sequence is not stratified)."""
    if not stratify_by:
        return ""
    label, strata = protocol.STRATIFIERS[stratify_by]
    value = patient_values.get(stratify_by)
    if value not in strata:
        raise ValueError(f"{label} {value!r} is not one of the strata ({', '.join(strata)}).")
    return value
