"""Panels for notebooks 01 (depth-wise convolution) and 02 (point-wise and separable convolution).

Each panel is a small object holding its controls, its ``cm-readout`` HTML and an ``Image`` widget
(class ``cm-figure``) with the current figure (JPEG for photographs, PNG for plots). Redrawing
replaces the image bytes in place, so the picture does not flicker and keeps its size, and no
pyplot figure is ever opened (nothing to close, nothing leaks into later cells). Display a
panel by making it a cell's value (or ``display(panel)``).
"""

from __future__ import annotations

import html
from typing import Any, Sequence

import ipywidgets as widgets
import torch

from convmixer.analysis import CONV_KINDS, convolution_costs, count_parameters
from convmixer.filters import FILTER_NAMES, apply_filter, depthwise_filter, make_filters
from convmixer.layers import check_positive_int, same_padding
from convmixer.viz.convolution import (
    DEFAULT_WIDTHS,
    cost_ratio_figure,
    filter_figure,
    render_figure,
)

FIGURE_DPI = 72  # 9-inch figures -> 648 px wide images


def _kernel_size_slider(value: int, max_kernel_size: int) -> widgets.IntSlider:
    """The ``cm-kernel-size`` slider, 1..max; checks ``value`` first."""
    check_positive_int("max_kernel_size", max_kernel_size)
    if not 1 <= check_positive_int("kernel_size", value) <= max_kernel_size:
        raise ValueError(f"kernel_size must be between 1 and {max_kernel_size}, got {value}")
    return widgets.IntSlider(
        value=value, min=1, max=max_kernel_size, description="Kernel size k",
        continuous_update=False, style={"description_width": "initial"},
    ).add_class("cm-kernel-size")


def _figure_widget(image_format: str) -> widgets.Image:
    """The ``cm-figure`` image: drawn at its own pixel size, shrunk only to fit the page."""
    layout = widgets.Layout(max_width="100%")
    return widgets.Image(format=image_format, layout=layout).add_class("cm-figure")


class _Panel:
    """Shared plumbing: ``panel`` is the widget tree; displaying the object displays it."""

    panel: widgets.VBox

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.panel._repr_mimebundle_(**kwargs)


class DepthwiseFilterExplorer(_Panel):
    """Kernel size ``k`` and a named filter, applied per channel to ``image`` by a
    ``DepthwiseConv2d``; shows the input, the kernels and the output, and states ``k``, the
    padding, the shapes and the parameter count (depth-wise vs a full convolution)."""

    def __init__(
        self, image: torch.Tensor, kernel_size: int = 5, filter_name: str = "gaussian",
        max_kernel_size: int = 15, seed: int = 0,
    ) -> None:
        if image.dim() != 3:
            raise ValueError(f"expected an image shaped (C, H, W), got shape {tuple(image.shape)}")
        if filter_name not in FILTER_NAMES:
            raise ValueError(
                f"unknown filter {filter_name!r}; choose one of: {', '.join(FILTER_NAMES)}"
            )
        self.image = image
        self.seed = seed
        self.kernel_size = _kernel_size_slider(kernel_size, max_kernel_size)
        self.filter = widgets.Dropdown(
            options=list(FILTER_NAMES), value=filter_name, description="Filter",
        ).add_class("cm-filter")
        self.readout = widgets.HTML().add_class("cm-readout")
        self.figure = _figure_widget("jpeg")
        self.panel = widgets.VBox(
            [widgets.HBox([self.kernel_size, self.filter]), self.readout, self.figure]
        )
        self.filtered = torch.empty(0)
        self.kernel_size.observe(self.update, names="value")
        self.filter.observe(self.update, names="value")
        self.update()

    def update(self, change: object = None) -> None:
        """Filter the image with the current settings, then refresh readout and figure."""
        k, name = self.kernel_size.value, self.filter.value
        channels = self.image.shape[0]
        kernels = make_filters(name, k, channels, self.seed)
        self.filtered = apply_filter(self.image, kernels)
        before, after = same_padding(k)
        parameters = count_parameters(depthwise_filter(kernels))
        self.readout.value = (
            f"<b>{html.escape(name)}</b> filter, kernel size k = {k}: "
            f"padding (top/left, bottom/right) = ({before}, {after}); "
            f"input {tuple(self.image.shape)} &rarr; output {tuple(self.filtered.shape)}<br>"
            f"depth-wise parameters: {parameters:,} = {channels} &times; {k}&sup2; "
            f"(a full {channels} &rarr; {channels} convolution: {channels * channels * k * k:,})"
        )
        fig = filter_figure(self.image, kernels, self.filtered, title=f"{name} k={k}")
        self.figure.value = render_figure(fig, "jpeg", FIGURE_DPI)


