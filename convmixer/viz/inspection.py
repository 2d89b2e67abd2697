"""Figures that look inside a trained ConvMixer (notebook 06): its filters, feature maps, patch
attributions and the patch-deletion check, drawn from :mod:`convmixer.analysis.inspection`.

Figures follow :mod:`convmixer.viz.style` (plain ``Figure`` objects, no pyplot state).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.image import AxesImage
from matplotlib.ticker import MaxNLocator, NullFormatter

from convmixer.analysis.inspection import (
    DeletionResult,
    Inspection,
    filter_movement,
    kernel_smoothness,
    kernel_spread,
    patch_embedding_filters,
    patch_norms,
    stage_names,
)
from convmixer.model import ConvMixer
from convmixer.studies.stats import Z_975
from convmixer.viz.images import KERNEL_CMAP, draw_kernel, kernel_scale_bar, to_display
from convmixer.viz.style import grid_axes, grid_shape, hide_ticks, new_figure

NORM_CMAP = "inferno"
OVERLAY_ALPHA = 0.6
COLOUR_BAR_SPACE = 1.2  # inches at the right of a figure for one colour bar with its ticks and label


# --- figures -------------------------------------------------------------------------------------


def filter_grid_figure(
    filters: torch.Tensor, ncols: int = 16, size: float = 0.42, title: str | None = None,
) -> Figure:
    """The stem's filters ``(h, c_in, p, p)`` as a grid of small colour images, each rescaled to
    its own 0..1 range (grey = 0 only if the filter is symmetric around 0)."""
    if filters.dim() != 4:
        raise ValueError(f"expected filters shaped (h, c_in, p, p), got {tuple(filters.shape)}")
    nrows, ncols = grid_shape(filters.shape[0], ncols)
    title_height = 0.3 if title else 0.0
    height = size * nrows + 0.1 + title_height
    fig = new_figure(size * ncols, height)
    fig.subplots_adjust(left=0.005, right=0.995, bottom=0.005, top=1 - (0.05 + title_height) / height,
                        wspace=0.08, hspace=0.08)
    for ax, colour_filter in zip(grid_axes(fig, nrows, ncols), filters):
        ax.imshow(to_display(colour_filter), cmap="gray", interpolation="nearest")
    if title:
        fig.suptitle(title, fontsize=9, y=1 - 0.04 / height)
    return fig


def stem_change_figure(
    initial: torch.Tensor, trained: torch.Tensor, channels: Sequence[int], whitened: int = 0,
    size: float = 0.55,
) -> Figure:
    """The stem's filters ``(h, c_in, p, p)`` where training started (top row) and where it ended
    (bottom row) for ``channels``, each filter on its own 0..1 range, titled with how far it
    moved (:func:`filter_movement`); at the right, that distance for every filter, the first
    ``whitened`` (whitening filters at the start) apart from the rest (random at the start)."""
    moved = filter_movement(initial, trained)
    if len(channels) == 0 or any(not 0 <= c < len(moved) for c in channels):
        raise ValueError(f"channels must be a non-empty list in 0..{len(moved) - 1}, got {list(channels)}")
    step = size * 1.15
    grid_width = step * len(channels) + 0.9
    width, height = grid_width + 3.6, max(2 * size + 1.5, 2.6)
    fig = new_figure(width, height)

    def box(x: float, y: float, w: float, h: float) -> tuple[float, float, float, float]:  # inches -> figure
        return (x / width, y / height, w / width, h / height)

    low = (height - 0.55 - (2 * size + 0.25)) / 2 + 0.1  # the two rows, centred under the title
    for col, channel in enumerate(channels):
        for row, filters in enumerate((initial, trained)):
            ax = fig.add_axes(box(0.9 + col * step, low + (1 - row) * (size + 0.25), size, size))
            ax.imshow(to_display(filters[channel].detach()), interpolation="nearest")
            hide_ticks(ax)
            if col == 0:
                ax.set_ylabel(("start", "trained")[row], fontsize=8, rotation=0, ha="right", va="center")
            if row == 0:
                ax.set_title(f"{channel}\n{moved[channel]:.2f}", fontsize=7)
    fig.text(0.85 / width, (low + 2 * size + 0.25 + 0.2) / height, "channel\nmoved", fontsize=7, ha="right",
             va="center")
    fig.text((0.9 + grid_width) / 2 / width, 1 - 0.2 / height, "stem filters, each on its own range", fontsize=9,
             ha="center", va="center")
    ax = fig.add_axes(box(grid_width + 0.85, 0.95, 2.6, height - 1.35))
    index = np.arange(len(moved))
    if whitened:
        ax.scatter(index[:whitened], moved[:whitened].numpy(), s=8, label="started as whitening filters")
    if whitened < len(moved):
        ax.scatter(index[whitened:], moved[whitened:].numpy(), s=8, marker="s", label="started random")
    ax.set_yscale("log")
    ax.yaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("stem channel", fontsize=8)
    ax.set_ylabel("‖W − W₀‖ / ‖W₀‖", fontsize=8)
    ax.set_title("how far every filter moved", fontsize=9)
    ax.tick_params(labelsize=7)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.25), ncol=2, frameon=False)
    return fig


def _kernel_grid(fig: Figure, kernels: Sequence[torch.Tensor], channels: Sequence[int], title: str) -> None:
    """Rows = layers, columns = ``channels``, on ``fig`` (a figure or a subfigure)."""
    axes = fig.subplots(len(kernels), len(channels), squeeze=False)
    for row, layer_kernels in enumerate(kernels):
        for col, channel in enumerate(channels):
            draw_kernel(axes[row, col], layer_kernels[channel])
        axes[row, 0].set_ylabel(f"block {row + 1}", fontsize=8, rotation=0, ha="right", va="center")
    for col, channel in enumerate(channels):
        axes[0, col].set_title(f"ch {channel}", fontsize=7)
    fig.suptitle(title, fontsize=10)


def _check_kernels(kernels: Sequence[torch.Tensor], channels: Sequence[int]) -> None:
    if len(kernels) == 0:
        raise ValueError("need the kernels of at least one layer")
    if len(channels) == 0:
        raise ValueError("need at least one channel to show")
    width = kernels[0].shape[0]
    if any(not 0 <= c < width for c in channels):
        raise ValueError(f"channels must lie in 0..{width - 1}, got {list(channels)}")


def draw_kernel_statistic(
    ax: Axes, values: Mapping[str, Sequence[torch.Tensor]], ylabel: str, floor: float | None = 0.0,
) -> None:
    """A per-kernel statistic against depth: median and 25-75 % band over the channels of every
    block, one line per model (``values[label][l]`` holds block ``l + 1``'s ``(h,)`` values).
    The legend names both: "label: median" and "label: middle 50 % of kernels"."""
    for label, per_layer in values.items():
        layers = np.arange(1, len(per_layer) + 1)
        stats = np.array([np.percentile(v.numpy(), [25, 50, 75]) for v in per_layer])
        (line,) = ax.plot(layers, stats[:, 1], marker="o", markersize=4, label=f"{label}: median")
        ax.fill_between(layers, stats[:, 0], stats[:, 2], color=line.get_color(), alpha=0.2,
                        label=f"{label}: middle 50 % of kernels")
    ax.set_ylabel(ylabel, fontsize=8)
    ax.set_xticks(np.arange(1, max(len(v) for v in values.values()) + 1))
    if floor is not None:
        ax.set_ylim(bottom=floor)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)


def kernel_comparison_figure(
    trained: Sequence[torch.Tensor], untrained: Sequence[torch.Tensor], channels: Sequence[int],
    size: float = 0.5, title: str | None = None, legend_below: bool = False,
    names: tuple[str, str] = ("trained", "untrained"),
) -> Figure:
    """Trained vs untrained depth-wise kernels (same channels, one row per block), and the
    spread and smoothness of all kernels of every block for both models; ``title`` goes above
    all three. ``legend_below``: the statistics' legend goes under the plots, off the data.
    ``names``: what to call the two models -- two trained models of different kernel sizes compare
    the same way (e.g. ``names=("k = 9", "k = 3")``; the second is then not called initial)."""
    _check_kernels(trained, channels)
    _check_kernels(untrained, channels)
    if len(trained) != len(untrained) or trained[0].shape[0] != untrained[0].shape[0]:
        raise ValueError("the two models must have the same depth and width (their k may differ)")
    grid_width = size * len(channels) + 0.6
    height = max(size * len(trained) + 0.7, 2.8)
    title_height = 0.35 if title else 0.0
    fig = new_figure(2 * grid_width + 4.4, height + title_height)
    body = fig
    if title:
        heading, body = fig.subfigures(2, 1, height_ratios=[title_height, height])
        heading.text(0.5, 0.4, title, ha="center", va="center", fontsize=10)
    left, middle, right = body.subfigures(1, 3, width_ratios=[grid_width, grid_width, 4.4])
    second = f"{names[1]} (initial)" if names[1] == "untrained" else names[1]
    for sub, kernels, name in ((left, trained, names[0]), (middle, untrained, second)):
        sub.subplots_adjust(left=0.16, right=0.98, bottom=0.02, top=0.86, wspace=0.06, hspace=0.06)
        _kernel_grid(sub, kernels, channels, name)
    # one colour bar for both grids, in the gap before the statistics
    kernel_scale_bar(right, right.add_axes((0.03, 0.3 if legend_below else 0.13, 0.025, 0.45)))
    reach, smooth = right.subplots(2, 1, sharex=True)
    right.subplots_adjust(left=0.34, right=0.97, bottom=0.3 if legend_below else 0.13, top=0.9, hspace=0.12)
    models = {names[0]: trained, names[1]: untrained}
    draw_kernel_statistic(reach, {m: [kernel_spread(k) for k in ks] for m, ks in models.items()},
                          "spread s (positions)")
    draw_kernel_statistic(smooth, {m: [kernel_smoothness(k) for k in ks] for m, ks in models.items()},
                          "smoothness c", floor=None)
    smooth.axhline(0, color="black", lw=0.6)
    smooth.set_xlabel("block")
    smooth.get_legend().remove()
    if legend_below:
        reach.get_legend().remove()
        centre = (0.5 - 0.34) / (0.97 - 0.34)  # the subfigure's centre, in the axes' coordinates
        smooth.legend(*reach.get_legend_handles_labels(), fontsize=7, loc="upper center",
                      bbox_to_anchor=(centre, -0.3), ncol=2, frameon=False)
    reach.set_title("every kernel of every block", fontsize=9)
    return fig


def draw_overlay(
    ax: Axes, image: torch.Tensor, patch_map: torch.Tensor, cmap: str = NORM_CMAP,
    symmetric: bool = False, alpha: float = OVERLAY_ALPHA, limit: float | None = None,
) -> AxesImage:
    """``image`` ``(C, H, W)`` with a per-patch map ``(H/p, W/p)`` laid over it, one coloured
    square per patch; returns the overlay (for a colour bar). ``symmetric``: colour scale
    centred on 0 (for signed attributions), from ``-limit`` to ``limit`` (default: the map's
    own largest magnitude)."""
    height, width = image.shape[1:]
    values = patch_map.detach().float().numpy()
    if symmetric:
        limit = (float(np.abs(values).max()) if limit is None else limit) or 1.0
        low, high = -limit, limit
    else:
        low, high = float(values.min()), float(values.max())
    ax.imshow(to_display(image), extent=(0, width, height, 0), cmap="gray")
    overlay = ax.imshow(values, extent=(0, width, height, 0), cmap=cmap, vmin=low, vmax=high,
                        alpha=alpha, interpolation="nearest")
    hide_ticks(ax)
    return overlay


def shared_limit(maps: Sequence[torch.Tensor]) -> float:
    """One symmetric colour limit for several signed maps: their largest magnitude."""
    return max((float(m.detach().abs().max()) for m in maps), default=0.0) or 1.0


def add_colour_bar(fig: Figure, overlay: AxesImage, label: str, width: float) -> None:
    """One colour bar for ``overlay``'s scale at the right edge of ``fig`` (``width`` inches
    wide figure), at full opacity."""
    bar = fig.add_axes((1 - (COLOUR_BAR_SPACE - 0.1) / width, 0.1, 0.12 / width, 0.68))
    colour_bar = fig.colorbar(overlay, cax=bar)
    colour_bar.solids.set_alpha(1.0)
    colour_bar.set_label(label, fontsize=7)
    bar.tick_params(labelsize=7)


def feature_maps_figure(
    maps: Sequence[torch.Tensor], channel: int | Sequence[int], names: Sequence[str] | None = None,
    size: float = 1.3, image: torch.Tensor | None = None, colour_bars: bool = False,
) -> Figure:
    """One channel of every feature map ``(h, H', W')``, side by side, each with its own colour
    scale (viridis: dark = low): the same ``channel`` everywhere, or one channel per map (a
    sequence; each title then names its channel). ``image`` ``(C, H, W)``: shown first, as the
    input the maps were computed from; ``colour_bars``: a small colour bar under every map."""
    if len(maps) == 0:
        raise ValueError("need at least one feature map")
    per_map = not isinstance(channel, int)
    channels = list(channel) if per_map else [channel] * len(maps)
    if len(channels) != len(maps):
        raise ValueError(f"need one channel per feature map: {len(maps)} maps, {len(channels)} channels")
    if any(not 0 <= c < maps[0].shape[0] for c in channels):
        raise ValueError(f"channel must be in 0..{maps[0].shape[0] - 1}, got {channel}")
    names = stage_names(len(maps) - 1) if names is None else names
    if per_map:
        names = [f"{name}: ch {c}" for name, c in zip(names, channels)]
    panels = len(maps) + (image is not None)
    bar_height = 0.45 if colour_bars else 0.0
    fig = new_figure(size * panels + 0.25, size + 0.3 + bar_height)
    fig.subplots_adjust(left=0.25 / (size * panels + 0.25), right=0.99,
                        bottom=0.02 + bar_height / (size + 0.3 + bar_height), top=0.84, wspace=0.12)
    axes = fig.subplots(1, panels, squeeze=False)[0]
    if image is not None:
        axes[0].imshow(to_display(image))
        axes[0].set_title("input image", fontsize=8)
        hide_ticks(axes[0])
        axes = axes[1:]
    for ax, feature_map, name, c in zip(axes, maps, names, channels):
        shown = ax.imshow(feature_map[c].float().numpy(), cmap="viridis", interpolation="nearest")
        ax.set_title(name, fontsize=8)
        hide_ticks(ax)
        if colour_bars:
            bar = fig.colorbar(shown, ax=ax, orientation="horizontal", fraction=0.08, pad=0.04)
            bar.ax.tick_params(labelsize=7)
            bar.locator = MaxNLocator(3)
            bar.update_ticks()
    if not per_map:
        axes[0].set_ylabel(f"channel {channel}", fontsize=8)
    return fig


def patch_overlays_figure(
    image: torch.Tensor, maps: Mapping[str, torch.Tensor], signed: Sequence[str] = (), size: float = 1.9,
    scale_label: str | None = None, colour_bars: bool = False,
) -> Figure:
    """The image once per ``{title: (H/p, W/p) map}``, the map laid over it; titles listed in
    ``signed`` get a colour scale centred on 0 (red = for, blue = against). With a
    ``scale_label``, the signed maps share one colour scale and one colour bar so that they
    compare directly; without one, each map has its own scale. ``colour_bars``: a small colour
    bar under every map that has its own scale."""
    if not maps:
        raise ValueError("need at least one per-patch map")
    shared = scale_label is not None and any(title in signed for title in maps)
    limit = shared_limit([m for title, m in maps.items() if title in signed]) if shared else None
    width = size * len(maps) + (COLOUR_BAR_SPACE if shared else 0.0)
    bar_height = 0.45 if colour_bars else 0.0
    fig = new_figure(width, size + 0.4 + bar_height)
    fig.subplots_adjust(left=0.01, right=1 - (COLOUR_BAR_SPACE if shared else 0.01 * width) / width,
                        bottom=0.02 + bar_height / (size + 0.4 + bar_height), top=0.84, wspace=0.12)
    for ax, (title, patch_map) in zip(fig.subplots(1, len(maps), squeeze=False)[0], maps.items()):
        is_signed = title in signed
        overlay = draw_overlay(ax, image, patch_map, KERNEL_CMAP if is_signed else NORM_CMAP, is_signed,
                               limit=limit if is_signed else None)
        ax.set_title(title, fontsize=8)
        if is_signed:
            signed_overlay = overlay
        if colour_bars and not (is_signed and shared):
            bar = fig.colorbar(overlay, ax=ax, orientation="horizontal", fraction=0.08, pad=0.04)
            bar.solids.set_alpha(1.0)
            bar.ax.tick_params(labelsize=7)
            bar.locator = MaxNLocator(3)
            bar.update_ticks()
    if shared:
        add_colour_bar(fig, signed_overlay, scale_label, width)
    return fig


def inspection_figure(
    image: torch.Tensor, inspection: Inspection, model: ConvMixer, layer: int, channel: int,
    classes: Sequence[str],
) -> Figure:
    """The widget's figure for stage ``layer`` (0 = stem) and ``channel``: the image, that
    channel's feature map, the patch norms and the gradient x activation over the image, and the
    filter that made the channel (the stem's colour filter for ``layer = 0``, else block
    ``layer``'s depth-wise kernel)."""
    depth = len(inspection.feature_maps) - 1
    if not 0 <= layer <= depth:
        raise ValueError(f"layer must be in 0..{depth} (0 = stem), got {layer}")
    feature_map = inspection.feature_maps[layer]
    if not 0 <= channel < feature_map.shape[0]:
        raise ValueError(f"channel must be in 0..{feature_map.shape[0] - 1}, got {channel}")
    name = stage_names(depth)[layer]
    fig = new_figure(10.5, 2.9)
    fig.subplots_adjust(left=0.005, right=0.995, bottom=0.16, top=0.82, wspace=0.12)
    axes = fig.subplots(1, 5)
    axes[0].imshow(to_display(image))
    axes[0].set_title(
        f"predicted: {classes[inspection.prediction]}\n"
        f"p = {float(inspection.probabilities[inspection.prediction]):.2f}", fontsize=9,
    )
    hide_ticks(axes[0])
    shown = [axes[1].imshow(feature_map[channel].float().numpy(), cmap="viridis", interpolation="nearest")]
    axes[1].set_title(f"{name}, channel {channel}\n{tuple(feature_map.shape)}", fontsize=9)
    hide_ticks(axes[1])
    shown.append(draw_overlay(axes[2], image, patch_norms(feature_map)))
    axes[2].set_title(f"{name}: patch norm\n‖z[:, i, j]‖ over all channels", fontsize=9)
    shown.append(draw_overlay(axes[3], image, inspection.attributions[layer], KERNEL_CMAP, symmetric=True))
    axes[3].set_title(
        f"{name}: grad × activation\nfor '{classes[inspection.target]}' (red = for)", fontsize=9
    )
    if layer == 0:
        axes[4].imshow(to_display(patch_embedding_filters(model)[channel]), interpolation="nearest")
        hide_ticks(axes[4])
        axes[4].set_title(f"stem filter, channel {channel}\n(colour, p × p)", fontsize=9)
    else:
        kernel = model.blocks[layer - 1].spatial.conv.weight.detach()[channel, 0]
        draw_kernel(axes[4], kernel)
        shown.append(axes[4].images[0])
        axes[4].set_title(f"block {layer} depth-wise kernel\nchannel {channel} (red > 0)", fontsize=9)
    # a colour bar under every panel whose colour carries a value (not the image, not an RGB filter)
    for ax, image_shown in zip(axes[1:], shown):
        box = ax.get_position()
        bar_axes = fig.add_axes((box.x0 + 0.1 * box.width, box.y0 - 0.09, 0.8 * box.width, 0.035))
        bar = fig.colorbar(image_shown, cax=bar_axes, orientation="horizontal")
        bar.ax.tick_params(labelsize=7, length=2)
        bar.locator = MaxNLocator(4)
        bar.update_ticks()
        bar.solids.set_alpha(1.0)
    return fig


def overlay_gallery_figure(
    images: Sequence[torch.Tensor], maps: Sequence[torch.Tensor], titles: Sequence[str],
    signed: bool = True, ncols: int = 6, size: float = 1.7, scale_label: str | None = None,
) -> Figure:
    """Several images, each with its own per-patch map laid over it (e.g. the CAM of its
    predicted class), ``ncols`` per row. With a ``scale_label``, signed maps share one colour
    scale and one colour bar; without one, each map has its own scale."""
    if not len(images) == len(maps) == len(titles) or len(images) == 0:
        raise ValueError(
            f"need as many maps and titles as images (>= 1), got {len(images)}, {len(maps)}, {len(titles)}"
        )
    shared = signed and scale_label is not None
    limit = shared_limit(maps) if shared else None
    nrows, ncols = grid_shape(len(images), ncols)
    width = size * ncols + (COLOUR_BAR_SPACE if shared else 0.0)
    fig = new_figure(width, (size + 0.35) * nrows)
    fig.subplots_adjust(left=0.01, right=1 - (COLOUR_BAR_SPACE if shared else 0.01 * width) / width, bottom=0.01,
                        top=0.93, wspace=0.06, hspace=0.3)
    for ax, image, patch_map, title in zip(grid_axes(fig, nrows, ncols), images, maps, titles):
        overlay = draw_overlay(ax, image, patch_map, KERNEL_CMAP if signed else NORM_CMAP, signed, limit=limit)
        ax.set_title(title, fontsize=7)
    if shared:
        add_colour_bar(fig, overlay, scale_label, width)
    return fig


def deletion_figure(results: Sequence[DeletionResult], grid: int, size: tuple[float, float] = (5.6, 3.4),
                    legend_outside: bool = False) -> Figure:
    """The patch-deletion check as a plot: mean probability of the predicted class against the
    number of masked patches (of ``grid``), top-CAM against random patches, with error bars of
    the 95 % interval of each mean over the images (1.96 standard errors: hundreds of images)."""
    if not results:
        raise ValueError("need at least one deletion result")
    first = results[0]
    unmasked = [] if any(r.count == 0 for r in results) else [(0, first.original, first.original_error)]
    fig = new_figure(*size, layout="constrained")
    ax = fig.subplots()
    for name, points in (
        ("top-CAM patches masked", [(r.count, r.top_masked, r.top_masked_error) for r in results]),
        ("random patches masked", [(r.count, r.random_masked, r.random_masked_error) for r in results]),
    ):
        counts, means, errors = zip(*sorted(unmasked + points))
        ax.errorbar(counts, means, yerr=[Z_975 * e for e in errors], marker="o", markersize=4, capsize=3,
                    label=name)
    ax.set_xlabel(f"patches masked (of {grid})", fontsize=8)
    ax.set_ylabel("p(predicted class)", fontsize=8)
    ax.set_ylim(0, 1)
    ax.grid(alpha=0.3)
    if legend_outside:  # right of the axes, off the data
        ax.legend(fontsize=7, title="error bars: 95 % intervals", title_fontsize=7, loc="upper left",
                  bbox_to_anchor=(1.02, 1.0), frameon=False)
    else:
        ax.legend(fontsize=7, title="error bars: 95 % intervals", title_fontsize=7)
    ax.tick_params(labelsize=7)
    return fig
