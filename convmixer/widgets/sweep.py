"""Panel for notebook 07: choose the metric plotted against kernel size (``cm-metric``) and which
depths to show (``cm-depth``); the readout lists the chosen runs and compares the largest
kernel with the smallest at each depth, next to the seed-to-seed spread."""

from __future__ import annotations

import html
from typing import Any, Sequence

import ipywidgets as widgets

from convmixer.sweep import SweepRun
from convmixer.viz.images import render_figure
from convmixer.viz.sweep import METRICS, first_seed, seed_spread, select, sweep_figure

FIGURE_DPI = 72
FIGURE_WIDTH = "860px"
ALL_DEPTHS = "all"


def kernel_extremes(runs: Sequence[SweepRun], depth: int) -> tuple[SweepRun, SweepRun]:
    """The first-seed runs with the smallest and the largest kernel at ``depth``."""
    seed = first_seed(runs)
    at_depth = sorted((r for r in runs if r.depth == depth and r.seed == seed), key=lambda r: r.kernel_size)
    if not at_depth:
        raise ValueError(f"no first-seed runs at depth {depth}")
    return at_depth[0], at_depth[-1]


def comparison_html(small: SweepRun, large: SweepRun) -> str:
    """One readout line: the larger kernel against the smaller one at the same depth."""
    points = 100 * (large.test_accuracy - small.test_accuracy)
    return (
        f"d = {small.depth}: k = {large.kernel_size} vs k = {small.kernel_size}: accuracy "
        f"{100 * large.test_accuracy:.1f}% vs {100 * small.test_accuracy:.1f}% ({points:+.1f} points), "
        f"parameters &times;{large.parameters / small.parameters:.2f}, "
        f"FLOPs &times;{large.flops / small.flops:.2f}, "
        f"throughput &times;{large.train_images_per_second / small.train_images_per_second:.2f}"
    )


class SweepExplorer:
    """Metric menu and depth buttons over the readout and :func:`sweep_figure`."""

    def __init__(self, runs: Sequence[SweepRun], metric: str = "accuracy") -> None:
        if metric not in METRICS:
            raise ValueError(f"unknown metric {metric!r}; choose one of: {', '.join(METRICS)}")
        self.runs = select(runs)  # checks that there are runs
        depths = sorted({r.depth for r in self.runs})
        self.metric = widgets.Dropdown(
            options=[(spec.label, key) for key, spec in METRICS.items()], value=metric,
            description="Metric vs k",
            style={"description_width": "initial"},
        ).add_class("cm-metric")
        self.depth = widgets.ToggleButtons(
            options=[ALL_DEPTHS] + [str(d) for d in depths], value=ALL_DEPTHS, description="Depth d",
            style={"button_width": "48px"},
        ).add_class("cm-depth")
        self.readout = widgets.HTML().add_class("cm-readout")
        self.figure = widgets.Image(
            format="png", layout=widgets.Layout(width=FIGURE_WIDTH)
        ).add_class("cm-figure")
        self.panel = widgets.VBox([widgets.HBox([self.metric, self.depth]), self.readout, self.figure])
        self.metric.observe(self.update, names="value")
        self.depth.observe(self.update, names="value")
        self.update()

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.panel._repr_mimebundle_(**kwargs)

    @property
    def depths(self) -> list[int] | None:
        """The chosen depths (``None``: all)."""
        return None if self.depth.value == ALL_DEPTHS else [int(self.depth.value)]

    def update(self, change: object = None) -> None:
        """Refresh the readout and the figure for the chosen metric and depths."""
        chosen = select(self.runs, self.depths)
        spec = METRICS[self.metric.value]
        seed = first_seed(self.runs)
        rows = sorted((r for r in chosen if r.seed == seed), key=lambda r: (r.depth, r.kernel_size))
        table = ", ".join(f"{r.label}: {spec.format(r)}" for r in rows)
        lines = [f"<b>{html.escape(spec.label)}</b> &mdash; {table}"]
        lines += [comparison_html(*kernel_extremes(chosen, d)) for d in sorted({r.depth for r in chosen})]
        spread = seed_spread(self.runs)
        if spread is not None:
            run, points = spread
            seeds = sum(1 for r in self.runs if (r.kernel_size, r.depth) == (run.kernel_size, run.depth))
            lines.append(
                f"seed-to-seed range of {run.label} over {seeds} seeds: {points:.1f} accuracy points "
                f"(differences smaller than this are noise)"
            )
        self.readout.value = "<br>".join(lines)
        fig = sweep_figure(self.runs, self.metric.value, self.depths)
        self.figure.value = render_figure(fig, "png", FIGURE_DPI)


def sweep_explorer(runs: Sequence[SweepRun], metric: str = "accuracy") -> SweepExplorer:
    """Panel for notebook 07: metric menu (``cm-metric``) and depth buttons (``cm-depth``)."""
    return SweepExplorer(runs, metric)
