"""ConvMixer ("Patches Are All You Need?", Trockman & Kolter), built step by step."""

from convmixer.layers import (
    ClassifierHead,
    ConvActNorm,
    DepthwiseConv2d,
    MixerBlock,
    PatchEmbedding,
    PointwiseConv2d,
)
from convmixer.model import CONFIGS, ConvMixer, ConvMixerConfig, create_model, get_config

__all__ = [
    "CONFIGS",
    "ClassifierHead",
    "ConvActNorm",
    "ConvMixer",
    "ConvMixerConfig",
    "DepthwiseConv2d",
    "MixerBlock",
    "PatchEmbedding",
    "PointwiseConv2d",
    "create_model",
    "get_config",
]
