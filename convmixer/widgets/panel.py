"""The parts every notebook panel is built from: controls, a readout, figures, and the base class
that lays them out.

Conventions (the browser test relies on them): every control has a ``description`` and the CSS
class ``cm-<name>``; the readout is an ``HTML`` widget with the class ``cm-readout``; a figure is
an ``Image`` widget with the class ``cm-figure`` whose bytes are replaced on every redraw, so the
picture does not flicker, keeps its place, and no pyplot figure is ever opened. Sliders redraw
when released (``continuous_update=False``): a redraw costs a forward pass and a render.
"""

from __future__ import annotations

from typing import Any, Sequence

import ipywidgets as widgets
from matplotlib.figure import Figure

from convmixer._util import check_int_in_range
from convmixer.viz.images import render_figure
from convmixer.viz.style import FIGURE_DPI as STYLE_DPI

# Figures are sized in inches (convmixer.viz.style) and drawn at the style's dpi, as in the notebooks'
# own figures, so that their text is readable at notebook width (100 dpi: a 9-inch figure is 900 px,
# shrunk by the browser only where the page is narrower).
FIGURE_DPI = STYLE_DPI
_STYLE = {"description_width": "initial"}  # show the whole description, however long


def int_slider(name: str, description: str, value: int, low: int, high: int) -> widgets.IntSlider:
    """The ``cm-<name>`` slider over ``low..high`` starting at ``value`` (checked first: a bad
    value is one clear ``ValueError`` naming ``name``, with ``-`` read as ``_``)."""
    check_int_in_range(name.replace("-", "_"), value, low, high)
    return widgets.IntSlider(
        value=value, min=low, max=high, description=description, continuous_update=False, style=_STYLE,
    ).add_class(f"cm-{name}")


def selection_slider(name: str, description: str, options: Sequence[Any], value: Any) -> widgets.SelectionSlider:
    """The ``cm-<name>`` slider over the listed ``options`` (e.g. widths), starting at ``value``."""
    if value not in options:
        raise ValueError(f"{name.replace('-', '_')} must be one of {tuple(options)}, got {value!r}")
    return widgets.SelectionSlider(
        options=list(options), value=value, description=description, continuous_update=False, style=_STYLE,
    ).add_class(f"cm-{name}")


def dropdown(name: str, description: str, options: Sequence[Any], value: Any = None) -> widgets.Dropdown:
    """The ``cm-<name>`` menu; ``options`` are values or ``(label, value)`` pairs; ``value``
    defaults to the first option."""
    control = widgets.Dropdown(options=options, description=description, style=_STYLE)
    if value is not None:
        control.value = value
    return control.add_class(f"cm-{name}")


def run_button(name: str, description: str, tooltip: str) -> widgets.Button:
    """The ``cm-<name>`` button that starts a long action (e.g. a training run)."""
    return widgets.Button(
        description=description, button_style="primary", icon="play", tooltip=tooltip,
    ).add_class(f"cm-{name}")


def figure_image(image_format: str = "png", width: str | None = None) -> widgets.Image:
    """A ``cm-figure`` image: ``width`` a CSS width such as ``"760px"``; by default the picture is
    shown at its own pixel size, shrunk only to fit the page."""
    # align_self: in a VBox (a column flexbox) a child is otherwise stretched to the panel's width
    layout = widgets.Layout(width=width) if width else widgets.Layout(max_width="100%", align_self="flex-start")
    return widgets.Image(format=image_format, layout=layout).add_class("cm-figure")


def draw_into(image: widgets.Image, fig: Figure, dpi: int = FIGURE_DPI) -> Figure:
    """Render ``fig`` into the ``image`` widget (in the widget's format: ``"jpeg"`` for
    photographs, ``"png"`` for plots); returns ``fig``."""
    image.value = render_figure(fig, image.format, dpi)
    return fig


class Panel:
    """Base of the notebook panels: rows of controls, the ``cm-readout`` and a ``cm-figure``
    image, stacked in ``self.panel``; displaying the object displays the panel.

    A subclass creates its controls, calls :meth:`layout` with them, and refreshes the readout
    (``self.readout.value``) and the figure (:meth:`show`) in its own ``update`` method, which
    :meth:`redraw_on` connects to the controls.
    ``self.drawn`` is the last ``Figure`` shown in ``self.figure`` (for tests and for readers
    who want to look at it at full size).
    """

    dpi: int = FIGURE_DPI

    def layout(
        self, rows: Sequence[Sequence[widgets.Widget]], image_format: str = "png", width: str | None = None,
        extra: Sequence[widgets.Widget] = (),
    ) -> None:
        """Make the readout and the figure and stack them under the ``rows`` of controls (then
        any ``extra`` widgets, e.g. a second figure)."""
        self.readout = widgets.HTML().add_class("cm-readout")
        self.figure = figure_image(image_format, width)
        self.drawn: Figure | None = None
        self.panel = widgets.VBox([*(widgets.HBox(list(row)) for row in rows), self.readout, self.figure, *extra])

    def redraw_on(self, *controls: widgets.Widget) -> None:
        """Call :meth:`update` whenever one of ``controls`` changes its value."""
        for control in controls:
            control.observe(self.update, names="value")

    def show(self, fig: Figure) -> None:
        """Show ``fig`` in the panel's figure and keep it as ``self.drawn``."""
        self.drawn = draw_into(self.figure, fig, self.dpi)

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.panel._repr_mimebundle_(**kwargs)
