"""Patch-size explorer: turn ``p`` and watch the grid, the token count and the embedding change."""

from __future__ import annotations

from typing import Mapping

import torch

from convmixer._util import check_positive_int
from convmixer.layers import PatchEmbedding
from convmixer.patches import embed_patches, num_tokens, patch_grid, tokens_to_grid
from convmixer.viz.patches import check_chw, plot_patch_embedding
from convmixer.widgets.panel import Panel, dropdown, int_slider

FIGURE_HEIGHT = 2.4  # inches


def standardize(image: torch.Tensor) -> torch.Tensor:
    """A ``(C, H, W)`` image (uint8 0..255 or float) as a ``(1, C, H, W)`` float batch with zero
    mean and unit standard deviation per channel, the way a data pipeline feeds a network."""
    check_chw(image)
    x = image.float() / 255 if image.dtype == torch.uint8 else image.float()
    mean = x.mean(dim=(1, 2), keepdim=True)
    std = x.std(dim=(1, 2), keepdim=True).clamp_min(1e-6)
    return ((x - mean) / std)[None]


def patch_summary(height: int, width: int, in_channels: int, dim: int, patch_size: int) -> str:
    """The readout's HTML: grid, sequence length ``N`` and the two layouts' shapes for one ``p``;
    when ``p`` does not tile the image, what is left over and what happens to it."""
    p = patch_size
    if height % p or width % p:
        return (
            f"<b>p = {p}</b> does not divide the {height}×{width} image: {height % p} row(s) and "
            f"{width % p} column(s) are left over (red). The package's <code>PatchEmbedding</code> "
            f"raises a <code>ValueError</code>; a bare <code>nn.Conv2d</code> would silently drop "
            f"them."
        )
    rows, cols = patch_grid(height, width, p)
    n = num_tokens(height, width, p)
    return (
        f"<b>p = {p}</b>: {height}×{width} image → grid {rows}×{cols} · "
        f"sequence length <b>N = {n}</b> tokens · each patch {in_channels}·{p}² = "
        f"{in_channels * p * p} numbers → h = {dim}<br>"
        f"ViT sequence (1, {n}, {dim}) · ConvMixer grid (1, {dim}, {rows}, {cols})"
    )


class PatchSizeExplorer(Panel):
    """A patch-size slider (and an image menu when given several images) over one readout and
    one figure: the patch grid on the image and a few channels of a seeded, untrained ``h``-dim
    patch embedding (the stem's convolution, ``W vec(P_n) + b``, laid out on the grid).

    The panel of notebook 03: ``images`` is one ``(C, H, W)`` image or a ``{name: image}`` mapping;
    the slider ``p`` (``cm-patch-size``) runs over ``1..max_patch_size`` and no further than the
    smallest image side; ``dim`` is ``h`` of the seeded embedding whose ``channels`` are drawn."""

    def __init__(
        self,
        images: torch.Tensor | Mapping[str, torch.Tensor],
        patch_size: int = 4,
        dim: int = 16,
        channels: tuple[int, ...] = (0, 1, 2, 3),
        max_patch_size: int = 32,
        seed: int = 0,
    ) -> None:
        self.images = dict(images) if isinstance(images, Mapping) else {"image": images}
        if not self.images:
            raise ValueError("PatchSizeExplorer needs at least one image")
        sizes = [check_chw(image) for image in self.images.values()]
        check_positive_int("dim", dim)
        check_positive_int("max_patch_size", max_patch_size)
        if any(not 0 <= c < dim for c in channels):
            raise ValueError(f"channels {channels} must lie in 0..{dim - 1} (dim = {dim})")
        largest = min(max_patch_size, *(min(size) for size in sizes))
        self.dim, self.channels, self.seed = dim, tuple(channels), seed
        self.patch_size = int_slider("patch-size", "patch size p", patch_size, 1, largest)
        self.image = dropdown("image", "image", list(self.images))
        self.layout([[self.patch_size] + ([self.image] if len(self.images) > 1 else [])])
        self.redraw_on(self.patch_size, self.image)
        self.update()

    def embedding(self, image: torch.Tensor, patch_size: int) -> torch.Tensor:
        """Channels ``(h, H/p, W/p)`` of the seeded embedding of ``image`` with patch size ``p``."""
        torch.manual_seed(self.seed)
        stem = PatchEmbedding(image.shape[0], self.dim, patch_size)
        with torch.no_grad():
            tokens = embed_patches(standardize(image), stem.conv)
        rows, cols = patch_grid(image.shape[1], image.shape[2], patch_size)
        return tokens_to_grid(tokens, rows, cols)[0]

    def update(self, change: object = None) -> None:
        """Recompute the readout and redraw the figure for the current controls."""
        image, p = self.images[self.image.value], self.patch_size.value
        channels, height, width = image.shape
        self.readout.value = patch_summary(height, width, channels, self.dim, p)
        tiles = not (height % p or width % p)
        feature_map = self.embedding(image, p) if tiles else None
        self.show(plot_patch_embedding(image, p, feature_map, self.channels, FIGURE_HEIGHT))
