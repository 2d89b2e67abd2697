"""Whole-model cost without weights: the FLOP closed form and the meta-device counts."""

import pytest

from convmixer import CONFIGS, ConvMixer, ConvMixerConfig
from convmixer.analysis.cost import (
    convmixer_flops,
    convmixer_parameters,
    count_parameters,
    forward_flops,
    meta_forward_flops,
    meta_model,
)


@pytest.mark.parametrize(
    "config",
    [
        ConvMixerConfig(16, 2, 3, 4),
        ConvMixerConfig(24, 3, 4, 2, num_classes=7),  # even kernel
        ConvMixerConfig(8, 1, 1, 8, in_channels=1, image_size=64),
    ],
)
def test_flop_closed_form_equals_flop_counter_on_a_real_model(config):
    model = ConvMixer(config)
    size = config.image_size
    assert convmixer_flops(config) == forward_flops(model, (1, config.in_channels, size, size))


def test_flop_closed_form_at_another_image_size():
    config = CONFIGS["convmixer_128_4"]
    model = ConvMixer(config)
    assert convmixer_flops(config, image_size=64) == forward_flops(model, (1, 3, 64, 64))
    assert convmixer_flops(config, image_size=64) > 3.9 * convmixer_flops(config)
    with pytest.raises(ValueError, match="image_size 33 is not divisible by patch_size 2"):
        convmixer_flops(config, image_size=33)


def test_meta_model_has_the_real_structure_without_memory():
    config = CONFIGS["convmixer_1536_20"]
    model = meta_model(config)
    assert all(p.device.type == "meta" for p in model.parameters())
    assert count_parameters(model) == convmixer_parameters(config) == 51_625_960
    assert model.config == config


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_meta_flop_count_equals_closed_form(name):
    config = CONFIGS[name]
    assert meta_forward_flops(config) == convmixer_flops(config)


def test_meta_flop_count_equals_counting_on_the_cpu():
    config = ConvMixerConfig(32, 2, 5, 2)
    model = ConvMixer(config)
    assert meta_forward_flops(config, 16) == forward_flops(model, (1, 3, 16, 16))