def depthwise_filter_explorer(image: torch.Tensor, **kwargs: Any) -> DepthwiseFilterExplorer:
    """Panel for notebook 01: a kernel-size slider (``cm-kernel-size``, odd and even ``k``) and a
    filter menu (``cm-filter``) driving a depth-wise filter on ``image`` (``(C, H, W)``)."""
    return DepthwiseFilterExplorer(image, **kwargs)


class SeparableCostExplorer(_Panel):
    """Width ``h`` and kernel size ``k`` -> parameters and FLOPs of a full ``k x k`` convolution,
    a depth-wise one, a point-wise one and the separable pair on an ``H x W`` map, and a plot of
    the ratio full / separable against ``k`` and against ``h``."""

    def __init__(
        self, width: int = 256, kernel_size: int = 5, map_size: int = 16,
        widths: Sequence[int] = DEFAULT_WIDTHS, max_kernel_size: int = 15,
    ) -> None:
        self.map_size = check_positive_int("map_size", map_size)
        if width not in widths:
            raise ValueError(f"width must be one of {tuple(widths)}, got {width!r}")
        self.width = widgets.SelectionSlider(
            options=list(widths), value=width, description="Width h",
            continuous_update=False,
        ).add_class("cm-width")
        self.kernel_size = _kernel_size_slider(kernel_size, max_kernel_size)
        self.readout = widgets.HTML().add_class("cm-readout")
        self.figure = _figure_widget("png")
        self.panel = widgets.VBox(
            [widgets.HBox([self.width, self.kernel_size]), self.readout, self.figure]
        )
        self.costs = convolution_costs(width, kernel_size, map_size)
        self.width.observe(self.update, names="value")
        self.kernel_size.observe(self.update, names="value")
        self.update()

    def update(self, change: object = None) -> None:
        """Recompute the costs for the current ``h`` and ``k``; refresh table and plot."""
        h, k, size = self.width.value, self.kernel_size.value, self.map_size
        self.costs = convolution_costs(h, k, size)
        labels = {
            "full": f"full {k}&times;{k}",
            "depthwise": f"depth-wise {k}&times;{k}",
            "pointwise": "point-wise 1&times;1",
            "separable": "separable (depth-wise + point-wise)",
        }
        number = "<td style='text-align: right; padding-left: 1.5em'>"
        rows = "".join(
            f"<tr><td>{labels[kind]}</td>{number}{self.costs[kind].parameters:,}</td>"
            f"{number}{self.costs[kind].flops:,}</td></tr>"
            for kind in CONV_KINDS
        )
        full, separable = self.costs["full"], self.costs["separable"]
        self.readout.value = (
            f"<b>h = {h}, k = {k}</b>, on a {size}&times;{size} feature map (FLOPs per image)"
            f"<table><tr><th>convolution</th><th>parameters</th><th>FLOPs</th></tr>{rows}"
            f"<tr><td><b>full / separable</b></td>"
            f"{number}<b>{full.parameters / separable.parameters:.1f}&times;</b></td>"
            f"{number}<b>{full.flops / separable.flops:.1f}&times;</b></td></tr></table>"
        )
        fig = cost_ratio_figure(h, k, self.kernel_size.max)
        self.figure.value = render_figure(fig, "png", FIGURE_DPI)


def separable_cost_explorer(**kwargs: Any) -> SeparableCostExplorer:
    """Panel for notebook 02: width (``cm-width``) and kernel size (``cm-kernel-size``) sliders
    driving the cost table (in the ``cm-readout``) and the ratio plot full / separable."""
    return SeparableCostExplorer(**kwargs)
