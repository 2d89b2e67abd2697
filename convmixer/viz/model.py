"""Pictures and tables of a whole ConvMixer: feature maps after every block, the stages of a
forward pass, and the named configurations with their sizes and costs. Figures follow
:mod:`convmixer.viz.style` (plain ``Figure`` objects, no pyplot state)."""

from __future__ import annotations

from typing import Mapping, Sequence

import matplotlib
import numpy as np
import torch
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from convmixer._util import check_positive_int
from convmixer.analysis.cost import (
    Stage,
    convmixer_flops,
    convmixer_parameters,
    count_parameters,
    meta_forward_flops,
    meta_model,
)
from convmixer.layers import same_padding
from convmixer.model import ConvMixerConfig
from convmixer.viz.images import to_display
from convmixer.viz.style import new_figure

RF_COLOR = "#ffd21f"


def receptive_box(
    kernel_size: int, patch_size: int, blocks: int, row: int, col: int
) -> tuple[int, int, int]:
    """``(top, left, side)`` in input pixels of the square that grid position ``(row, col)`` sees
    after the stem and ``blocks`` mixer blocks (it may reach past the image border, where the
    padding is). The stem maps position ``i`` to pixels ``[i p, (i + 1) p)``; every depth-wise
    ``k x k`` convolution with "same" padding adds ``(k - 1) // 2`` positions before and
    ``k // 2`` after, so ``side = p (1 + blocks (k - 1))`` as in
    :func:`convmixer.analysis.fields.receptive_field`."""
    check_positive_int("kernel_size", kernel_size)
    check_positive_int("patch_size", patch_size)
    if blocks < 0:
        raise ValueError(f"blocks must be >= 0, got {blocks}")
    before, _ = same_padding(kernel_size)
    side = patch_size * (1 + blocks * (kernel_size - 1))
    return (row - blocks * before) * patch_size, (col - blocks * before) * patch_size, side


def check_maps(maps: Sequence[torch.Tensor], channels: Sequence[int]) -> list[torch.Tensor]:
    """The feature maps as ``(h, H', W')`` tensors (a batch of one is unwrapped); a clear
    ``ValueError`` for an empty list, other shapes, or channels that do not exist."""
    if len(maps) == 0:
        raise ValueError("need at least one feature map")
    if len(channels) == 0:
        raise ValueError("need at least one channel to draw")
    out = []
    for m in maps:
        m = m[0] if m.dim() == 4 and m.shape[0] == 1 else m
        if m.dim() != 3:
            raise ValueError(f"expected feature maps shaped (h, H', W'), got {tuple(m.shape)}")
        if any(not 0 <= c < m.shape[0] for c in channels):
            raise ValueError(f"channels {tuple(channels)} must lie in 0..{m.shape[0] - 1}")
        out.append(m)
    return out


def feature_map_mosaic(
    maps: Sequence[torch.Tensor], channels: Sequence[int] = (0, 1, 2), gap: int = 1
) -> np.ndarray:
    """One array with a tile per (channel, stage): row ``i`` is channel ``channels[i]``, column
    ``j`` is ``maps[j]``. Each tile is rescaled to 0..1 on its own (contrast within a map, not
    between maps); the ``gap`` pixels between tiles are NaN (drawn blank)."""
    maps = check_maps(maps, channels)
    rows, cols = maps[0].shape[1:]
    if any(m.shape[1:] != (rows, cols) for m in maps):
        raise ValueError("all feature maps must share one spatial size (ConvMixer is isotropic)")
    step_r, step_c = rows + gap, cols + gap
    out = np.full((len(channels) * step_r - gap, len(maps) * step_c - gap), np.nan, np.float32)
    for i, channel in enumerate(channels):
        for j, m in enumerate(maps):
            tile = m[channel].detach().float()
            low, high = tile.min(), tile.max()
            tile = ((tile - low) / (high - low).clamp_min(1e-12)).cpu().numpy()
            out[i * step_r : i * step_r + rows, j * step_c : j * step_c + cols] = tile
    return out


