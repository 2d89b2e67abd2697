"""The skip study's figure draws what the summary says: means with 95 % error bars, every seed, and
the mean curves per epoch."""

import math

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from study_fakes import epoch_record

from convmixer.studies.skip import SkipRun
from convmixer.viz.skip import skip_study_figure


def run(variant: str, seed: int, curve: tuple[float, ...]) -> SkipRun:
    history = tuple(epoch_record(e, 2.0 - 0.1 * e - 0.01 * seed, 1.8, a, 1.0) for e, a in enumerate(curve, start=1))
    return SkipRun(variant, seed, 100, curve[-1], 50, history, 5.0)


def error_bar_half_widths(ax) -> list[float]:
    bars = [c for c in ax.containers if getattr(c, "has_yerr", False)]
    return [(s[1][1] - s[0][1]) / 2 for bar in bars for s in bar.lines[2][0].get_segments()]


def test_figure_shows_means_intervals_seeds_and_curves():
    runs = [run("depthwise", s, (0.30, a)) for s, a in enumerate((0.50, 0.52, 0.54))]
    runs += [run("none", s, (0.20 + 0.02 * s, 0.40)) for s in range(3)]
    fig = skip_study_figure(runs, title="skip study")
    final_ax, accuracy_ax, loss_ax = fig.axes
    assert [t.get_text() for t in final_ax.get_xticklabels()] == ["around\ndepth-wise\n(paper)", "no skip"]
    # depthwise: s = 2 points over 3 seeds, none: every seed ends at 40 %, so the pooled spread is
    # sqrt((8 + 0) / 4) = sqrt(2) with 4 degrees of freedom (t = 2.776): the same bar for both
    pooled = 2.776 * math.sqrt(2) / math.sqrt(3)
    assert error_bar_half_widths(final_ax) == pytest.approx([pooled, pooled], abs=1e-3)
    seeds = [c for c in final_ax.collections if len(c.get_offsets()) == 3]
    np.testing.assert_allclose(np.asarray(seeds[0].get_offsets())[:, 1], [50, 52, 54])
    np.testing.assert_allclose(accuracy_ax.get_lines()[1].get_ydata(), [22, 40])
    np.testing.assert_allclose(loss_ax.get_lines()[0].get_ydata(), [1.89, 1.79])
    # one legend for the figure, under the panels (off the data), none on the axes
    (legend,) = fig.legends
    assert [t.get_text() for t in legend.get_texts()] == ["around depth-wise (paper)", "no skip"]
    assert all(ax.get_legend() is None for ax in fig.axes)
    renderer = FigureCanvasAgg(fig).get_renderer()
    fig.draw(renderer)  # lay the figure out, as when it is shown
    assert legend.get_window_extent(renderer).y1 <= min(ax.get_tightbbox(renderer).y0 for ax in fig.axes) + 1
    assert fig._suptitle.get_text() == "skip study"


def test_figure_of_single_seeds_has_no_error_bars():
    fig = skip_study_figure([run("both", 0, (0.3, 0.4)), run("block", 0, (0.3, 0.45))])
    assert error_bar_half_widths(fig.axes[0]) == []
    assert "seeds per variant: 1)" in fig.axes[0].get_title()
