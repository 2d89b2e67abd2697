"""Patch figures draw what they claim: grid lines at multiples of p, leftovers, exploded tiles."""

import numpy as np
import pytest
import torch

from convmixer.data.sample import cifar10_sample
from convmixer.viz.patches import (
    draw_patch_grid,
    exploded_patches,
    plot_patch_embedding,
    plot_patch_grid,
    plot_patches,
)
from convmixer.viz.style import new_figure


@pytest.fixture(scope="module")
def image():
    return cifar10_sample().images[0]


def line_positions(ax):
    vertical, horizontal = ax.collections[:2]
    xs = sorted({float(seg[0][0]) for seg in vertical.get_segments()})
    ys = sorted({float(seg[0][1]) for seg in horizontal.get_segments()})
    return xs, ys


def test_grid_lines_sit_on_patch_borders(image):
    ax = new_figure(4, 4).subplots()
    draw_patch_grid(ax, image, 8)
    xs, ys = line_positions(ax)
    assert xs == ys == [0.0, 8.0, 16.0, 24.0, 32.0]
    assert not ax.patches  # nothing left over


def test_leftover_rows_and_columns_are_shaded(image):
    ax = new_figure(4, 4).subplots()
    draw_patch_grid(ax, image, 5)  # 32 = 6 * 5 + 2
    xs, _ = line_positions(ax)
    assert xs[-1] == 30.0
    shaded = sorted((p.get_x(), p.get_y(), p.get_width(), p.get_height()) for p in ax.patches)
    assert shaded == [(0, 30, 30, 2), (30, 0, 2, 32)]


def test_too_fine_grids_draw_only_their_outline():
    ax = new_figure(4, 4).subplots()
    draw_patch_grid(ax, torch.zeros(3, 200, 100, dtype=torch.uint8), 1, max_lines=64)
    assert not ax.collections
    assert len(ax.patches) == 1 and ax.patches[0].get_width() == 100


def test_plot_patch_grid_titles_and_checks(image):
    fig = plot_patch_grid([image, image], [2, 3], titles=["a", "b"])
    assert [ax.get_title() for ax in fig.axes] == [
        "a\np = 2: 16x16 patches",
        "b\np = 3: leftover in red",
    ]
    with pytest.raises(ValueError, match="one patch size per image"):
        plot_patch_grid([image], [2, 4])


def test_exploded_patches_keeps_pixels_and_adds_white_gaps(image):
    out = exploded_patches(image, 8, gap=2)
    assert out.shape == (4 * 10 - 2, 4 * 10 - 2, 3)
    np.testing.assert_allclose(out[10:18, 20:28], image[:, 8:16, 16:24].permute(1, 2, 0) / 255)
    assert np.all(out[8:10] == 1.0) and np.all(out[:, 18:20] == 1.0)
    gray = exploded_patches(torch.rand(1, 4, 4), 2)
    assert gray.shape == (5, 5, 3)


def test_plot_patches_shows_the_patch_matrix(image):
    fig = plot_patches(image, 4)
    matrix = fig.axes[2].images[0].get_array()
    assert matrix.shape == (64, 48)
    assert fig.axes[1].get_title() == "8x8 = 64 patches"
    with pytest.raises(ValueError, match="not divisible"):
        plot_patches(image, 5)


def test_plot_patch_embedding_draws_the_channels_or_says_why_not(image):
    fmap = torch.randn(6, 8, 8)
    fig = plot_patch_embedding(image, 4, fmap, channels=(1, 5))
    *panels, bar = fig.axes  # the image, one panel per channel, then the colour bar
    assert [ax.get_title() for ax in panels[1:]] == ["channel 1 (8x8)", "channel 5 (8x8)"]
    np.testing.assert_array_equal(panels[2].images[0].get_array(), fmap[5].numpy())
    # one colour scale for all channels, and its bar, right of the channels
    low, high = float(fmap[[1, 5]].min()), float(fmap[[1, 5]].max())
    assert all(ax.images[0].get_clim() == (low, high) for ax in panels[1:])
    assert panels[-1].images[0].colorbar is not None and "embedding value" in bar.get_ylabel()
    assert bar.get_position().x0 > panels[-1].get_position().x1
    # the image sits beside its channels, on the same row
    centres = [(ax.get_position().y0 + ax.get_position().y1) / 2 for ax in panels]
    assert max(centres) - min(centres) < 0.01
    fig = plot_patch_embedding(image, 5, None, channels=(0, 1))
    assert not fig.axes[1].images and len(fig.axes) == 3  # nothing drawn, no colour bar
    assert "p = 5 does not tile the image" in fig.texts[0].get_text()
    with pytest.raises(ValueError, match="one feature map"):
        plot_patch_embedding(image, 4, torch.zeros(1, 6, 8, 8))
