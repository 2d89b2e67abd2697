"""Each layer against an independent reference, plus the errors bad arguments must raise."""

import warnings

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from convmixer.layers import (
    RESIDUALS,
    ClassifierHead,
    DepthwiseConv2d,
    MixerBlock,
    PatchEmbedding,
    PointwiseConv2d,
    same_padding,
)


def per_channel_reference(conv: DepthwiseConv2d, x: torch.Tensor) -> torch.Tensor:
    """Depth-wise conv as a loop: channel c filtered by kernel c alone, with "same" padding."""
    before, after = same_padding(conv.kernel_size[0])
    padded = F.pad(x, (before, after, before, after))
    outputs = [
        F.conv2d(padded[:, c : c + 1], conv.weight[c : c + 1], conv.bias[c : c + 1])
        for c in range(x.shape[1])
    ]
    return torch.cat(outputs, dim=1)


@pytest.mark.parametrize("kernel_size", [1, 2, 3, 4, 5, 8, 9])
@pytest.mark.parametrize("size", [(7, 7), (8, 12), (16, 16)])
def test_depthwise_matches_per_channel_loop_and_keeps_size(kernel_size, size):
    torch.manual_seed(0)
    conv = DepthwiseConv2d(6, kernel_size)
    x = torch.randn(2, 6, *size)
    y = conv(x)
    assert y.shape == x.shape
    torch.testing.assert_close(y, per_channel_reference(conv, x))


@pytest.mark.parametrize("kernel_size", [2, 3, 4, 7])
def test_depthwise_equals_torch_same_padding(kernel_size):
    torch.manual_seed(0)
    conv = DepthwiseConv2d(4, kernel_size)
    reference = nn.Conv2d(4, 4, kernel_size, groups=4, padding="same")
    reference.load_state_dict(conv.state_dict())
    x = torch.randn(1, 4, 10, 10)
    with warnings.catch_warnings():  # torch warns that even kernels need asymmetric padding
        warnings.simplefilter("ignore")
        expected = reference(x)
    torch.testing.assert_close(conv(x), expected)


def test_depthwise_even_kernel_does_not_warn():
    conv = DepthwiseConv2d(3, 4)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        conv(torch.randn(1, 3, 8, 8))


def test_depthwise_has_one_kernel_per_channel():
    conv = DepthwiseConv2d(16, 5)
    assert conv.weight.shape == (16, 1, 5, 5)
    assert sum(p.numel() for p in conv.parameters()) == 16 * 25 + 16


def test_pointwise_is_einsum_over_channels():
    torch.manual_seed(0)
    conv = PointwiseConv2d(5, 7)
    x = torch.randn(3, 5, 6, 4)
    expected = torch.einsum("oc,bchw->bohw", conv.weight[:, :, 0, 0], x) + conv.bias[None, :, None, None]
    torch.testing.assert_close(conv(x), expected)
    assert PointwiseConv2d(5).out_channels == 5


