"""Figures for notebook 07: what kernel size ``k`` and depth ``d`` change, from the runs of
:mod:`convmixer.studies.kernel_depth`, and where a reader's own runs (:mod:`convmixer.studies.panel_runs`) land.

Every configuration ``(k, d)`` -- a *cell* -- has one or more runs (seeds). Lines connect the
cells' means; accuracy gets error bars, the 95 % interval of each cell's mean from the pooled
seed-to-seed spread (:mod:`convmixer.studies.stats`), and the single seeds of repeated cells are
drawn as hollow markers, so the noise is visible next to the differences between cells. Figures
follow :mod:`convmixer.viz.style` (plain ``Figure`` objects, no pyplot state).
"""

from __future__ import annotations

import math
import textwrap
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.axis import Axis
from matplotlib.figure import Figure
from matplotlib.textpath import TextPath
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from convmixer.studies.kernel_depth import SweepRun, cells
from convmixer.studies.panel_runs import StudyRun
from convmixer.studies.stats import SeedNoise, interval_half_width, seed_noise
from convmixer.viz.style import new_figure


@dataclass(frozen=True)
class Metric:
    """A number to plot: its label, how to read it from a run, and whether to use a log axis."""

    label: str
    value: Callable[[SweepRun], float]
    log: bool = False
    fmt: str = "{:,.0f}"

    def format(self, run: SweepRun) -> str:
        return self.fmt.format(self.value(run))


METRICS: dict[str, Metric] = {
    "accuracy": Metric("validation accuracy (%)", lambda r: 100 * r.validation_accuracy, fmt="{:.1f}"),
    "parameters": Metric("parameters", lambda r: r.parameters, log=True),
    "flops": Metric("forward MFLOPs per image", lambda r: r.flops / 1e6, log=True, fmt="{:.2f}"),
    "throughput": Metric("training throughput (images/s)", lambda r: r.train_images_per_second, log=True),
    "gflops_per_second": Metric(
        "training GFLOP/s (3 × forward FLOPs × images/s)",
        lambda r: 3 * r.flops * r.train_images_per_second / 1e9, fmt="{:.2f}",
    ),
    "train_seconds": Metric("training time (s)", lambda r: r.train_seconds, log=True),
    "receptive_field": Metric("receptive field (px)", lambda r: r.receptive_field, log=True),
}


def _log_axis(axis: Axis) -> None:
    """Log scale with plain labels at 1, 2, 5 x 10^n (a narrow range still gets labels)."""
    axis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
    axis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    axis.set_minor_formatter(NullFormatter())


def _check_metric(metric: str) -> Metric:
    if metric not in METRICS:
        raise ValueError(f"unknown metric {metric!r}; choose one of: {', '.join(METRICS)}")
    return METRICS[metric]


def select(runs: Sequence[SweepRun], depths: Sequence[int] | None = None) -> list[SweepRun]:
    """The runs whose depth is in ``depths`` (all runs for ``None``); an empty selection or an
    unknown depth is a ``ValueError``."""
    if not runs:
        raise ValueError("no sweep runs to show")
    if depths is None:
        return list(runs)
    known = sorted({r.depth for r in runs})
    unknown = [d for d in depths if d not in known]
    if unknown or not depths:
        raise ValueError(f"depths must be chosen from {known}, got {list(depths)}")
    return [r for r in runs if r.depth in depths]


def _depth_colors(runs: Sequence[SweepRun], chosen: Sequence[SweepRun]) -> dict[int, str]:
    """A colour per depth among ``chosen``, fixed by the depth's place among all ``runs`` (so a
    depth keeps its colour whichever depths are shown)."""
    shown = {r.depth for r in chosen}
    return {d: f"C{i}" for i, d in enumerate(sorted({r.depth for r in runs})) if d in shown}


def _scale_axes(ax: Axes, x: tuple[str, bool], y: tuple[str, bool]) -> None:
    """Label both axes (``(label, log scale?)`` each) and log-scale those marked."""
    for (label, log), set_label, set_scale, axis in (
        (x, ax.set_xlabel, ax.set_xscale, ax.xaxis), (y, ax.set_ylabel, ax.set_yscale, ax.yaxis)
    ):
        set_label(label)
        if log:
            set_scale("log")
            _log_axis(axis)


def _finish_axes(ax: Axes, x: tuple[str, bool], y: tuple[str, bool]) -> None:
    """Label and scale both axes (:func:`_scale_axes`), grid and legend."""
    _scale_axes(ax, x, y)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)


