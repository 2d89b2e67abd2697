"""The patch-size study's figure (notebook 09, :mod:`convmixer.studies.patch`): what each ``p``
reached under both budgets, and at what cost.

Two panels. Left: validation accuracy by patch size, one line per budget (the mean over seeds with
its 95 % interval as an error bar, every seed a hollow marker). Right: the same means against the
training minutes each model took, on a log axis, every point labelled with its ``p`` -- where a
finer grid sits between cost and accuracy.
"""

from __future__ import annotations

from typing import Sequence

from matplotlib.figure import Figure
from matplotlib.ticker import NullFormatter

from convmixer.studies.patch import BUDGETS, PatchSummary
from convmixer.viz.style import new_figure

BUDGET_COLORS: dict[str, str] = dict(zip(BUDGETS, ("tab:blue", "tab:orange")))
# Left panel, in grid-label positions: each budget's means sit this far from the label (the first
# budget left of it, the second right), its single seeds as far again outwards.
BUDGET_OFFSET = 0.1
# Right panel: the minutes labelled on its log axis (those within the drawn range).
MINUTE_TICKS = (1, 2, 5, 10, 20, 50, 100, 200)


def patch_study_figure(summaries: Sequence[PatchSummary]) -> Figure:
    """Validation accuracy by ``p`` per budget with 95 % error bars and single seeds (left), and the
    means against training minutes (right); one legend for the budgets, under the panels."""
    if not summaries:
        raise ValueError("no summaries to draw")
    sides = {s.patch_size: round(s.tokens ** 0.5) for s in summaries}
    sizes = sorted(sides)
    fig = new_figure(10, 3.9, layout="constrained")
    by_p, by_minutes = fig.subplots(1, 2)
    for direction, kind in zip((-1, 1), BUDGETS):
        rows = sorted((s for s in summaries if s.budget == kind), key=lambda s: s.patch_size)
        if not rows:
            continue
        color = BUDGET_COLORS[kind]
        xs = [sizes.index(s.patch_size) + direction * BUDGET_OFFSET for s in rows]
        errors = [s.half_width for s in rows]
        by_p.errorbar(xs, [s.mean for s in rows], yerr=errors if all(e is not None for e in errors) else None,
                      marker="o", capsize=4, color=color, label=f"same {kind}")
        for x, s in zip(xs, rows):
            by_p.scatter([x + direction * BUDGET_OFFSET] * len(s.accuracies), s.accuracies, facecolors="none", edgecolors=color,
                         s=28, zorder=3)
        by_minutes.errorbar([s.train_minutes for s in rows], [s.mean for s in rows],
                            yerr=errors if all(e is not None for e in errors) else None,
                            marker="o", capsize=4, color=color)
        for s in rows:
            by_minutes.annotate(f"p = {s.patch_size}", (s.train_minutes, s.mean), textcoords="offset points",
                                xytext=(6, -10 if direction < 0 else 5), fontsize=8, color=color)
    by_p.set_xticks(range(len(sizes)), [f"p = {p}\n{sides[p]} x {sides[p]} grid" for p in sizes])
    by_p.set_xlim(-0.4, len(sizes) - 0.4)
    by_p.set_ylabel("validation accuracy (%)")
    by_p.set_title("by patch size (hollow: single seeds)", fontsize=10)
    by_minutes.set_xscale("log")
    minutes = [s.train_minutes for s in summaries]
    ticks = [t for t in MINUTE_TICKS if min(minutes) / 1.5 <= t <= max(minutes) * 1.5]
    by_minutes.set_xticks(ticks, [f"{t:g}" for t in ticks])
    by_minutes.xaxis.set_minor_formatter(NullFormatter())
    by_minutes.set_xlabel("training minutes per model (2 cores, log scale)")
    by_minutes.set_title("against what it cost", fontsize=10)
    for ax in (by_p, by_minutes):
        ax.grid(alpha=0.3)
    fig.legend(*by_p.get_legend_handles_labels(), loc="outside lower center", ncols=2, fontsize=8,
               title="error bars: 95 % intervals", title_fontsize=8, frameon=False)
    return fig
