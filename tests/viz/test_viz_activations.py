"""GELU and ReLU with their derivatives: autograd's slopes against the closed forms."""

import math

import pytest
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg

from convmixer.viz.activations import ACTIVATIONS, activation_figure, value_and_slope


def normal_cdf(x):
    return 0.5 * (1 + torch.erf(x / math.sqrt(2)))


def test_gelu_slope_is_phi_plus_x_times_the_density():
    x = torch.linspace(-5, 5, 201)
    y, slope = value_and_slope(ACTIVATIONS["GELU"], x)
    density = torch.exp(-x**2 / 2) / math.sqrt(2 * math.pi)
    torch.testing.assert_close(y, x * normal_cdf(x))
    torch.testing.assert_close(slope, normal_cdf(x) + x * density)
    assert slope.min() < 0  # GELU dips below zero to the left of the origin


def test_relu_slope_is_a_step():
    x = torch.tensor([-2.0, -0.5, 0.0, 0.5, 3.0])
    y, slope = value_and_slope(ACTIVATIONS["ReLU"], x)
    assert y.tolist() == [0.0, 0.0, 0.0, 0.5, 3.0]
    assert slope.tolist() == [0.0, 0.0, 0.0, 1.0, 1.0]


def test_figure_draws_each_function_and_its_slope():
    fig = activation_figure(low=-3, high=3, points=61)
    values, slopes = fig.axes
    (legend,) = fig.legends  # one legend, under the panels (off the data)
    assert [t.get_text() for t in legend.get_texts()] == ["GELU", "ReLU"]
    renderer = FigureCanvasAgg(fig).get_renderer()
    fig.draw(renderer)  # lay the figure out, as when it is shown
    assert legend.get_window_extent(renderer).y1 <= min(ax.get_tightbbox(renderer).y0 for ax in fig.axes) + 1
    assert [line.get_label() for line in values.get_lines() if not line.get_label().startswith("_")] == ["GELU", "ReLU"]
    gelu_slope = slopes.get_lines()[0].get_ydata()
    x = torch.linspace(-3, 3, 61)
    torch.testing.assert_close(torch.as_tensor(gelu_slope), value_and_slope(ACTIVATIONS["GELU"], x)[1])
    with pytest.raises(ValueError, match="need low < high"):
        activation_figure(low=1, high=1)
