"""Figures for notebook 05 (training on CIFAR-10): the data, the augmentation, the learning curves
and the evaluation (confusion matrix, per-class accuracy, the most confident mistakes).

Figures follow :mod:`convmixer.viz.style` (plain ``Figure`` objects, no pyplot state). :class:`TrainingCurves` keeps its figure and moves its lines
in place, so a notebook can redraw it after every epoch (``display(..., display_id=True)`` and
``handle.update(curves.figure)``) and a widget can re-render it without building a new figure.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import torch
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from convmixer._util import check_positive_int
from convmixer.data.augment import CIFAR10_MEAN, CIFAR10_STD
from convmixer.studies.stats import binomial_half_width
from convmixer.viz.images import to_display
from convmixer.viz.style import grid_axes, grid_shape, hide_ticks, new_figure

TRAIN_COLOR = "#1f77b4"
TEST_COLOR = "#d62728"
# Finished runs: tab10 without its blue and red, which the live run uses.
REFERENCE_COLORS = ("C2", "C4", "C1", "C5", "C6", "C8", "C9", "C7")


def _check_images(images: torch.Tensor, name: str = "images") -> None:
    if images.dim() != 4:
        raise ValueError(f"{name} must be a batch shaped (N, C, H, W), got shape {tuple(images.shape)}")


def class_grid(
    images: torch.Tensor, labels: torch.Tensor, classes: Sequence[str], per_class: int = 8, size: float = 0.8,
) -> Figure:
    """One row per class holding its first ``per_class`` images (in dataset order), the class
    name on the left. ``images`` is ``(N, 3, H, W)`` (uint8 or float), ``labels`` ``(N,)``."""
    _check_images(images)
    check_positive_int("per_class", per_class)
    if len(labels) != len(images):
        raise ValueError(f"got {len(images)} images but {len(labels)} labels")
    rows = []
    for label, name in enumerate(classes):
        index = torch.nonzero(labels == label).flatten()[:per_class]
        if len(index) == 0:
            raise ValueError(f"no image of class {label} ({name!r}) to show")
        rows.append(index)
    fig = new_figure(size * per_class + 0.9, size * len(classes))
    axes = fig.subplots(len(classes), per_class, squeeze=False)
    fig.subplots_adjust(left=0.9 / (size * per_class + 0.9), right=0.99, top=0.99, bottom=0.01,
                        wspace=0.05, hspace=0.05)
    for row, (name, index) in enumerate(zip(classes, rows)):
        for col, ax in enumerate(axes[row]):
            hide_ticks(ax, frame=False)
            if col < len(index):
                ax.imshow(to_display(images[index[col]]), interpolation="nearest")
        axes[row, 0].set_ylabel(name, rotation=0, ha="right", va="center", fontsize=9)
    return fig


def unnormalize(images: torch.Tensor) -> torch.Tensor:
    """Undo the training pipeline's normalisation: ``x * std + mean`` per channel (CIFAR-10's
    statistics), clamped to ``[0, 1]``, so augmented batches can be looked at in true colours."""
    _check_images(images)
    mean = torch.tensor(CIFAR10_MEAN, device=images.device).view(1, 3, 1, 1)
    std = torch.tensor(CIFAR10_STD, device=images.device).view(1, 3, 1, 1)
    return (images.float() * std + mean).clamp(0, 1)


def augmentation_figure(
    originals: torch.Tensor,
    views: Sequence[torch.Tensor],
    size: float = 1.1,
) -> Figure:
    """Each original image (one row each) next to augmented views of it.

    ``originals`` is ``(N, 3, H, W)``; ``views`` is a list of batches of the same shape, the
    ``j``-th holding the ``j``-th augmented draw of every original. Float views must lie in
    ``[0, 1]`` (pass normalised batches through :func:`unnormalize` first).
    """
    _check_images(originals, "originals")
    if len(views) == 0:
        raise ValueError("augmentation_figure needs at least one augmented view")
    for view in views:
        if view.shape != originals.shape:
            raise ValueError(
                f"every view must have the originals' shape {tuple(originals.shape)}, "
                f"got {tuple(view.shape)}"
            )
        if view.is_floating_point() and (view.min() < 0 or view.max() > 1):
            raise ValueError(
                "float views must lie in [0, 1]; undo the normalisation with unnormalize() first"
            )
    rows, cols = len(originals), 1 + len(views)
    fig = new_figure(size * cols, size * rows + 0.25, layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False)
    for i in range(rows):
        for j, batch in enumerate([originals, *views]):
            image = batch[i]
            if image.is_floating_point():
                image = (image * 255).round().to(torch.uint8)
            axes[i, j].imshow(to_display(image), interpolation="nearest")
            hide_ticks(axes[i, j], frame=False)
    axes[0, 0].set_title("original", fontsize=9)
    for j in range(1, cols):
        axes[0, j].set_title(f"view {j}", fontsize=9)
    return fig


@dataclass
class Curves:
    """Per-epoch numbers of one training run, in the units :class:`TrainingCurves` draws:
    losses (cross-entropy) and accuracies in ``[0, 1]``, the ``eval_`` ones measured on the split
    ``eval_split`` names (``"test"``, or ``"validation"`` for a held-out split). Missing series
    are empty lists."""

    label: str
    epochs: list[float] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    eval_loss: list[float] = field(default_factory=list)
    train_accuracy: list[float] = field(default_factory=list)
    eval_accuracy: list[float] = field(default_factory=list)
    eval_split: str = "test"

    SERIES = ("train_loss", "eval_loss", "train_accuracy", "eval_accuracy")

    @classmethod
    def from_history(cls, label: str, history: Sequence[object]) -> "Curves":
        """Build from per-epoch records such as :class:`convmixer.train.EpochRecord`: objects
        with an ``epoch`` attribute, any of the series' names and the ``eval_split`` they were
        measured on; a series that some record lacks stays empty."""
        split = getattr(history[-1], "eval_split", "test") if history else "test"
        curves = cls(label, epochs=[float(r.epoch) for r in history], eval_split=split)
        for name in cls.SERIES:
            values = [getattr(r, name, None) for r in history]
            if all(v is not None for v in values):
                setattr(curves, name, [float(v) for v in values])
        return curves


class TrainingCurves:
    """Loss (left) and accuracy (right) against epoch, for one live run plus any number of
    finished reference runs drawn underneath in muted colours.

    ``update(curves)`` moves the live run's lines and rescales the axes; the figure object stays
    the same, so whatever displays it only has to be told to redraw. The red lines are named by
    the split the live run was evaluated on (its :attr:`Curves.eval_split`).
    """

    def __init__(self, max_epochs: int | None = None, width: float = 9.0, height: float = 3.2) -> None:
        self.figure = new_figure(width, height, layout="constrained")
        self.loss_ax, self.accuracy_ax = self.figure.subplots(1, 2)
        self.loss_ax.set(xlabel="epoch", ylabel="cross-entropy loss", title="loss")
        self.accuracy_ax.set(xlabel="epoch", ylabel="accuracy (%)", title="accuracy")
        for ax in (self.loss_ax, self.accuracy_ax):
            ax.grid(alpha=0.3)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            if max_epochs is not None:
                ax.set_xlim(0, check_positive_int("max_epochs", max_epochs))
        self.max_epochs = max_epochs
        self.references: list[Curves] = []
        self.live: Curves | None = None
        self._lines = {
            "train_loss": self.loss_ax.plot([], [], "o-", ms=3, color=TRAIN_COLOR, label="train")[0],
            "eval_loss": self.loss_ax.plot([], [], "o-", ms=3, color=TEST_COLOR, label="evaluation")[0],
            "train_accuracy": self.accuracy_ax.plot([], [], "o-", ms=3, color=TRAIN_COLOR, label="train")[0],
            "eval_accuracy": self.accuracy_ax.plot([], [], "o-", ms=3, color=TEST_COLOR, label="evaluation")[0],
        }

    def add_reference(self, curves: Curves) -> None:
        """Draw a finished run in a muted colour (dashed: train, solid: evaluation), labelled in the
        legend by ``curves.label``."""
        color = REFERENCE_COLORS[len(self.references) % len(REFERENCE_COLORS)]
        self.references.append(curves)
        for name, line in self._lines.items():
            values = getattr(curves, name)
            if not values:
                continue
            ax = line.axes
            scale = 100.0 if "accuracy" in name else 1.0
            ax.plot(
                curves.epochs[: len(values)],
                np.asarray(values) * scale,
                "--" if name.startswith("train") else "-",
                color=color,
                alpha=0.45,
                lw=1.2,
                label=curves.label if name.startswith("eval") else None,
                zorder=1,
            )
        self._rescale()

    def update(self, curves: Curves) -> None:
        """Show ``curves`` as the live run (bold, train blue and its ``eval_split`` red)."""
        self.live = curves
        for name, line in self._lines.items():
            values = getattr(curves, name)
            scale = 100.0 if "accuracy" in name else 1.0
            line.set_data(curves.epochs[: len(values)], np.asarray(values, dtype=float) * scale)
            split = "train" if name.startswith("train") else curves.eval_split
            line.set_label(f"{curves.label}: {split}" if curves.label else split)
        self._rescale()

    def _rescale(self) -> None:
        for ax in (self.loss_ax, self.accuracy_ax):
            ax.relim()
            ax.autoscale_view()
            if self.max_epochs is not None:
                ax.set_xlim(0, self.max_epochs + 0.2)
            handles = [h for h in ax.get_lines() if len(h.get_xdata()) and not h.get_label().startswith("_")]
            if handles:
                ax.legend(handles=handles, fontsize=7, loc="best")
        self.figure.canvas.draw_idle()


def confusion_matrix_figure(
    matrix: torch.Tensor, classes: Sequence[str], size: float = 5.2
) -> Figure:
    """The confusion matrix, row ``i`` column ``j`` = images of true class ``i`` predicted as
    ``j``, each row normalised to 100 % (so the diagonal is the per-class accuracy); every cell
    is written in percent."""
    matrix = torch.as_tensor(matrix)
    n = len(classes)
    if matrix.shape != (n, n):
        raise ValueError(f"expected a {n} x {n} confusion matrix for {n} classes, got shape {tuple(matrix.shape)}")
    counts = matrix.double()
    rows = counts.sum(dim=1, keepdim=True).clamp_min(1)
    percent = (100 * counts / rows).numpy()
    fig = new_figure(size, size, layout="constrained")
    ax = fig.subplots()
    image = ax.imshow(percent, cmap="Blues", vmin=0, vmax=100)
    fig.colorbar(image, ax=ax, shrink=0.8, label="% of the true class")
    for i in range(n):
        for j in range(n):
            value = percent[i, j]
            ax.text(j, i, f"{value:.0f}", ha="center", va="center", fontsize=7,
                    color="white" if value > 60 else "black")
    ax.set_xticks(range(n), classes, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(n), classes, fontsize=8)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title("confusion matrix (% of each true class)", fontsize=10)
    return fig


def per_class_accuracy_figure(
    accuracy: Sequence[float],
    classes: Sequence[str],
    width: float = 6.0,
    images_per_class: Sequence[int] | None = None,
) -> Figure:
    """Horizontal bars: accuracy of each class (values in ``[0, 1]``), with the mean as a line.
    With ``images_per_class`` (how many test images each accuracy was measured on) every bar gets
    an error bar of its 95 % interval, ``1.96 sqrt(a (1 - a) / n)`` (:func:`~convmixer.studies.stats.binomial_half_width`). The legend sits above the
    axes, clear of the bars and their labels."""
    values = np.asarray([float(a) for a in accuracy]) * 100
    if len(values) != len(classes):
        raise ValueError(f"got {len(values)} accuracies for {len(classes)} classes")
    fig = new_figure(width, 0.28 * len(classes) + 1.1, layout="constrained")
    ax = fig.subplots()
    positions = np.arange(len(classes))
    ax.barh(positions, values, color=TRAIN_COLOR)
    errors = np.zeros_like(values)
    if images_per_class is not None:
        if len(images_per_class) != len(classes):
            raise ValueError(f"got {len(images_per_class)} image counts for {len(classes)} classes")
        errors = np.array([100 * binomial_half_width(v / 100, n) for v, n in zip(values, images_per_class)])
        ax.errorbar(values, positions, xerr=errors, fmt="none", ecolor="black", elinewidth=1, capsize=2,
                    label="95 % interval")
    for y, value, error in zip(positions, values, errors):
        ax.text(value + error + 1, y, f"{value:.1f}", va="center", fontsize=7, zorder=3,
                bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.5})
    mean = values.mean()
    ax.axvline(mean, color=TEST_COLOR, lw=1, ls="--", label=f"mean {mean:.1f} %")
    ax.set_yticks(positions, classes, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, 110)
    ax.set_xlabel("test accuracy (%)")
    ax.legend(fontsize=8, loc="lower right", bbox_to_anchor=(1.0, 1.0), ncols=2, frameon=False)
    return fig


def most_confident_mistakes(
    probabilities: torch.Tensor, labels: torch.Tensor, count: int
) -> torch.Tensor:
    """Indices of the (at most) ``count`` wrongly classified images whose predicted class had
    the highest probability, most confident first. ``probabilities`` is ``(N, n)``."""
    check_positive_int("count", count)
    if probabilities.dim() != 2 or len(probabilities) != len(labels):
        raise ValueError(
            f"expected probabilities (N, n) and labels (N,), got shapes "
            f"{tuple(probabilities.shape)} and {tuple(labels.shape)}"
        )
    confidence, predicted = probabilities.max(dim=1)
    wrong = torch.nonzero(predicted != labels).flatten()
    order = torch.argsort(confidence[wrong], descending=True, stable=True)
    return wrong[order[:count]]


def mistakes_figure(
    images: torch.Tensor,
    labels: torch.Tensor,
    probabilities: torch.Tensor,
    classes: Sequence[str],
    ncols: int = 6,
    size: float = 1.45,
) -> Figure:
    """Images with their true class, the predicted one and its probability in percent with two
    decimals, e.g. ``cat → dog 99.87%`` (used for the most confident mistakes, whose
    probabilities crowd just below 100 %)."""
    _check_images(images)
    if not len(images) == len(labels) == len(probabilities):
        raise ValueError(
            f"got {len(images)} images, {len(labels)} labels and {len(probabilities)} probability rows"
        )
    if len(images) == 0:
        raise ValueError("mistakes_figure needs at least one image")
    nrows, ncols = grid_shape(len(images), ncols)
    fig = new_figure(size * ncols, (size + 0.3) * nrows, layout="constrained")
    confidence, predicted = probabilities.max(dim=1)
    for ax, image, label, guess, p in zip(grid_axes(fig, nrows, ncols), images, labels, predicted, confidence):
        ax.imshow(to_display(image), interpolation="nearest")
        ax.set_title(
            f"{classes[int(label)]}\n→ {classes[int(guess)]} {100 * float(p):.2f}%", fontsize=8
        )
    return fig
