"""The model panel: every control changes the readout's numbers and the drawn feature maps."""

import pytest
import torch
from support import readout_text

from convmixer import ConvMixer, ConvMixerConfig
from convmixer._util import torch_threads
from convmixer.analysis.cost import convmixer_parameters, forward_flops
from convmixer.analysis.fields import receptive_field
from convmixer.data.sample import cifar10_sample
from convmixer.widgets.model import ModelExplorer, image_coverage
from convmixer.widgets.patches import standardize


@pytest.fixture(scope="module")
def image():
    return cifar10_sample().images[7]


def expected_numbers(panel):
    """Parameters, FLOPs (counted by torch.utils.flop_counter) and receptive field of the
    configuration the controls show, computed independently of the panel."""
    h, d = panel.width.value, panel.depth.value
    k, p = panel.kernel_size.value, panel.patch_size.value
    config = ConvMixerConfig(h, d, k, p)
    flops = forward_flops(ConvMixer(config), (1, 3, 32, 32))
    return convmixer_parameters(config), flops, receptive_field(k, p, d)


def assert_readout_states_the_numbers(panel):
    parameters, flops, rf = expected_numbers(panel)
    text = readout_text(panel)
    assert f"parameters {parameters:,} (closed form {parameters:,})" in text
    assert f"forward {flops:,} FLOPs" in text
    d = panel.depth.value
    assert f"receptive field after {d} block(s): {rf}×{rf} px vs image 32×32" in text


def mosaic(panel):
    return panel.drawn.axes[1].images[0].get_array()


def test_controls_follow_the_conventions(image):
    panel = ModelExplorer(image)
    controls = {
        "cm-depth": panel.depth,
        "cm-kernel-size": panel.kernel_size,
        "cm-width": panel.width,
        "cm-patch-size": panel.patch_size,
    }
    for name, control in controls.items():
        assert control.description
        assert name in control._dom_classes
        assert control.continuous_update is False
    assert "cm-readout" in panel.readout._dom_classes
    assert panel.patch_size.options == (1, 2, 4, 8)


@pytest.mark.parametrize(
    "control, value, tiles",
    [("depth", 7, (16, 8)), ("kernel_size", 4, (16, 5)), ("width", 256, (16, 5)),
     ("patch_size", 8, (4, 5))],
)
def test_each_control_changes_readout_and_drawing(image, control, value, tiles):
    panel = ModelExplorer(image, depth=4, kernel_size=5, dim=64, patch_size=2)
    assert_readout_states_the_numbers(panel)
    before_text, before_maps, before_png = panel.readout.value, mosaic(panel).copy(), bytes(panel.figure.value)
    getattr(panel, control).value = value
    assert panel.readout.value != before_text
    png = bytes(panel.figure.value)
    assert png.startswith(b"\x89PNG") and png != before_png
    assert_readout_states_the_numbers(panel)
    grid, stages = tiles  # grid side of each tile, number of stage columns
    assert mosaic(panel).shape == (3 * (grid + 1) - 1, stages * (grid + 1) - 1)
    if mosaic(panel).shape == before_maps.shape:
        assert not torch.equal(torch.as_tensor(mosaic(panel)), torch.as_tensor(before_maps))


def test_drawn_maps_are_the_seeded_models_feature_maps(image):
    panel = ModelExplorer(image, depth=2, kernel_size=3, dim=16, patch_size=4, seed=5)
    torch.manual_seed(5)
    model = ConvMixer(ConvMixerConfig(16, 2, 3, 4)).train()
    expected = model.feature_maps(standardize(image))
    assert len(panel.maps) == 3
    for got, want in zip(panel.maps, expected):
        torch.testing.assert_close(got, want)


def test_receptive_field_box_is_drawn_for_the_centre_position(image):
    panel = ModelExplorer(image, depth=1, kernel_size=3, dim=16, patch_size=4)
    box = panel.drawn.axes[0].patches[0]
    # centre position 4 of the 8x8 grid sees grid positions 3..5, i.e. pixels 12..23
    assert (box.get_y(), box.get_x(), box.get_width()) == (12, 12, 12)


def test_readout_says_how_much_of_the_image_one_position_sees():
    def coverage(d, k, p):
        return image_coverage(ConvMixerConfig(16, d, k, p))

    assert coverage(1, 3, 2) == "each position sees a 6×6 px window, 19% of the image side"
    assert coverage(4, 5, 2) == "the centre position sees the whole image, corner positions do not"
    assert coverage(8, 5, 2) == "every position sees the whole image"
    assert coverage(1, 4, 8).startswith("no position sees the whole image")


def test_bad_arguments_raise_clear_errors(image):
    with pytest.raises(ValueError, match="square image"):
        ModelExplorer(image[:, :16, :])
    with pytest.raises(ValueError, match=r"shaped \(C, H, W\)"):
        ModelExplorer(image[None])
    with pytest.raises(ValueError, match="depth must be an integer between 1 and 12, got 13"):
        ModelExplorer(image, depth=13)
    with pytest.raises(ValueError, match="kernel_size must be an integer between 1 and 9, got 10"):
        ModelExplorer(image, kernel_size=10)
    with pytest.raises(ValueError, match="kernel_size must be an integer between 1 and 9, got 0"):
        ModelExplorer(image, kernel_size=0)
    with pytest.raises(ValueError, match=r"dim must be one of the widths \(16, 32, 64, 128, 256\)"):
        ModelExplorer(image, dim=100)
    with pytest.raises(ValueError, match=r"divide the 32x32 image \(one of \(1, 2, 4, 8\)\)"):
        ModelExplorer(image, patch_size=3)


def test_forward_passes_run_on_one_thread_and_restore_the_count(image, monkeypatch):
    seen = []
    real = ConvMixer.feature_maps

    def spy(model, x):
        seen.append(torch.get_num_threads())
        return real(model, x)

    monkeypatch.setattr(ConvMixer, "feature_maps", spy)
    threads = torch.get_num_threads()
    with torch_threads(2):
        panel = ModelExplorer(image, depth=2, kernel_size=3, dim=16, patch_size=4)
        panel.depth.value = 3
        assert torch.get_num_threads() == 2
    assert seen == [1, 1]
    assert torch.get_num_threads() == threads
