"""Effective receptive fields as pictures: where in the image one grid position's output comes
from (see :mod:`convmixer.analysis.fields`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Mapping, Sequence

import torch
from matplotlib.colors import PowerNorm
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from convmixer.analysis.fields import centre_position
from convmixer.viz.model import RF_COLOR, receptive_box
from convmixer.viz.style import grid_shape, hide_ticks, new_figure

ERF_CMAP = "magma"
INPUT_TITLE = "input"
GAMMA = 0.5  # square-root colour scale: the faint tails stay visible next to a sharp peak

if TYPE_CHECKING:
    from convmixer.studies.erf import CellSummary

Box = tuple[int, int, int]  # (top, left, side) in pixels, as convmixer.viz.model.receptive_box


def erf_figure(
    erfs: Mapping[str, torch.Tensor | None],
    own_patch: Box,
    receptive_fields: Mapping[str, Box] | None = None,
    ncols: int | None = None,
    size: float = 1.8,
    missing: str = "not available",
    image: torch.Tensor | None = None,
) -> Figure:
    """One panel per ``{title: ERF map (H, W)}``, each map drawn as the *share* of its total per
    pixel on one square-root colour scale shared by all panels (one colour bar), so that panels
    compare directly. ``own_patch`` (white) outlines the position's own patch;
    ``receptive_fields[title]`` (yellow) the theoretical receptive field of that panel. A ``None``
    map draws an empty panel saying ``missing``. ``image`` (``(3, H, W)`` uint8 or floats in
    [0, 1]), if given, comes first, with the own patch outlined: the picture the maps are of."""
    if not erfs:
        raise ValueError("need at least one ERF map (or None) to draw")
    if image is not None:
        erfs = {INPUT_TITLE: None, **erfs}
    shares = {
        title: None if erf is None else (erf.detach().double() / erf.sum().clamp_min(1e-300)).float().numpy()
        for title, erf in erfs.items()
    }
    drawn = [s for s in shares.values() if s is not None]
    high = max((float(s.max()) for s in drawn), default=1.0) or 1.0
    norm = PowerNorm(GAMMA, vmin=0.0, vmax=high)
    nrows, ncols = grid_shape(len(erfs), ncols or len(erfs))
    fig = new_figure(size * ncols + 0.9, (size + 0.45) * nrows)
    fig.subplots_adjust(left=0.01, right=1 - 0.9 / (size * ncols + 0.9), bottom=0.03, top=0.86,
                        wspace=0.08, hspace=0.3)
    axes = list(fig.subplots(nrows, ncols, squeeze=False).flat)
    mapped = None  # the last map drawn: its scale is the colour bar's
    for ax, (title, share) in zip(axes, shares.items()):
        hide_ticks(ax)
        ax.set_title(title, fontsize=8)
        if image is not None and title == INPUT_TITLE:
            picture = image.float() / 255 if image.dtype == torch.uint8 else image.float()
            height, width = picture.shape[-2:]
            ax.imshow(picture.permute(1, 2, 0).clamp(0, 1).numpy(), extent=(0, width, height, 0),
                      interpolation="nearest")
            top, left, side = own_patch
            ax.add_patch(Rectangle((left, top), side, side, fill=False, ec="white", lw=1.2))
            continue
        if share is None:
            ax.text(0.5, 0.5, missing, ha="center", va="center", fontsize=8, wrap=True,
                    transform=ax.transAxes)
            continue
        height, width = share.shape
        mapped = ax.imshow(share, cmap=ERF_CMAP, norm=norm,
                          extent=(0, width, height, 0), interpolation="nearest")
        boxes = [(own_patch, "white")]
        if receptive_fields and title in receptive_fields:
            boxes.append((receptive_fields[title], RF_COLOR))
        for (top, left, side), colour in boxes:
            ax.add_patch(Rectangle((left, top), side, side, fill=False, ec=colour, lw=1.2))
        ax.set_xlim(0, width)
        ax.set_ylim(height, 0)
    for ax in axes[len(erfs):]:  # panels left over in the last row
        ax.axis("off")
    if mapped is not None:
        bar = fig.add_axes((1 - 0.75 / (size * ncols + 0.9), 0.12, 0.12 / (size * ncols + 0.9), 0.66))
        fig.colorbar(mapped, cax=bar).set_label("gradient share per pixel (√ scale)", fontsize=7)
        bar.tick_params(labelsize=7)
    return fig


def erf_study_figure(summaries: Sequence["CellSummary"], states: Sequence[str] = ("trained", "untrained"),
                     size: float = 1.8) -> Figure:
    """:func:`erf_figure` of the ERF study (:mod:`convmixer.studies.erf`): one row per state, one
    column per ``(k, d)``, each panel the mean map over seeds, titled e.g. ``k3 d2 trained``, with
    the theoretical receptive field ``p (1 + d (k - 1))`` of its ``(k, d)`` outlined. The cells must
    share the patch size and image size (one own-patch box)."""
    if not summaries:
        raise ValueError("need at least one (k, d) summary to draw")
    shapes = {(s.patch_size, *s.trained.map.shape) for s in summaries}
    if len(shapes) > 1:
        raise ValueError(f"the cells differ in patch size or image size ({sorted(shapes)}); draw them apart")
    ((p, height, width),) = shapes
    position = centre_position(height, width, p)
    erfs, boxes = {}, {}
    for state in states:
        for s in summaries:
            title = f"{s.label} {state}"
            erfs[title] = getattr(s, state).map
            boxes[title] = receptive_box(s.kernel_size, p, s.depth, *position)
    return erf_figure(erfs, receptive_box(1, p, 0, *position), boxes, ncols=len(summaries), size=size)