@pytest.mark.parametrize("patch_size", [1, 2, 4, 8])
def test_patch_embedding_is_unfold_then_matmul(patch_size):
    torch.manual_seed(0)
    stem = PatchEmbedding(3, 12, patch_size).eval()
    x = torch.randn(2, 3, 16, 24)
    patches = F.unfold(x, kernel_size=patch_size, stride=patch_size)  # (B, 3 p^2, N)
    projected = stem.conv.weight.flatten(1) @ patches + stem.conv.bias[:, None]  # (B, h, N)
    grid = projected.view(2, 12, 16 // patch_size, 24 // patch_size)
    expected = stem.norm(F.gelu(grid))
    torch.testing.assert_close(stem(x), expected)


def test_mixer_block_residual_wraps_depthwise_part_only():
    torch.manual_seed(0)
    block = MixerBlock(8, 3).eval()
    with torch.no_grad():  # make the statistics non-trivial so a misplaced skip would show
        for norm in (block.spatial.norm, block.channel.norm):
            norm.running_mean.uniform_(-1, 1)
            norm.running_var.uniform_(0.5, 2)
    x = torch.randn(2, 8, 6, 6)
    spatial = x + block.spatial.norm(F.gelu(block.spatial.conv(x)))
    expected = block.channel.norm(F.gelu(block.channel.conv(spatial)))
    torch.testing.assert_close(block(x), expected)
    # The alternative (a skip around the point-wise part too) is a different function.
    assert not torch.allclose(block(x), expected + spatial)


def block_with_varied_norms(residual: str) -> MixerBlock:
    torch.manual_seed(0)
    block = MixerBlock(8, 3, residual=residual).eval()
    with torch.no_grad():  # non-trivial statistics, so that a misplaced skip would show
        for norm in (block.spatial.norm, block.channel.norm):
            norm.running_mean.uniform_(-1, 1)
            norm.running_var.uniform_(0.5, 2)
    return block


# Each variant of the skip, composed by hand from the block's two parts S (spatial) and C (channel).
BY_HAND = {
    "depthwise": lambda S, C, x: C(x + S(x)),
    "block": lambda S, C, x: x + C(S(x)),
    "both": lambda S, C, x: (x + S(x)) + C(x + S(x)),
    "none": lambda S, C, x: C(S(x)),
}


@pytest.mark.parametrize("residual", sorted(BY_HAND))
def test_each_residual_variant_is_its_composition_of_the_parts(residual):
    block = block_with_varied_norms(residual)
    x = torch.randn(2, 8, 6, 6)
    with torch.no_grad():
        torch.testing.assert_close(block(x), BY_HAND[residual](block.spatial, block.channel, x))
        others = [BY_HAND[name](block.spatial, block.channel, x) for name in BY_HAND if name != residual]
        assert not any(torch.allclose(block(x), other) for other in others)  # four different functions


def test_residual_variants_have_the_same_parameters():
    shapes = {name: [p.shape for p in MixerBlock(8, 3, residual=name).parameters()] for name in RESIDUALS}
    assert all(shape == shapes["depthwise"] for shape in shapes.values())
    assert MixerBlock(8, 3).residual == "depthwise"  # the paper's block is the default


def test_unknown_residual_is_one_sentence():
    with pytest.raises(ValueError, match="^residual must be one of 'depthwise', 'block', 'both', 'none', got 'pointwise'$"):
        MixerBlock(8, 3, residual="pointwise")


def test_classifier_head_averages_then_projects():
    torch.manual_seed(0)
    head = ClassifierHead(8, 10)
    x = torch.randn(2, 8, 5, 5)
    torch.testing.assert_close(head(x), head.fc(x.mean(dim=(2, 3))))


@pytest.mark.parametrize(
    "build, argument",
    [
        (lambda: DepthwiseConv2d(0, 3), "channels"),
        (lambda: DepthwiseConv2d(4, 0), "kernel_size"),
        (lambda: DepthwiseConv2d(4, 2.5), "kernel_size"),
        (lambda: PointwiseConv2d(-1), "in_channels"),
        (lambda: PatchEmbedding(3, 8, 0), "patch_size"),
        (lambda: PatchEmbedding(3, 0, 2), "dim"),
        (lambda: MixerBlock(8, -3), "kernel_size"),
        (lambda: MixerBlock(True, 3), "dim"),
        (lambda: ClassifierHead(8, 0), "num_classes"),
    ],
)
def test_invalid_arguments_name_the_argument(build, argument):
    with pytest.raises(ValueError, match=rf"^{argument} must be an integer >= 1"):
        build()


def test_patch_embedding_rejects_indivisible_size_and_wrong_channels():
    stem = PatchEmbedding(3, 8, 4)
    with pytest.raises(ValueError, match="30x32 is not divisible by the patch size 4"):
        stem(torch.zeros(1, 3, 30, 32))
    with pytest.raises(ValueError, match="expected images with 3 channels, got 1"):
        stem(torch.zeros(1, 1, 32, 32))
    with pytest.raises(ValueError, match=r"\(B, C, H, W\)"):
        stem(torch.zeros(3, 32, 32))
