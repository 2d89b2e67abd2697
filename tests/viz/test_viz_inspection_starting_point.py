"""Notebook 06's comparison with the weights training started from, and its figures' colour bars,
input image and legends (convmixer.viz.inspection, convmixer.analysis.inspection.filter_movement)."""

import pytest
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from support import small_model

from convmixer.analysis.inspection import (
    DeletionResult,
    depthwise_kernels,
    filter_movement,
)
from convmixer.data.sample import cifar10_sample
from convmixer.viz.inspection import (
    deletion_figure,
    feature_maps_figure,
    kernel_comparison_figure,
    patch_overlays_figure,
    stem_change_figure,
)


def drawn(fig):
    renderer = FigureCanvasAgg(fig).get_renderer()
    fig.draw(renderer)
    return renderer


def test_filter_movement_is_the_distance_relative_to_the_starting_length():
    initial = torch.zeros(3, 2, 2, 2)
    initial[:, 0, 0, 0] = torch.tensor([1.0, 2.0, 4.0])
    trained = initial.clone()
    trained[1, 1, 1, 1] = 2.0  # moved as far as it was long
    trained[2] *= 0.5  # shrank to half: moved half its length
    torch.testing.assert_close(filter_movement(initial, trained), torch.tensor([0.0, 1.0, 0.5]))
    with pytest.raises(ValueError, match="one shape"):
        filter_movement(initial, trained[:2])


def test_stem_change_figure_pairs_start_and_trained_filters_without_overlapping_titles():
    torch.manual_seed(0)
    initial = torch.randn(16, 3, 4, 4)
    trained = initial + 0.1 * torch.randn(16, 3, 4, 4)
    channels = [0, 1, 2, 10, 11, 12]
    fig = stem_change_figure(initial, trained, channels, whitened=12)
    grids = [ax for ax in fig.axes if ax.images]
    assert len(grids) == 2 * len(channels)
    plot = next(ax for ax in fig.axes if not ax.images)
    assert {t.get_text() for t in plot.get_legend().get_texts()} == {"started as whitening filters", "started random"}
    renderer = drawn(fig)
    titles = [ax.title.get_window_extent(renderer) for ax in grids if ax.get_title()]
    assert len(titles) == len(channels)
    assert not any(a.overlaps(b) for i, a in enumerate(titles) for b in titles[i + 1:])
    legend = plot.get_legend().get_window_extent(renderer)
    assert legend.y1 <= plot.get_window_extent(renderer).y0 + 1  # below the axes, off the data
    with pytest.raises(ValueError, match="channels"):
        stem_change_figure(initial, trained, [16])


def test_feature_maps_can_show_the_input_image_and_colour_bars():
    maps = [torch.randn(4, 8, 8) for _ in range(3)]
    image = cifar10_sample().images[0]
    fig = feature_maps_figure(maps, channel=1, image=image, colour_bars=True)
    panels = [ax for ax in fig.axes if ax.images]
    assert len(panels) == 4 and panels[0].get_title() == "input image"
    assert len(fig.axes) == 4 + 3  # one colour bar per feature map
    assert len(feature_maps_figure(maps, channel=1).axes) == 3  # the default is unchanged


def test_patch_overlays_can_give_every_own_scale_map_a_colour_bar():
    image = cifar10_sample().images[0]
    maps = {"a": torch.rand(8, 8), "b": torch.rand(8, 8)}
    assert len(patch_overlays_figure(image, maps).axes) == 2
    assert len(patch_overlays_figure(image, maps, colour_bars=True).axes) == 4


def test_legends_can_sit_off_the_data():
    kernels = depthwise_kernels(small_model(5))
    fig = kernel_comparison_figure(kernels, kernels, channels=[0, 1], legend_below=True, names=("trained", "start"))
    drawn(fig)
    (with_legend,) = [ax for ax in fig.axes if ax.get_legend() is not None]
    assert with_legend.get_legend().get_window_extent().y1 <= with_legend.get_window_extent().y0 + 1
    assert any("start" in t.get_text() for t in with_legend.get_legend().get_texts())
    results = [DeletionResult(4, 0.8, 0.5, 0.7, 0.01, 0.02, 0.02), DeletionResult(8, 0.8, 0.3, 0.6, 0.01, 0.02, 0.02)]
    fig = deletion_figure(results, 64, legend_outside=True)
    drawn(fig)
    ax = fig.axes[0]
    assert ax.get_legend().get_window_extent().x0 >= ax.get_window_extent().x1 - 1
