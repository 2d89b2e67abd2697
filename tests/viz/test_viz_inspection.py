"""The figures of notebook 06: filters, kernels, feature maps and attributions as drawn."""

import pytest
import torch
from matplotlib.figure import Figure
from support import as_input, small_model

from convmixer.analysis.inspection import depthwise_kernels, inspect_image, patch_norms
from convmixer.data.sample import cifar10_sample
from convmixer.viz.inspection import (
    feature_maps_figure,
    filter_grid_figure,
    inspection_figure,
    kernel_comparison_figure,
    overlay_gallery_figure,
    patch_overlays_figure,
)

CLASSES = tuple(f"class {i}" for i in range(10))


@pytest.fixture(scope="module")
def images() -> torch.Tensor:
    return cifar10_sample().images[:4]


def images_on(fig: Figure) -> int:
    return sum(len(ax.images) for ax in fig.axes)


def test_filter_grid_draws_every_filter():
    fig = filter_grid_figure(torch.randn(20, 3, 4, 4), ncols=8, title="stem")
    assert isinstance(fig, Figure) and fig.get_suptitle() == "stem"
    assert len(fig.axes) == 24 and images_on(fig) == 20
    with pytest.raises(ValueError, match="filters shaped"):
        filter_grid_figure(torch.randn(3, 4, 4))


def test_kernel_grids_draw_one_kernel_per_layer_and_channel():
    kernels = depthwise_kernels(small_model(5))
    fig = kernel_comparison_figure(kernels, depthwise_kernels(small_model(5, seed=1)), [0, 1, 2, 3], title="T")
    assert images_on(fig) == 16
    assert "T" in [text.get_text() for sub in fig.subfigs for text in sub.texts]
    statistic_axes = [ax for ax in fig.axes if ax.lines]  # the two statistics' axes
    (bar,) = [ax for ax in fig.axes if ax.get_title(loc="left")]  # one colour bar for every kernel
    assert [t.get_text() for t in bar.get_yticklabels()] == ["−max|w|", "0", "+max|w|"]
    assert [ax.get_ylabel() for ax in statistic_axes] == ["spread s (positions)", "smoothness c"]
    assert all(len([line for line in ax.lines if line.get_marker() == "o"]) == 2 for ax in statistic_axes)
    with pytest.raises(ValueError, match=r"channels must lie in 0..7"):
        kernel_comparison_figure(kernels, kernels, [8])
    two_sizes = kernel_comparison_figure(kernels, depthwise_kernels(small_model(3)), [0, 1], names=("k = 5", "k = 3"))
    assert [sub.texts[0].get_text() for sub in two_sizes.subfigs[:2]] == ["k = 5", "k = 3"]  # k may differ
    assert images_on(two_sizes) == 8
    with pytest.raises(ValueError, match="same depth and width"):
        kernel_comparison_figure(kernels, kernels[:1], [0])


def test_activation_figures(images):
    model = small_model()
    result = inspect_image(model, as_input(images[:1])[0])
    fig = feature_maps_figure(result.feature_maps, channel=2)
    assert [ax.get_title() for ax in fig.axes] == ["stem", "block 1", "block 2"]
    assert fig.axes[0].get_ylabel() == "channel 2"
    with pytest.raises(ValueError, match="channel must be in 0..7"):
        feature_maps_figure(result.feature_maps, channel=8)
    fig = patch_overlays_figure(images[0], {"norm": patch_norms(result.feature_maps[0]),
                                            "cam": result.attributions[-1]}, signed=["cam"])
    assert images_on(fig) == 4  # image + overlay on each axes
    signed_overlay = fig.axes[1].images[1]
    low, high = signed_overlay.get_clim()
    assert low == pytest.approx(-high)


def test_inspection_figure_shows_the_filter_of_the_chosen_layer(images):
    model = small_model()
    result = inspect_image(model, as_input(images[:1])[0])
    stem = inspection_figure(images[0], result, model, layer=0, channel=1, classes=CLASSES)
    block = inspection_figure(images[0], result, model, layer=2, channel=1, classes=CLASSES)
    assert "stem filter" in stem.axes[4].get_title()
    assert "block 2 depth-wise kernel" in block.axes[4].get_title()
    torch.testing.assert_close(
        torch.as_tensor(block.axes[4].images[0].get_array().data),
        model.blocks[1].spatial.conv.weight.detach()[1, 0],
    )
    assert f"predicted: {CLASSES[result.prediction]}" in stem.axes[0].get_title()
    with pytest.raises(ValueError, match=r"layer must be in 0..2 \(0 = stem\), got 3"):
        inspection_figure(images[0], result, model, layer=3, channel=0, classes=CLASSES)
    with pytest.raises(ValueError, match="channel must be in 0..7, got 8"):
        inspection_figure(images[0], result, model, layer=1, channel=8, classes=CLASSES)


def test_overlay_gallery_draws_each_image_with_its_map(images):
    maps = [torch.randn(8, 8) for _ in range(3)]
    fig = overlay_gallery_figure(list(images[:3]), maps, ["a", "b", "c"], ncols=2)
    assert len(fig.axes) == 4 and images_on(fig) == 6
    assert [ax.get_title() for ax in fig.axes[:3]] == ["a", "b", "c"]
    with pytest.raises(ValueError, match="as many maps and titles"):
        overlay_gallery_figure(list(images[:3]), maps[:2], ["a", "b", "c"])
