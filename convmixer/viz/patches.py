"""Figures for patch embeddings: the ``p x p`` grid over an image, the patches pulled apart, and
the patch matrix ``(N, c_in p^2)`` that the embedding multiplies by ``W^T``. Figures follow
:mod:`convmixer.viz.style` (plain ``Figure`` objects, no pyplot state)."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from convmixer._util import check_positive_int
from convmixer.patches import patch_grid, patchify
from convmixer.viz.images import to_display
from convmixer.viz.style import new_figure

GRID_COLOR = "#ffd21f"
LEFTOVER_COLOR = "#e4002b"


def check_chw(image: torch.Tensor) -> tuple[int, int]:
    """Height and width of a ``(C, H, W)`` image; a clear ``ValueError`` for any other shape."""
    if image.dim() != 3:
        raise ValueError(f"expected one image shaped (C, H, W), got shape {tuple(image.shape)}")
    return image.shape[1], image.shape[2]


def draw_patch_grid(ax: Axes, image: torch.Tensor, patch_size: int, max_lines: int = 64) -> None:
    """Draw ``image`` on ``ax`` with the ``p x p`` patch grid on top.

    When ``p`` does not divide the image, the grid covers what a stride-``p`` convolution would
    see and the leftover rows/columns are shaded red. With more than ``max_lines`` patches along a
    side the lines would hide the image, so only the outline of the covered area is drawn.
    """
    check_positive_int("patch_size", patch_size)
    height, width = check_chw(image)
    rows, cols = height // patch_size, width // patch_size
    covered_h, covered_w = rows * patch_size, cols * patch_size
    ax.imshow(to_display(image), cmap="gray", extent=(0, width, height, 0))
    if rows <= max_lines and cols <= max_lines:
        ax.vlines(np.arange(0, cols + 1) * patch_size, 0, covered_h, color=GRID_COLOR, lw=0.8)
        ax.hlines(np.arange(0, rows + 1) * patch_size, 0, covered_w, color=GRID_COLOR, lw=0.8)
    else:
        ax.add_patch(Rectangle((0, 0), covered_w, covered_h, fill=False, ec=GRID_COLOR, lw=1.5))
    right = (covered_w, 0, width - covered_w, height)
    bottom = (0, covered_h, covered_w, height - covered_h)
    for x, y, w, h in (right, bottom):
        if w > 0 and h > 0:
            ax.add_patch(Rectangle((x, y), w, h, color=LEFTOVER_COLOR, alpha=0.55, lw=0))
    ax.set_xlim(0, width)
    ax.set_ylim(height, 0)
    ax.axis("off")


def plot_patch_grid(
    images: Sequence[torch.Tensor],
    patch_sizes: Sequence[int],
    titles: Sequence[str] | None = None,
    size: float = 2.6,
) -> Figure:
    """One panel per ``(image, p)`` pair: the image with its patch grid, titled with the grid's
    size (and the optional ``titles`` above it)."""
    if len(images) == 0 or len(images) != len(patch_sizes):
        raise ValueError(
            f"need one patch size per image, got {len(images)} images and {len(patch_sizes)} sizes"
        )
    if titles is not None and len(titles) != len(images):
        raise ValueError(f"got {len(images)} images but {len(titles)} titles")
    fig = new_figure(size * len(images), size)
    axes = fig.subplots(1, len(images), squeeze=False)
    for i, (ax, image, p) in enumerate(zip(axes[0], images, patch_sizes)):
        draw_patch_grid(ax, image, p)
        height, width = check_chw(image)
        tiles = not (height % p or width % p)
        grid = f"{height // p}x{width // p} patches" if tiles else "leftover in red"
        label = f"p = {p}: {grid}"
        ax.set_title(label if titles is None else f"{titles[i]}\n{label}", fontsize=9)
    fig.tight_layout()
    return fig


def exploded_patches(image: torch.Tensor, patch_size: int, gap: int = 1) -> np.ndarray:
    """The image as an ``(H', W', 3)`` array in 0..1 with ``gap`` white pixels between
    neighbouring patches, so every ``p x p`` patch stands on its own."""
    height, width = check_chw(image)
    rows, cols = patch_grid(height, width, patch_size)
    array = to_display(image).astype(np.float32)
    if image.dtype == torch.uint8:
        array = array / 255.0
    if array.ndim == 2:
        array = np.repeat(array[..., None], 3, axis=2)
    step = patch_size + gap
    out = np.ones((rows * step - gap, cols * step - gap, 3), np.float32)
    for i in range(rows):
        for j in range(cols):
            out[i * step : i * step + patch_size, j * step : j * step + patch_size] = array[
                i * patch_size : (i + 1) * patch_size, j * patch_size : (j + 1) * patch_size
            ]
    return out


def plot_patches(image: torch.Tensor, patch_size: int, size: float = 2.8) -> Figure:
    """Three views of the same numbers: the image cut into ``p x p`` patches, the patches pulled
    apart, and the patch matrix ``(N, c_in p^2)`` (one row per patch, what ``patchify`` returns)."""
    height, width = check_chw(image)
    rows, cols = patch_grid(height, width, patch_size)
    pixels = image.float() / 255 if image.dtype == torch.uint8 else image.float()
    matrix = patchify(pixels[None], patch_size)[0]
    fig = new_figure(3 * size, size)
    axes = fig.subplots(1, 3, width_ratios=[1, 1, 0.9])
    draw_patch_grid(axes[0], image, patch_size)
    axes[0].set_title(f"{height}x{width} image, p = {patch_size}", fontsize=9)
    axes[1].imshow(exploded_patches(image, patch_size), interpolation="nearest")
    axes[1].set_title(f"{rows}x{cols} = {rows * cols} patches", fontsize=9)
    axes[1].axis("off")
    shown = axes[2].imshow(matrix.numpy(), cmap="gray", aspect="auto", interpolation="nearest")
    colour_bar = fig.colorbar(shown, ax=axes[2], fraction=0.08, pad=0.03)  # grey level = pixel value
    colour_bar.ax.tick_params(labelsize=7)
    colour_bar.set_label("pixel value (0..1)", fontsize=7)
    axes[2].set_title(f"patch matrix ({matrix.shape[0]}, {matrix.shape[1]})", fontsize=9)
    axes[2].set_xlabel(f"c_in p² = {image.shape[0]}·{patch_size}² numbers", fontsize=8)
    axes[2].set_ylabel("patch n (row by row)", fontsize=8)
    axes[2].tick_params(labelsize=7)
    fig.tight_layout()
    return fig


def plot_patch_embedding(
    image: torch.Tensor,
    patch_size: int,
    feature_map: torch.Tensor | None,
    channels: Sequence[int] = (0, 1, 2, 3),
    size: float = 2.4,
) -> Figure:
    """The image with its patch grid, next to a few channels of its embedding ``(h, H/p, W/p)``,
    all channels on one colour scale with one colour bar (the last axes of the figure).

    ``feature_map`` is ``None`` when ``p`` does not tile the image; the channel panels then say
    so instead of drawing (and there is no colour bar)."""
    if feature_map is not None and feature_map.dim() != 3:
        raise ValueError(
            f"expected one feature map shaped (h, H/p, W/p), got {tuple(feature_map.shape)}"
        )
    bar_room = 0.75  # inches right of the panels: the colour bar and its labels
    width = size * (1 + 0.8 * len(channels)) + bar_room
    fig = new_figure(width, size)
    # fixed margins (a widget redraws this figure): room for the titles above, the bar on the right
    fig.subplots_adjust(left=0.01, right=1 - bar_room / width, bottom=0.03, top=0.87, wspace=0.08)
    axes = fig.subplots(1, 1 + len(channels), width_ratios=[1.25] + [1] * len(channels))
    draw_patch_grid(axes[0], image, patch_size)
    axes[0].set_title(f"p = {patch_size}", fontsize=9)
    for ax in axes[1:]:
        ax.axis("off")
    if feature_map is None:
        left, right = axes[1].get_position().x0, axes[-1].get_position().x1
        fig.text((left + right) / 2, 0.5, f"no embedding: p = {patch_size} does not tile the image",
                 ha="center", va="center", fontsize=10, color=LEFTOVER_COLOR)
        return fig
    rows, cols = feature_map.shape[1:]
    shown = [feature_map[c].detach().float() for c in channels]
    low = min(float(m.min()) for m in shown)
    high = max(float(m.max()) for m in shown)
    for ax, channel, values in zip(axes[1:], channels, shown):
        drawn = ax.imshow(values.numpy(), cmap="magma", vmin=low, vmax=high, interpolation="nearest")
        ax.set_title(f"channel {channel} ({rows}x{cols})", fontsize=9)
    bar = fig.add_axes((1 - (bar_room - 0.08) / width, 0.12, 0.12 / width, 0.7))
    colour_bar = fig.colorbar(drawn, cax=bar)
    colour_bar.set_label("embedding value (all channels)", fontsize=7)
    bar.tick_params(labelsize=7)
    return fig


def trained_patch_figure(image: torch.Tensor, patch_size: int, filters: torch.Tensor, count: int = 32,
                         ncols: int = 8, size: float = 2.8) -> Figure:
    """What one trained patch size is: ``image`` with its ``p x p`` grid (left) beside the first
    ``count`` of the trained stem's filters ``(h, c_in, p, p)`` (right), each rescaled to its own
    0..1 range as in :func:`convmixer.viz.inspection.filter_grid_figure`."""
    if filters.dim() != 4 or filters.shape[-1] != patch_size:
        raise ValueError(f"expected stem filters shaped (h, c_in, {patch_size}, {patch_size}), got {tuple(filters.shape)}")
    shown = filters[:count]
    nrows = -(-len(shown) // ncols)
    fig = new_figure(2 * size + 0.3, size + 0.35)
    left, right = fig.subfigures(1, 2, wspace=0.02)
    ax = left.subplots()
    left.subplots_adjust(left=0.02, right=0.98, bottom=0.02, top=0.88)
    draw_patch_grid(ax, image, patch_size)
    ax.set_title(f"p = {patch_size}: a {image.shape[1] // patch_size} x {image.shape[2] // patch_size} grid", fontsize=9)
    right.subplots_adjust(left=0.02, right=0.98, bottom=0.02, top=0.88, wspace=0.08, hspace=0.08)
    axes = right.subplots(nrows, ncols, squeeze=False)
    for ax, colour_filter in zip(axes.flat, shown):
        ax.imshow(to_display(colour_filter), interpolation="nearest")
    for ax in axes.flat:
        ax.axis("off")
    right.suptitle(f"the first {len(shown)} trained stem filters", fontsize=9)
    return fig