def cell_runs(runs: Sequence[SweepRun]) -> dict[tuple[int, int], list[SweepRun]]:
    """The runs grouped by cell ``(k, d)``."""
    groups: dict[tuple[int, int], list[SweepRun]] = {}
    for run in runs:
        groups.setdefault((run.kernel_size, run.depth), []).append(run)
    return groups


def noise_of(runs: Sequence[SweepRun]) -> SeedNoise | None:
    """The pooled seed-to-seed spread of ``runs`` (``None``: no cell was repeated)."""
    return seed_noise(cells(runs))


def _cell_points(
    runs: Sequence[SweepRun], spec: "Metric", noise: SeedNoise | None, with_errors: bool,
) -> dict[tuple[int, int], tuple[float, float]]:
    """Each cell's mean of ``spec`` and its error bar (0 unless ``with_errors`` and ``noise``)."""
    summary = {(c.kernel_size, c.depth): c for c in cells(runs)}
    points = {}
    for key, group in cell_runs(runs).items():
        error = interval_half_width([summary[key]], noise) if with_errors and noise else 0.0
        points[key] = (float(np.mean([spec.value(r) for r in group])), error)
    return points


DODGE = 0.12  # horizontal offset between the depths' error bars at one k


def draw_metric_by_kernel(
    ax: Axes, runs: Sequence[SweepRun], metric: str, colors: dict[int, str], noise: SeedNoise | None = None,
) -> None:
    """``metric`` against ``k``: one line per depth through the cells' means; for accuracy with
    a ``noise`` estimate, 95 % error bars; single seeds of repeated cells as hollow markers."""
    spec = _check_metric(metric)
    errors = metric == "accuracy" and noise is not None
    points = _cell_points(runs, spec, noise, errors)
    groups = cell_runs(runs)
    depths = sorted({r.depth for r in runs})
    for i, depth in enumerate(depths):
        kernels = sorted(k for k, d in points if d == depth)
        shift = DODGE * (i - (len(depths) - 1) / 2) if errors else 0.0  # bars side by side
        xs = [k + shift for k in kernels]
        means = [points[k, depth][0] for k in kernels]
        if errors:
            ax.errorbar(xs, means, yerr=[points[k, depth][1] for k in kernels], marker="o",
                        capsize=3, color=colors[depth], label=f"d = {depth}")
        else:
            ax.plot(xs, means, marker="o", color=colors[depth], label=f"d = {depth}")
        seeds = [r for k in kernels if len(groups[k, depth]) > 1 for r in groups[k, depth]]
        if seeds:
            ax.scatter([r.kernel_size + shift for r in seeds], [spec.value(r) for r in seeds],
                       facecolors="none", edgecolors=colors[depth], s=40, zorder=3,
                       label=f"d = {depth}, single seeds")
    if errors:
        ax.set_title(f"error bars: 95 % interval; seed spread {noise.short()}", fontsize=7)
    ax.set_xticks(sorted({r.kernel_size for r in runs}))
    _finish_axes(ax, ("kernel size k", False), (spec.label, spec.log))


LABEL_FONTSIZE = 7
LABEL_HEIGHT = 8  # points: the box of a label at LABEL_FONTSIZE (its line height)
LABEL_GAP = 3  # points between a marker's centre and a label beside it
MARKER_RADIUS = 3  # points: a marker of size 5, with a little room
BAR_HALF_WIDTH = 1.5  # points: an error bar's line
NEAREST_MARGIN = 0.75  # a label's centre is nearer its marker than this fraction of its distance to any other


def _label_width(text: str) -> float:
    """Width in points of ``text`` at :data:`LABEL_FONTSIZE`, with a point of room."""
    return TextPath((0, 0), text, size=LABEL_FONTSIZE).get_extents().x1 + 1


def _label_offset(kernel_size: int, kernels: Sequence[int]) -> int:
    """Which of the four places beside its marker a ``k`` label tries first: the kernels take
    turns, so neighbouring cells (close in FLOPs or speed) do not start on top of each other."""
    return kernels.index(kernel_size) % 4


def _label_candidates(first: int, width: float) -> list[tuple[float, float]]:
    """Offsets (points, of a ``width``-point label's lower-left corner from its marker's centre) to
    try: the four places beside the marker (``first`` of them first), then level with it, then
    a step farther out."""
    right, left = LABEL_GAP, -width - LABEL_GAP
    up, down, level = 1, -LABEL_HEIGHT - 1, -LABEL_HEIGHT / 2
    beside = [(right, up), (right, down), (left, up), (left, down)]
    near = [beside[first]] + [o for o in beside if o != beside[first]] + [(right, level), (left, level)]
    far = [(dx + (6 if dx > 0 else -6), dy + (4 if dy > level else -4 if dy < level else 0)) for dx, dy in near]
    return near + far


