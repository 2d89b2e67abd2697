"""Activation functions as pictures: the non-linearity ``sigma`` of ConvMixer (GELU in the paper)
against ReLU, each next to its derivative, which autograd computes.

.. math::

    \\mathrm{ReLU}(x) = \\max(0, x), \\qquad \\mathrm{GELU}(x) = x\\,\\Phi(x),

with ``Phi`` the standard normal distribution function. GELU's derivative
``Phi(x) + x phi(x)`` is smooth and slightly negative for ``x`` below about -0.75, where ReLU's
is a step from 0 to 1.
"""

from __future__ import annotations

from typing import Callable, Mapping

import torch
import torch.nn.functional as F
from matplotlib.figure import Figure

from convmixer.viz.style import new_figure

Activation = Callable[[torch.Tensor], torch.Tensor]
ACTIVATIONS: dict[str, Activation] = {"GELU": F.gelu, "ReLU": F.relu}


def value_and_slope(function: Activation, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``function(x)`` and its derivative at every point of ``x``, by autograd (an element-wise
    function's derivative is the gradient of the sum of its outputs)."""
    x = x.detach().float().requires_grad_(True)
    with torch.enable_grad():
        y = function(x)
        (slope,) = torch.autograd.grad(y.sum(), x)
    return y.detach(), slope


def activation_figure(
    functions: Mapping[str, Activation] = ACTIVATIONS, low: float = -4.0, high: float = 4.0,
    points: int = 801,
) -> Figure:
    """Two panels on ``[low, high]``: every function, then its derivative (autograd); one legend,
    under the panels (off the data)."""
    if not low < high or points < 2:
        raise ValueError(f"need low < high and at least 2 points, got [{low}, {high}] with {points}")
    x = torch.linspace(low, high, points)
    fig = new_figure(8.0, 3.1, layout="constrained")
    values, slopes = fig.subplots(1, 2)
    for name, function in functions.items():
        y, slope = value_and_slope(function, x)
        values.plot(x.numpy(), y.numpy(), label=name)
        slopes.plot(x.numpy(), slope.numpy(), label=name)
    for ax, title in ((values, "σ(x)"), (slopes, "σ′(x), by autograd")):
        ax.axhline(0, color="black", lw=0.6)
        ax.axvline(0, color="black", lw=0.6)
        ax.grid(alpha=0.3)
        ax.set_xlabel("x")
        ax.set_title(title, fontsize=10)
    fig.legend(*values.get_legend_handles_labels(), loc="outside lower center", ncol=len(functions),
               fontsize=9, frameon=False)
    return fig
