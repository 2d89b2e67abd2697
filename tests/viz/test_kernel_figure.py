"""kernel_figure: every kernel with its own colour bar and, for small kernels, its weights."""

import numpy as np
import torch

from convmixer.filters import make_filter
from convmixer.viz.convolution import kernel_figure


def test_each_kernel_gets_a_colour_bar_on_its_own_scale():
    kernels = [make_filter("box", 3), make_filter("edge", 3)]
    fig = kernel_figure(kernels, ["box", "edge"])
    assert len(fig.axes) == 4  # two kernels, two colour bars
    for ax, kernel in zip(fig.axes[:2], kernels):
        low, high = ax.images[0].get_clim()
        limit = float(kernel.abs().max())
        assert (low, high) == (-limit, limit)  # symmetric around 0, set per kernel
        assert ax.images[0].colorbar is not None


def test_small_kernels_show_every_weight_with_common_decimals():
    edge = make_filter("edge", 3)  # 8/9 at the centre, -1/9 elsewhere
    ax = kernel_figure([edge], ["edge"]).axes[0]
    labels = np.array([text.get_text() for text in ax.texts]).reshape(3, 3)
    assert labels[1, 1] == "0.89" and set(labels.flat) - {"0.89"} == {"-0.11"}
    positions = [text.get_position() for text in ax.texts]
    assert sorted(positions) == [(j, i) for j in range(3) for i in range(3)]
    tiny = kernel_figure([torch.full((2, 2), 1.5e-5)], ["difference"]).axes[0]
    assert {text.get_text() for text in tiny.texts} == {"1.5e-05"}


def test_values_are_left_out_for_large_kernels_or_on_request():
    assert len(kernel_figure([make_filter("box", 9)], ["box"]).axes[0].texts) == 0
    assert len(kernel_figure([make_filter("box", 3)], ["box"], values=False).axes[0].texts) == 0
    assert len(kernel_figure([make_filter("box", 9)], ["box"], values=True).axes[0].texts) == 81
