"""Panel for notebook 05: pick a kernel size and a depth, train a small ConvMixer for a short
budget, and compare its learning curves with the runs made before.

Training goes through the same engine as the notebook's main run (:func:`convmixer.train.fit`)
with a small budget (:func:`convmixer.train.panel_budget`, the same as notebook 07's panel: the
``short`` profile, or ``smoke`` under the test command): a narrow, coarse-patched model, a few
thousand training images, a few epochs, so that one run takes seconds to a minute on a laptop CPU. The panel keeps
every finished run; the figure shows the live run in bold over the earlier ones.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

import torch

from convmixer._util import check_int_in_range, check_positive_int
from convmixer.analysis.cost import count_parameters
from convmixer.data.sample import cifar10_sample
from convmixer.data.sources import ImageDataset
from convmixer.train import SHORT, EpochRecord, FitResult, TrainProfile, fit, with_kernel_depth
from convmixer.viz.training import Curves, TrainingCurves
from convmixer.widgets.panel import Panel, int_slider, run_button

Trainer = Callable[..., FitResult]


def bundled_sample_split(test_per_class: int = 10) -> tuple[ImageDataset, ImageDataset]:
    """The package's 300 bundled CIFAR-10 images (30 per class) as a tiny train / test pair:
    the first ``test_per_class`` images of each class (in sample order) for testing, the rest
    for training. For running the training notebook where no copy of CIFAR-10 is at hand."""
    sample = cifar10_sample()
    check_int_in_range("test_per_class", test_per_class, 1, int(torch.bincount(sample.labels).min()) - 1)
    rank = torch.zeros_like(sample.labels)
    for label in range(len(sample.classes)):
        members = torch.nonzero(sample.labels == label).flatten()
        rank[members] = torch.arange(len(members))
    is_test = rank < test_per_class
    source = "bundled 300-image CIFAR-10 sample (convmixer.data.sample)"

    def part(mask: torch.Tensor, split: str) -> ImageDataset:
        return ImageDataset(sample.images[mask], sample.labels[mask], sample.classes, source, split)

    return part(~is_test, "train"), part(is_test, "test")


@dataclass(frozen=True)
class Run:
    """One finished run of the panel."""

    kernel_size: int
    depth: int
    parameters: int
    curves: Curves
    eval_accuracy: float  # on the panel's ``test`` images (of the split its ``eval_split`` names)
    seconds: float


class KernelDepthTrainer(Panel):
    """Kernel size ``k`` and depth ``d`` -> a ConvMixer trained for ``profile``'s short budget
    (the panel of notebook 05).

    Controls: ``kernel_size`` (``cm-kernel-size``), ``depth`` (``cm-depth``), the Train button
    (``cm-train``); ``readout`` (``cm-readout``) lists every run with its final accuracy on
    ``test`` (named by its ``split``: ``"validation"`` for a split held out of the training set);
    ``figure`` (``cm-figure``) shows the loss and accuracy curves, the current run over the
    earlier ones. ``train_fn`` is :func:`convmixer.train.fit` (replaceable in tests).
    """

    dpi = 80  # the 9-inch curves at 720 px, the figure's width

    def __init__(
        self, train: ImageDataset, test: ImageDataset, profile: TrainProfile = SHORT, kernel_size: int = 5,
        depth: int = 2, max_kernel_size: int = 9, max_depth: int = 8, train_fn: Trainer = fit,
    ) -> None:
        self.eval_split = test.split
        self.kernel_size = int_slider(
            "kernel-size", "Kernel size k", kernel_size, 1, check_positive_int("max_kernel_size", max_kernel_size)
        )
        self.depth = int_slider("depth", "Depth d", depth, 1, check_positive_int("max_depth", max_depth))
        self.train_set, self.test_set = train, test
        self.profile = profile
        self.train_fn = train_fn
        self.runs: list[Run] = []
        self.train_button = run_button("train", "Train", "train a small ConvMixer with this k and d")
        self.layout([[self.kernel_size, self.depth, self.train_button]], width="720px")
        self.plot = TrainingCurves(max_epochs=profile.epochs)
        self.train_button.on_click(self.train)
        self._status = "Choose k and d, then press <b>Train</b>."
        self._render()

    def budget(self) -> str:
        """The short budget in words, e.g. ``ConvMixer-64/d, p = 4; 5,000 images x 4 epochs``."""
        config = self.profile.model_config()
        images = min(len(self.train_set), self.profile.train_subset or len(self.train_set))
        tests = min(len(self.test_set), self.profile.test_subset or len(self.test_set))
        return (
            f"ConvMixer-{config.dim}/d, p = {config.patch_size}; {images:,} training images "
            f"&times; {self.profile.epochs} epochs, evaluated on {tests:,} {self.eval_split} images"
        )

    def train(self, button: object = None) -> Run:
        """Train with the current ``k`` and ``d``; update the figure after every epoch and the
        readout at the end. Returns the finished :class:`Run`."""
        k, d = self.kernel_size.value, self.depth.value
        label = f"k={k} d={d}"
        profile = with_kernel_depth(self.profile, k, d)
        records: list[EpochRecord] = []

        def on_epoch(record: EpochRecord) -> None:
            records.append(record)
            self._status = f"training {label}: epoch {record.epoch}/{profile.epochs}, " \
                f"{record.eval_split} accuracy {100 * record.eval_accuracy:.1f}%"
            self.plot.update(Curves.from_history(label, records))
            self._render()

        self.train_button.disabled = True
        self._status = f"training {label} ({self.budget()}) ..."
        self._render(figure=False)
        started = time.perf_counter()
        try:
            result = self.train_fn(
                profile, train=self.train_set, test=self.test_set, progress=False, callback=on_epoch
            )
        finally:
            self.train_button.disabled = False
        curves = Curves.from_history(label, result.history)
        run = Run(k, d, count_parameters(result.model), curves, result.evaluation.accuracy,
                  time.perf_counter() - started)
        self.runs.append(run)
        self.plot = TrainingCurves(max_epochs=self.profile.epochs)
        for earlier in self.runs[:-1]:
            self.plot.add_reference(earlier.curves)
        self.plot.update(curves)
        self._status = f"finished {label}: {curves.eval_split} accuracy {100 * run.eval_accuracy:.1f}%"
        self._render()
        return run

    def _render(self, figure: bool = True) -> None:
        rows = "".join(
            f"<tr><td>{i}</td><td>{run.kernel_size}</td><td>{run.depth}</td>"
            f"<td align='right'>{run.parameters:,}</td>"
            f"<td align='right'><b>{100 * run.eval_accuracy:.1f}%</b></td>"
            f"<td align='right'>{run.seconds:.0f} s</td></tr>"
            for i, run in enumerate(self.runs, start=1)
        )
        table = (
            "<table><tr><th>run</th><th>k</th><th>d</th><th>parameters</th>"
            f"<th>{self.eval_split} accuracy</th><th>time</th></tr>{rows}</table>"
            if self.runs else ""
        )
        self.readout.value = (
            f"{self._status}<br>Budget: {self.budget()}.{table}"
        )
        if figure:
            self.show(self.plot.figure)
