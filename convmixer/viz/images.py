"""Turning tensors into pictures, and figures into image bytes."""

from __future__ import annotations

import io
from typing import Sequence

import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize
from matplotlib.figure import Figure, SubFigure

from convmixer.viz.style import grid_axes, grid_shape, hide_ticks, new_figure

KERNEL_CMAP = "RdBu_r"  # kernels and signed maps: red > 0, blue < 0, white 0


def render_figure(fig: Figure, image_format: str = "png", dpi: int = 100) -> bytes:
    """The figure rendered to bytes in ``image_format``: ``"png"`` for plots, ``"jpeg"`` for
    photographs (several times smaller than PNG, and faster to encode)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format=image_format, dpi=dpi)
    return buffer.getvalue()


def to_display(image: torch.Tensor) -> np.ndarray:
    """A ``(C, H, W)`` image (uint8 in 0..255, or float) as an ``(H, W, C)`` or ``(H, W)`` array
    that ``imshow`` draws faithfully: uint8 stays as is, floats are rescaled to 0..1 per image."""
    image = image.detach().cpu()
    if image.dim() != 3:
        raise ValueError(f"expected an image shaped (C, H, W), got shape {tuple(image.shape)}")
    if image.dtype == torch.uint8:
        array = image.permute(1, 2, 0).numpy()
    else:
        image = image.float()
        low, high = image.min(), image.max()
        array = ((image - low) / (high - low).clamp_min(1e-12)).permute(1, 2, 0).numpy()
    return array[..., 0] if array.shape[-1] == 1 else array


def show_images(
    images: Sequence[torch.Tensor],
    titles: Sequence[str] | None = None,
    ncols: int = 8,
    size: float = 1.4,
    cmap: str = "gray",
) -> Figure:
    """``(C, H, W)`` images in a grid, ``ncols`` per row, with optional titles, as a figure (make
    it a cell's value to show it)."""
    if len(images) == 0:
        raise ValueError("show_images needs at least one image")
    if titles is not None and len(titles) != len(images):
        raise ValueError(f"got {len(images)} images but {len(titles)} titles")
    nrows, ncols = grid_shape(len(images), ncols)
    fig = new_figure(size * ncols, size * nrows, layout="constrained")
    for i, (ax, image) in enumerate(zip(grid_axes(fig, nrows, ncols), images)):
        ax.imshow(to_display(image), cmap=cmap)
        if titles is not None:
            ax.set_title(titles[i], fontsize=8)
    return fig


def draw_kernel(ax: Axes, kernel: torch.Tensor, title: str | None = None) -> None:
    """A ``(k, k)`` kernel as a heat map on ``ax``: red > 0, blue < 0, white 0, the colour scale
    symmetric around 0 and set per kernel; one square per weight."""
    values = kernel.detach().cpu().float().numpy()
    limit = float(np.abs(values).max()) or 1.0
    ax.imshow(values, cmap=KERNEL_CMAP, vmin=-limit, vmax=limit, interpolation="nearest")
    hide_ticks(ax)
    if title is not None:
        ax.set_title(title, fontsize=8)


def kernel_scale_bar(fig: Figure | SubFigure, cax: Axes, label: str = "each kernel\non its own\nscale") -> None:
    """A colour bar on ``cax`` for kernels drawn by :func:`draw_kernel`, each on its own symmetric
    scale: it reads from ``-max|w|`` (blue) through 0 (white) to ``+max|w|`` (red) of each kernel;
    ``label`` goes above it."""
    bar = fig.colorbar(ScalarMappable(Normalize(-1.0, 1.0), cmap=KERNEL_CMAP), cax=cax, ticks=[-1.0, 0.0, 1.0])
    bar.ax.set_yticklabels(["−max|w|", "0", "+max|w|"], fontsize=7)
    bar.ax.tick_params(length=2)
    bar.ax.set_title(label, fontsize=7, loc="left")
