"""The model panel with a trained model: it shows that model's feature maps and effective
receptive field exactly when the settings match it (or its first d blocks), says "untrained"
everywhere else, and its slider ranges always reach the trained settings."""

import pytest
import torch
from support import readout_text, tiny_model

from convmixer import ConvMixer, ConvMixerConfig
from convmixer.analysis.fields import effective_receptive_field, effective_side, own_patch_share
from convmixer.data.augment import prepare_images
from convmixer.data.sample import cifar10_sample
from convmixer.widgets import model as panel_module
from convmixer.widgets.model import ModelExplorer, matches_trained
from convmixer.widgets.patches import standardize


@pytest.fixture(scope="module")
def pictures():
    return cifar10_sample().images[:3]


def stand_in(dim=16, depth=3, kernel_size=3, patch_size=4, activation="gelu"):
    """A model with weights of its own, standing for the shipped checkpoint."""
    return tiny_model(123, depth, dim=dim, kernel_size=kernel_size, patch_size=patch_size,
                      activation=activation, varied_norms=True).eval()


def panel_for(pictures, trained, **settings):
    return ModelExplorer(pictures[0], trained=trained, trained_label="the stand-in",
                          erf_images=pictures, **settings)


def test_matching_settings_show_the_trained_model(pictures):
    trained = stand_in()
    panel = panel_for(pictures, trained, depth=3, kernel_size=3, dim=16, patch_size=4)
    assert panel.shows_trained
    assert "weights: trained — the stand-in" in readout_text(panel)
    x = prepare_images(pictures[:1])
    with torch.no_grad():
        expected = [trained.stem(x)]
        for block in trained.blocks:
            expected.append(block(expected[-1]))
    assert len(panel.maps) == 4
    for got, want in zip(panel.maps, expected):
        torch.testing.assert_close(got, want)
    erf = effective_receptive_field(trained, prepare_images(pictures))
    torch.testing.assert_close(panel.erfs["trained"], erf)
    assert bytes(panel.erf_view.value).startswith(b"\x89PNG")
    assert "trained: feature maps" in panel.drawn.axes[1].get_title()
    side, share = effective_side(erf, 4, (4, 4)), own_patch_share(erf, 4, (4, 4))
    assert f"trained: half within {side} px square, {share:.0%} on its own patch" in readout_text(panel)


def test_fewer_blocks_show_the_first_blocks_of_the_trained_model(pictures):
    trained = stand_in()
    panel = panel_for(pictures, trained, depth=2, kernel_size=3, dim=16, patch_size=4)
    assert "weights: trained — the first 2 of the 3 blocks of the stand-in" in readout_text(panel)
    torch.testing.assert_close(
        panel.erfs["trained"], effective_receptive_field(trained, prepare_images(pictures), blocks=2)
    )
    assert len(panel.maps) == 3


@pytest.mark.parametrize("control, value", [("depth", 4), ("kernel_size", 5), ("width", 32), ("patch_size", 2)])
def test_other_settings_say_untrained_and_show_a_seeded_model(pictures, control, value):
    trained = stand_in()
    panel = panel_for(pictures, trained, depth=3, kernel_size=3, dim=16, patch_size=4, seed=7)
    getattr(panel, control).value = value
    config = panel.config
    assert not panel.shows_trained and panel.erfs["trained"] is None
    assert ("weights: untrained (random, seed 7) — the stand-in is ConvMixer-16/3 with k = 3, p = 4: "
            "set h, k and p to those (d ≤ 3) to see it trained") in readout_text(panel)
    assert "untrained: feature maps" in panel.drawn.axes[1].get_title()
    torch.manual_seed(7)
    untrained = ConvMixer(config)
    erf = effective_receptive_field(untrained, prepare_images(pictures), blocks=config.depth)
    torch.testing.assert_close(panel.erfs["untrained"], erf)
    expected = untrained.train().feature_maps(standardize(pictures[0]))
    for got, want in zip(panel.maps, expected):
        torch.testing.assert_close(got, want)


def test_new_settings_keep_the_trained_models_other_fields(pictures):
    trained = stand_in(activation="relu")
    panel = panel_for(pictures, trained, depth=3, kernel_size=3, dim=16, patch_size=4)
    panel.kernel_size.value = 5
    assert panel.config.activation == "relu" and panel.model.config.activation == "relu"
    panel.kernel_size.value = 3
    assert panel.shows_trained


def test_slider_ranges_reach_the_trained_settings(pictures):
    trained = stand_in(dim=48, depth=14, kernel_size=11, patch_size=16)
    panel = panel_for(pictures, trained, depth=14, kernel_size=11, dim=48, patch_size=16)
    assert panel.depth.max == 14 and panel.kernel_size.max == 11
    assert 48 in panel.width.options and 16 in panel.patch_size.options
    assert panel.shows_trained


def test_matches_trained_compares_every_field_but_a_shorter_depth():
    trained = ConvMixerConfig(128, 8, 5, 4)
    assert matches_trained(ConvMixerConfig(128, 8, 5, 4), trained)
    assert matches_trained(ConvMixerConfig(128, 1, 5, 4), trained)
    assert not matches_trained(ConvMixerConfig(128, 9, 5, 4), trained)
    assert not matches_trained(ConvMixerConfig(128, 8, 5, 4, activation="relu"), trained)
    assert not matches_trained(ConvMixerConfig(128, 8, 5, 4), None)


def test_expensive_settings_average_the_erf_over_fewer_images(pictures, monkeypatch):
    panel = panel_for(pictures, None, depth=2, kernel_size=3, dim=16, patch_size=4)
    assert panel.erf_image_count == 3 and "(3 images)" in readout_text(panel)
    assert "weights: untrained (random, seed 0)" in readout_text(panel) and list(panel.erfs) == ["untrained"]
    monkeypatch.setattr(panel_module, "ERF_FLOP_BUDGET", 1.0)
    panel.depth.value = 3
    assert panel.erf_image_count == 1 and "(1 image)" in readout_text(panel)


def test_bad_erf_images_and_a_foreign_trained_model_raise(pictures):
    with pytest.raises(ValueError, match=r"erf_images must be uint8 images shaped \(B, 3, 32, 32\)"):
        ModelExplorer(pictures[0], erf_images=pictures.float())
    with pytest.raises(ValueError, match="the trained model takes 1-channel images"):
        ModelExplorer(pictures[0], trained=ConvMixer(ConvMixerConfig(16, 2, 3, 4, in_channels=1)))
