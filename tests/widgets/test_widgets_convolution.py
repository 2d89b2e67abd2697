"""The panels of notebooks 01 and 02: move a control, check the readout's numbers and the figure."""

import re

import pytest
import torch
from support import panel_controls

from convmixer.analysis.cost import convolution_costs
from convmixer.data.sample import photo
from convmixer.filters import filter_image
from convmixer.widgets.convolution import (
    DepthwiseFilterExplorer,
    SeparableCostExplorer,
)


@pytest.fixture(scope="module")
def image() -> torch.Tensor:
    """A real photograph, shrunk to keep the test quick: (3, 150, 128) uint8."""
    return photo()[:, ::4, ::4].contiguous()


def test_filter_explorer_follows_the_conventions(image):
    explorer = DepthwiseFilterExplorer(image)
    found = panel_controls(explorer)
    assert set(found) == {"cm-kernel-size", "cm-filter"}
    assert all(w.description for w in found.values())
    assert "cm-readout" in explorer.readout._dom_classes
    assert "cm-figure" in explorer.figure._dom_classes
    assert explorer.kernel_size.continuous_update is False
    assert explorer.readout in explorer.panel.children
    assert "application/vnd.jupyter.widget-view+json" in explorer._repr_mimebundle_()


def test_filter_explorer_kernel_size_changes_readout_and_picture(image):
    explorer = DepthwiseFilterExplorer(image, kernel_size=5, filter_name="gaussian")
    assert "kernel size k = 5" in explorer.readout.value
    assert "(2, 2)" in explorer.readout.value
    assert "75 = 3 &times; 5&sup2;" in explorer.readout.value
    picture, output = explorer.figure.value, explorer.filtered.clone()

    explorer.kernel_size.value = 4  # even: asymmetric padding, same output size
    readout = explorer.readout.value
    assert "kernel size k = 4" in readout
    assert "padding (top/left, bottom/right) = (1, 2)" in readout
    assert "input (3, 150, 128) &rarr; output (3, 150, 128)" in readout
    assert "depth-wise parameters: 48 = 3 &times; 4&sup2;" in readout
    assert "full 3 &rarr; 3 convolution: 144" in readout
    assert explorer.filtered.shape == image.shape
    torch.testing.assert_close(explorer.filtered, filter_image(image, "gaussian", 4))
    assert not torch.equal(explorer.filtered, output)
    assert explorer.figure.value != picture
    assert explorer.figure.value[:2] == b"\xff\xd8"  # a JPEG


def test_filter_explorer_filter_choice_changes_output(image):
    explorer = DepthwiseFilterExplorer(image, kernel_size=3, filter_name="box")
    blurred, picture = explorer.filtered.clone(), explorer.figure.value
    explorer.filter.value = "edge"
    assert explorer.readout.value.startswith("<b>edge</b> filter")
    torch.testing.assert_close(explorer.filtered, filter_image(image, "edge", 3))
    assert not torch.allclose(explorer.filtered, blurred)
    assert explorer.figure.value != picture
    explorer.kernel_size.value = 15
    assert "675 = 3 &times; 15&sup2;" in explorer.readout.value


def test_filter_explorer_rejects_bad_input(image):
    with pytest.raises(ValueError, match=r"expected an image shaped \(C, H, W\)"):
        DepthwiseFilterExplorer(image[0])
    with pytest.raises(ValueError, match="kernel_size must be an integer between 1 and 15"):
        DepthwiseFilterExplorer(image, kernel_size=16)
    with pytest.raises(ValueError, match="unknown filter 'sharpen'"):
        DepthwiseFilterExplorer(image, filter_name="sharpen")


def readout_numbers(html: str) -> dict[str, list[str]]:
    """Table rows of the cost readout: first cell -> the other cells."""
    rows = re.findall(r"<tr><td>(?:<b>)?(.*?)(?:</b>)?</td>(.*?)</tr>", html)
    cell = r"<td[^>]*>(?:<b>)?(.*?)(?:</b>)?</td>"
    return {label: re.findall(cell, rest) for label, rest in rows}


def test_cost_explorer_follows_the_conventions():
    explorer = SeparableCostExplorer()
    found = panel_controls(explorer)
    assert set(found) == {"cm-width", "cm-kernel-size"}
    assert all(w.description for w in found.values())
    assert all(w.continuous_update is False for w in found.values())
    assert "cm-readout" in explorer.readout._dom_classes


def test_cost_explorer_width_and_kernel_change_the_table_and_plot():
    explorer = SeparableCostExplorer(width=256, kernel_size=5, map_size=16)
    rows = readout_numbers(explorer.readout.value)
    assert rows["full 5&times;5"] == ["1,638,656", "838,860,800"]
    picture = explorer.figure.value

    explorer.width.value = 512
    costs = convolution_costs(512, 5, 16)
    rows = readout_numbers(explorer.readout.value)
    assert "h = 512, k = 5" in explorer.readout.value
    assert rows["full 5&times;5"] == [f"{costs['full'].parameters:,}", f"{costs['full'].flops:,}"]
    assert rows["separable (depth-wise + point-wise)"] == [
        f"{costs['separable'].parameters:,}",
        f"{costs['separable'].flops:,}",
    ]
    assert rows["full / separable"][1] == f"{512 * 25 / (512 + 25):.1f}&times;"
    assert explorer.figure.value != picture
    picture = explorer.figure.value

    explorer.kernel_size.value = 8
    rows = readout_numbers(explorer.readout.value)
    assert rows["depth-wise 8&times;8"] == ["33,280", f"{2 * 512 * 64 * 256:,}"]
    assert rows["full / separable"][1] == f"{512 * 64 / (512 + 64):.1f}&times;"
    assert explorer.figure.value != picture
    assert explorer.figure.value[:4] == b"\x89PNG"


def test_cost_explorer_rejects_bad_input():
    with pytest.raises(ValueError, match="width must be one of"):
        SeparableCostExplorer(width=100)
    with pytest.raises(ValueError, match="map_size must be an integer >= 1"):
        SeparableCostExplorer(map_size=0)
    with pytest.raises(ValueError, match="kernel_size must be an integer between 1 and 15"):
        SeparableCostExplorer(kernel_size=16)
