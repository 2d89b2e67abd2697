"""One figure style for every ``convmixer.viz`` module.

Every figure is a plain ``matplotlib.figure.Figure`` made by :func:`new_figure`, never a pyplot
figure: it needs no backend, holds no global state and never has to be closed, so widget
callbacks can draw as often as they like and nothing leaks into later notebook cells. A notebook
shows one by making it a cell's value (with ``%matplotlib inline``) or through
:func:`convmixer.viz.images.render_figure`.
"""

from __future__ import annotations

from matplotlib.axes import Axes
from matplotlib.figure import Figure

from convmixer._util import check_positive_int

FIGURE_DPI = 100  # sizes are given in inches; 100 dpi: 1 inch = 100 px on screen


def new_figure(width: float, height: float, *, layout: str | None = None) -> Figure:
    """An empty ``width x height``-inch figure at :data:`FIGURE_DPI`. ``layout="constrained"``
    spaces the panels automatically; ``None`` (fixed margins, set by the caller with
    ``subplots_adjust``) is faster to redraw, which matters for figures a widget redraws."""
    return Figure(figsize=(width, height), dpi=FIGURE_DPI, layout=layout)


def grid_shape(count: int, ncols: int) -> tuple[int, int]:
    """Rows and columns of a grid for ``count`` panels, at most ``ncols`` per row."""
    check_positive_int("count", count)
    ncols = min(check_positive_int("ncols", ncols), count)
    return -(-count // ncols), ncols


def grid_axes(fig: Figure, nrows: int, ncols: int) -> list[Axes]:
    """An ``nrows x ncols`` grid of axes on ``fig``, row by row, every one with its axis hidden
    (for pictures; a grid cell left without a picture stays blank)."""
    axes = list(fig.subplots(nrows, ncols, squeeze=False).flat)
    for ax in axes:
        ax.axis("off")
    return axes


def hide_ticks(ax: Axes, frame: bool = True) -> None:
    """No ticks on ``ax`` (and no frame unless ``frame``), but keep its axis labels (e.g. a row's
    name), which ``ax.axis("off")`` would hide too."""
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(frame)
