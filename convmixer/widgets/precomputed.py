"""Sliders that need no kernel: every position's figure is computed in advance.

A :class:`PrecomputedSlider` holds a list of frames -- a picture and an HTML caption each -- and
shows the one its slider points at. The switch happens in the browser alone: the slider's
``index`` is tied to a ``Stack``'s ``selected_index`` by :func:`ipywidgets.jslink`, a link the
widget front end keeps, not Python. With the widget state stored in the notebook
(``scripts/run_notebooks.py`` stores it), the slider therefore still works on a static page of the
executed notebook (``make site``), where no kernel runs.

Frames come from figures (:func:`figure_frame`) or from one of the notebook panels swept over one
of its controls (:meth:`PrecomputedSlider.from_panel`): the same figures and readouts the live
panel draws, so nothing is drawn twice by different code.

Conventions (the site's browser test relies on them): the whole panel has the CSS class
``cm-precomputed``, the slider ``cm-precomputed-<name>``, the ``Stack`` of frames
``cm-precomputed-frames``; each frame is a ``VBox`` of a ``cm-readout`` caption over a
``cm-figure`` image.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterable, Sequence

import ipywidgets as widgets
from matplotlib.figure import Figure

from convmixer.viz.images import render_figure
from convmixer.widgets.panel import FIGURE_DPI, Panel, figure_image, selection_slider

PANEL_CLASS = "cm-precomputed"
FRAMES_CLASS = "cm-precomputed-frames"  # the Stack (the front end draws only its shown frame)
NOTE = "precomputed: this slider works without a running notebook"
IMAGE_FORMATS = ("png", "jpeg")


@dataclass(frozen=True)
class Frame:
    """One position of a :class:`PrecomputedSlider`: the slider's ``label``, the picture's bytes
    in ``image_format`` (``"png"`` or ``"jpeg"``), and a ``caption`` in HTML shown above it."""

    label: str
    image: bytes
    image_format: str = "png"
    caption: str = ""

    def __post_init__(self) -> None:
        if self.image_format not in IMAGE_FORMATS:
            raise ValueError(f"image_format must be one of {IMAGE_FORMATS}, got {self.image_format!r}")
        if not self.image:
            raise ValueError(f"frame {self.label!r} has no picture")


def figure_frame(label: str, fig: Figure, caption: str = "", image_format: str = "png", dpi: int = FIGURE_DPI) -> Frame:
    """A :class:`Frame` showing ``fig`` rendered at ``dpi`` in ``image_format``."""
    if image_format not in IMAGE_FORMATS:  # checked before the (slow) rendering
        raise ValueError(f"image_format must be one of {IMAGE_FORMATS}, got {image_format!r}")
    return Frame(label, render_figure(fig, image_format, dpi), image_format, caption)


def sweep_panel(
    panel: Panel, control: str, values: Iterable[Any], label: Callable[[Any], str] = str,
    image_format: str | None = None,
) -> list[Frame]:
    """Set ``panel``'s control ``control`` (an attribute name, e.g. ``"kernel_size"``) to each of
    ``values`` in turn and keep what the panel then shows: its figure (the bytes it drew, or its
    last figure re-rendered when ``image_format`` differs from the panel's) and its readout. The
    control is left at the last value."""
    widget = getattr(panel, control, None)
    if not isinstance(widget, widgets.ValueWidget):
        raise ValueError(f"{type(panel).__name__} has no control named {control!r}")
    image_format = image_format or panel.figure.format
    frames = []
    for value in values:
        widget.value = value  # the panel redraws (Panel.redraw_on)
        if image_format == panel.figure.format:
            frames.append(Frame(label(value), bytes(panel.figure.value), image_format, panel.readout.value))
        else:
            frames.append(figure_frame(label(value), panel.drawn, panel.readout.value, image_format, panel.dpi))
    if not frames:
        raise ValueError("sweep_panel needs at least one value")
    return frames


def close_widgets(widget: widgets.Widget) -> None:
    """Close ``widget``, everything it contains, and their layouts and styles (front ends drop
    the models)."""
    for child in getattr(widget, "children", ()):
        close_widgets(child)
    for part in ("layout", "style"):
        if isinstance(getattr(widget, part, None), widgets.Widget):
            getattr(widget, part).close()
    widget.close()


class PrecomputedSlider:
    """A slider over the ``frames``' labels that shows the chosen frame's caption and picture,
    switched in the browser (no Python callback): it works wherever the widget state is saved,
    a static page included.

    ``name`` gives the slider's CSS class ``cm-precomputed-<name>``; ``value`` is the label shown
    first (default: the first frame's); ``width`` a CSS width for the pictures (default: their own
    size, shrunk to fit the page). ``self.panel`` is the widget; displaying the object displays it.
    """

    def __init__(
        self, name: str, description: str, frames: Sequence[Frame], value: str | None = None,
        width: str | None = None, note: str = NOTE,
    ) -> None:
        self.frames = list(frames)
        if not self.frames:
            raise ValueError("a PrecomputedSlider needs at least one frame")
        labels = [frame.label for frame in self.frames]
        if len(set(labels)) != len(labels):
            raise ValueError(f"frame labels must differ, got {labels}")
        value = labels[0] if value is None else value
        self.slider = selection_slider(f"precomputed-{name}", description, labels, value)
        self.slider.continuous_update = True  # a switch costs nothing: follow the drag
        self.pages = [self._page(frame, width) for frame in self.frames]
        self.stack = widgets.Stack(self.pages, selected_index=labels.index(value)).add_class(FRAMES_CLASS)
        self.link = widgets.jslink((self.slider, "index"), (self.stack, "selected_index"))
        self.note = widgets.HTML(f"<i>{note}</i>")
        self.panel = widgets.VBox([widgets.HBox([self.slider, self.note]), self.stack]).add_class(PANEL_CLASS)

    @staticmethod
    def _page(frame: Frame, width: str | None) -> widgets.VBox:
        caption = widgets.HTML(frame.caption).add_class("cm-readout")
        image = figure_image(frame.image_format, width)
        image.value = frame.image
        return widgets.VBox([caption, image])

    @property
    def labels(self) -> list[str]:
        return [frame.label for frame in self.frames]

    @classmethod
    def from_panel(
        cls, panel: Panel, control: str, values: Iterable[Any], *, value: Any = None,
        label: Callable[[Any], str] = str, name: str | None = None, description: str | None = None,
        image_format: str | None = None, width: str | None = None,
    ) -> PrecomputedSlider:
        """The slider over ``values`` of ``panel``'s control ``control``, each frame what the panel
        shows at that value (:func:`sweep_panel`), starting at ``value`` (default: the control's
        value when given, else the first). ``panel`` is used up: made for this and never
        displayed, its widgets are closed afterwards. ``name`` and ``description`` default to
        the control's attribute name (``_`` read as ``-``) and description."""
        widget = getattr(panel, control, None)
        if not isinstance(widget, widgets.ValueWidget):
            raise ValueError(f"{type(panel).__name__} has no control named {control!r}")
        start = widget.value if value is None else value
        values = list(values)
        frames = sweep_panel(panel, control, values, label, image_format)
        first = label(start) if start in values else None
        slider = cls(
            name or control.replace("_", "-"), description or widget.description, frames, first, width or _width(panel),
        )
        close_widgets(panel.panel)
        return slider

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.panel._repr_mimebundle_(**kwargs)


def _width(panel: Panel) -> str | None:
    """The CSS width the panel gives its figure, if it sets one."""
    return panel.figure.layout.width or None
