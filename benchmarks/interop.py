"""Move weights between our ConvMixer and the two implementations people compare it with.

Three implementations of the same network name their parameters differently:

====================================  =================================  ==========================================
ours (``convmixer.model``)            timm (``timm.models.convmixer``)   labml-nn (``labml_nn.conv_mixer``)
====================================  =================================  ==========================================
``stem.conv``  patch embedding        ``stem.0``                         ``patch_emb.conv``
``stem.norm``                         ``stem.2``                         ``patch_emb.norm``
``blocks.{l}.spatial.conv``  depth-w  ``blocks.{l}.0.fn.0``              ``conv_mixer_layers.{l}.depth_wise_conv``
``blocks.{l}.spatial.norm``           ``blocks.{l}.0.fn.2``              ``conv_mixer_layers.{l}.norm1``
``blocks.{l}.channel.conv``  point-w  ``blocks.{l}.1``                   ``conv_mixer_layers.{l}.point_wise_conv``
``blocks.{l}.channel.norm``           ``blocks.{l}.3``                   ``conv_mixer_layers.{l}.norm2``
``head.fc``  classifier               ``head``                           ``classification.linear``
====================================  =================================  ==========================================

Each row maps every tensor under that prefix (``weight``, ``bias`` and, for BatchNorm,
``running_mean``, ``running_var``, ``num_batches_tracked``) unchanged: the three networks hold the
same tensors with the same shapes, so a state dict converted here loads with ``strict=True`` and
the two models compute the same function (up to float rounding). GELU layers have no parameters.

labml-nn pads its depth-wise convolution by ``(k - 1) // 2`` on every side, which is "same" padding
only for odd ``k``; for even ``k`` its feature maps shrink and the networks differ, although the
weights still map one to one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import NamedTuple

import torch

StateDict = Mapping[str, torch.Tensor]


class _Rule(NamedTuple):
    ours: str  # a prefix with an optional "{l}" for the block index
    theirs: str


_TIMM_RULES = (
    _Rule("stem.conv", "stem.0"),
    _Rule("stem.norm", "stem.2"),
    _Rule("blocks.{l}.spatial.conv", "blocks.{l}.0.fn.0"),
    _Rule("blocks.{l}.spatial.norm", "blocks.{l}.0.fn.2"),
    _Rule("blocks.{l}.channel.conv", "blocks.{l}.1"),
    _Rule("blocks.{l}.channel.norm", "blocks.{l}.3"),
    _Rule("head.fc", "head"),
)

_LABML_RULES = (
    _Rule("stem.conv", "patch_emb.conv"),
    _Rule("stem.norm", "patch_emb.norm"),
    _Rule("blocks.{l}.spatial.conv", "conv_mixer_layers.{l}.depth_wise_conv"),
    _Rule("blocks.{l}.spatial.norm", "conv_mixer_layers.{l}.norm1"),
    _Rule("blocks.{l}.channel.conv", "conv_mixer_layers.{l}.point_wise_conv"),
    _Rule("blocks.{l}.channel.norm", "conv_mixer_layers.{l}.norm2"),
    _Rule("head.fc", "classification.linear"),
)

# The tensors a Conv2d / Linear / BatchNorm2d stores in its state dict.
_LEAVES = r"(weight|bias|running_mean|running_var|num_batches_tracked)"


def _pattern(prefix: str) -> re.Pattern[str]:
    """``"blocks.{l}.1"`` -> a regex matching ``blocks.<int>.1.<leaf>`` (dots literal)."""
    body = re.escape(prefix).replace(re.escape("{l}"), r"(?P<l>\d+)")
    return re.compile(rf"{body}\.(?P<leaf>{_LEAVES})")


def _rename(state_dict: StateDict, rules: tuple[_Rule, ...], to_ours: bool, source: str) -> dict[str, torch.Tensor]:
    """Rename every key of ``state_dict`` with the first rule that matches it, or raise."""
    compiled = [
        (_pattern(rule.theirs if to_ours else rule.ours), rule.ours if to_ours else rule.theirs)
        for rule in rules
    ]
    renamed: dict[str, torch.Tensor] = {}
    for key, tensor in state_dict.items():
        for pattern, target in compiled:
            match = pattern.fullmatch(key)
            if match:
                block = match.groupdict().get("l")
                new_key = (target.format(l=block) if block is not None else target) + "." + match["leaf"]
                renamed[new_key] = tensor
                break
        else:
            raise ValueError(f"key {key!r} is not part of a {source} ConvMixer state dict")
    return renamed


def from_timm_state_dict(state_dict: StateDict) -> dict[str, torch.Tensor]:
    """A timm ``ConvMixer`` state dict, renamed for our ``ConvMixer`` (tensors shared, not copied).

    >>> from_timm_state_dict({"blocks.3.0.fn.0.weight": torch.zeros(1)}).keys()
    dict_keys(['blocks.3.spatial.conv.weight'])
    """
    return _rename(state_dict, _TIMM_RULES, to_ours=True, source="timm")


def to_timm_state_dict(state_dict: StateDict) -> dict[str, torch.Tensor]:
    """Our ``ConvMixer`` state dict, renamed for timm's ``ConvMixer``."""
    return _rename(state_dict, _TIMM_RULES, to_ours=False, source="convmixer")


def from_labml_state_dict(state_dict: StateDict) -> dict[str, torch.Tensor]:
    """A labml-nn ``ConvMixer`` state dict, renamed for our ``ConvMixer``."""
    return _rename(state_dict, _LABML_RULES, to_ours=True, source="labml-nn")


def to_labml_state_dict(state_dict: StateDict) -> dict[str, torch.Tensor]:
    """Our ``ConvMixer`` state dict, renamed for labml-nn's ``ConvMixer``."""
    return _rename(state_dict, _LABML_RULES, to_ours=False, source="convmixer")