def plot_feature_maps(
    image: torch.Tensor,
    maps: Sequence[torch.Tensor],
    channels: Sequence[int] = (0, 1, 2),
    receptive_field: tuple[int, int, int] | None = None,
    size: tuple[float, float] = (9.0, 2.6),
) -> Figure:
    """The input image right beside a mosaic of feature maps: one column per stage (stem, block 1,
    ..., block d), one row per channel, and a colour bar for the mosaic (every tile on its own
    range, so the bar reads from a tile's lowest to its highest value). ``receptive_field``, a
    ``(top, left, side)`` box in pixels (see :func:`receptive_box`), is outlined on the image.
    Axes: the image, the mosaic, the colour bar."""
    maps = check_maps(maps, channels)
    mosaic = feature_map_mosaic(maps, channels)
    cmap = matplotlib.colormaps["magma"].with_extremes(bad="white")
    width, height = size
    # Placed in inches (fixed margins: a widget redraws this figure): the image (with room on its
    # left for a title wider than it), a gap for the channel labels, the mosaic at its own aspect, then the colour bar with its labels.
    top, bottom, left, label_gap, bar_gap, bar_width, bar_room = 0.62, 0.25, 0.25, 0.45, 0.1, 0.12, 0.65
    side = height - top - bottom  # the image panel is a square this high
    mosaic_h, mosaic_w = mosaic.shape
    room = width - left - side - label_gap - bar_gap - bar_width - bar_room
    tall = min(side, room * mosaic_h / mosaic_w)  # the mosaic's height, shrunk to fit the width
    fig = new_figure(width, height)

    def box(x: float, y: float, w: float, h: float) -> tuple[float, float, float, float]:
        return x / width, y / height, w / width, h / height

    ax_image = fig.add_axes(box(left, bottom, side, side))
    maps_x, maps_y = left + side + label_gap, bottom + (side - tall) / 2
    ax_maps = fig.add_axes(box(maps_x, maps_y, tall * mosaic_w / mosaic_h, tall))
    ax_bar = fig.add_axes(box(maps_x + tall * mosaic_w / mosaic_h + bar_gap, maps_y, bar_width, tall))
    image_h, image_w = image.shape[1:]
    ax_image.imshow(to_display(image), extent=(0, image_w, image_h, 0))
    ax_image.set_title(f"input {image_h}x{image_w}", fontsize=9)
    ax_image.axis("off")
    if receptive_field is not None:
        top_px, left_px, rf_side = receptive_field
        ax_image.add_patch(Rectangle((left_px, top_px), rf_side, rf_side, fill=False, ec=RF_COLOR, lw=2))
        ax_image.set_xlim(0, image_w)
        ax_image.set_ylim(image_h, 0)
        whole = top_px <= 0 and left_px <= 0 and top_px + rf_side >= image_h and left_px + rf_side >= image_w
        ax_image.set_title(
            f"input {image_h}x{image_w}\nRF {rf_side}x{rf_side} px" + (" (whole image)" if whole else ""),
            fontsize=9,
        )
    shown = ax_maps.imshow(mosaic, cmap=cmap, vmin=0.0, vmax=1.0, interpolation="nearest", aspect="equal")
    rows, cols = maps[0].shape[1:]
    ax_maps.set_xticks([j * (cols + 1) + (cols - 1) / 2 for j in range(len(maps))])
    ax_maps.set_xticklabels(["stem"] + [str(i) for i in range(1, len(maps))], fontsize=8)
    ax_maps.set_yticks([i * (rows + 1) + (rows - 1) / 2 for i in range(len(channels))])
    ax_maps.set_yticklabels([f"ch {c}" for c in channels], fontsize=8)
    ax_maps.tick_params(length=0)
    for spine in ax_maps.spines.values():
        spine.set_visible(False)
    ax_maps.set_title(
        f"feature maps ({rows}x{cols}) after the stem and after each block\n"
        "each tile on its own colour scale", fontsize=9
    )
    colour_bar = fig.colorbar(shown, cax=ax_bar, ticks=[0.0, 1.0])
    colour_bar.ax.set_yticklabels(["tile's\nlowest", "tile's\nhighest"], fontsize=7)
    colour_bar.ax.tick_params(length=2)
    return fig


def format_stage_table(stages: Sequence[Stage]) -> str:
    """The stages of :func:`convmixer.analysis.cost.trace_stages` as a fixed-width text table."""
    lines = [f"{'stage':<10}{'output shape':>18}{'receptive field':>18}"]
    for stage in stages:
        rf = f"{stage.receptive_field} px"
        lines.append(f"{stage.name:<10}{str(stage.shape):>18}{rf:>18}")
    return "\n".join(lines)


def config_table(configs: Mapping[str, ConvMixerConfig]) -> str:
    """The named configurations with their hyper-parameters, parameter count (closed form and
    counted on the meta-device model) and forward GFLOPs per image at their own image size
    (closed form and counted by ``torch.utils.flop_counter``), as a fixed-width text table."""
    header = (
        f"{'config':<19}{'h':>6}{'d':>4}{'k':>3}{'p':>4}{'n':>6}{'image':>7}"
        f"{'params (formula)':>18}{'params (counted)':>18}{'GFLOPs (formula)':>18}"
        f"{'GFLOPs (counted)':>18}"
    )
    lines = [header]
    for name, c in configs.items():
        counted = count_parameters(meta_model(c))
        flops, counted_flops = convmixer_flops(c), meta_forward_flops(c)
        lines.append(
            f"{name:<19}{c.dim:>6}{c.depth:>4}{c.kernel_size:>3}{c.patch_size:>4}"
            f"{c.num_classes:>6}{c.image_size:>7}{convmixer_parameters(c):>18,}{counted:>18,}"
            f"{flops / 1e9:>18.3f}{counted_flops / 1e9:>18.3f}"
        )
    return "\n".join(lines)
