"""Our ConvMixer computes the same function as timm's and labml-nn's, given the same weights.

This is what makes the benchmark's speed ratios fair: the weights are copied across with
``benchmarks/interop.py`` and the outputs (and, in training mode, the gradients) must agree to
float32 rounding. timm and labml-nn are the ``bench`` extra, installed by ``make test``.
"""

from __future__ import annotations

import pytest
import torch
from labml_nn.conv_mixer import ClassificationHead, ConvMixerLayer, PatchEmbeddings
from labml_nn.conv_mixer import ConvMixer as LabmlConvMixer
from support import load_script
from timm.models.convmixer import ConvMixer as TimmConvMixer
from torch import nn

from convmixer.model import ConvMixer, ConvMixerConfig, create_model
from convmixer.train.acceleration import Acceleration

interop = load_script("interop", "benchmarks")
from_labml_state_dict, from_timm_state_dict = interop.from_labml_state_dict, interop.from_timm_state_dict
to_labml_state_dict, to_timm_state_dict = interop.to_labml_state_dict, interop.to_timm_state_dict

# (dim h, depth d, kernel k, patch p, image size): the CIFAR-10 config, the cpu profile's (which the
# engine runs grid-major), an even kernel, large patches (grid-major too)
SHAPES = [(256, 8, 5, 2, 32), (128, 8, 5, 4, 32), (24, 2, 4, 2, 16), (16, 3, 9, 7, 28)]


def randomise_norms(model: nn.Module, seed: int) -> nn.Module:
    """Give every BatchNorm its own affine parameters and running statistics, so that a mapping
    that swapped two norms (or dropped a buffer) would change the output."""
    generator = torch.Generator().manual_seed(seed)
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            shape = module.weight.shape
            with torch.no_grad():
                module.weight.copy_(1 + 0.5 * torch.randn(shape, generator=generator))
                module.bias.copy_(0.5 * torch.randn(shape, generator=generator))
                module.running_mean.copy_(0.2 * torch.randn(shape, generator=generator))
                module.running_var.copy_(0.5 + torch.rand(shape, generator=generator))
            module.num_batches_tracked.fill_(7)
    return model


def timm_model(dim: int, depth: int, kernel: int, patch: int) -> nn.Module:
    torch.manual_seed(dim + depth + kernel + patch)
    model = TimmConvMixer(dim, depth, kernel_size=kernel, patch_size=patch, num_classes=10)
    return randomise_norms(model, seed=dim)


def labml_model(dim: int, depth: int, kernel: int, patch: int) -> nn.Module:
    torch.manual_seed(dim + depth + kernel + patch)
    model = LabmlConvMixer(
        ConvMixerLayer(dim, kernel), depth, PatchEmbeddings(dim, patch, 3), ClassificationHead(dim, 10)
    )
    return randomise_norms(model, seed=dim)


def ours_from(
    state_dict: dict[str, torch.Tensor], dim: int, depth: int, kernel: int, patch: int, size: int = 32,
) -> ConvMixer:
    model = ConvMixer(ConvMixerConfig(dim, depth, kernel, patch, num_classes=10, image_size=size))
    model.load_state_dict(state_dict)  # strict: every tensor mapped, none left over
    return model


def images(size: int, batch: int = 4, seed: int = 0) -> torch.Tensor:
    return torch.randn(batch, 3, size, size, generator=torch.Generator().manual_seed(seed))


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel lengths")
@pytest.mark.parametrize("dim, depth, kernel, patch, size", SHAPES)
def test_ours_equals_timm_in_eval_mode(dim, depth, kernel, patch, size):
    theirs = timm_model(dim, depth, kernel, patch).eval()
    ours = ours_from(from_timm_state_dict(theirs.state_dict()), dim, depth, kernel, patch, size).eval()
    x = images(size)
    with torch.no_grad():
        expected = theirs(x)
        torch.testing.assert_close(ours(x), expected, rtol=1e-5, atol=1e-5)
        # the way the training engine runs it on a CPU (channels-last, grid-major where it pays) is
        # the same function too
        acceleration = Acceleration.for_device("cpu")
        runner = acceleration.prepare_model(ours)
        torch.testing.assert_close(runner(acceleration.prepare_input(x)), expected, rtol=1e-4, atol=1e-4)


