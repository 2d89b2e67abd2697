"""Named k x k filters and applying them per channel through DepthwiseConv2d."""

import warnings

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from convmixer.data.sample import cifar10_sample
from convmixer.filters import (
    FILTER_NAMES,
    apply_filter,
    depthwise_filter,
    filter_image,
    make_filter,
    make_filters,
)
from convmixer.layers import DepthwiseConv2d

KERNEL_SIZES = range(1, 9)


@pytest.fixture(scope="module")
def image() -> torch.Tensor:
    """A real CIFAR-10 image, (3, 32, 32) uint8."""
    return cifar10_sample().images[0]


@pytest.mark.parametrize("name", FILTER_NAMES)
@pytest.mark.parametrize("k", KERNEL_SIZES)
def test_every_filter_exists_for_every_kernel_size(name, k):
    kernel = make_filter(name, k)
    assert kernel.shape == (k, k)
    assert kernel.dtype == torch.float32
    assert torch.isfinite(kernel).all()


@pytest.mark.parametrize("k", KERNEL_SIZES)
def test_blurs_sum_to_one_and_are_symmetric(k):
    box, gaussian = make_filter("box", k), make_filter("gaussian", k)
    torch.testing.assert_close(box, torch.full((k, k), 1 / k**2))
    torch.testing.assert_close(gaussian.sum(), torch.tensor(1.0))
    torch.testing.assert_close(gaussian, gaussian.T)
    torch.testing.assert_close(gaussian, gaussian.flip(0, 1))


def test_gaussian_peaks_in_the_middle_and_falls_off():
    g = make_filter("gaussian", 7)
    assert g.argmax() == 3 * 7 + 3
    assert g[3, 3] > g[3, 2] > g[3, 1] > g[3, 0] > 0
    torch.testing.assert_close(make_filter("gaussian", 2), make_filter("box", 2))


@pytest.mark.parametrize("k", KERNEL_SIZES)
def test_edge_is_centre_minus_average(k):
    edge = make_filter("edge", k)
    torch.testing.assert_close(edge.sum(), torch.tensor(0.0), atol=1e-6, rtol=0)
    centre = (k - 1) // 2
    assert edge[centre, centre] == pytest.approx(1 - 1 / k**2)
    if k > 1:
        assert edge.flatten().argmax() == centre * k + centre


def test_random_filter_is_seeded():
    torch.testing.assert_close(make_filter("random", 5, seed=3), make_filter("random", 5, seed=3))
    assert not torch.equal(make_filter("random", 5, seed=3), make_filter("random", 5, seed=4))


def test_make_filters_one_per_channel():
    for name in ("box", "gaussian", "edge"):
        bank = make_filters(name, 4, channels=3)
        assert bank.shape == (3, 4, 4)
        for c in range(3):
            torch.testing.assert_close(bank[c], make_filter(name, 4))
    random = make_filters("random", 4, channels=3, seed=1)
    assert random.shape == (3, 4, 4)
    assert not torch.equal(random[0], random[1])
    torch.testing.assert_close(random, make_filters("random", 4, channels=3, seed=1))


@pytest.mark.parametrize("bad", [0, -2, 2.5, True, "3"])
def test_bad_kernel_size_is_a_clear_error(bad):
    with pytest.raises(ValueError, match="kernel_size must be an integer >= 1"):
        make_filter("box", bad)


def test_unknown_filter_names_the_choices():
    with pytest.raises(ValueError, match="unknown filter 'sobel'; choose one of: box, gaussian"):
        make_filter("sobel", 3)
    with pytest.raises(ValueError, match="unknown filter"):
        make_filters("blur", 3, channels=3)


@pytest.mark.parametrize("k", KERNEL_SIZES)
def test_centre_delta_is_the_identity_for_odd_and_even_k(image, k):
    # The kernel's centre is (k-1)//2: with the package's "same" padding, a delta there returns
    # the image unchanged, pixel for pixel.
    delta = make_filter("edge", k) + make_filter("box", k)
    out = apply_filter(image, delta)
    assert out.shape == image.shape
    torch.testing.assert_close(out, image.float() / 255)


@pytest.mark.parametrize("name", FILTER_NAMES)
@pytest.mark.parametrize("k", [1, 2, 4, 5, 13])
def test_apply_filter_is_a_per_channel_convolution(image, name, k):
    kernels = make_filters(name, k, channels=3, seed=0)
    x = image.float() / 255
    before, after = (k - 1) // 2, k // 2
    padded = F.pad(x, (before, after, before, after))
    expected = torch.cat(
        [F.conv2d(padded[c : c + 1][None], kernels[c][None, None])[0] for c in range(3)]
    )
    torch.testing.assert_close(apply_filter(image, kernels), expected)
    torch.testing.assert_close(filter_image(image, name, k), expected)


def test_blur_keeps_flat_regions_and_edge_removes_them():
    flat = torch.full((3, 20, 20), 0.5)
    blurred = apply_filter(flat, make_filter("gaussian", 5))
    torch.testing.assert_close(blurred[:, 2:-2, 2:-2], flat[:, 2:-2, 2:-2])
    assert blurred[0, 0, 0] < 0.5  # zero padding darkens the border
    edges = apply_filter(flat, make_filter("edge", 4))
    torch.testing.assert_close(edges[:, 2:-2, 2:-2], torch.zeros(3, 16, 16), atol=1e-6, rtol=0)


def test_uint8_images_are_scaled_to_unit_range(image):
    out = apply_filter(image, make_filter("box", 3))
    assert out.dtype == torch.float32
    assert 0 <= out.min() and out.max() <= 1
    torch.testing.assert_close(out, apply_filter(image.float() / 255, make_filter("box", 3)))


@pytest.mark.parametrize("k", [2, 3, 4, 6])
def test_depthwise_filter_matches_pytorch_same_padding(k):
    kernels = make_filters("random", k, channels=3, seed=2)
    conv = depthwise_filter(kernels)
    assert isinstance(conv, DepthwiseConv2d)
    assert conv.bias is None
    torch.testing.assert_close(conv.weight[:, 0], kernels)
    reference = nn.Conv2d(3, 3, k, groups=3, padding="same", bias=False)
    with torch.no_grad():
        reference.weight.copy_(kernels[:, None])
    x = torch.randn(2, 3, 11, 9)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # even k: PyTorch warns about the copy
        expected = reference(x)
    torch.testing.assert_close(conv(x), expected)


def test_bad_shapes_are_clear_errors(image):
    with pytest.raises(ValueError, match=r"expected an image shaped \(C, H, W\)"):
        apply_filter(image[None], make_filter("box", 3))
    with pytest.raises(ValueError, match=r"one per channel \(3, k, k\)"):
        apply_filter(image, make_filters("box", 3, channels=2))
    with pytest.raises(ValueError, match=r"expected kernels shaped \(channels, k, k\)"):
        depthwise_filter(torch.ones(3, 3, 4))
    with pytest.raises(ValueError, match=r"expected an image shaped \(C, H, W\)"):
        filter_image(image[0], "box", 3)
