"""Panels for notebook 07 (CSS classes ``cm-study-...``, distinct from notebook 05's panel).

- :class:`SweepExplorer`: choose the metric plotted against kernel size (``cm-study-metric``)
  and which depths to show (``cm-study-show-depth``); the readout compares the largest kernel
  with the smallest at each depth, with the 95 % interval of the accuracy difference.
- :class:`StudyTrainer`: choose ``k`` (``cm-study-kernel-size``), ``d`` (``cm-study-depth``) and
  a seed (``cm-study-seed``), press Train (``cm-study-train``): the model trains under the panel's
  short budget, its accuracy (on the split the panel is given) lands as a star on the plot of the
  stored study, and the run is kept in a JSON file (:mod:`convmixer.studies.panel_runs`).

Both are thin wiring over :mod:`convmixer.studies.stats`, :mod:`convmixer.studies.panel_runs` and
:mod:`convmixer.viz.kernel_depth`.
"""

from __future__ import annotations

import html
from typing import Callable, Sequence

import ipywidgets as widgets

from convmixer.analysis.cost import convmixer_parameters
from convmixer.analysis.fields import receptive_field
from convmixer.data.sources import ImageDataset
from convmixer.studies.kernel_depth import SweepRun, cells, kernel_comparison
from convmixer.studies.panel_runs import (
    RunStore,
    StudyRun,
    Trainer,
    describe_budget,
    same_budget,
    train_study_run,
)
from convmixer.studies.stats import binomial_half_width, seed_noise
from convmixer.train import EpochRecord, TrainProfile, fit, with_kernel_depth
from convmixer.viz.kernel_depth import METRICS, cell_runs, select, study_figure, sweep_figure
from convmixer.widgets.panel import Panel, dropdown, int_slider, run_button

ALL_DEPTHS = "all"

DataLoader = Callable[[], tuple[ImageDataset, ImageDataset]]


def cost_ratios_html(runs: Sequence[SweepRun], depth: int) -> str:
    """At ``depth``: the largest kernel's parameters, FLOPs and throughput as multiples of the
    smallest kernel's (cell means)."""
    groups = cell_runs(runs)
    kernels = sorted(k for k, d in groups if d == depth)
    if not kernels:
        raise ValueError(f"no runs at depth {depth}")

    def mean(kernel: int, value: Callable[[SweepRun], float]) -> float:
        group = groups[kernel, depth]
        return sum(value(r) for r in group) / len(group)

    small, large = kernels[0], kernels[-1]
    ratio = {
        name: mean(large, value) / mean(small, value)
        for name, value in (
            ("parameters", lambda r: r.parameters),
            ("FLOPs", lambda r: r.flops),
            ("throughput", lambda r: r.train_images_per_second),
        )
    }
    return ", ".join(f"{name} &times;{value:.2f}" for name, value in ratio.items())


