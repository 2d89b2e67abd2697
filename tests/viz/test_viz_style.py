"""The one figure style: plain Figures at one dpi, grids of pictures, and no pyplot state left
behind by any figure function (widgets redraw them many times; nothing may pile up)."""

import matplotlib.pyplot as plt
import pytest
import torch
from matplotlib.figure import Figure

from convmixer import ConvMixer, ConvMixerConfig
from convmixer.data.sample import cifar10_sample
from convmixer.viz.images import draw_kernel, show_images
from convmixer.viz.model import plot_feature_maps
from convmixer.viz.patches import plot_patch_embedding, plot_patch_grid, plot_patches
from convmixer.viz.style import FIGURE_DPI, grid_axes, grid_shape, hide_ticks, new_figure


def test_new_figure_is_a_plain_figure_in_inches_at_the_style_dpi():
    fig = new_figure(3.0, 2.0, layout="constrained")
    assert isinstance(fig, Figure) and fig.dpi == FIGURE_DPI
    assert tuple(fig.get_size_inches()) == (3.0, 2.0)
    assert fig.get_layout_engine() is not None and new_figure(1, 1).get_layout_engine() is None


@pytest.mark.parametrize("count, ncols, shape", [(10, 4, (3, 4)), (3, 8, (1, 3)), (8, 8, (1, 8)), (1, 1, (1, 1))])
def test_grid_shape_fits_count_panels_at_most_ncols_wide(count, ncols, shape):
    rows, cols = grid_shape(count, ncols)
    assert (rows, cols) == shape
    assert (rows - 1) * cols < count <= rows * cols


def test_grid_shape_rejects_an_empty_grid():
    with pytest.raises(ValueError, match="count must be an integer >= 1, got 0"):
        grid_shape(0, 4)
    with pytest.raises(ValueError, match="ncols must be an integer >= 1, got 0"):
        grid_shape(3, 0)


def test_grid_axes_are_row_major_and_hidden():
    fig = new_figure(4, 2)
    axes = grid_axes(fig, 2, 3)
    assert len(axes) == 6 and not any(ax.axison for ax in axes)
    positions = [ax.get_position() for ax in axes]
    assert positions[0].y0 == positions[2].y0 > positions[3].y0  # row 1 above row 2
    assert positions[0].x0 < positions[1].x0 < positions[2].x0


def test_hide_ticks_keeps_labels_and_optionally_the_frame():
    ax = new_figure(2, 2).subplots()
    ax.set_ylabel("cat")
    hide_ticks(ax, frame=False)
    assert not ax.get_xticks().size and not ax.get_yticks().size
    assert ax.get_ylabel() == "cat" and not any(s.get_visible() for s in ax.spines.values())


def test_draw_kernel_is_symmetric_around_zero():
    ax = new_figure(2, 2).subplots()
    kernel = torch.tensor([[0.5, -2.0], [1.0, 0.0]])
    draw_kernel(ax, kernel, "k")
    image = ax.images[0]
    assert image.get_clim() == (-2.0, 2.0) and ax.get_title() == "k"
    assert image.get_array().tolist() == kernel.tolist()


def test_figure_functions_leave_no_pyplot_figures():
    plt.close("all")
    image = cifar10_sample().images[0]
    torch.manual_seed(0)
    maps = ConvMixer(ConvMixerConfig(8, 2, 3, 4)).feature_maps(image[None].float() / 255)
    figures = [
        show_images([image, image], ["a", "b"]),
        plot_patch_grid([image], [4]),
        plot_patches(image, 4),
        plot_patch_embedding(image, 4, maps[0][0], channels=(0, 1)),
        plot_feature_maps(image, maps, channels=(0, 1)),
    ]
    assert all(isinstance(fig, Figure) and fig.dpi == FIGURE_DPI for fig in figures)
    assert plt.get_fignums() == []
