"""Precomputed sliders: frames from figures or from a panel swept over a control, wired to a Stack
in the front end (jslink), so they work without a kernel (the site's browser test moves them)."""

import ipywidgets as widgets
import pytest
import torch
from matplotlib.figure import Figure

from convmixer.data.sample import photo
from convmixer.widgets.convolution import DepthwiseFilterExplorer
from convmixer.widgets.patches import PatchSizeExplorer
from convmixer.widgets.precomputed import (
    NOTE,
    PANEL_CLASS,
    Frame,
    PrecomputedSlider,
    close_widgets,
    figure_frame,
    sweep_panel,
)

PNG, JPEG = b"\x89PNG", b"\xff\xd8\xff"


def line_figure(slope: float) -> Figure:
    fig = Figure(figsize=(2, 1.5))
    fig.add_subplot().plot([0, 1], [0, slope])
    return fig


def frames(count: int = 3) -> list[Frame]:
    return [figure_frame(f"s{i}", line_figure(i), caption=f"<b>slope {i}</b>") for i in range(count)]


def test_figure_frame_renders_the_figure():
    png = figure_frame("a", line_figure(1))
    jpeg = figure_frame("b", line_figure(1), image_format="jpeg", dpi=50)
    assert png.image.startswith(PNG) and png.image_format == "png"
    assert jpeg.image.startswith(JPEG) and jpeg.image_format == "jpeg"
    with pytest.raises(ValueError, match="image_format must be one of"):
        figure_frame("c", line_figure(1), image_format="gif")
    with pytest.raises(ValueError, match="has no picture"):
        Frame("d", b"")


def test_slider_is_linked_to_the_stack_in_the_front_end():
    slider = PrecomputedSlider("slope", "Slope", frames(), value="s1")
    assert slider.labels == ["s0", "s1", "s2"]
    assert isinstance(slider.slider, widgets.SelectionSlider)
    assert slider.slider.value == "s1" and slider.slider.index == 1
    assert slider.stack.selected_index == 1
    # jslink: a Link widget the browser keeps (no Python callback), slider index -> shown child
    assert slider.link._model_name == "LinkModel"
    assert slider.link.source == (slider.slider, "index")
    assert slider.link.target == (slider.stack, "selected_index")
    assert slider.slider.continuous_update is True


def test_each_frame_is_a_caption_over_a_picture_and_the_conventions_hold():
    made = frames()
    slider = PrecomputedSlider("slope", "Slope", made)
    assert PANEL_CLASS in slider.panel._dom_classes
    assert "cm-precomputed-slope" in slider.slider._dom_classes
    assert "cm-precomputed-frames" in slider.stack._dom_classes
    assert slider.slider.description == "Slope"
    assert NOTE in slider.note.value
    assert len(slider.stack.children) == len(made)
    for page, frame in zip(slider.stack.children, made):
        caption, image = page.children
        assert "cm-readout" in caption._dom_classes and caption.value == frame.caption
        assert "cm-figure" in image._dom_classes
        assert bytes(image.value) == frame.image and image.format == "png"
    assert slider.stack.selected_index == 0  # the first frame by default
    assert "application/vnd.jupyter.widget-view+json" in slider._repr_mimebundle_()


def test_bad_frames_raise_clear_errors():
    with pytest.raises(ValueError, match="at least one frame"):
        PrecomputedSlider("x", "X", [])
    twice = [frames(1)[0], frames(1)[0]]
    with pytest.raises(ValueError, match="labels must differ"):
        PrecomputedSlider("x", "X", twice)
    with pytest.raises(ValueError, match="must be one of"):
        PrecomputedSlider("x", "X", frames(), value="nope")


@pytest.fixture(scope="module")
def image():
    return photo()[:, :96, :80]


def test_sweep_panel_keeps_what_the_panel_draws(image):
    panel = DepthwiseFilterExplorer(image, kernel_size=3)
    swept = sweep_panel(panel, "kernel_size", [1, 2, 5], label=lambda k: f"k = {k}")
    assert [f.label for f in swept] == ["k = 1", "k = 2", "k = 5"]
    assert all(f.image.startswith(JPEG) and f.image_format == "jpeg" for f in swept)  # the panel's own format
    assert len({f.image for f in swept}) == 3
    assert "kernel size k = 2: padding (top/left, bottom/right) = (0, 1)" in swept[1].caption
    assert swept[-1].image == bytes(panel.figure.value)  # the bytes the panel drew last
    assert panel.kernel_size.value == 5  # left at the last value


def test_sweep_panel_can_render_in_another_format(image):
    panel = PatchSizeExplorer(image, patch_size=8)
    swept = sweep_panel(panel, "patch_size", [4, 8], image_format="jpeg")
    assert all(f.image.startswith(JPEG) for f in swept)
    assert "p = 4" in swept[0].caption and "p = 8" in swept[1].caption
    with pytest.raises(ValueError, match="no control named 'size'"):
        sweep_panel(panel, "size", [1])
    with pytest.raises(ValueError, match="at least one value"):
        sweep_panel(panel, "patch_size", [])


def test_from_panel_starts_at_the_control_value_and_closes_the_panel(image):
    panel = DepthwiseFilterExplorer(image, kernel_size=5)
    slider = PrecomputedSlider.from_panel(panel, "kernel_size", range(1, 8))
    assert slider.labels == [str(k) for k in range(1, 8)]
    assert slider.slider.value == "5" and slider.stack.selected_index == 4
    assert slider.slider.description == panel.kernel_size.description
    assert "cm-precomputed-kernel-size" in slider.slider._dom_classes
    caption = slider.stack.children[4].children[0].value
    assert "kernel size k = 5" in caption
    # the swept panel is used up: its widgets are closed (no comm), the slider's are open
    assert panel.panel.comm is None and panel.kernel_size.comm is None and panel.figure.comm is None
    assert slider.panel.comm is not None


def test_from_panel_with_labels_outside_the_values_starts_at_the_first(image):
    panel = PatchSizeExplorer(image, patch_size=8)
    slider = PrecomputedSlider.from_panel(panel, "patch_size", [2, 4], label=lambda p: f"p = {p}", name="p")
    assert slider.slider.value == "p = 2"
    assert "cm-precomputed-p" in slider.slider._dom_classes


def test_close_widgets_closes_the_whole_tree():
    inner = widgets.IntSlider()
    box = widgets.VBox([widgets.HBox([inner]), widgets.HTML("x")])
    parts = [box, box.children[0], inner, inner.layout, inner.style, box.children[1]]
    close_widgets(box)
    assert all(part.comm is None for part in parts)


def test_frames_of_a_tensor_panel_differ_with_the_control(image):
    panel = DepthwiseFilterExplorer(image, kernel_size=3, filter_name="box")
    first, second = sweep_panel(panel, "kernel_size", [1, 9])
    assert first.image != second.image
    assert torch.is_tensor(panel.filtered)
