"""FLOPs, receptive fields and traced shapes."""

import pytest
import torch

from convmixer import ConvMixer, ConvMixerConfig, create_model, get_config
from convmixer.analysis.cost import forward_flops, summarise, trace_stages
from convmixer.analysis.fields import receptive_field


def expected_forward_flops(h, d, k, p, size, n=10, c=3):
    """Multiply-adds of the convolutions and the linear layer, 2 FLOPs each."""
    tokens = (size // p) ** 2
    stem = c * p * p * h * tokens
    block = h * k * k * tokens + h * h * tokens
    return 2 * (stem + d * block + h * n)


@pytest.mark.parametrize("h, d, k, p", [(256, 8, 5, 2), (32, 3, 4, 4), (16, 1, 9, 1)])
def test_forward_flops_counts_convolutions_and_linear(h, d, k, p):
    model = ConvMixer(ConvMixerConfig(h, d, k, p))
    assert forward_flops(model, (1, 3, 32, 32)) == expected_forward_flops(h, d, k, p, 32)


def test_forward_flops_restores_training_mode():
    model = create_model("convmixer_128_4", depth=1)
    forward_flops(model, (1, 3, 32, 32))
    assert model.training


def test_receptive_field_formula_matches_gradient_support():
    """Measure the receptive field: which input pixels reach the centre output position."""
    k, p, d = 3, 2, 2
    model = ConvMixer(ConvMixerConfig(4, d, k, p)).eval()
    x = torch.randn(1, 3, 32, 32, requires_grad=True)
    feature = model.forward_features(x)
    feature[0, :, 8, 8].sum().backward()
    rows = x.grad.abs().sum(dim=(0, 1, 3)).nonzero().flatten()
    assert rows.max() - rows.min() + 1 == receptive_field(k, p, d) == 2 * (1 + 2 * 2)


def test_receptive_field_rejects_bad_arguments():
    with pytest.raises(ValueError, match="kernel_size must be an integer >= 1"):
        receptive_field(0, 2, 1)
    with pytest.raises(ValueError, match="blocks must be >= 0"):
        receptive_field(3, 2, -1)


def test_trace_stages_shapes_and_receptive_fields():
    model = create_model("convmixer_128_4")
    stages = trace_stages(model, 32)
    assert [s.name for s in stages] == ["stem", "block 1", "block 2", "block 3", "block 4", "head"]
    assert stages[0].shape == (128, 16, 16)
    assert stages[-1].shape == (10,)
    assert [s.receptive_field for s in stages[:-1]] == [2, 10, 18, 26, 34]


def test_summarise_main_cifar_model():
    summary = summarise(get_config("convmixer_256_8"))
    assert summary.parameters == 594_186
    assert summary.flops == expected_forward_flops(256, 8, 5, 2, 32)
    assert summary.tokens == 256
    assert summary.receptive_field == 66
