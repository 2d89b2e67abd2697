"""Model figures and tables: mosaic layout, receptive-field box (checked with gradients), tables."""

import numpy as np
import pytest
import torch

from convmixer import CONFIGS, ConvMixer, ConvMixerConfig, create_model
from convmixer.analysis.cost import convmixer_parameters, trace_stages
from convmixer.analysis.fields import receptive_field
from convmixer.data.sample import cifar10_sample
from convmixer.viz.model import (
    config_table,
    feature_map_mosaic,
    format_stage_table,
    plot_feature_maps,
    receptive_box,
)


def seen_pixels(model, size, row, col):
    """Rows and columns of input pixels whose gradient reaches grid position (row, col)."""
    x = torch.randn(1, 3, size, size, requires_grad=True)
    model.eval()
    model.forward_features(x)[0, :, row, col].sum().backward()
    seen = x.grad.abs().sum(dim=(0, 1)) > 0
    rows = torch.nonzero(seen.any(dim=1)).flatten()
    cols = torch.nonzero(seen.any(dim=0)).flatten()
    return (int(rows.min()), int(rows.max())), (int(cols.min()), int(cols.max()))


@pytest.mark.parametrize("k, p, d, row, col", [(3, 2, 2, 8, 5), (4, 2, 3, 8, 8), (5, 1, 1, 0, 31)])
def test_receptive_box_matches_the_gradient(k, p, d, row, col):
    torch.manual_seed(0)
    model = ConvMixer(ConvMixerConfig(8, d, k, p))
    size = 32
    top, left, side = receptive_box(k, p, d, row, col)
    assert side == receptive_field(k, p, d)
    (r0, r1), (c0, c1) = seen_pixels(model, size, row, col)
    # the box clipped to the image is exactly the set of pixels that influence the position
    assert (r0, r1) == (max(top, 0), min(top + side, size) - 1)
    assert (c0, c1) == (max(left, 0), min(left + side, size) - 1)


def test_receptive_box_rejects_negative_depth():
    with pytest.raises(ValueError, match="blocks must be >= 0"):
        receptive_box(3, 2, -1, 0, 0)


def test_mosaic_places_each_channel_and_stage_in_its_tile():
    base = torch.arange(2 * 3 * 4, dtype=torch.float32).reshape(2, 3, 4)
    maps = [base * (i + 1) for i in range(3)]
    mosaic = feature_map_mosaic(maps, channels=(1, 0), gap=1)
    assert mosaic.shape == (2 * 4 - 1, 3 * 5 - 1)
    tile = mosaic[0:3, 5:9]  # channel 1 of stage 1
    np.testing.assert_allclose(tile, np.linspace(0, 1, 12).reshape(3, 4), atol=1e-6)
    assert np.isnan(mosaic[3]).all() and np.isnan(mosaic[:, 4]).all()


def test_mosaic_rejects_bad_maps():
    with pytest.raises(ValueError, match="at least one feature map"):
        feature_map_mosaic([])
    with pytest.raises(ValueError, match=r"channels \(0, 5\) must lie in 0..3"):
        feature_map_mosaic([torch.zeros(4, 2, 2)], channels=(0, 5))
    with pytest.raises(ValueError, match="share one spatial size"):
        feature_map_mosaic([torch.zeros(4, 2, 2), torch.zeros(4, 3, 3)])
    with pytest.raises(ValueError, match=r"shaped \(h, H', W'\)"):
        feature_map_mosaic([torch.zeros(2, 4, 2, 2)])


def test_plot_feature_maps_labels_stages_and_outlines_the_receptive_field():
    image = cifar10_sample().images[0]
    torch.manual_seed(0)
    model = ConvMixer(ConvMixerConfig(16, 3, 5, 2))
    maps = model.feature_maps(image[None].float() / 255)
    fig = plot_feature_maps(image, maps, channels=(0, 7), receptive_field=(4, 6, 26))
    ax_image, ax_maps, ax_bar = fig.axes
    # the colour bar reads each tile's own range; the mosaic sits right beside the image
    assert ax_maps.images[0].get_clim() == (0.0, 1.0) and ax_maps.images[0].colorbar is not None
    assert [t.get_text() for t in ax_bar.get_yticklabels()] == ["tile's\nlowest", "tile's\nhighest"]
    image_box, maps_box, bar_box = (ax.get_position() for ax in fig.axes)
    assert 0 < (maps_box.x0 - image_box.x1) * fig.get_figwidth() <= 0.5  # inches
    assert maps_box.x1 < bar_box.x0 < 1
    assert [t.get_text() for t in ax_maps.get_xticklabels()] == ["stem", "1", "2", "3"]
    assert [t.get_text() for t in ax_maps.get_yticklabels()] == ["ch 0", "ch 7"]
    assert ax_maps.images[0].get_array().shape == (2 * 17 - 1, 4 * 17 - 1)
    box = ax_image.patches[0]
    assert (box.get_x(), box.get_y(), box.get_width()) == (6, 4, 26)
    assert ax_image.get_title() == "input 32x32\nRF 26x26 px"
    fig = plot_feature_maps(image, maps, receptive_field=(-4, -4, 40))
    assert fig.axes[0].get_title().endswith("(whole image)")


def test_stage_table_lists_every_stage():
    model = create_model("convmixer_128_4")
    table = format_stage_table(trace_stages(model, 32)).splitlines()
    assert len(table) == 1 + 1 + 4 + 1
    assert table[1].split() == ["stem", "(128,", "16,", "16)", "2", "px"]
    assert table[4].split()[:2] == ["block", "3"] and table[4].endswith("26 px")
    assert table[-1].split() == ["head", "(10,)", "32", "px"]


def test_config_table_counts_match_the_closed_forms():
    table = config_table(CONFIGS).splitlines()
    assert len(table) == 1 + len(CONFIGS)
    for line, (name, config) in zip(table[1:], CONFIGS.items()):
        cells = line.split()
        assert cells[0] == name
        assert cells[7] == cells[8] == f"{convmixer_parameters(config):,}"
        assert cells[9] == cells[10]
    assert "51,625,960" in table[1]