class SweepExplorer(Panel):
    """Metric menu (``cm-study-metric``) and depth buttons (``cm-study-show-depth``) over the
    readout and :func:`sweep_figure` (the first panel of notebook 07)."""

    def __init__(self, runs: Sequence[SweepRun], metric: str = "accuracy") -> None:
        if metric not in METRICS:
            raise ValueError(f"unknown metric {metric!r}; choose one of: {', '.join(METRICS)}")
        self.runs = select(runs)  # checks that there are runs
        self.noise = seed_noise(cells(self.runs))
        depths = sorted({r.depth for r in self.runs})
        self.metric = dropdown(
            "study-metric", "Metric vs k", [(spec.label, key) for key, spec in METRICS.items()], metric
        )
        self.depth = widgets.ToggleButtons(
            options=[ALL_DEPTHS] + [str(d) for d in depths], value=ALL_DEPTHS, description="Depth d",
            style={"button_width": "48px"},
        ).add_class("cm-study-show-depth")
        # the figure at its own size (100 dpi), shrunk only where the page is narrower
        self.layout([[self.metric, self.depth]])
        self.redraw_on(self.metric, self.depth)
        self.update()

    @property
    def depths(self) -> list[int] | None:
        """The chosen depths (``None``: all)."""
        return None if self.depth.value == ALL_DEPTHS else [int(self.depth.value)]

    def update(self, change: object = None) -> None:
        """Refresh the readout and the figure for the chosen metric and depths."""
        chosen = select(self.runs, self.depths)
        spec = METRICS[self.metric.value]
        groups = cell_runs(chosen)
        values = []
        for (k, d), group in sorted(groups.items(), key=lambda item: item[0][::-1]):
            mean = sum(spec.value(r) for r in group) / len(group)
            seeds = f" (mean of {len(group)} seeds)" if len(group) > 1 else ""
            values.append(f"k{k} d{d}: {spec.fmt.format(mean)}{seeds}")
        lines = [f"<b>{html.escape(spec.label)}</b> &mdash; {', '.join(values)}"]
        depths = sorted({r.depth for r in chosen})
        if self.noise is None:
            lines.append("No configuration was trained with two seeds: the seed spread is unknown, "
                         "so no accuracy difference can be judged.")
            lines += [f"d = {d}: {cost_ratios_html(chosen, d)}" for d in depths]
        else:
            summary = cells(self.runs)
            for depth in depths:
                comparison = kernel_comparison(summary, depth, self.noise)
                lines.append(f"accuracy, {html.escape(comparison.describe())}; {cost_ratios_html(chosen, depth)}")
            lines.append(f"&plusmn;: 95 % interval from the seed spread, {html.escape(self.noise.describe())}")
        self.readout.value = "<br>".join(lines)
        self.show(sweep_figure(self.runs, self.metric.value, self.depths))