def _overlaps(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    """Whether boxes ``(left, bottom, right, top)`` overlap."""
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _place_labels(
    ax: Axes, labels: Sequence[tuple[str, float, float, int]],
    bars: Sequence[tuple[float, float, float]] = (),
) -> list[tuple[float, float, float, float]]:
    """Annotate each ``(text, x, y, first place)`` at the first offset of
    :func:`_label_candidates` where its box stays inside the axes, overlaps no label placed
    before, no marker and no error bar (``bars``: ``(x, low, high)`` in data units), and lies
    clearly nearer its own marker than any other (:data:`NEAREST_MARGIN`: so that a label cannot
    be read as a neighbour's).
    Call it once the axes have their final scale and place in the figure. Returns the labels'
    boxes in display pixels (for tests)."""
    ax.autoscale_view()
    scale = ax.figure.dpi / 72  # points -> pixels
    to_pixels = ax.transData.transform
    markers = [tuple(to_pixels((x, y))) for _, x, y, _ in labels]
    lines = [(*to_pixels((x, low)), to_pixels((x, high))[1]) for x, low, high in bars]
    frame = ax.get_window_extent()
    radius, half_bar = MARKER_RADIUS * scale, BAR_HALF_WIDTH * scale
    placed: list[tuple[float, float, float, float]] = []

    def free(index: int, box: tuple[float, float, float, float]) -> bool:
        left, bottom, right, top = box
        if left < frame.x0 or right > frame.x1 or bottom < frame.y0 or top > frame.y1:
            return False
        if any(_overlaps(box, other) for other in placed):
            return False
        if any(_overlaps(box, (px - radius, py - radius, px + radius, py + radius)) for px, py in markers):
            return False
        if any(_overlaps(box, (bx - half_bar, low, bx + half_bar, high)) for bx, low, high in lines):
            return False
        centre = ((left + right) / 2, (bottom + top) / 2)
        distance = [math.hypot(centre[0] - px, centre[1] - py) for px, py in markers]
        return all(distance[index] < NEAREST_MARGIN * d for i, d in enumerate(distance) if i != index)

    for index, ((text, x, y, first), (px, py)) in enumerate(zip(labels, markers)):
        width, height = _label_width(text) * scale, LABEL_HEIGHT * scale
        boxes = [(o, (px + o[0] * scale, py + o[1] * scale, px + o[0] * scale + width, py + o[1] * scale + height))
                 for o in _label_candidates(first, _label_width(text))]
        offset, box = next(((o, b) for o, b in boxes if free(index, b)), boxes[0])
        placed.append(box)
        ax.annotate(text, (x, y), textcoords="offset points", xytext=offset, fontsize=LABEL_FONTSIZE, va="bottom")
    return placed


def draw_tradeoff(
    ax: Axes, runs: Sequence[SweepRun], x_metric: str, colors: dict[int, str], y_metric: str = "accuracy",
    noise: SeedNoise | None = None,
) -> None:
    """``y_metric`` against ``x_metric``, one marker per cell (its mean) labelled with its ``k``,
    coloured by depth; accuracy with 95 % error bars when there is a ``noise`` estimate."""
    x_spec, y_spec = _check_metric(x_metric), _check_metric(y_metric)
    xs = _cell_points(runs, x_spec, None, False)
    kernels = sorted({k for k, _ in xs})
    ys = _cell_points(runs, y_spec, noise, y_metric == "accuracy")
    bars = []
    for (k, d), (x, _) in xs.items():
        y, error = ys[k, d]
        ax.errorbar([x], [y], yerr=[error] if error else None, marker="o", markersize=5,
                    capsize=2, color=colors[d])
        if error:
            bars.append((x, y - error, y + error))
    for depth, color in colors.items():
        ax.scatter([], [], color=color, label=f"d = {depth}")
    # the final scales and some room at the sides first: the labels are placed in screen units
    _scale_axes(ax, (x_spec.label, x_spec.log), (y_spec.label, y_spec.log))
    ax.margins(x=0.1)
    _place_labels(ax, [(f"k{k}", xs[k, d][0], ys[k, d][0], _label_offset(k, kernels)) for k, d in xs], bars)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)


