"""Numbers that describe a ConvMixer without training it: size, cost and shapes.

The widgets of the notebooks show these; each is computed from the real module (parameter count,
FLOPs via ``torch.utils.flop_counter``, shapes via a forward pass) or from a closed form that the
tests check against the module.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from convmixer._util import check_positive_int, eval_mode
from convmixer.analysis.fields import receptive_field
from convmixer.layers import DepthwiseConv2d, PointwiseConv2d, same_padding
from convmixer.model import ConvMixer, ConvMixerConfig


def count_parameters(module: nn.Module) -> int:
    """Number of trainable parameters of ``module``."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def convmixer_parameters(config: ConvMixerConfig) -> int:
    """Closed-form parameter count of ConvMixer-h/d with kernel ``k``, patch ``p``, ``n`` classes:

    .. math::

        \\underbrace{c_{in} p^2 h + h + 2h}_{stem}
        + d\\,(\\underbrace{h k^2 + h + 2h}_{depth-wise} + \\underbrace{h^2 + h + 2h}_{point-wise})
        + \\underbrace{h n + n}_{head}

    (each ``2h`` is a BatchNorm's scale and shift).
    """
    h, d, k, p = config.dim, config.depth, config.kernel_size, config.patch_size
    stem = config.in_channels * p * p * h + h + 2 * h
    block = (h * k * k + h + 2 * h) + (h * h + h + 2 * h)
    head = h * config.num_classes + config.num_classes
    return stem + d * block + head


def forward_flops(model: nn.Module, input_shape: tuple[int, ...]) -> int:
    """FLOPs of one forward pass on a zero input of ``input_shape`` (``(B, C, H, W)``) on the
    model's device (``meta`` for :func:`meta_model`), counted by ``torch.utils.flop_counter`` (a
    multiply-add counts as 2 FLOPs; grouped convolutions are counted correctly in the forward
    direction). The model is run in eval mode and restored."""
    device = next(model.parameters(), torch.empty(0)).device
    counter = FlopCounterMode(display=False)
    with eval_mode(model), counter:
        model(torch.zeros(input_shape, device=device))
    return counter.get_total_flops()


@dataclass(frozen=True)
class Stage:
    """One stage of the forward pass: its name, output shape (without batch) and receptive field."""

    name: str
    shape: tuple[int, ...]
    receptive_field: int


def trace_stages(model: ConvMixer, image_size: int) -> list[Stage]:
    """Run a ``1 x c_in x image_size x image_size`` zero image through ``model`` and report the
    output shape and receptive field (in pixels) after the stem, after every block and after the
    head."""
    config = dataclasses.replace(model.config, image_size=image_size)
    x = torch.zeros(1, config.in_channels, image_size, image_size)
    with eval_mode(model):
        maps = model.feature_maps(x)
        logits = model.head(maps[-1])
    rf = [receptive_field(config.kernel_size, config.patch_size, i) for i in range(len(maps))]
    stages = [Stage("stem", tuple(maps[0].shape[1:]), rf[0])]
    stages += [
        Stage(f"block {i}", tuple(m.shape[1:]), rf[i]) for i, m in enumerate(maps[1:], start=1)
    ]
    stages.append(Stage("head", tuple(logits.shape[1:]), image_size))
    return stages


@dataclass(frozen=True)
class ModelSummary:
    """The headline numbers of one configuration at one input size."""

    config: ConvMixerConfig
    parameters: int
    flops: int  # forward FLOPs for one image
    receptive_field: int  # pixels seen by one position of the last feature map
    tokens: int  # positions on the patch grid, (H/p) * (W/p)


