"""Learning curves with labelled uncertainty bands, the schedule with its warm-up marked, and the
per-class accuracy figure's error bars and legend placement."""

import math

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg

from convmixer.train import one_cycle_schedule
from convmixer.viz.learning import learning_curves_figure, schedule_figure
from convmixer.viz.training import per_class_accuracy_figure


def _legend_texts(ax):
    return [text.get_text() for text in ax.get_legend().get_texts()]


def test_learning_curves_draw_each_split_and_a_labelled_95_percent_band():
    accuracy = [0.4, 0.6, 0.7]
    fig = learning_curves_figure(
        [1, 2, 3], loss={"train": [2.0, 1.5, 1.2], "validation": [1.8, 1.4, 1.3]},
        accuracy={"train": [0.5, 0.7, 0.8], "validation": accuracy}, band_images={"validation": 1000},
    )
    loss_ax, accuracy_ax = fig.axes
    np.testing.assert_allclose(loss_ax.get_lines()[1].get_ydata(), [1.8, 1.4, 1.3])
    np.testing.assert_allclose(accuracy_ax.get_lines()[1].get_ydata(), [40, 60, 70])
    (band,) = accuracy_ax.collections
    low, high = band.get_paths()[0].vertices[:, 1].min(), band.get_paths()[0].vertices[:, 1].max()
    assert low == pytest.approx(40 - 196 * math.sqrt(0.4 * 0.6 / 1000))
    assert high == pytest.approx(70 + 196 * math.sqrt(0.7 * 0.3 / 1000))
    assert "validation, 95 % interval (1,000 images)" in _legend_texts(accuracy_ax)
    assert _legend_texts(loss_ax) == ["train", "validation"]


def test_learning_curves_refuse_mismatched_series():
    with pytest.raises(ValueError, match="2 values for 3 epochs"):
        learning_curves_figure([1, 2, 3], {"train": [1.0, 0.5]}, {})
    with pytest.raises(ValueError, match="no accuracy series"):
        learning_curves_figure([1], {"train": [1.0]}, {"train": [0.5]}, band_images={"test": 10})


def test_schedule_shades_exactly_the_warm_up_and_says_so():
    epochs, steps = 10, 7
    fig = schedule_figure(one_cycle_schedule(epochs, steps), epochs, steps, peak_lr=0.01)
    ax = fig.axes[0]
    assert max(ax.get_lines()[0].get_ydata()) == pytest.approx(0.01)
    (band,) = ax.patches
    start, stop = band.get_x(), band.get_x() + band.get_width()
    assert (start, stop) == pytest.approx((0.0, 0.4 * epochs))  # one-cycle peaks at 2/5 of training
    assert _legend_texts(ax) == ["warm-up: the rate rises"]


def test_per_class_error_bars_are_95_percent_intervals_and_the_legend_covers_nothing():
    accuracy, classes = [0.5, 0.9, 0.999], ("a", "b", "c")
    fig = per_class_accuracy_figure(accuracy, classes, images_per_class=[100, 100, 1000])
    ax = fig.axes[0]
    (bars,) = [c for c in ax.containers if hasattr(c, "has_xerr") and c.has_xerr]
    segments = bars.lines[2][0].get_segments()
    half_widths = [(s[1][0] - s[0][0]) / 2 for s in segments]
    expected = [196 * math.sqrt(a * (1 - a) / n) for a, n in zip(accuracy, [100, 100, 1000])]
    np.testing.assert_allclose(half_widths, expected)
    assert "95 % interval" in _legend_texts(ax)
    renderer = FigureCanvasAgg(fig).get_renderer()
    fig.draw(renderer)
    legend = ax.get_legend().get_window_extent(renderer)
    for artist in [*ax.texts, *ax.patches, ax.yaxis.get_ticklabels()[0]]:
        assert not legend.overlaps(artist.get_window_extent(renderer)), artist


def test_learning_curves_legends_sit_below_the_axes_off_the_data():
    fig = learning_curves_figure([1, 2], loss={"train": [2.0, 1.0]}, accuracy={"validation": [0.3, 0.5]},
                                 band_images={"validation": 100})
    for ax in fig.axes:
        fig.canvas.draw()
        legend_box = ax.get_legend().get_window_extent()
        assert legend_box.y1 <= ax.get_window_extent().y0 + 1
