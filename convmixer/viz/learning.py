"""Figures of training over time for notebook 05: learning curves of any number of splits
(train, validation, test) with the uncertainty of each measured accuracy drawn as a labelled band,
and the learning-rate schedule with its warm-up marked.

Every shaded region says in the legend what it is.
"""

from __future__ import annotations

from typing import Callable, Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from convmixer._util import check_positive_int
from convmixer.studies.stats import binomial_half_width
from convmixer.viz.style import new_figure

# One colour per split, in the order given: train blue, the evaluated split red, then others.
SPLIT_COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd")


def _check_series(epochs: Sequence[float], series: Mapping[str, Sequence[float]], what: str) -> None:
    for name, values in series.items():
        if len(values) != len(epochs):
            raise ValueError(f"{what} series {name!r} has {len(values)} values for {len(epochs)} epochs")


def learning_curves_figure(
    epochs: Sequence[float],
    loss: Mapping[str, Sequence[float]],
    accuracy: Mapping[str, Sequence[float]],
    band_images: Mapping[str, int] | None = None,
    max_epochs: int | None = None,
    title: str | None = None,
) -> Figure:
    """Loss (left) and accuracy in percent (right) against epoch, one line per split.

    ``loss`` and ``accuracy`` map a split's name (``"train"``, ``"validation"``, ...) to one
    value per epoch (accuracies as fractions). For a split named in ``band_images`` the accuracy
    gets a shaded band, the 95 % interval of a proportion measured on that many images,
    labelled as such in the legend.
    """
    if len(epochs) == 0:
        raise ValueError("learning_curves_figure needs at least one epoch")
    _check_series(epochs, loss, "loss")
    _check_series(epochs, accuracy, "accuracy")
    band_images = dict(band_images or {})
    unknown = sorted(set(band_images) - set(accuracy))
    if unknown:
        raise ValueError(f"band_images names {', '.join(unknown)}, which have no accuracy series")
    splits = list(dict.fromkeys([*loss, *accuracy]))
    colors = {name: SPLIT_COLORS[i % len(SPLIT_COLORS)] for i, name in enumerate(splits)}
    x = np.asarray(epochs, dtype=float)
    fig = new_figure(9.0, 3.8, layout="constrained")
    loss_ax, accuracy_ax = fig.subplots(1, 2)
    for name, values in loss.items():
        loss_ax.plot(x, values, "o-", ms=3, color=colors[name], label=name)
    for name, values in accuracy.items():
        percent = 100 * np.asarray(values, dtype=float)
        accuracy_ax.plot(x, percent, "o-", ms=3, color=colors[name], label=name)
        if name in band_images:
            images = check_positive_int(f"band_images[{name!r}]", band_images[name])
            error = 100 * np.array([binomial_half_width(a, images) for a in values])
            accuracy_ax.fill_between(
                x, percent - error, percent + error, color=colors[name], alpha=0.2, lw=0,
                label=f"{name}, 95 % interval ({images:,} images)",
            )
    loss_ax.set(xlabel="epoch", ylabel="cross-entropy loss", title="loss")
    accuracy_ax.set(xlabel="epoch", ylabel="accuracy (%)", title="accuracy")
    for ax in (loss_ax, accuracy_ax):
        ax.grid(alpha=0.3)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        if max_epochs is not None:
            ax.set_xlim(0, check_positive_int("max_epochs", max_epochs) + 0.2)
        if ax.get_legend_handles_labels()[0]:
            # below the axes, off the data
            ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncols=2, frameon=False)
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def schedule_figure(
    multiplier: Callable[[int], float], epochs: int, steps_per_epoch: int, peak_lr: float | None = None
) -> Figure:
    """The learning rate at every step of ``epochs`` x ``steps_per_epoch`` steps (``multiplier``
    of the peak, e.g. :func:`convmixer.train.one_cycle_schedule`, times ``peak_lr`` if given),
    against epochs done, with the steps where it rises (the warm-up) shaded and labelled."""
    check_positive_int("epochs", epochs)
    check_positive_int("steps_per_epoch", steps_per_epoch)
    steps = np.arange(epochs * steps_per_epoch)
    t = (steps + 1) / steps_per_epoch
    rate = np.array([multiplier(int(s)) for s in steps]) * (peak_lr or 1.0)
    fig = new_figure(5.5, 2.4, layout="constrained")
    ax = fig.subplots()
    ax.plot(t, rate, color=SPLIT_COLORS[0])
    rising = np.diff(rate, prepend=0.0) > 0
    edges = np.flatnonzero(np.diff(np.concatenate([[False], rising, [False]]).astype(int)))
    for i, (start, stop) in enumerate(zip(edges[::2], edges[1::2])):
        ax.axvspan(t[start] - 1 / steps_per_epoch, t[stop - 1], color="#ff7f0e", alpha=0.15, lw=0,
                   label="warm-up: the rate rises" if i == 0 else None)
    ax.set(xlabel="epoch", ylabel="learning rate" if peak_lr else "learning rate / peak",
           title=f"one-cycle schedule: {epochs} epochs of {steps_per_epoch} steps")
    ax.set_xlim(0, epochs)
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8, loc="upper right")
    return fig
