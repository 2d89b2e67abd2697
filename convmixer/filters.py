"""Named ``k x k`` filters, and applying them to an image one channel at a time.

A depth-wise convolution holds one ``k x k`` kernel per channel and filters every channel with its
own kernel. Loading hand-made kernels into :class:`~convmixer.layers.DepthwiseConv2d` shows what
such a layer can do (blur, sharpen, find edges) before any training. Every filter exists for any
``k >= 1``, even sizes included:

- ``box``:      the ``k x k`` average, every weight ``1 / k^2``;
- ``gaussian``: ``exp(-r^2 / (2 sigma^2))`` around the kernel's centre with ``sigma = k / 4``,
  normalised to sum 1 (a softer blur than the box);
- ``edge``:     the centre pixel minus the ``k x k`` average (``delta - box``), a Laplacian-like
  high-pass that sums to 0: flat regions go to 0, edges and texture remain. For ``k = 1`` there is
  no neighbourhood, so it is all zeros;
- ``random``:   independent ``N(0, 1/k^2)`` weights from a seeded generator, like an untrained
  layer (a different kernel per channel in :func:`make_filters`).

The *centre* of a kernel is index ``(k - 1) // 2`` along each axis: with the package's "same"
padding (``(k - 1) // 2`` before, ``k // 2`` after), a kernel that is 1 there and 0 elsewhere
returns the image unchanged, for odd and even ``k`` alike.
"""

from __future__ import annotations

import torch

from convmixer.layers import DepthwiseConv2d, check_positive_int

FILTER_NAMES: tuple[str, ...] = ("box", "gaussian", "edge", "random")


def _check_name(name: str) -> None:
    if name not in FILTER_NAMES:
        raise ValueError(f"unknown filter {name!r}; choose one of: {', '.join(FILTER_NAMES)}")


def _delta(kernel_size: int) -> torch.Tensor:
    """The identity kernel: 1 at the centre ``((k - 1) // 2, (k - 1) // 2)``, 0 elsewhere."""
    kernel = torch.zeros(kernel_size, kernel_size)
    centre = (kernel_size - 1) // 2
    kernel[centre, centre] = 1.0
    return kernel


def _gaussian(kernel_size: int) -> torch.Tensor:
    # Distances from the geometric centre (k - 1) / 2: a half-pixel grid for even k, so the
    # kernel stays symmetric (for k = 2 it equals the box).
    offsets = torch.arange(kernel_size, dtype=torch.float32) - (kernel_size - 1) / 2
    sigma = kernel_size / 4
    profile = torch.exp(-(offsets**2) / (2 * sigma**2))
    kernel = torch.outer(profile, profile)
    return kernel / kernel.sum()


def make_filter(name: str, kernel_size: int, seed: int = 0) -> torch.Tensor:
    """The named ``(k, k)`` float32 filter (see the module docstring); ``seed`` is used by
    ``random`` only."""
    _check_name(name)
    check_positive_int("kernel_size", kernel_size)
    box = torch.full((kernel_size, kernel_size), 1.0 / kernel_size**2)
    if name == "box":
        return box
    if name == "gaussian":
        return _gaussian(kernel_size)
    if name == "edge":
        return _delta(kernel_size) - box
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(kernel_size, kernel_size, generator=generator) / kernel_size


def make_filters(name: str, kernel_size: int, channels: int, seed: int = 0) -> torch.Tensor:
    """One filter per channel, ``(channels, k, k)``, as a depth-wise layer stores them.

    ``box``, ``gaussian`` and ``edge`` repeat the same kernel for every channel; ``random`` draws
    an independent kernel for each channel from one generator seeded with ``seed``.
    """
    _check_name(name)
    check_positive_int("kernel_size", kernel_size)
    check_positive_int("channels", channels)
    if name == "random":
        generator = torch.Generator().manual_seed(seed)
        return torch.randn(channels, kernel_size, kernel_size, generator=generator) / kernel_size
    return make_filter(name, kernel_size).expand(channels, -1, -1).clone()


def depthwise_filter(kernels: torch.Tensor) -> DepthwiseConv2d:
    """A bias-free :class:`~convmixer.layers.DepthwiseConv2d` whose channel ``c`` holds
    ``kernels[c]``; ``kernels`` is ``(channels, k, k)``. Its output is
    ``y[c] = kernels[c] * x[c]`` (cross-correlation, "same" padding)."""
    if kernels.dim() != 3 or kernels.shape[1] != kernels.shape[2]:
        raise ValueError(
            f"expected kernels shaped (channels, k, k), got shape {tuple(kernels.shape)}"
        )
    channels, kernel_size, _ = kernels.shape
    conv = DepthwiseConv2d(channels, kernel_size, bias=False)
    with torch.no_grad():
        conv.weight.copy_(kernels.unsqueeze(1))  # weight shape (h, 1, k, k)
    return conv


def apply_filter(image: torch.Tensor, kernels: torch.Tensor) -> torch.Tensor:
    """Filter every channel of ``image`` with its own kernel through ``DepthwiseConv2d``.

    Args:
        image: ``(C, H, W)``; uint8 images (0..255) are scaled to floats in 0..1 first.
        kernels: ``(k, k)`` (the same kernel for every channel) or ``(C, k, k)`` (one per channel).

    Returns:
        The filtered image, ``(C, H, W)`` float32: same size as the input ("same" padding with
        zeros, so blurs darken a border about ``k / 2`` pixels wide).
    """
    if image.dim() != 3:
        raise ValueError(f"expected an image shaped (C, H, W), got shape {tuple(image.shape)}")
    channels = image.shape[0]
    if kernels.dim() == 2:
        kernels = kernels.expand(channels, -1, -1)
    if kernels.dim() != 3 or kernels.shape[0] != channels:
        raise ValueError(
            f"expected a (k, k) kernel or one per channel ({channels}, k, k) for an image with "
            f"{channels} channels, got kernels of shape {tuple(kernels.shape)}"
        )
    x = image.float() / 255 if image.dtype == torch.uint8 else image.float()
    # channels_last: the same numbers, but the fast oneDNN path on CPU also for large odd k.
    conv = depthwise_filter(kernels.float()).to(memory_format=torch.channels_last)
    with torch.no_grad():
        y = conv(x.unsqueeze(0).contiguous(memory_format=torch.channels_last))
    return y.squeeze(0).contiguous()


def filter_image(
    image: torch.Tensor, name: str, kernel_size: int, seed: int = 0
) -> torch.Tensor:
    """``apply_filter(image, make_filters(name, kernel_size, C, seed))``: the named filter applied
    to each of the image's ``C`` channels."""
    if image.dim() != 3:
        raise ValueError(f"expected an image shaped (C, H, W), got shape {tuple(image.shape)}")
    return apply_filter(image, make_filters(name, kernel_size, image.shape[0], seed))
