"""The whole network, ``ConvMixer-h/d``, and the registry of named configurations.

.. code-block:: text

    image (B, c_in, H, W)
      -> stem:   PatchEmbedding                      (B, h, H/p, W/p)
      -> blocks: d x MixerBlock (depth-wise k x k)   (B, h, H/p, W/p)
      -> head:   global average pool -> linear       (B, n)

Part names follow timm (``stem`` / ``blocks`` / ``head``) so checkpoints and code map across.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import torch
from torch import nn

from convmixer._util import check_positive_int
from convmixer.layers import ClassifierHead, MixerBlock, PatchEmbedding, activation_layer, check_residual


@dataclass(frozen=True)
class ConvMixerConfig:
    """Hyper-parameters of one ConvMixer, named as in the paper (what each field means:
    :class:`ConvMixer`). Frozen, and checked here, once: a config that exists is a valid network
    for ``image_size x image_size`` inputs.
    """

    dim: int  # h
    depth: int  # d
    kernel_size: int  # k
    patch_size: int  # p
    num_classes: int = 10  # n
    in_channels: int = 3
    image_size: int = 32
    activation: str = "gelu"
    residual: str = "depthwise"

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):
            if field.name not in ("activation", "residual"):
                check_positive_int(field.name, getattr(self, field.name))
        activation_layer(self.activation)  # unknown names fail here, with one sentence
        check_residual(self.residual)
        if self.image_size % self.patch_size:
            raise ValueError(
                f"image_size {self.image_size} is not divisible by patch_size {self.patch_size}"
            )


class ConvMixer(nn.Module):
    """ConvMixer-h/d: a patch embedding, ``d`` mixer blocks of width ``h``, a linear head.

    Built from one :class:`ConvMixerConfig`, kept as ``model.config`` (checkpoints and the analysis
    tools read it back). Its fields, in the paper's notation:

    - ``dim`` = ``h``: hidden dimension (channels of every feature map);
    - ``depth`` = ``d``: number of mixer blocks;
    - ``kernel_size`` = ``k``: depth-wise kernel size (any ``k >= 1``; even sizes use "same" padding);
    - ``patch_size`` = ``p``: kernel and stride of the stem;
    - ``num_classes`` = ``n``: number of classes;
    - ``in_channels`` = ``c_in``: channels of the input image (3 for RGB);
    - ``activation``: the non-linearity ``sigma``, ``"gelu"`` (the paper) or ``"relu"``;
    - ``residual``: where each block's skip connection goes, ``"depthwise"`` (the paper), ``"block"``,
      ``"both"`` or ``"none"`` (see :class:`~convmixer.layers.MixerBlock`);
    - ``image_size``: the input size the network is meant for (the network itself takes any size
      divisible by ``p``).

    The config validated itself when it was made, so the model does not check it again.

    >>> ConvMixer(ConvMixerConfig(dim=256, depth=8, kernel_size=5, patch_size=2)).config.depth
    8
    """

    def __init__(self, config: ConvMixerConfig) -> None:
        super().__init__()
        self.config = config
        sigma = activation_layer(config.activation)
        self.stem = PatchEmbedding(config.in_channels, config.dim, config.patch_size, sigma)
        self.blocks = nn.Sequential(
            *(MixerBlock(config.dim, config.kernel_size, sigma, config.residual) for _ in range(config.depth))
        )
        self.head = ClassifierHead(config.dim, config.num_classes)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """Image ``(B, c_in, H, W)`` -> last feature map ``(B, h, H/p, W/p)``."""
        return self.blocks(self.stem(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Image ``(B, c_in, H, W)`` -> class logits ``(B, n)``."""
        return self.head(self.forward_features(x))

    @torch.no_grad()
    def feature_maps(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Every intermediate feature map: ``[stem output, block 1 output, ..., block d output]``."""
        maps = [self.stem(x)]
        for block in self.blocks:
            maps.append(block(maps[-1]))
        return maps


CONFIGS: dict[str, ConvMixerConfig] = {
    # ImageNet configurations from the paper (Table 1), 224x224 inputs, 1000 classes. The released
    # ConvMixer-768/32 uses ReLU instead of GELU (official README; timm's convmixer_768_32 too).
    "convmixer_1536_20": ConvMixerConfig(1536, 20, 9, 7, num_classes=1000, image_size=224),
    "convmixer_768_32": ConvMixerConfig(768, 32, 7, 7, num_classes=1000, image_size=224, activation="relu"),
    "convmixer_1024_20": ConvMixerConfig(1024, 20, 9, 14, num_classes=1000, image_size=224),
    # CIFAR-10 (32x32): the official CIFAR-10 script's model ...
    "convmixer_256_8": ConvMixerConfig(256, 8, 5, 2),
    # ... and a small one for quick experiments on a CPU.
    "convmixer_128_4": ConvMixerConfig(128, 4, 5, 2),
}


def get_config(name: str, **overrides: int | str) -> ConvMixerConfig:
    """The registered configuration called ``name``, with some fields changed if asked; a clear
    ``ValueError`` lists the known configurations (or fields).

    >>> get_config("convmixer_256_8", kernel_size=9).kernel_size
    9
    """
    try:
        config = CONFIGS[name]
    except KeyError:
        raise ValueError(
            f"unknown config {name!r}; known configs: {', '.join(sorted(CONFIGS))}"
        ) from None
    known = {field.name for field in dataclasses.fields(ConvMixerConfig)}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise ValueError(
            f"unknown config field(s) {', '.join(unknown)}; valid fields: {', '.join(sorted(known))}"
        )
    return dataclasses.replace(config, **overrides)


def create_model(name: str, **overrides: int | str) -> ConvMixer:
    """Build the named configuration, optionally changing some of its fields.

    >>> create_model("convmixer_256_8", kernel_size=9).blocks[0].spatial.conv.kernel_size
    (9, 9)
    """
    return ConvMixer(get_config(name, **overrides))