def test_ours_equals_timm_in_training_mode_outputs_and_gradients():
    dim, depth, kernel, patch = 32, 2, 5, 2
    theirs = timm_model(dim, depth, kernel, patch).train()
    ours = ours_from(from_timm_state_dict(theirs.state_dict()), dim, depth, kernel, patch).train()
    x, y = images(32, batch=8), torch.arange(8)
    loss_theirs = nn.functional.cross_entropy(theirs(x), y)
    loss_ours = nn.functional.cross_entropy(ours(x), y)
    torch.testing.assert_close(loss_ours, loss_theirs)
    loss_theirs.backward()
    loss_ours.backward()
    grads_theirs = from_timm_state_dict({name: p.grad for name, p in theirs.named_parameters()})
    grads_ours = {name: p.grad for name, p in ours.named_parameters()}
    assert grads_ours.keys() == grads_theirs.keys()
    for name, grad in grads_ours.items():
        torch.testing.assert_close(grad, grads_theirs[name], rtol=1e-4, atol=1e-5, msg=name)
    # batch statistics were tracked the same way
    buffers_theirs = from_timm_state_dict(dict(theirs.named_buffers()))
    for name, buffer in ours.named_buffers():
        torch.testing.assert_close(buffer, buffers_theirs[name], msg=name)


@pytest.mark.parametrize("dim, depth, kernel, patch, size", [s for s in SHAPES if s[2] % 2])
def test_ours_equals_labml_in_eval_mode(dim, depth, kernel, patch, size):
    theirs = labml_model(dim, depth, kernel, patch).eval()
    ours = ours_from(from_labml_state_dict(theirs.state_dict()), dim, depth, kernel, patch, size).eval()
    x = images(size)
    with torch.no_grad():
        torch.testing.assert_close(ours(x), theirs(x), rtol=1e-5, atol=1e-5)


def test_state_dicts_round_trip_and_load_strictly():
    ours = create_model("convmixer_128_4")
    state = ours.state_dict()
    timm_state = to_timm_state_dict(state)
    TimmConvMixer(128, 4, kernel_size=5, patch_size=2, num_classes=10).load_state_dict(timm_state)
    labml_state = to_labml_state_dict(state)
    labml_model(128, 4, 5, 2).load_state_dict(labml_state)
    for back in (from_timm_state_dict(timm_state), from_labml_state_dict(labml_state)):
        assert list(back) == list(state)
        assert all(back[key] is state[key] for key in state)  # renamed, not copied


def test_key_mapping_is_the_documented_one():
    timm_keys = {
        "stem.0.weight": "stem.conv.weight",
        "stem.2.running_var": "stem.norm.running_var",
        "blocks.11.0.fn.0.bias": "blocks.11.spatial.conv.bias",
        "blocks.0.0.fn.2.num_batches_tracked": "blocks.0.spatial.norm.num_batches_tracked",
        "blocks.3.1.weight": "blocks.3.channel.conv.weight",
        "blocks.3.3.running_mean": "blocks.3.channel.norm.running_mean",
        "head.weight": "head.fc.weight",
    }
    renamed = from_timm_state_dict({key: torch.zeros(1) for key in timm_keys})
    assert list(renamed) == list(timm_keys.values())
    labml = from_labml_state_dict({"conv_mixer_layers.2.norm1.weight": torch.zeros(1)})
    assert list(labml) == ["blocks.2.spatial.norm.weight"]


@pytest.mark.parametrize(
    "convert, key",
    [
        (from_timm_state_dict, "blocks.0.2.weight"),  # the GELU slot holds no tensors
        (from_timm_state_dict, "blocks.0.spatial.conv.weight"),  # already ours
        (from_labml_state_dict, "classification.pool.weight"),
        (to_timm_state_dict, "head.weight"),  # timm's name given to the reverse direction
    ],
)
def test_unknown_keys_are_one_clear_error(convert, key):
    with pytest.raises(ValueError, match="is not part of a"):
        convert({key: torch.zeros(1)})


def test_released_768_32_equals_timms_with_relu():
    """timm's ``convmixer_768_32`` (ReLU, as released) and ours from ``CONFIGS`` compute the same
    logits once the weights are copied; with GELU instead they would not."""
    from timm.models.convmixer import convmixer_768_32

    torch.manual_seed(0)
    theirs = randomise_norms(convmixer_768_32(), seed=768).eval()
    weights = from_timm_state_dict(theirs.state_dict())
    ours = create_model("convmixer_768_32")
    ours.load_state_dict(weights)
    ours.eval()
    x = images(56, batch=1)  # 8 x 8 patches of 7 x 7: the network is the same at any size
    with torch.no_grad():
        expected = theirs(x)
        torch.testing.assert_close(ours(x), expected, rtol=1e-4, atol=1e-4)
        with_gelu = create_model("convmixer_768_32", activation="gelu")
        with_gelu.load_state_dict(weights)
        assert not torch.allclose(with_gelu.eval()(x), expected, rtol=1e-2, atol=1e-2)
