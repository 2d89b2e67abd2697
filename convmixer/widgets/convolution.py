"""Panels for notebooks 01 (depth-wise convolution) and 02 (point-wise and separable convolution),
built on :class:`convmixer.widgets.panel.Panel` (JPEG figures for photographs, PNG for plots).
Display a panel by making it a cell's value (or ``display(panel)``).
"""

from __future__ import annotations

import html
from typing import Sequence

import ipywidgets as widgets
import torch

from convmixer._util import check_positive_int
from convmixer.analysis.cost import CONV_KINDS, convolution_costs, count_parameters
from convmixer.filters import FILTER_NAMES, apply_filter, depthwise_filter, make_filters
from convmixer.layers import same_padding
from convmixer.viz.convolution import DEFAULT_WIDTHS, cost_ratio_figure, filter_figure
from convmixer.widgets.panel import Panel, dropdown, int_slider, selection_slider


def _kernel_size_slider(value: int, max_kernel_size: int) -> widgets.IntSlider:
    """The ``cm-kernel-size`` slider, ``1..max_kernel_size``."""
    return int_slider("kernel-size", "Kernel size k", value, 1, check_positive_int("max_kernel_size", max_kernel_size))


class DepthwiseFilterExplorer(Panel):
    """Kernel size ``k`` and a named filter, applied per channel to ``image`` by a
    ``DepthwiseConv2d``; shows the input, the kernels and the output, and states ``k``, the
    padding, the shapes and the parameter count (depth-wise vs a full convolution).

    The panel of notebook 01: a kernel-size slider (``cm-kernel-size``, odd and even ``k``) and a
    filter menu (``cm-filter``); ``image`` is ``(C, H, W)``."""

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
        self.filter = dropdown("filter", "Filter", list(FILTER_NAMES), filter_name)
        self.layout([[self.kernel_size, self.filter]], image_format="jpeg")
        self.filtered = torch.empty(0)
        self.redraw_on(self.kernel_size, self.filter)
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
        self.show(filter_figure(self.image, kernels, self.filtered, title=f"{name} k={k}"))


class SeparableCostExplorer(Panel):
    """Width ``h`` and kernel size ``k`` -> parameters and FLOPs of a full ``k x k`` convolution,
    a depth-wise one, a point-wise one and the separable pair on an ``H x W`` map, and a plot of
    the ratio full / separable against ``k`` and against ``h``.

    The panel of notebook 02: width (``cm-width``) and kernel size (``cm-kernel-size``) sliders;
    the cost table is in the ``cm-readout``."""

    def __init__(
        self, width: int = 256, kernel_size: int = 5, map_size: int = 16,
        widths: Sequence[int] = DEFAULT_WIDTHS, max_kernel_size: int = 15,
    ) -> None:
        self.map_size = check_positive_int("map_size", map_size)
        self.width = selection_slider("width", "Width h", widths, width)
        self.kernel_size = _kernel_size_slider(kernel_size, max_kernel_size)
        self.layout([[self.width, self.kernel_size]])
        self.costs = convolution_costs(width, kernel_size, map_size)
        self.redraw_on(self.width, self.kernel_size)
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
        self.show(cost_ratio_figure(h, k, self.kernel_size.max))
