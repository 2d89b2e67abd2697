"""Figures for notebook 07: what kernel size ``k`` and depth ``d`` change, from the runs of
:mod:`convmixer.sweep`.

Every configuration ``(k, d)`` has one run at the sweep's first seed; one configuration is
repeated with other seeds. Lines connect the first-seed runs; the repeats are drawn as hollow
markers at the same place, so the seed-to-seed spread is visible next to the differences
between configurations.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.axis import Axis
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from convmixer.sweep import SweepRun


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
    "accuracy": Metric("test accuracy (%)", lambda r: 100 * r.test_accuracy, fmt="{:.1f}"),
    "parameters": Metric("parameters", lambda r: r.parameters, log=True),
    "flops": Metric("forward MFLOPs per image", lambda r: r.flops / 1e6, log=True, fmt="{:.2f}"),
    "throughput": Metric("training throughput (images/s)", lambda r: r.train_images_per_second, log=True),
    "gflops_per_second": Metric(
        "training GFLOP/s (3 x forward FLOPs x images/s)",
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


def first_seed(runs: Sequence[SweepRun]) -> int:
    """The seed every configuration was trained with (the smallest seed in the runs)."""
    if not runs:
        raise ValueError("no sweep runs to show")
    return min(r.seed for r in runs)


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


def _depth_colors(runs: Sequence[SweepRun]) -> dict[int, str]:
    return {d: f"C{i}" for i, d in enumerate(sorted({r.depth for r in runs}))}


def draw_metric_by_kernel(ax: Axes, runs: Sequence[SweepRun], metric: str, colors: dict[int, str]) -> None:
    """``metric`` against ``k``: one line per depth (first seed), repeats as hollow markers."""
    spec = _check_metric(metric)
    seed = first_seed(runs)
    for depth in sorted({r.depth for r in runs}):
        main = sorted((r for r in runs if r.depth == depth and r.seed == seed), key=lambda r: r.kernel_size)
        ax.plot([r.kernel_size for r in main], [spec.value(r) for r in main], marker="o",
                color=colors[depth], label=f"d = {depth}")
        repeats = [r for r in runs if r.depth == depth and r.seed != seed]
        if repeats:
            ax.scatter([r.kernel_size for r in repeats], [spec.value(r) for r in repeats],
                       facecolors="none", edgecolors=colors[depth], s=40, zorder=3,
                       label=f"d = {depth}, other seeds")
    ax.set_xticks(sorted({r.kernel_size for r in runs}))
    ax.set_xlabel("kernel size k")
    ax.set_ylabel(spec.label)
    if spec.log:
        ax.set_yscale("log")
        _log_axis(ax.yaxis)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)


def draw_tradeoff(
    ax: Axes, runs: Sequence[SweepRun], x_metric: str, colors: dict[int, str], y_metric: str = "accuracy",
) -> None:
    """``y_metric`` against ``x_metric``, one marker per first-seed run labelled with its ``k``,
    coloured by depth."""
    x_spec, y_spec = _check_metric(x_metric), _check_metric(y_metric)
    seed = first_seed(runs)
    for run in (r for r in runs if r.seed == seed):
        x, y = x_spec.value(run), y_spec.value(run)
        ax.scatter([x], [y], color=colors[run.depth], s=30)
        ax.annotate(f"k{run.kernel_size}", (x, y), textcoords="offset points", xytext=(4, 3), fontsize=7)
    for depth, color in colors.items():
        ax.scatter([], [], color=color, label=f"d = {depth}")
    ax.set_xlabel(x_spec.label)
    ax.set_ylabel(y_spec.label)
    if x_spec.log:
        ax.set_xscale("log")
        _log_axis(ax.xaxis)
    if y_spec.log:
        ax.set_yscale("log")
        _log_axis(ax.yaxis)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)


def sweep_figure(
    runs: Sequence[SweepRun], metric: str = "accuracy", depths: Sequence[int] | None = None,
    title: str | None = None,
) -> Figure:
    """Three panels: ``metric`` against ``k`` per depth, accuracy against forward FLOPs, and
    accuracy against training throughput; only the runs of ``depths`` (default: all)."""
    chosen = select(runs, depths)
    colors = {d: c for d, c in _depth_colors(runs).items() if d in {r.depth for r in chosen}}
    fig = Figure(figsize=(12, 3.5), dpi=100)
    fig.subplots_adjust(left=0.06, right=0.99, bottom=0.15, top=0.86 if title else 0.95, wspace=0.28)
    by_kernel, by_flops, by_speed = fig.subplots(1, 3)
    draw_metric_by_kernel(by_kernel, chosen, metric, colors)
    draw_tradeoff(by_flops, chosen, "flops", colors)
    draw_tradeoff(by_speed, chosen, "throughput", colors)
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def metric_figure(runs: Sequence[SweepRun], metric: str, depths: Sequence[int] | None = None) -> Figure:
    """One panel: ``metric`` against ``k``, one line per depth (the left panel of
    :func:`sweep_figure` on its own)."""
    chosen = select(runs, depths)
    colors = {d: c for d, c in _depth_colors(runs).items() if d in {r.depth for r in chosen}}
    fig = Figure(figsize=(4.6, 3.2), dpi=100)
    fig.subplots_adjust(left=0.17, right=0.97, bottom=0.15, top=0.95)
    draw_metric_by_kernel(fig.subplots(), chosen, metric, colors)
    return fig


def seed_spread(runs: Sequence[SweepRun]) -> tuple[SweepRun, float] | None:
    """For the configuration trained with several seeds: its first-seed run and the range
    (max - min) of its test accuracy in points; ``None`` when no configuration was repeated."""
    groups: dict[tuple[int, int], list[SweepRun]] = {}
    for run in runs:
        groups.setdefault((run.kernel_size, run.depth), []).append(run)
    repeated = [group for group in groups.values() if len(group) > 1]
    if not repeated:
        return None
    group = max(repeated, key=len)
    accuracies = np.array([100 * r.test_accuracy for r in group])
    return min(group, key=lambda r: r.seed), float(accuracies.max() - accuracies.min())
