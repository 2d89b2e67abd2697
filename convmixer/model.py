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

from convmixer.layers import (
    ClassifierHead, MixerBlock, PatchEmbedding, activation_layer, check_positive_int, check_residual,
)


@dataclass(frozen=True)
class ConvMixerConfig:
    """Hyper-parameters of one ConvMixer, named as in the paper.

    ``image_size`` is not part of the network (ConvMixer accepts any size divisible by ``p``);
    it records the input size the configuration was designed for, used by the analysis tools.
    ``activation`` names the non-linearity ``sigma``: ``"gelu"`` (the paper) or ``"relu"``.
    ``residual`` says where each block's skip connection goes: ``"depthwise"`` (the paper),
    ``"block"``, ``"both"`` or ``"none"`` (:class:`~convmixer.layers.MixerBlock`).
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

    Args:
        dim: hidden dimension ``h`` (channels of every feature map).
        depth: number of mixer blocks ``d``.
        kernel_size: depth-wise kernel size ``k`` (any ``k >= 1``; even sizes use "same" padding).
        patch_size: patch size ``p`` (kernel and stride of the stem).
        num_classes: number of classes ``n``.
        in_channels: channels of the input image (3 for RGB).
        activation: the non-linearity ``sigma``: ``"gelu"`` (the paper) or ``"relu"``.
        image_size: the input size the network is meant for (kept in :meth:`config`; the
            network itself takes any size divisible by ``p``).
        residual: where each block's skip connection goes: ``"depthwise"`` (the paper), ``"block"``,
            ``"both"`` or ``"none"`` (see :class:`~convmixer.layers.MixerBlock`).
    """

    def __init__(
        self,
        dim: int,
        depth: int,
        kernel_size: int,
        patch_size: int,
        num_classes: int = 10,
        in_channels: int = 3,
        activation: str = "gelu",
        image_size: int = 32,
        residual: str = "depthwise",
    ) -> None:
        super().__init__()
        check_positive_int("depth", depth)
        sigma = activation_layer(activation)
        self.stem = PatchEmbedding(in_channels, dim, patch_size, sigma)
        self.blocks = nn.Sequential(*(MixerBlock(dim, kernel_size, sigma, residual) for _ in range(depth)))
        self.head = ClassifierHead(dim, num_classes)
        # What the network was built from, for config() (checkpoints, analysis tools).
        self._arguments = dict(
            dim=dim, depth=depth, kernel_size=kernel_size, patch_size=patch_size,
            num_classes=num_classes, in_channels=in_channels, image_size=image_size, activation=activation,
            residual=residual,
        )

    @classmethod
    def from_config(cls, config: ConvMixerConfig) -> "ConvMixer":
        """The network ``config`` describes; ``model.config()`` gives ``config`` back."""
        return cls(**dataclasses.asdict(config))

    def config(self, image_size: int | None = None) -> ConvMixerConfig:
        """The configuration this network was built from (stored in checkpoints), with
        ``image_size`` replaced when given."""
        arguments = self._arguments if image_size is None else {**self._arguments, "image_size": image_size}
        return ConvMixerConfig(**arguments)

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
    return ConvMixer.from_config(get_config(name, **overrides))