def summarise(config: ConvMixerConfig) -> ModelSummary:
    """Build ``config`` and measure it at its ``image_size``."""
    model = ConvMixer(config)
    size = config.image_size
    return ModelSummary(
        config=config,
        parameters=count_parameters(model),
        flops=forward_flops(model, (1, config.in_channels, size, size)),
        receptive_field=receptive_field(config.kernel_size, config.patch_size, config.depth),
        tokens=(size // config.patch_size) ** 2,
    )


# --- Full vs depth-wise vs separable convolution -------------------------------------------------

CONV_KINDS: tuple[str, ...] = ("full", "depthwise", "pointwise", "separable")


def convolution_variants(dim: int, kernel_size: int) -> dict[str, nn.Module]:
    """The four ``h -> h`` convolutions compared in the notebooks, all with "same" padding:

    - ``full``: a dense ``k x k`` convolution (every output channel sees every input channel),
      built as zero padding ``((k-1)//2, k//2)`` + ``nn.Conv2d`` so even ``k`` works without a
      warning;
    - ``depthwise``: :class:`~convmixer.layers.DepthwiseConv2d` (one ``k x k`` kernel per channel);
    - ``pointwise``: :class:`~convmixer.layers.PointwiseConv2d` (``1 x 1``, mixes channels only);
    - ``separable``: depth-wise then point-wise.
    """
    check_positive_int("dim", dim)
    before, after = same_padding(kernel_size)
    return {
        "full": nn.Sequential(
            nn.ZeroPad2d((before, after, before, after)), nn.Conv2d(dim, dim, kernel_size)
        ),
        "depthwise": DepthwiseConv2d(dim, kernel_size),
        "pointwise": PointwiseConv2d(dim),
        "separable": nn.Sequential(DepthwiseConv2d(dim, kernel_size), PointwiseConv2d(dim)),
    }


@dataclass(frozen=True)
class ConvCost:
    """Size and forward cost of one convolution on one ``H x W`` feature map."""

    parameters: int  # weights + biases
    flops: int  # forward FLOPs for one image: 2 per multiply-add, biases not counted


def convolution_costs(
    dim: int, kernel_size: int, height: int, width: int | None = None
) -> dict[str, ConvCost]:
    """Closed-form costs of the modules of :func:`convolution_variants` on an ``h x H x W`` map.

    With ``h`` channels, a ``k x k`` kernel and ``H W`` output positions (FLOPs count a
    multiply-add as 2, as ``torch.utils.flop_counter`` does, and leave out the bias):

    =========== ===================== =========================
    kind        parameters            forward FLOPs
    =========== ===================== =========================
    full        ``h^2 k^2 + h``       ``2 h^2 k^2 H W``
    depthwise   ``h k^2 + h``         ``2 h k^2 H W``
    pointwise   ``h^2 + h``           ``2 h^2 H W``
    separable   ``h k^2 + h^2 + 2h``  ``2 (h k^2 + h^2) H W``
    =========== ===================== =========================

    so the full convolution costs ``h k^2 / (h + k^2) = 1 / (1/h + 1/k^2)`` times the FLOPs of the
    separable one: about ``k^2`` when ``h >> k^2``, about ``h`` when ``k^2 >> h``.
    """
    h = check_positive_int("dim", dim)
    k = check_positive_int("kernel_size", kernel_size)
    check_positive_int("height", height)
    width = height if width is None else check_positive_int("width", width)
    positions = height * width
    depthwise = ConvCost(h * k * k + h, 2 * h * k * k * positions)
    pointwise = ConvCost(h * h + h, 2 * h * h * positions)
    return {
        "full": ConvCost(h * h * k * k + h, 2 * h * h * k * k * positions),
        "depthwise": depthwise,
        "pointwise": pointwise,
        "separable": ConvCost(
            depthwise.parameters + pointwise.parameters, depthwise.flops + pointwise.flops
        ),
    }


# --- Whole-model cost without building the weights ------------------------------------------------


def convmixer_flops(config: ConvMixerConfig, image_size: int | None = None) -> int:
    """Closed-form forward FLOPs of ConvMixer-h/d for one ``S x S`` image (``S = image_size``,
    default ``config.image_size``), counted like ``torch.utils.flop_counter``: 2 per multiply-add,
    biases, activations and BatchNorm left out. With ``N = (S/p)^2`` grid positions:

    .. math::

        \\underbrace{2 c_{in} p^2 h N}_{stem}
        + d\\,(\\underbrace{2 h k^2 N}_{depth-wise} + \\underbrace{2 h^2 N}_{point-wise})
        + \\underbrace{2 h n}_{head}
    """
    size = config.image_size if image_size is None else check_positive_int("image_size", image_size)
    h, d, k, p = config.dim, config.depth, config.kernel_size, config.patch_size
    if size % p:
        raise ValueError(f"image_size {size} is not divisible by patch_size {p}")
    positions = (size // p) ** 2
    stem = 2 * config.in_channels * p * p * h * positions
    blocks = d * 2 * (h * k * k + h * h) * positions
    return stem + blocks + 2 * h * config.num_classes


def meta_model(config: ConvMixerConfig) -> ConvMixer:
    """``config`` built on PyTorch's ``meta`` device: the real modules, parameter shapes and
    forward pass, but no weights in memory and no arithmetic, so even ConvMixer-1536/20 is built
    and counted in milliseconds (``count_parameters`` works on it as on a real model)."""
    with torch.device("meta"):
        return ConvMixer(config)


def meta_forward_flops(config: ConvMixerConfig, image_size: int | None = None) -> int:
    """Forward FLOPs of one ``S x S`` image counted by ``torch.utils.flop_counter`` on
    :func:`meta_model` (``S`` defaults to ``config.image_size``): the measured counterpart of
    :func:`convmixer_flops`, affordable for ImageNet-size configurations."""
    size = config.image_size if image_size is None else check_positive_int("image_size", image_size)
    return forward_flops(meta_model(config), (1, config.in_channels, size, size))