def sweep_figure(
    runs: Sequence[SweepRun], metric: str = "accuracy", depths: Sequence[int] | None = None,
    title: str | None = None,
) -> Figure:
    """Three panels: ``metric`` against ``k`` per depth, accuracy against forward FLOPs, and
    accuracy against training throughput; only the runs of ``depths`` (default: all). Error bars
    use the seed spread of all ``runs``."""
    chosen = select(runs, depths)
    colors = _depth_colors(runs, chosen)
    noise = noise_of(runs)
    fig = new_figure(12, 3.7)
    # the final layout before anything is drawn: the trade-off panels place their labels in pixels;
    # room at the bottom for one legend for the three panels, off the data
    fig.subplots_adjust(left=0.06, right=0.99, bottom=0.25, top=0.84 if title else 0.9, wspace=0.28)
    by_kernel, by_flops, by_speed = fig.subplots(1, 3)
    draw_metric_by_kernel(by_kernel, chosen, metric, colors, noise)
    draw_tradeoff(by_flops, chosen, "flops", colors, noise=noise)
    draw_tradeoff(by_speed, chosen, "throughput", colors, noise=noise)
    handles, labels = by_kernel.get_legend_handles_labels()
    for ax in (by_kernel, by_flops, by_speed):
        ax.get_legend().remove()
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), fontsize=7, frameon=False)
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def metric_figure(runs: Sequence[SweepRun], metric: str, depths: Sequence[int] | None = None) -> Figure:
    """One panel: ``metric`` against ``k``, one line per depth (the left panel of
    :func:`sweep_figure` on its own)."""
    chosen = select(runs, depths)
    fig = new_figure(6.6, 4.0)
    fig.subplots_adjust(left=0.12, right=0.72, bottom=0.12, top=0.92)
    ax = fig.subplots()
    draw_metric_by_kernel(ax, chosen, metric, _depth_colors(runs, chosen), noise_of(runs))
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0)  # off the data
    return fig


YOUR_RUNS_MARKER = "*"
LEGEND_WRAP = 42  # characters per line of a long legend entry
YOUR_RUNS_OFFSET = 0.25  # drawn this far right of their k, beside the stored cell


def draw_your_runs(ax: Axes, your_runs: Sequence[StudyRun], colors: dict[int, str], budget: str) -> None:
    """The reader's runs as stars coloured by depth (depths without a stored colour get the next
    colours), a little right of their ``k``, labelled ``d<d> s<seed>``; one legend entry
    ``your runs (<budget>)``."""
    extra = sorted({r.depth for r in your_runs} - set(colors))
    palette = {**colors, **{d: f"C{len(colors) + i}" for i, d in enumerate(extra)}}
    for run in your_runs:
        x, y = run.kernel_size + YOUR_RUNS_OFFSET, 100 * run.eval_accuracy
        ax.scatter([x], [y], marker=YOUR_RUNS_MARKER, s=140, color=palette[run.depth],
                   edgecolors="black", linewidths=0.6, zorder=4)
        ax.annotate(f"d{run.depth} s{run.seed}", (x, y), textcoords="offset points", xytext=(5, -3), fontsize=6)
    ax.scatter([], [], marker=YOUR_RUNS_MARKER, s=140, color="white", edgecolors="black",
               linewidths=0.6, label=textwrap.fill(f"your runs ({budget})", LEGEND_WRAP))


def study_figure(
    runs: Sequence[SweepRun],
    your_runs: Sequence[StudyRun] = (),
    your_budget: str = "",
    next_run: tuple[int, int, int] | None = None,
) -> Figure:
    """Stored accuracy against ``k`` (means, 95 % error bars) with the reader's runs on the same
    axes as stars, their budget in the legend; ``next_run = (k, d, seed)`` marks the run the panel
    will train next with a dotted line at its ``k``."""
    colors = _depth_colors(runs, runs)
    fig = new_figure(9.0, 3.8)
    fig.subplots_adjust(left=0.08, right=0.6, bottom=0.13, top=0.92)
    ax = fig.subplots()
    draw_metric_by_kernel(ax, runs, "accuracy", colors, noise_of(runs))
    if your_runs:
        draw_your_runs(ax, your_runs, colors, your_budget)
    if next_run is not None:
        k, d, seed = next_run
        ax.axvline(k + YOUR_RUNS_OFFSET, color="0.4", linestyle=":", linewidth=1,
                   label=f"next run: k = {k}, d = {d}, seed {seed}")
    ticks = sorted({r.kernel_size for r in runs} | {r.kernel_size for r in your_runs}
                   | ({next_run[0]} if next_run else set()))
    ax.set_xticks(ticks)
    # room on the right for the stars, drawn beside their k, and their labels
    ax.set_xlim(min(ticks) - 0.4, max(ticks) + (1.0 if your_runs or next_run else 0.4))
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0,
              title="lines: the stored study", title_fontsize=7)
    return fig
