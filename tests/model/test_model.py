"""The whole network: shapes, named configs, parameter counts, errors."""

import dataclasses

import pytest
import torch

from convmixer import CONFIGS, ConvMixer, ConvMixerConfig, create_model, get_config
from convmixer.analysis.cost import convmixer_parameters, count_parameters


@pytest.mark.parametrize(
    "kernel_size, patch_size, image_size",
    [(3, 1, 8), (4, 2, 16), (5, 2, 32), (6, 4, 32), (9, 7, 28), (2, 3, 12)],
)
def test_output_and_feature_shapes(kernel_size, patch_size, image_size):
    config = ConvMixerConfig(16, 3, kernel_size, patch_size, num_classes=7, image_size=image_size)
    model = ConvMixer(config)
    x = torch.randn(2, 3, image_size, image_size)
    assert model(x).shape == (2, 7)
    grid = image_size // patch_size
    maps = model.feature_maps(x)
    assert len(maps) == 1 + 3
    assert all(m.shape == (2, 16, grid, grid) for m in maps)


def test_non_square_images():
    model = ConvMixer(ConvMixerConfig(dim=8, depth=1, kernel_size=4, patch_size=2))
    assert model.forward_features(torch.randn(1, 3, 16, 24)).shape == (1, 8, 8, 12)


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_parameter_count_matches_closed_form(name):
    config = CONFIGS[name]
    if config.dim > 512:  # the ImageNet models are large: check their formula on a slim copy
        config = dataclasses.replace(config, dim=64)
    assert count_parameters(ConvMixer(config)) == convmixer_parameters(config)


def test_paper_parameter_counts():
    # Table 1 of the paper: ConvMixer-1536/20 has 51.6M parameters, ConvMixer-768/32 21.1M.
    assert round(convmixer_parameters(get_config("convmixer_1536_20")) / 1e6, 1) == 51.6
    assert round(convmixer_parameters(get_config("convmixer_768_32")) / 1e6, 1) == 21.1


def test_create_model_applies_overrides_and_round_trips_config():
    model = create_model("convmixer_256_8", kernel_size=9, depth=2)
    config = model.config
    assert config == dataclasses.replace(get_config("convmixer_256_8"), kernel_size=9, depth=2)
    rebuilt = ConvMixer(config)
    assert rebuilt.state_dict().keys() == model.state_dict().keys()


def test_model_keeps_the_config_it_was_built_from():
    config = dataclasses.replace(get_config("convmixer_768_32"), dim=16, depth=2)
    model = ConvMixer(config)
    assert model.config == config  # image size 224 and ReLU included
    assert model.config is config
    with pytest.raises(dataclasses.FrozenInstanceError):
        model.config.depth = 3  # frozen: what the network was built from stays true


@pytest.mark.parametrize("activation, layer", [("gelu", torch.nn.GELU), ("relu", torch.nn.ReLU)])
def test_activation_is_used_after_every_convolution(activation, layer):
    model = create_model("convmixer_128_4", depth=2, activation=activation)
    used = [type(m) for m in model.modules() if isinstance(m, (torch.nn.GELU, torch.nn.ReLU))]
    assert used == [layer] * (1 + 2 * 2)  # stem, then depth-wise and point-wise of each block


def test_released_768_32_uses_relu_and_the_paper_models_gelu():
    assert get_config("convmixer_768_32").activation == "relu"
    assert {name: c.activation for name, c in CONFIGS.items() if name != "convmixer_768_32"} == {
        name: "gelu" for name in CONFIGS if name != "convmixer_768_32"
    }


def test_unknown_activation_is_one_sentence():
    with pytest.raises(ValueError, match="^activation must be one of 'gelu', 'relu', got 'swish'$"):
        ConvMixerConfig(8, 1, 3, 2, activation="swish")


@pytest.mark.parametrize("residual", ["depthwise", "block", "both", "none"])
def test_residual_reaches_every_block_and_round_trips_through_the_config(residual):
    config = dataclasses.replace(get_config("convmixer_128_4"), dim=8, depth=3, residual=residual)
    model = ConvMixer(config)
    assert [block.residual for block in model.blocks] == [residual] * 3
    assert model.config == config
    assert create_model("convmixer_128_4", dim=8, residual=residual).config.residual == residual


def test_paper_block_is_the_default_and_the_variants_share_weights_but_not_outputs():
    assert all(config.residual == "depthwise" for config in CONFIGS.values())
    torch.manual_seed(0)
    paper = create_model("convmixer_128_4", dim=8, depth=2).eval()
    no_skip = create_model("convmixer_128_4", dim=8, depth=2, residual="none").eval()
    no_skip.load_state_dict(paper.state_dict())  # same parameter names and shapes
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        assert not torch.allclose(paper(x), no_skip(x))


def test_unknown_residual_is_one_sentence():
    with pytest.raises(ValueError, match="^residual must be one of 'depthwise', 'block', 'both', 'none', got 'all'$"):
        ConvMixerConfig(8, 1, 3, 2, residual="all")


def test_state_dict_names_follow_the_paper_figure():
    keys = set(create_model("convmixer_128_4").state_dict())
    for key in [
        "stem.conv.weight",
        "stem.norm.running_mean",
        "blocks.0.spatial.conv.weight",
        "blocks.3.channel.conv.weight",
        "head.fc.weight",
    ]:
        assert key in keys


def test_unknown_config_lists_known_ones():
    with pytest.raises(ValueError, match="unknown config 'convmixer_9'; known configs: .*convmixer_256_8"):
        create_model("convmixer_9")


def test_unknown_override_is_named():
    with pytest.raises(ValueError, match="unknown config field.*kernel; valid fields"):
        create_model("convmixer_256_8", kernel=3)


@pytest.mark.parametrize("field", ["dim", "depth", "kernel_size", "patch_size", "num_classes"])
def test_invalid_config_values(field):
    with pytest.raises(ValueError, match=f"^{field} must be an integer >= 1, got 0"):
        create_model("convmixer_128_4", **{field: 0})


def test_config_rejects_image_size_not_divisible_by_patch():
    with pytest.raises(ValueError, match="image_size 32 is not divisible by patch_size 3"):
        ConvMixerConfig(dim=8, depth=1, kernel_size=3, patch_size=3)


def test_forward_rejects_bad_images():
    model = create_model("convmixer_128_4", dim=8, depth=1)
    with pytest.raises(ValueError, match="not divisible by the patch size 2"):
        model(torch.zeros(1, 3, 31, 32))
    with pytest.raises(ValueError, match="expected images with 3 channels, got 4"):
        model(torch.zeros(1, 4, 32, 32))