class StudyTrainer(Panel):
    """Train one ``(k, d, seed)`` under ``budget`` and see it land on the stored study's plot
    (the second panel of notebook 07: sliders ``cm-study-kernel-size``, ``cm-study-depth``,
    ``cm-study-seed`` and a ``cm-study-train`` button).

    ``load_data`` returns the training set and the set runs are judged on; it is called at the
    first Train (so the panel appears without CIFAR-10 at hand). Until then ``eval_split`` says
    which split that will be (``"validation"`` for one held out of the training set, as the
    stored study is judged); once loaded, the judged set's own ``split`` does. ``store`` keeps the runs across kernel restarts;
    the plot shows the stored runs trained under the same budget and judged on the same split. ``train_fn`` is
    :func:`convmixer.train.fit` (replaceable in tests).
    """

    def __init__(
        self,
        runs: Sequence[SweepRun],
        budget: TrainProfile,
        store: RunStore,
        load_data: DataLoader,
        train_fn: Trainer = fit,
        kernel_size: int = 5,
        depth: int = 4,
        seed: int = 0,
        max_kernel_size: int = 9,
        max_depth: int = 8,
        max_seed: int = 9,
        eval_split: str = "test",
    ) -> None:
        self.runs = select(runs)
        self.budget, self.store, self.load_data, self.train_fn = budget, store, load_data, train_fn
        self.eval_split = eval_split
        self.data: tuple[ImageDataset, ImageDataset] | None = None
        stored = store.load()
        self.your_runs = same_budget(stored, budget, eval_split)
        self.other_budgets = len(stored) - len(self.your_runs)
        self.kernel_size = int_slider("study-kernel-size", "Kernel size k", kernel_size, 1, max_kernel_size)
        self.depth = int_slider("study-depth", "Depth d", depth, 1, max_depth)
        self.seed = int_slider("study-seed", "Seed", seed, 0, max_seed)
        self.train_button = run_button("study-train", "Train", "train this k, d and seed under the panel's budget")
        self.layout([[self.kernel_size, self.depth, self.seed, self.train_button]])
        self.redraw_on(self.kernel_size, self.depth, self.seed)
        self.train_button.on_click(self.train)
        self._status = "Choose k, d and a seed, then press <b>Train</b>."
        self.update()

    @property
    def choice(self) -> tuple[int, int, int]:
        """``(k, d, seed)`` as the controls show them."""
        return self.kernel_size.value, self.depth.value, self.seed.value

    def budget_text(self) -> str:
        """The budget in words, with the numbers of images really used once data is loaded."""
        if self.data is None:
            return describe_budget(self.budget, eval_split=self.eval_split)
        train, test = self.data
        profile = self.budget
        return describe_budget(
            profile,
            min(len(train), profile.train_subset or len(train)),
            min(len(test), profile.test_subset or len(test)),
            self.eval_split,
        )

    def next_run_html(self) -> str:
        """The model the next Train builds: size and receptive field."""
        k, d, seed = self.choice
        config = with_kernel_depth(self.budget, k, d, seed).model_config()
        return (
            f"Next run: k = {k}, d = {d}, seed {seed}: ConvMixer-{config.dim}/{d} with p = {config.patch_size}, "
            f"{convmixer_parameters(config):,} parameters, receptive field "
            f"{receptive_field(k, config.patch_size, d)} px."
        )

    def train(self, button: object = None) -> StudyRun | None:
        """Train the chosen ``(k, d, seed)``, keep the run, redraw; returns it (``None`` when the
        data could not be loaded: the readout says why)."""
        k, d, seed = self.choice
        self.train_button.disabled = True
        try:
            if self.data is None:
                self._status = "Loading CIFAR-10 ..."
                self.update()
                try:
                    self.data = self.load_data()
                    self.eval_split = self.data[1].split
                except ValueError as error:
                    self._status = f"Could not load the data: {html.escape(str(error))}"
                    self.update()
                    return None

            def on_epoch(record: EpochRecord) -> None:
                self._status = (
                    f"Training k = {k}, d = {d}, seed {seed}: epoch {record.epoch}/{self.budget.epochs}, "
                    f"train loss {record.train_loss:.3f}"
                )
                self.update(figure=False)

            self._status = f"Training k = {k}, d = {d}, seed {seed} ..."
            self.update(figure=False)
            run = train_study_run(self.budget, k, d, seed, *self.data, train_fn=self.train_fn, on_epoch=on_epoch)
        finally:
            self.train_button.disabled = False
        stored = self.store.add(run)
        self.your_runs = same_budget(stored, self.budget, run.eval_split)
        split = run.eval_split
        self._status = (
            f"Finished k = {k}, d = {d}, seed {seed}: {split} accuracy <b>{100 * run.eval_accuracy:.1f}%</b> "
            f"on {run.eval_images:,} {split} images (&plusmn; "
            f"{100 * binomial_half_width(run.eval_accuracy, run.eval_images):.1f} points from judging on so few "
            f"images alone) in {run.seconds:.0f} s."
        )
        self.update()
        return run

    def _runs_table(self) -> str:
        rows = "".join(
            f"<tr><td>{r.kernel_size}</td><td>{r.depth}</td><td>{r.seed}</td>"
            f"<td align='right'>{r.parameters:,}</td>"
            f"<td align='right'>{100 * r.eval_accuracy:.1f}%</td><td align='right'>{r.seconds:.0f} s</td></tr>"
            for r in self.your_runs
        )
        header = (f"<tr><th>k</th><th>d</th><th>seed</th><th>parameters</th><th>{self.eval_split} accuracy</th>"
                  "<th>time</th></tr>")
        return f"<table style='border-spacing: 12px 0'>{header}{rows}</table>" if rows else ""

    def update(self, change: object = None, figure: bool = True) -> None:
        """Refresh the readout (and the figure, unless ``figure`` is false)."""
        others = (
            f" ({self.other_budgets} more under other budgets or judged on another split, not shown)" if self.other_budgets else ""
        )
        lines = [
            self._status,
            self.next_run_html(),
            f"Your runs: {html.escape(self.budget_text())}; each seed draws its own training and "
            f"{self.eval_split} images. The lines are the stored study, trained under a different budget: compare your "
            "runs with each other, not with the lines.",
            f"Kept in <code>{html.escape(str(self.store.path))}</code>: {len(self.your_runs)} run(s) "
            f"under this budget{others}.",
        ]
        self.readout.value = "<br>".join(lines) + self._runs_table()
        if figure:
            self.show(study_figure(self.runs, self.your_runs, self.budget_text(), next_run=self.choice))
