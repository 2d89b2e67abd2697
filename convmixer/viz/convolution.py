"""Figures for the convolution notebooks (01 depth-wise, 02 point-wise and separable), in the
style of :mod:`convmixer.viz.style` (plain ``Figure`` objects, no pyplot state)."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.axis import Axis
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, NullLocator

from convmixer._util import check_positive_int
from convmixer.analysis.cost import convolution_costs
from convmixer.viz.images import (
    draw_kernel,
    render_figure,  # noqa: F401  (notebooks import it from here)
    to_display,
)
from convmixer.viz.style import new_figure

DEFAULT_WIDTHS: tuple[int, ...] = (16, 32, 64, 128, 256, 512, 768, 1024, 1536, 2048)


def _write_values(ax: Axes, kernel: torch.Tensor, cell_inches: float) -> None:
    """Print every weight of a ``(k, k)`` kernel on its square, all with the same number of
    decimals (two significant digits for the largest weight; powers of ten for tiny kernels),
    white on the strongest colours, in a font that fits the square."""
    values = kernel.detach().cpu().float().numpy()
    limit = float(np.abs(values).max()) or 1.0
    decimals = max(0, 1 - int(np.floor(np.log10(limit))))
    style = f".{decimals}f" if decimals <= 3 else ".1e"
    labels = [[format(v, style) for v in row] for row in values]
    longest = max(len(label) for row in labels for label in row)
    fontsize = min(8.0, 72 * cell_inches / (0.62 * longest + 0.8))
    for (i, j), value in np.ndenumerate(values):
        ax.text(j, i, labels[i][j], ha="center", va="center", fontsize=fontsize,
                color="white" if abs(value) > 0.6 * limit else "black")


def kernel_figure(
    kernels: Sequence[torch.Tensor],
    titles: Sequence[str],
    size: float = 1.5,
    values: bool | None = None,
) -> Figure:
    """Draw ``(k, k)`` kernels side by side as heat maps (red > 0, blue < 0, white 0), each with
    its own colour bar (the scale is set per kernel) and, when ``values`` (default: for
    ``k <= 7``), every weight printed on its square."""
    if len(kernels) == 0:
        raise ValueError("kernel_figure needs at least one kernel")
    if len(titles) != len(kernels):
        raise ValueError(f"got {len(kernels)} kernels but {len(titles)} titles")
    for kernel in kernels:
        if kernel.dim() != 2:
            raise ValueError(f"expected (k, k) kernels, got shape {tuple(kernel.shape)}")
    fig = new_figure(size * len(kernels), size + 0.3, layout="constrained")
    for ax, kernel, title in zip(fig.subplots(1, len(kernels), squeeze=False)[0], kernels, titles):
        draw_kernel(ax, kernel, title)
        colorbar = fig.colorbar(ax.images[0], ax=ax, fraction=0.08, pad=0.03)
        colorbar.ax.tick_params(labelsize=6, length=2)
        if values if values is not None else kernel.shape[0] <= 7:
            _write_values(ax, kernel, 0.75 * size / kernel.shape[0])
    return fig


def stretch_contrast(image: torch.Tensor, clip: float = 0.005) -> torch.Tensor:
    """A float image clamped to its ``clip`` and ``1 - clip`` quantiles, so that a few extreme
    pixels (e.g. at a zero-padded border) do not wash out the rest when it is shown; uint8
    images are returned unchanged."""
    if image.dtype == torch.uint8:
        return image
    values = image.detach().float()
    low, high = torch.quantile(values.flatten()[:: max(1, values.numel() // 1_000_000)],
                               torch.tensor([clip, 1 - clip]))
    return values.clamp(float(low), float(high))


def filter_figure(
    image: torch.Tensor,
    kernels: torch.Tensor,
    filtered: torch.Tensor,
    title: str = "filtered",
    width: float = 9.0,
) -> Figure:
    """The image, the per-channel kernels of a depth-wise filter, and the filtered image.

    ``image`` and ``filtered`` are ``(C, H, W)``; ``kernels`` is ``(C, k, k)``. The middle column
    shows one kernel per channel (at most three, labelled R, G, B for colour images).
    """
    if image.dim() != 3 or filtered.dim() != 3:
        raise ValueError(
            "expected (C, H, W) images, got shapes "
            f"{tuple(image.shape)} and {tuple(filtered.shape)}"
        )
    if kernels.dim() != 3 or kernels.shape[0] != image.shape[0]:
        raise ValueError(
            f"expected one kernel per channel, ({image.shape[0]}, k, k), "
            f"got shape {tuple(kernels.shape)}"
        )
    shown = min(3, kernels.shape[0])
    names = "RGB" if kernels.shape[0] == 3 else [f"channel {c}" for c in range(shown)]
    height, image_width = image.shape[1:]
    panel_height = (width / 2.4) * height / image_width
    fig = new_figure(width, panel_height + 0.4)
    # Fixed margins (no layout engine): a widget redraws this figure on every change.
    grid = fig.add_gridspec(
        shown, 3, width_ratios=[1, 0.4, 1], left=0.01, right=0.99, bottom=0.02, top=0.9,
        wspace=0.08, hspace=0.35,
    )
    left, right = fig.add_subplot(grid[:, 0]), fig.add_subplot(grid[:, 2])
    for ax, picture, name in ((left, image, "input"), (right, filtered, title)):
        ax.imshow(to_display(stretch_contrast(picture)), cmap="gray")
        ax.set_title(f"{name} {tuple(picture.shape)}", fontsize=9)
        ax.axis("off")
    k = kernels.shape[-1]
    for c in range(shown):
        draw_kernel(fig.add_subplot(grid[c, 1]), kernels[c], f"{names[c]} kernel {k}x{k}")
    return fig


def support_figure(
    image: torch.Tensor, supports: Sequence[torch.Tensor], titles: Sequence[str], size: float = 2.2
) -> Figure:
    """The image once per boolean ``(H, W)`` mask, with the pixels outside the mask dimmed.

    Used to show a receptive field: the input pixels that can change one output pixel.
    """
    if image.dim() != 3:
        raise ValueError(f"expected an image shaped (C, H, W), got shape {tuple(image.shape)}")
    if len(supports) == 0 or len(titles) != len(supports):
        raise ValueError(
            f"need one title per mask, got {len(supports)} masks and {len(titles)} titles"
        )
    picture = to_display(image)
    picture = picture.astype(np.float32) / 255 if picture.dtype == np.uint8 else picture
    if picture.ndim == 2:
        picture = np.stack([picture] * 3, axis=-1)
    fig = new_figure(size * len(supports), size + 0.3, layout="constrained")
    for ax, mask, title in zip(fig.subplots(1, len(supports), squeeze=False)[0], supports, titles):
        if tuple(mask.shape) != picture.shape[:2]:
            raise ValueError(
                f"mask shape {tuple(mask.shape)} does not match the image size {picture.shape[:2]}"
            )
        inside = mask.cpu().numpy().astype(bool)[..., None]
        ax.imshow(np.where(inside, picture, 0.25 * picture + 0.75), interpolation="nearest")
        ax.set_title(title, fontsize=8)
        ax.axis("off")
    return fig


def _plain_log_axis(axis: Axis) -> None:
    """Log-scale ticks at the powers only, labelled as plain numbers (1, 10, 100): far cheaper to
    draw than minor ticks and mathtext labels."""
    axis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    axis.set_minor_locator(NullLocator())


def cost_ratio_figure(
    width: int,
    kernel_size: int,
    max_kernel_size: int = 15,
    widths: Sequence[int] = DEFAULT_WIDTHS,
    size: tuple[float, float] = (9.0, 4.0),
) -> Figure:
    """How many times more FLOPs a full ``k x k`` convolution needs than a depth-wise separable
    one, ``h k^2 / (h + k^2)``: left against ``k`` at width ``h``, right against ``h`` at kernel
    ``k``, each with the current ``(h, k)`` marked and the bounds ``h`` and ``k^2`` drawn grey.

    Margins are fixed (no layout engine) and labels avoid mathtext, so a redraw is fast.
    """
    check_positive_int("width", width)
    check_positive_int("kernel_size", kernel_size)
    check_positive_int("max_kernel_size", max_kernel_size)

    def ratio(h: int, k: int) -> float:
        costs = convolution_costs(h, k, 1)
        return costs["full"].flops / costs["separable"].flops

    kernel_sizes = np.arange(1, max(max_kernel_size, kernel_size) + 1)
    all_widths = np.array(sorted(set(widths) | {width}))
    current = ratio(width, kernel_size)
    fig = new_figure(*size)
    fig.subplots_adjust(left=0.08, right=0.98, bottom=0.3, top=0.92, wspace=0.28)
    by_k, by_h = fig.subplots(1, 2)

    by_k.plot(kernel_sizes, [ratio(width, int(k)) for k in kernel_sizes], "o-", ms=3,
              label="full / separable")
    by_k.plot(kernel_sizes, kernel_sizes**2, "--", color="gray", lw=1, label="k²")
    by_k.axhline(width, ls=":", color="gray", lw=1, label=f"h = {width}")
    by_k.set_xlabel("kernel size k")
    by_k.set_title(f"width h = {width}", fontsize=10)

    by_h.plot(all_widths, [ratio(int(h), kernel_size) for h in all_widths], "o-", ms=3,
              label="full / separable")
    by_h.axhline(kernel_size**2, ls="--", color="gray", lw=1, label=f"k² = {kernel_size**2}")
    by_h.set_xscale("log", base=2)
    _plain_log_axis(by_h.xaxis)
    by_h.set_xlabel("width h (channels)")
    by_h.set_title(f"kernel size k = {kernel_size}", fontsize=10)

    for ax, x in ((by_k, kernel_size), (by_h, width)):
        ax.plot([x], [current], "o", color="crimson", ms=8, zorder=3, label=f"now: {current:.1f}x")
        ax.set_ylabel("FLOPs full / separable")
        ax.grid(True, which="major", alpha=0.3)
        # Below the axes, off the data whatever h and k are.
        ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2, frameon=False)
    # Against k the ratio spans decades (log scale); against h it saturates at k^2 (linear).
    by_k.set_yscale("log")
    _plain_log_axis(by_k.yaxis)
    by_k.set_ylim(0.8, max(width, kernel_sizes[-1] ** 2) * 1.5)
    by_h.set_ylim(0, kernel_size**2 * 1.15)
    return fig
