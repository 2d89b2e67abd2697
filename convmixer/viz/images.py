"""Turning image tensors into pictures."""

from __future__ import annotations

import io
from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.figure import Figure


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
    """Draw ``(C, H, W)`` images in a grid, ``ncols`` per row, with optional titles."""
    if len(images) == 0:
        raise ValueError("show_images needs at least one image")
    if titles is not None and len(titles) != len(images):
        raise ValueError(f"got {len(images)} images but {len(titles)} titles")
    ncols = min(ncols, len(images))
    nrows = -(-len(images) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for i, (ax, image) in enumerate(zip(axes.flat, images)):
        ax.imshow(to_display(image), cmap=cmap)
        if titles is not None:
            ax.set_title(titles[i], fontsize=8)
    fig.tight_layout()
    return fig
