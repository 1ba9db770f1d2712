"""Kaplan-Meier plots by arm, with the numbers at risk, drawn by matplotlib from a stored run's
curves (pure, no Django): PNG or SVG bytes."""

from __future__ import annotations

import io
import math

import matplotlib

matplotlib.use("Agg")  # no display: files only
matplotlib.rcParams["svg.fonttype"] = "none"  # SVG text stays text: searchable, selectable
from matplotlib.figure import Figure  # noqa: E402

from outcomes.exports import months_shown  # noqa: E402

MONTH = 30.4375
COLOURS = ("#1f5fa8", "#c0392b", "#2e7d32", "#7b1fa2")
FORMATS = {"png": "image/png", "svg": "image/svg+xml"}


def _steps_at(times, values, points):
    """The step function (values after each time) at the given points."""
    out = []
    for point in points:
        found = None
        for t, v in zip(times, values, strict=True):
            if t > point:
                break
            found = v
        out.append(found)
    return out


def _nan(values):
    return [math.nan if v is None else v for v in values]


def km_plot(entry: dict, view, title: str, fmt: str = "png") -> bytes:
    """`entry`: a run's survival summary of one parameter (`arms` -> curve, at_risk; log-rank
    p; hazard ratio); `view`: the reader's arms, labels and comparison (exports.Presentation)."""
    if fmt not in FORMATS:
        raise ValueError(f"format {fmt!r}: png or svg")
    figure = Figure(figsize=(8.5, 6.2), dpi=110)
    grid = figure.add_gridspec(2, 1, height_ratios=(4.2, 1.1), hspace=0.35)
    axes, table = figure.add_subplot(grid[0]), figure.add_subplot(grid[1])
    arms, labels = [a for a in view.arms if a in entry["arms"]], view.labels
    marks: list[int] = []
    for index, arm in enumerate(arms):
        data = entry["arms"][arm]
        curve = data["curve"]
        colour = COLOURS[index % len(COLOURS)]
        months = [t / MONTH for t in curve["times"]]
        median = data["median"]
        legend = f"{labels[arm]} (n={data['patients']}, events {data['events']}; median " + (
            f"{months_shown(median)} mo)" if median is not None else "not reached)"
        )
        if months:
            axes.step(months, curve["survival"], where="post", color=colour, label=legend)
            axes.fill_between(
                months,
                _nan(curve["lower"]),
                _nan(curve["upper"]),
                step="post",
                color=colour,
                alpha=0.12,
                linewidth=0,
            )
            ticks = curve["censored"]
            axes.plot(
                [t / MONTH for t in ticks],
                _steps_at(curve["times"], curve["survival"], ticks),
                linestyle="none",
                marker="|",
                markersize=9,
                color=colour,
            )
        marks = sorted({int(m) for m in data["at_risk"]} | set(marks))
    axes.set_ylim(0, 1.03)
    axes.set_xlim(left=-0.03 * (max(marks) if marks else 36), right=max(marks) if marks else 36)
    axes.set_xticks(marks)
    axes.set_ylabel("Probability")
    axes.set_xlabel("Months since randomization")
    axes.set_title(title, fontsize=12)
    axes.grid(alpha=0.25)
    notes = []
    if entry.get("logrank_p") is not None:
        notes.append(f"log-rank p = {entry['logrank_p']:.4f}")
    hr = view.hazard_ratio(entry.get("hazard_ratio"))
    if hr and len(arms) == 2:
        notes.append(f"{view.hr_direction}: {hr[0]:.2f} (95% CI {hr[1]:.2f}-{hr[2]:.2f})")
    if notes:
        axes.text(
            0.98, 0.80, "\n".join(notes), transform=axes.transAxes, ha="right", va="top", fontsize=9
        )
    if axes.get_legend_handles_labels()[0]:
        axes.legend(loc="upper right", fontsize=9, frameon=False)
    else:
        axes.text(0.5, 0.5, "No patients at this cut-off", transform=axes.transAxes, ha="center")
    table.set_xlim(axes.get_xlim())
    table.set_ylim(-0.5, len(arms) - 0.5)
    table.set_xticks(marks)
    table.set_yticks(range(len(arms)))
    table.set_yticklabels([labels[a] for a in reversed(arms)], fontsize=9)
    table.set_title("Number at risk", fontsize=10, loc="left")
    for row, arm in enumerate(reversed(arms)):
        for mark in marks:
            count = entry["arms"][arm]["at_risk"].get(str(mark))
            if count is not None:
                table.text(mark, row, str(count), ha="center", va="center", fontsize=9)
    table.tick_params(axis="x", labelbottom=False, length=0)
    table.tick_params(axis="y", length=0, pad=14)
    for side in ("top", "right", "bottom", "left"):
        table.spines[side].set_visible(False)
    out = io.BytesIO()
    figure.savefig(
        out, format=fmt, bbox_inches="tight", metadata={"Date": None} if fmt == "svg" else None
    )
    return out.getvalue()
