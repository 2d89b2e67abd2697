"""The skip-connection study's figure (notebook 04): where each placement of the skip ends up, and
how it got there (:mod:`convmixer.studies.skip`).

Three panels: final validation accuracy per variant (the mean with its 95 % interval as an error
bar, every seed as a hollow marker beside it), the mean validation accuracy after each epoch, and
the mean training loss after each epoch.
"""

from __future__ import annotations

from typing import Sequence

from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from convmixer.layers import RESIDUALS
from convmixer.studies.skip import SkipRun, summarise
from convmixer.viz.style import new_figure

# One colour per variant, the paper's first.
VARIANT_COLORS: dict[str, str] = dict(zip(RESIDUALS, ("tab:blue", "tab:orange", "tab:green", "tab:red")))
# The variants' names on the accuracy panel's axis, on two lines where they are long.
TICK_LABELS: dict[str, str] = {
    "depthwise": "around\ndepth-wise\n(paper)", "block": "around the\nwhole block", "both": "two skips", "none": "no skip",
}
SEED_OFFSET = 0.18  # the single seeds sit this far right of their variant's mean


def skip_study_figure(runs: Sequence[SkipRun], title: str | None = None) -> Figure:
    """Final validation accuracy per variant with 95 % error bars (seeds as hollow markers), and the
    per-epoch means of validation accuracy and training loss, one line per variant; one legend for
    the variants, under the panels (off the data)."""
    summaries = summarise(runs)
    fig = new_figure(11, 4.0, layout="constrained")
    final_ax, accuracy_ax, loss_ax = fig.subplots(1, 3, width_ratios=[1.15, 1, 1])
    for x, summary in enumerate(summaries):
        color = VARIANT_COLORS[summary.variant]
        final_ax.errorbar([x], [summary.mean], yerr=None if summary.half_width is None else [summary.half_width],
                          marker="o", capsize=4, color=color)
        final_ax.scatter([x + SEED_OFFSET] * len(summary.accuracies), summary.accuracies, facecolors="none",
                         edgecolors=color, s=30, zorder=3)
        epochs = range(1, len(summary.accuracy_curve) + 1)
        accuracy_ax.plot(epochs, summary.accuracy_curve, "o-", ms=3, color=color, label=summary.label)
        loss_ax.plot(epochs, summary.train_loss_curve, "o-", ms=3, color=color, label=summary.label)
    seeds = sorted({len(s.accuracies) for s in summaries})
    final_ax.set_xticks(range(len(summaries)), [TICK_LABELS[s.variant] for s in summaries], fontsize=8)
    final_ax.set(ylabel="validation accuracy (%)",
                 title=f"after the last epoch: mean ± 95 % interval\n(hollow: single seeds; "
                       f"seeds per variant: {' or '.join(map(str, seeds))})")
    final_ax.set_xlim(-0.5, len(summaries) - 0.5)
    final_ax.title.set_fontsize(9)
    accuracy_ax.set(xlabel="epoch", ylabel="validation accuracy (%)", title="validation accuracy (mean over seeds)")
    loss_ax.set(xlabel="epoch", ylabel="training loss", title="training loss (mean over seeds)")
    for ax in (final_ax, accuracy_ax, loss_ax):
        ax.grid(alpha=0.3)
    for ax in (accuracy_ax, loss_ax):
        ax.title.set_fontsize(9)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    fig.legend(*accuracy_ax.get_legend_handles_labels(), loc="outside lower center", ncol=len(summaries),
               fontsize=9, frameon=False)
    if title:
        fig.suptitle(title, fontsize=10)
    return fig
