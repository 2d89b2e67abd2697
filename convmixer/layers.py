"""The parts ConvMixer is made of, in the order an image meets them.

Notation follows the paper ("Patches Are All You Need?", Trockman & Kolter, 2022):

- ``h``  hidden dimension (width): channels of every feature map after the stem,
- ``d``  depth: number of mixer blocks,
- ``k``  kernel size of the depth-wise convolution,
- ``p``  patch size: kernel size *and* stride of the patch embedding,
- ``n``  number of classes.

Shapes are written ``(B, C, H, W)``. After the stem every feature map is ``(B, h, H/p, W/p)`` and
keeps that shape until the head: ConvMixer is *isotropic*.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

from convmixer._util import check_positive_int

Activation = Callable[[], nn.Module]

# The non-linearity sigma, by name: the paper uses GELU; the released ConvMixer-768/32 uses ReLU.
ACTIVATIONS: dict[str, Activation] = {"gelu": nn.GELU, "relu": nn.ReLU}


def activation_layer(name: str) -> Activation:
    """The activation called ``name`` (``"gelu"`` or ``"relu"``) as a module factory; any other
    name is one clear ``ValueError``."""
    try:
        return ACTIVATIONS[name]
    except (KeyError, TypeError):
        raise ValueError(f"activation must be one of {', '.join(map(repr, ACTIVATIONS))}, got {name!r}") from None


# Where a mixer block's skip connection goes (MixerBlock): the paper's single skip around the
# depth-wise part, one around the whole block, one around each part, or none.
RESIDUALS: tuple[str, ...] = ("depthwise", "block", "both", "none")


def check_residual(residual: str) -> str:
    """``residual`` itself if it is one of :data:`RESIDUALS`; any other value is one clear
    ``ValueError``."""
    if residual not in RESIDUALS:
        raise ValueError(f"residual must be one of {', '.join(map(repr, RESIDUALS))}, got {residual!r}")
    return residual


def same_padding(kernel_size: int) -> tuple[int, int]:
    """Padding ``(before, after)`` along one axis that keeps the size of a stride-1 convolution.

    A kernel of size ``k`` needs ``k - 1`` extra pixels in total. For odd ``k`` they split evenly;
    for even ``k`` one side gets one more. Like ``nn.Conv2d(padding="same")`` we put the extra
    pixel *after* the image: ``before = (k - 1) // 2``, ``after = k // 2``.
    """
    check_positive_int("kernel_size", kernel_size)
    return (kernel_size - 1) // 2, kernel_size // 2


class DepthwiseConv2d(nn.Conv2d):
    """Depth-wise convolution: every channel is filtered by its own ``k x k`` kernel.

    ``y[c] = w[c] * x[c] + b[c]`` for each channel ``c`` (``*`` is 2-D cross-correlation), i.e.
    ``nn.Conv2d`` with ``groups = channels``. It mixes information *across space*, never across
    channels. Parameters: ``h * k^2 + h`` (a full convolution has ``h^2 * k^2 + h``).

    Padding is "same" for every ``k >= 1``: output height and width equal the input's. Odd kernels
    pad symmetrically inside the convolution; even kernels pad one extra pixel on the bottom/right
    with ``F.pad`` first (``nn.Conv2d(padding="same")`` does the same, but warns on every call).

    Shape: ``(B, h, H, W) -> (B, h, H, W)``.
    """

    def __init__(self, channels: int, kernel_size: int, bias: bool = True) -> None:
        check_positive_int("channels", channels)
        before, after = same_padding(kernel_size)
        symmetric = before == after
        super().__init__(
            channels,
            channels,
            kernel_size,
            groups=channels,
            padding=before if symmetric else 0,
            bias=bias,
        )
        # F.pad takes (left, right, top, bottom); None when the convolution pads by itself.
        self.extra_padding = None if symmetric else (before, after, before, after)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.extra_padding is not None:
            x = F.pad(x, self.extra_padding)
        return super().forward(x)


class PointwiseConv2d(nn.Conv2d):
    """Point-wise (1x1) convolution: the same linear map ``W`` applied to the channel vector of
    every pixel, ``y[:, i, j] = W x[:, i, j] + b``. It mixes information *across channels*, never
    across space. Parameters: ``c_in * c_out + c_out``.

    Shape: ``(B, c_in, H, W) -> (B, c_out, H, W)``.
    """

    def __init__(self, in_channels: int, out_channels: int | None = None, bias: bool = True) -> None:
        check_positive_int("in_channels", in_channels)
        out_channels = in_channels if out_channels is None else out_channels
        check_positive_int("out_channels", out_channels)
        super().__init__(in_channels, out_channels, kernel_size=1, bias=bias)


class ConvActNorm(nn.Sequential):
    """``BN(sigma(conv(x)))``: a convolution, then the activation (GELU), then BatchNorm.

    This order (activation *before* normalisation) is the paper's, used after every convolution
    in ConvMixer. Children are named ``conv``, ``act``, ``norm``.
    """

    def __init__(self, conv: nn.Conv2d, activation: Activation = nn.GELU) -> None:
        super().__init__(
            OrderedDict(conv=conv, act=activation(), norm=nn.BatchNorm2d(conv.out_channels))
        )


class PatchEmbedding(ConvActNorm):
    """The stem: cut the image into non-overlapping ``p x p`` patches and embed each in ``h`` dims.

    ``z_0 = BN(sigma(Conv_{c_in -> h}(X, kernel = stride = p)))``. A convolution whose kernel
    equals its stride sees every patch exactly once, so it is the same as flattening each patch
    to a vector of ``c_in * p^2`` numbers and multiplying it by one ``(h, c_in * p^2)`` matrix.

    Shape: ``(B, c_in, H, W) -> (B, h, H/p, W/p)``; ``H`` and ``W`` must be multiples of ``p``.
    """

    def __init__(
        self,
        in_channels: int,
        dim: int,
        patch_size: int,
        activation: Activation = nn.GELU,
    ) -> None:
        check_positive_int("in_channels", in_channels)
        check_positive_int("dim", dim)
        check_positive_int("patch_size", patch_size)
        super().__init__(
            nn.Conv2d(in_channels, dim, kernel_size=patch_size, stride=patch_size), activation
        )
        self.patch_size = patch_size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_image(x, self.conv.in_channels, self.patch_size)
        return super().forward(x)


def check_image(x: torch.Tensor, in_channels: int, patch_size: int) -> None:
    """Raise one clear ``ValueError`` unless ``x`` is a ``(B, in_channels, H, W)`` batch whose
    height and width are multiples of ``patch_size``."""
    if x.dim() != 4:
        raise ValueError(
            f"expected a batch of images shaped (B, C, H, W), got a tensor of shape {tuple(x.shape)}"
        )
    _, channels, height, width = x.shape
    if channels != in_channels:
        raise ValueError(
            f"expected images with {in_channels} channels, got {channels} (input shape {tuple(x.shape)})"
        )
    if height % patch_size or width % patch_size:
        raise ValueError(
            f"image size {height}x{width} is not divisible by the patch size {patch_size}; "
            f"use a size that is a multiple of {patch_size}, e.g. "
            f"{max(patch_size, height - height % patch_size)}x{max(patch_size, width - width % patch_size)}"
        )


class MixerBlock(nn.Module):
    """One ConvMixer layer: spatial mixing with a skip connection, then channel mixing without one.

    .. math::

        z'_l     = BN(\\sigma(DepthwiseConv(z_{l-1}))) + z_{l-1}      (spatial mixing, residual)
        z_{l}    = BN(\\sigma(PointwiseConv(z'_l)))                   (channel mixing, no residual)

    The residual wraps the depth-wise part only, exactly as in the paper's figure and code.
    Parameters: ``(h k^2 + h) + (h^2 + h) + 2 * 2h`` (two convolutions, two BatchNorms).

    ``residual`` moves the skip, for the experiment of notebook 04 (same parameters, other
    functions). Writing ``S(z) = BN(sigma(DepthwiseConv(z)))`` and ``C(z) = BN(sigma(PointwiseConv(z)))``:

    .. code-block:: text

        "depthwise" (the paper)   z_l = C(z_{l-1} + S(z_{l-1}))
        "block"                   z_l = z_{l-1} + C(S(z_{l-1}))
        "both"                    z_l = z'_l + C(z'_l),  with z'_l = z_{l-1} + S(z_{l-1})
        "none"                    z_l = C(S(z_{l-1}))

    Shape: ``(B, h, H', W') -> (B, h, H', W')``.
    """

    def __init__(
        self, dim: int, kernel_size: int, activation: Activation = nn.GELU, residual: str = "depthwise"
    ) -> None:
        super().__init__()
        check_positive_int("dim", dim)
        check_positive_int("kernel_size", kernel_size)
        self.residual = check_residual(residual)
        self.spatial = ConvActNorm(DepthwiseConv2d(dim, kernel_size), activation)
        self.channel = ConvActNorm(PointwiseConv2d(dim), activation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.residual == "depthwise":  # the paper
            x = x + self.spatial(x)  # the only skip connection in the block
            return self.channel(x)
        if self.residual == "both":
            x = x + self.spatial(x)
            return x + self.channel(x)
        if self.residual == "block":
            return x + self.channel(self.spatial(x))
        return self.channel(self.spatial(x))  # "none"

    def extra_repr(self) -> str:
        return f"residual={self.residual!r}"


class ClassifierHead(nn.Sequential):
    """Global average pooling over the ``H/p x W/p`` grid, then a linear classifier.

    ``logits = W * mean_{i,j} z_d[:, i, j] + b``. Shape: ``(B, h, H', W') -> (B, n)``.
    """

    def __init__(self, dim: int, num_classes: int) -> None:
        check_positive_int("dim", dim)
        check_positive_int("num_classes", num_classes)
        super().__init__(
            OrderedDict(
                pool=nn.AdaptiveAvgPool2d(1), flatten=nn.Flatten(1), fc=nn.Linear(dim, num_classes)
            )
        )
