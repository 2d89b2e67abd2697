"""The patch-size panel: every control changes the readout's numbers and the drawing."""

import pytest
import torch
from support import readout_text

from convmixer import PatchEmbedding
from convmixer.data.sample import cifar10_sample, photo
from convmixer.patches import num_tokens
from convmixer.widgets.patches import PatchSizeExplorer, standardize


@pytest.fixture(scope="module")
def images():
    return {"car": cifar10_sample().images[0], "photo": photo()[:, :64, :48]}


def channel_arrays(panel):
    return [ax.images[0].get_array() for ax in panel.drawn.axes[1:] if ax.images]


def test_controls_follow_the_conventions(images):
    panel = PatchSizeExplorer(images)
    for control, name in ((panel.patch_size, "cm-patch-size"), (panel.image, "cm-image")):
        assert control.description
        assert name in control._dom_classes
    assert "cm-readout" in panel.readout._dom_classes
    assert panel.patch_size.continuous_update is False
    assert panel.patch_size.max == 32  # capped by max_patch_size, not by the 32x32 image alone


def test_patch_size_changes_readout_and_drawing(images):
    panel = PatchSizeExplorer(images["car"], patch_size=4, dim=12, channels=(0, 11))
    assert "N = 64 tokens" in readout_text(panel)
    assert "ViT sequence (1, 64, 12) · ConvMixer grid (1, 12, 8, 8)" in readout_text(panel)
    assert "3·4² = 48 numbers" in readout_text(panel)
    assert [a.shape for a in channel_arrays(panel)] == [(8, 8), (8, 8)]
    shown = bytes(panel.figure.value)
    assert shown.startswith(b"\x89PNG")
    panel.patch_size.value = 2
    assert bytes(panel.figure.value) != shown
    assert f"N = {num_tokens(32, 32, 2)} tokens" in readout_text(panel)
    assert "ConvMixer grid (1, 12, 16, 16)" in readout_text(panel)
    assert [a.shape for a in channel_arrays(panel)] == [(16, 16), (16, 16)]


def test_drawn_channels_are_the_seeded_stem_convolution(images):
    panel = PatchSizeExplorer(images["car"], patch_size=8, dim=6, channels=(0, 3), seed=3)
    torch.manual_seed(3)
    conv = PatchEmbedding(3, 6, 8).conv
    with torch.no_grad():
        expected = conv(standardize(images["car"]))[0]
    drawn = channel_arrays(panel)
    torch.testing.assert_close(torch.as_tensor(drawn[0]), expected[0])
    torch.testing.assert_close(torch.as_tensor(drawn[1]), expected[3])


def test_patch_size_that_does_not_tile_is_explained(images):
    panel = PatchSizeExplorer(images["car"])
    panel.patch_size.value = 7
    text = readout_text(panel)
    assert "p = 7 does not divide the 32×32 image: 4 row(s) and 4 column(s)" in text
    assert "ValueError" in text
    assert channel_arrays(panel) == []
    assert "does not tile" in panel.drawn.texts[0].get_text()


def test_image_menu_switches_the_image(images):
    panel = PatchSizeExplorer(images, patch_size=8)
    assert "32×32 image → grid 4×4" in readout_text(panel)
    panel.image.value = "photo"
    assert "64×48 image → grid 8×6 · sequence length N = 48 tokens" in readout_text(panel)
    assert channel_arrays(panel)[0].shape == (8, 6)


def test_bad_arguments_raise_clear_errors(images):
    with pytest.raises(ValueError, match=r"shaped \(C, H, W\)"):
        PatchSizeExplorer(images["car"][None])
    with pytest.raises(ValueError, match="at least one image"):
        PatchSizeExplorer({})
    with pytest.raises(ValueError, match="between 1 and 32"):
        PatchSizeExplorer(images["car"], patch_size=33)
    with pytest.raises(ValueError, match=r"channels \(0, 16\) must lie in 0..15"):
        PatchSizeExplorer(images["car"], dim=16, channels=(0, 16))
    with pytest.raises(ValueError, match="dim must be an integer >= 1"):
        PatchSizeExplorer(images["car"], dim=0)


def test_standardize_gives_zero_mean_unit_std():
    x = standardize(cifar10_sample().images[1])
    assert x.shape == (1, 3, 32, 32)
    torch.testing.assert_close(x.mean(dim=(2, 3)), torch.zeros(1, 3), atol=1e-5, rtol=0)
    torch.testing.assert_close(x.std(dim=(2, 3)), torch.ones(1, 3))
