"""Figures of the convolution notebooks, and the closed-form costs that cost_ratio_figure plots."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from convmixer.analysis.cost import CONV_KINDS, convolution_costs, convolution_variants, count_parameters, forward_flops
from convmixer.data.sample import cifar10_sample  # noqa: E402
from convmixer.filters import apply_filter, make_filter, make_filters  # noqa: E402
from convmixer.viz.convolution import (  # noqa: E402
    cost_ratio_figure,
    filter_figure,
    kernel_figure,
    render_figure,
    stretch_contrast,
    support_figure,
)
from convmixer.viz.images import to_display  # noqa: E402


@pytest.fixture(scope="module")
def image() -> torch.Tensor:
    return cifar10_sample().images[7]


# --- convolution_costs: the closed forms, checked against the real modules ----------------------


@pytest.mark.parametrize(
    "h, k, height, width", [(4, 1, 5, 5), (6, 2, 7, 5), (8, 4, 6, 6), (5, 5, 9, 4)]
)
def test_closed_form_costs_match_the_modules(h, k, height, width):
    costs = convolution_costs(h, k, height, width)
    modules = convolution_variants(h, k)
    assert set(costs) == set(modules) == set(CONV_KINDS)
    for kind, module in modules.items():
        assert costs[kind].parameters == count_parameters(module), kind
        assert costs[kind].flops == forward_flops(module, (1, h, height, width)), kind
        assert module(torch.zeros(1, h, height, width)).shape == (1, h, height, width), kind


def test_closed_form_costs_by_formula():
    h, k, size = 256, 9, 16
    costs = convolution_costs(h, k, size)
    assert costs["full"].parameters == h * h * k * k + h
    assert costs["depthwise"].parameters == h * k * k + h
    assert costs["pointwise"].flops == 2 * h * h * size * size
    ratio = costs["full"].flops / costs["separable"].flops
    assert ratio == pytest.approx(1 / (1 / h + 1 / k**2))


def test_costs_reject_bad_sizes():
    with pytest.raises(ValueError, match="dim must be an integer >= 1"):
        convolution_costs(0, 3, 8)
    with pytest.raises(ValueError, match="kernel_size must be an integer >= 1"):
        convolution_costs(8, 2.0, 8)
    with pytest.raises(ValueError, match="height must be an integer >= 1"):
        convolution_costs(8, 3, -1)
    with pytest.raises(ValueError, match="dim must be an integer >= 1"):
        convolution_variants(-4, 3)


# --- figures ------------------------------------------------------------------------------------


def test_kernel_figure_draws_each_kernel():
    kernels = [make_filter(name, 5) for name in ("box", "edge")]
    fig = kernel_figure(kernels, ["box", "edge"])
    assert isinstance(fig, Figure)
    assert [ax.get_title() for ax in fig.axes[:2]] == ["box", "edge"]  # then 2 colour bars
    np.testing.assert_allclose(fig.axes[1].images[0].get_array(), kernels[1].numpy())
    with pytest.raises(ValueError, match="got 2 kernels but 1 titles"):
        kernel_figure(kernels, ["box"])
    with pytest.raises(ValueError, match=r"expected \(k, k\) kernels"):
        kernel_figure([torch.ones(2, 3, 3)], ["x"])


def test_stretch_contrast_clips_outliers_only():
    x = torch.linspace(0, 1, 10_000).reshape(1, 100, 100)
    x[0, 0, 0] = 100.0
    stretched = stretch_contrast(x)
    assert stretched.max() < 1.01
    torch.testing.assert_close(stretched[0, 50], x[0, 50])
    uint8 = torch.arange(12, dtype=torch.uint8).reshape(3, 2, 2)
    assert stretch_contrast(uint8) is uint8


def test_filter_figure_shows_input_kernels_and_output(image):
    kernels = make_filters("random", 4, channels=3)
    filtered = apply_filter(image, kernels)
    fig = filter_figure(image, kernels, filtered, title="random")
    assert len(fig.axes) == 2 + 3
    left, right = fig.axes[0], fig.axes[1]
    np.testing.assert_array_equal(left.images[0].get_array(), to_display(image))
    np.testing.assert_allclose(
        right.images[0].get_array(), to_display(stretch_contrast(filtered)), rtol=1e-6
    )
    assert right.get_title() == "random (3, 32, 32)"
    np.testing.assert_allclose(fig.axes[3].images[0].get_array(), kernels[1].numpy())
    other = filter_figure(image, kernels, apply_filter(image, make_filter("box", 4)))
    assert not np.allclose(other.axes[1].images[0].get_array(), right.images[0].get_array())


def test_filter_figure_checks_shapes(image):
    with pytest.raises(ValueError, match="one kernel per channel"):
        filter_figure(image, make_filters("box", 3, channels=2), image.float())
    with pytest.raises(ValueError, match=r"expected \(C, H, W\) images"):
        filter_figure(image[None], make_filters("box", 3, channels=3), image.float())


def test_support_figure_dims_outside_the_mask(image):
    mask = torch.zeros(32, 32, dtype=torch.bool)
    mask[10:15, 10:15] = True
    fig = support_figure(image, [mask], ["5x5"])
    drawn = fig.axes[0].images[0].get_array()
    original = image.permute(1, 2, 0).numpy() / 255
    np.testing.assert_allclose(drawn[12, 12], original[12, 12], rtol=1e-6)
    np.testing.assert_allclose(drawn[0, 0], 0.25 * original[0, 0] + 0.75, rtol=1e-6)
    with pytest.raises(ValueError, match="does not match the image size"):
        support_figure(image, [mask[:5]], ["bad"])
    with pytest.raises(ValueError, match="one title per mask"):
        support_figure(image, [mask], [])


def test_cost_ratio_figure_plots_the_ratio():
    fig = cost_ratio_figure(256, 5)
    by_k, by_h = fig.axes
    ks, ratios = by_k.lines[0].get_data()
    np.testing.assert_array_equal(ks, np.arange(1, 16))
    np.testing.assert_allclose(ratios, [256 * k * k / (256 + k * k) for k in ks])
    marker_x, marker_y = by_k.lines[-1].get_data()
    assert list(marker_x) == [5] and marker_y[0] == pytest.approx(256 * 25 / 281)
    widths, by_width = by_h.lines[0].get_data()
    np.testing.assert_allclose(by_width, [h * 25 / (h + 25) for h in widths])
    wider = cost_ratio_figure(1024, 5).axes[0].lines[0].get_data()[1]
    assert (wider[1:] > ratios[1:]).all()
    with pytest.raises(ValueError, match="width must be an integer >= 1"):
        cost_ratio_figure(0, 5)


def test_render_figure_encodes_png_and_jpeg():
    fig = kernel_figure([make_filter("gaussian", 3)], ["g"])
    png = render_figure(fig, "png", dpi=50)
    jpeg = render_figure(fig, "jpeg", dpi=50)
    assert png[:4] == b"\x89PNG" and jpeg[:2] == b"\xff\xd8"
    assert len(render_figure(fig, "png", dpi=100)) > len(png)
