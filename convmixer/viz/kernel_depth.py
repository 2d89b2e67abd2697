"""Figures for notebook 07: what kernel size ``k`` and depth ``d`` change, from the runs of
:mod:`convmixer.studies.kernel_depth`, and where a reader's own runs (:mod:`convmixer.studies.panel_runs`) land.

Every configuration ``(k, d)`` -- a *cell* -- has one or more runs (seeds). Lines connect the
cells' means; accuracy gets error bars, the 95 % interval of each cell's mean from the pooled
seed-to-seed spread (:mod:`convmixer.studies.stats`), and the single seeds of repeated cells are
drawn as hollow markers, so the noise is visible next to the differences between cells. Figures
follow :mod:`convmixer.viz.style` (plain ``Figure`` objects, no pyplot state).
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.axis import Axis
from matplotlib.figure import Figure
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


def _finish_axes(ax: Axes, x: tuple[str, bool], y: tuple[str, bool]) -> None:
    """Label both axes (``(label, log scale?)`` each), log-scale those marked, grid and legend."""
    for (label, log), set_label, set_scale, axis in (
        (x, ax.set_xlabel, ax.set_xscale, ax.xaxis), (y, ax.set_ylabel, ax.set_yscale, ax.yaxis)
    ):
        set_label(label)
        if log:
            set_scale("log")
            _log_axis(axis)
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


LABEL_OFFSETS = ((4, 3), (4, -10), (-16, 3), (-16, -10))  # points: around the marker, by kernel's place


def _label_offset(kernel_size: int, kernels: Sequence[int]) -> tuple[int, int]:
    """Where the ``k`` label of a marker goes: the kernels take turns around their markers, so
    neighbouring cells (close in FLOPs or speed) do not print their labels on top of each other."""
    return LABEL_OFFSETS[kernels.index(kernel_size) % len(LABEL_OFFSETS)]


LABEL_SIZE = (14, 9)  # points: about the box of a "k9" label at fontsize 7


def _place_labels(ax: Axes, labels: Sequence[tuple[str, float, float, tuple[int, int]]]) -> None:
    """Annotate each ``(text, x, y, preferred offset)``, moving a label to the first of the
    :data:`LABEL_OFFSETS` (its preferred one first) where its box overlaps no label placed before
    and no marker, so that close cells keep readable labels."""
    ax.autoscale_view()
    scale = ax.figure.dpi / 72  # points -> pixels
    points = [ax.transData.transform((x, y)) for _, x, y, _ in labels]
    width, height = LABEL_SIZE[0] * scale, LABEL_SIZE[1] * scale
    placed: list[tuple[float, float]] = []

    def free(left: float, bottom: float) -> bool:
        boxes_clear = all(abs(left - a) >= width or abs(bottom - b) >= height for a, b in placed)
        markers_clear = all(not (left - 3 <= px <= left + width + 3 and bottom - 3 <= py <= bottom + height + 3)
                            for px, py in points)
        return boxes_clear and markers_clear

    for (text, x, y, preferred), (px, py) in zip(labels, points):
        candidates = [preferred] + [o for o in LABEL_OFFSETS if o != preferred] + \
            [(dx, dy + sign * 10) for sign in (1, -1) for dx, dy in LABEL_OFFSETS]
        chosen = next((o for o in candidates if free(px + o[0] * scale, py + o[1] * scale)), preferred)
        placed.append((px + chosen[0] * scale, py + chosen[1] * scale))
        ax.annotate(text, (x, y), textcoords="offset points", xytext=chosen, fontsize=7)


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
    for (k, d), (x, _) in xs.items():
        y, error = ys[k, d]
        ax.errorbar([x], [y], yerr=[error] if error else None, marker="o", markersize=5,
                    capsize=2, color=colors[d])
    _place_labels(ax, [(f"k{k}", xs[k, d][0], ys[k, d][0], _label_offset(k, kernels)) for k, d in xs])
    for depth, color in colors.items():
        ax.scatter([], [], color=color, label=f"d = {depth}")
    _finish_axes(ax, (x_spec.label, x_spec.log), (y_spec.label, y_spec.log))


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
    fig.subplots_adjust(left=0.06, right=0.99, bottom=0.14, top=0.84 if title else 0.9, wspace=0.28)
    by_kernel, by_flops, by_speed = fig.subplots(1, 3)
    draw_metric_by_kernel(by_kernel, chosen, metric, colors, noise)
    draw_tradeoff(by_flops, chosen, "flops", colors, noise=noise)
    draw_tradeoff(by_speed, chosen, "throughput", colors, noise=noise)
    # One legend for the three panels, below them: off the data (the panels' own legends hid markers).
    handles, labels = by_kernel.get_legend_handles_labels()
    for ax in (by_kernel, by_flops, by_speed):
        ax.get_legend().remove()
    fig.subplots_adjust(bottom=0.25)
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
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0,
              title="lines: the stored study", title_fontsize=7)
    return fig
