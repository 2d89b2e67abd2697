"""Notebook 06's comparisons: a channel chosen per feature map, one colour scale (and one colour
bar) per comparison of signed maps, labelled bands, and error bars on the patch-deletion check."""

import pytest
import torch
from matplotlib.figure import Figure

from convmixer import ConvMixer, ConvMixerConfig
from convmixer.analysis.inspection import inspect_image, most_varied_channel, patch_deletion
from convmixer.data.sample import cifar10_sample
from convmixer.viz.inspection import (
    deletion_figure,
    draw_kernel_statistic,
    feature_maps_figure,
    overlay_gallery_figure,
    patch_overlays_figure,
)
from convmixer.widgets.inspection import ActivationExplorer


@pytest.fixture(scope="module")
def images():
    return cifar10_sample().images[:6]


def model():
    torch.manual_seed(0)
    return ConvMixer(ConvMixerConfig(dim=12, depth=2, kernel_size=3, patch_size=4)).eval()


def signed_overlays(fig):
    return [ax.images[1] for ax in fig.axes if len(ax.images) == 2]


def test_most_varied_channel_is_the_one_with_the_largest_spread_over_the_grid():
    feature_map = torch.zeros(4, 3, 3)
    feature_map[0] = 5.0  # large but flat
    feature_map[1, 0, 0] = 1.0
    feature_map[3] = torch.arange(9.0).view(3, 3)
    assert most_varied_channel(feature_map) == 3
    with pytest.raises(ValueError, match=r"one feature map shaped \(h, H', W'\)"):
        most_varied_channel(feature_map[None])


def test_feature_maps_figure_takes_one_channel_per_map():
    maps = [torch.randn(5, 4, 4) for _ in range(3)]
    fig = feature_maps_figure(maps, channel=[4, 0, 2])
    assert [ax.get_title() for ax in fig.axes] == ["stem: ch 4", "block 1: ch 0", "block 2: ch 2"]
    for ax, feature_map, c in zip(fig.axes, maps, [4, 0, 2]):
        assert torch.equal(torch.as_tensor(ax.images[0].get_array().data), feature_map[c])
    with pytest.raises(ValueError, match="one channel per feature map: 3 maps, 2 channels"):
        feature_maps_figure(maps, channel=[1, 2])
    with pytest.raises(ValueError, match="channel must be in 0..4"):
        feature_maps_figure(maps, channel=[1, 2, 5])


def test_signed_overlays_share_one_scale_and_one_colour_bar(images):
    small, large = torch.full((8, 8), 0.1), torch.linspace(-3, 2, 64).view(8, 8)
    maps = {"norm": torch.rand(8, 8) + 4, "small": small, "large": large}
    fig = patch_overlays_figure(images[0], maps, signed=["small", "large"], scale_label="logit per patch")
    overlays = signed_overlays(fig)
    assert len(overlays) == 3 and len(fig.axes) == 4  # three panels, one colour bar
    assert [o.get_clim() for o in overlays[1:]] == [(-3.0, 3.0), (-3.0, 3.0)]
    assert overlays[0].get_clim() == pytest.approx((float(maps["norm"].min()), float(maps["norm"].max())))
    assert fig.axes[-1].get_ylabel() == "logit per patch"
    separate = patch_overlays_figure(images[0], maps, signed=["small", "large"])
    assert len(separate.axes) == 3
    assert signed_overlays(separate)[1].get_clim() == pytest.approx((-0.1, 0.1))


def test_gallery_shares_one_scale_when_asked(images):
    maps = [torch.randn(8, 8) * (i + 1) for i in range(3)]
    fig = overlay_gallery_figure(list(images[:3]), maps, ["a", "b", "c"], ncols=3, scale_label="CAM")
    limit = max(float(m.abs().max()) for m in maps)
    assert all(o.get_clim() == pytest.approx((-limit, limit)) for o in signed_overlays(fig))
    assert fig.axes[-1].get_ylabel() == "CAM"


def test_kernel_statistic_legend_names_the_line_and_the_band():
    fig = Figure()
    ax = fig.subplots()
    draw_kernel_statistic(ax, {"trained": [torch.rand(16), torch.rand(16)]}, "spread")
    labels = [text.get_text() for text in ax.get_legend().get_texts()]
    assert labels == ["trained: median", "trained: middle 50 % of kernels"]


def test_deletion_reports_standard_errors_and_plots_them(images):
    net = model()
    x = images.float() / 127.5 - 1
    results = patch_deletion(net, x, counts=(4, 16), seed=0)
    with torch.no_grad():
        probabilities = net(x).softmax(1)
    best = probabilities.max(1).values
    assert results[0].original_error == pytest.approx(float(best.std() / len(best) ** 0.5), rel=1e-5)
    assert all(r.top_masked_error > 0 and r.random_masked_error > 0 for r in results)
    fig = deletion_figure(results, grid=64)
    top, random = fig.axes[0].containers  # one errorbar container per curve
    assert [top.get_label(), random.get_label()] == ["top-CAM patches masked", "random patches masked"]
    data = top.lines[0]
    assert list(data.get_xdata()) == [0, 4, 16]
    assert list(data.get_ydata()) == pytest.approx([results[0].original] + [r.top_masked for r in results])
    bars = top.lines[2][0].get_segments()  # the vertical error bar of each point
    assert bars[1][1][1] - bars[1][0][1] == pytest.approx(2 * 1.96 * results[0].top_masked_error, rel=1e-5)
    assert list(random.lines[0].get_ydata())[1:] == pytest.approx([r.random_masked for r in results])
    with pytest.raises(ValueError, match="at least one deletion result"):
        deletion_figure([], grid=64)


def test_the_06_panel_names_the_most_varied_channel_of_its_layer(images):
    net = model()
    explorer = ActivationExplorer(net, images, torch.arange(6) % 10, [str(i) for i in range(10)],
                                   lambda batch: batch.float() / 127.5 - 1, image=2, layer=1)
    feature_map = inspect_image(net, images[2].float() / 127.5 - 1).feature_maps[1]
    assert f"most varied channel of this layer: {most_varied_channel(feature_map)} " in explorer.readout.value
