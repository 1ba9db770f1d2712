"""The CONSORT 2010 flow diagram laid out as boxes and arrows (pure, no Django): the counts in,
coordinates out, for an SVG template to draw."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field

LINE = 18


@dataclass
class Box:
    x: int
    y: int
    width: int
    lines: list[tuple[str, bool]] = field(default_factory=list)  # (text, bold)

    @property
    def height(self) -> int:
        return 14 + LINE * len(self.lines)

    @property
    def bottom(self) -> int:
        return self.y + self.height

    @property
    def centre(self) -> int:
        return self.x + self.width // 2

    def text_rows(self):
        return [
            (self.x + 10, self.y + 22 + LINE * i, text, bold)
            for i, (text, bold) in enumerate(self.lines)
        ]


def layout(flow: dict) -> dict:
    boxes, arrows = [], []
    assessed = Box(
        300,
        10,
        300,
        [
            (f"Assessed for eligibility (n = {flow['assessed_for_eligibility']})", True),
            (f"re-screened persons: {flow['rescreened']}", False),
        ],
    )
    excluded = Box(
        610,
        assessed.bottom + 20,
        285,
        [(f"Excluded (n = {flow['excluded']})", True)]
        + [
            (line, False)
            for text, count in flow["excluded_reasons"]
            for line in _wrapped(f"– {text}: {count}")
        ],
    )
    enrolled = Box(
        300,
        excluded.bottom + 20,
        300,
        [
            (f"Enrolled (n = {flow['enrolled']})", True),
            (f"awaiting confirmation: {flow['eligible_awaiting_confirmation']}", False),
            (f"not yet randomized: {flow['enrolled_not_randomized']}", False),
            (f"found ineligible after enrolment: {flow.get('enrolled_ineligible', 0)}", False),
        ],
    )
    randomized = Box(
        300, enrolled.bottom + 30, 300, [(f"Randomized (n = {flow['randomized']})", True)]
    )
    boxes += [assessed, excluded, enrolled, randomized]
    arrows += [
        (assessed.centre, assessed.bottom, enrolled.centre, enrolled.y),
        (assessed.centre, excluded.y + 20, excluded.x, excluded.y + 20),
        (enrolled.centre, enrolled.bottom, randomized.centre, randomized.y),
    ]
    top = randomized.bottom + 40
    bottom = top
    for index, (arm, a) in enumerate(flow["arms"][:2] if len(flow["arms"]) <= 2 else flow["arms"]):
        x = 40 + index * 440
        allocation = Box(
            x,
            top,
            400,
            [
                (f"Allocated to {arm} (n = {a['allocated']})", True),
                (f"received the allocated treatment: {a['received']}", False),
                (f"did not receive it (yet): {a['not_received']}", False),
                (f"eligibility violation: {a['eligibility_violations']}", False),
            ],
        )
        follow = Box(
            x,
            allocation.bottom + 30,
            400,
            [("Follow-up", True), (f"discontinued treatment: {a['discontinued_total']}", False)]
            + [(f"– {reason}: {count}", False) for reason, count in a["discontinued"]]
            + [
                (f"on treatment: {a['on_treatment']}", False),
                (f"died: {a['died']}; lost or withdrew: {a['lost_or_withdrawn']}", False),
            ],
        )
        analysed = Box(
            x,
            follow.bottom + 30,
            400,
            [(f"Analysed, intention to treat (n = {a['analysed']})", True)],
        )
        boxes += [allocation, follow, analysed]
        arrows += [
            (randomized.centre, randomized.bottom, allocation.centre, allocation.y),
            (allocation.centre, allocation.bottom, follow.centre, follow.y),
            (follow.centre, follow.bottom, analysed.centre, analysed.y),
        ]
        bottom = max(bottom, analysed.bottom)
    return {
        "boxes": boxes,
        "arrows": [_elbow(*arrow) for arrow in arrows],
        "width": 900,
        "height": bottom + 20,
    }


def _wrapped(text: str, size: int = 38) -> list[str]:
    """A reason on as many lines as it needs (never cut), continuation lines indented."""
    lines = textwrap.wrap(text, size, break_long_words=True)
    return lines[:1] + ["   " + line for line in lines[1:]]


def _elbow(x1, y1, x2, y2) -> list[tuple[int, int]]:
    """A straight arrow, or down-across-down when the ends are not aligned."""
    if x1 == x2 or y1 == y2:
        return [(x1, y1), (x2, y2)]
    middle = (y1 + y2) // 2
    return [(x1, y1), (x1, middle), (x2, middle), (x2, y2)]
