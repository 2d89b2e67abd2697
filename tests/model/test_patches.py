"""Patch embedding by hand (unfold + matrix multiply) against nn.Conv2d and the package's stem."""

import pytest
import torch
from torch import nn
from torchvision.models.vision_transformer import VisionTransformer

from convmixer import PatchEmbedding
from convmixer.patches import (
    check_patch_conv,
    embed_patches,
    embedding_matrix,
    grid_to_tokens,
    num_tokens,
    patch_grid,
    patchify,
    tokens_to_grid,
    unpatchify,
)


def test_patch_grid_and_token_count():
    assert patch_grid(32, 32, 2) == (16, 16)
    assert patch_grid(224, 224, 14) == (16, 16)
    assert patch_grid(600, 512, 8) == (75, 64)
    assert num_tokens(224, 224, 7) == 1024
    assert num_tokens(32, 32, 32) == 1


def test_patch_grid_explains_what_is_left_over():
    message = r"600x512 is not divisible by the patch size 7.*5 row\(s\) and 1 column"
    with pytest.raises(ValueError, match=message):
        patch_grid(600, 512, 7)
    with pytest.raises(ValueError, match="crop the image to 28x32"):
        num_tokens(30, 32, 4)
    with pytest.raises(ValueError, match="patch_size must be an integer >= 1"):
        patch_grid(32, 32, 0)


def test_patchify_numbers_patches_row_by_row_channel_first():
    image = torch.arange(2 * 4 * 6, dtype=torch.float32).reshape(1, 2, 4, 6)
    patches = patchify(image, 2)
    assert patches.shape == (1, 6, 2 * 2 * 2)
    # patch n = 4 is grid row 1, column 1: pixel rows 2-3, columns 2-3, channel 0 then channel 1
    expected = torch.cat([image[0, c, 2:4, 2:4].flatten() for c in range(2)])
    assert torch.equal(patches[0, 4], expected)


def test_unpatchify_inverts_patchify_exactly():
    torch.manual_seed(0)
    images = torch.rand(3, 3, 12, 8)
    for p in (1, 2, 4):
        assert torch.equal(unpatchify(patchify(images, p), p, 12, 8), images)


def test_patchify_and_unpatchify_reject_bad_shapes():
    with pytest.raises(ValueError, match=r"shaped \(B, C, H, W\)"):
        patchify(torch.zeros(3, 32, 32), 4)
    with pytest.raises(ValueError, match="not divisible by the patch size 5"):
        patchify(torch.zeros(1, 3, 32, 32), 5)
    with pytest.raises(ValueError, match=r"expected patches shaped \(B, 64, C\*4\*4\)"):
        unpatchify(torch.zeros(1, 63, 48), 4, 32, 32)


@pytest.mark.parametrize("patch_size, bias", [(1, True), (2, True), (4, False), (8, True)])
def test_unfold_matmul_equals_strided_conv(patch_size, bias):
    torch.manual_seed(patch_size)
    images = torch.randn(2, 3, 32, 16)
    conv = nn.Conv2d(3, 24, kernel_size=patch_size, stride=patch_size, bias=bias)
    tokens = embed_patches(images, conv)
    rows, cols = 32 // patch_size, 16 // patch_size
    assert tokens.shape == (2, rows * cols, 24)
    torch.testing.assert_close(tokens_to_grid(tokens, rows, cols), conv(images))
    torch.testing.assert_close(tokens, grid_to_tokens(conv(images)))


def test_embedding_matrix_reshapes_the_weights():
    conv = nn.Conv2d(3, 5, kernel_size=4, stride=4)
    weight, bias = embedding_matrix(conv)
    assert weight.shape == (5, 48)
    assert torch.equal(weight[2], conv.weight[2].flatten())
    assert torch.equal(bias, conv.bias)
    assert torch.equal(embedding_matrix(nn.Conv2d(3, 5, 4, 4, bias=False))[1], torch.zeros(5))


def test_embed_patches_equals_the_package_stem():
    torch.manual_seed(0)
    stem = PatchEmbedding(3, 16, 4).eval()
    images = torch.randn(2, 3, 32, 32)
    tokens = embed_patches(images, stem.conv)
    by_hand = stem.norm(stem.act(tokens_to_grid(tokens, 8, 8)))
    torch.testing.assert_close(by_hand, stem(images))


def test_embed_patches_equals_torchvision_vit_sequence():
    torch.manual_seed(0)
    vit = VisionTransformer(
        image_size=32, patch_size=8, num_layers=1, num_heads=2, hidden_dim=32, mlp_dim=32
    )
    images = torch.randn(2, 3, 32, 32)
    torch.testing.assert_close(embed_patches(images, vit.conv_proj), vit._process_input(images))


def test_only_kernel_equals_stride_convolutions_are_patch_embeddings():
    assert check_patch_conv(nn.Conv2d(3, 8, 7, stride=7)) == 7
    for conv in (
        nn.Conv2d(3, 8, 4, stride=2),
        nn.Conv2d(3, 8, 4, stride=4, padding=1),
        nn.Conv2d(4, 8, 2, stride=2, groups=2),
        nn.Conv2d(3, 8, (2, 4), stride=(2, 4)),
    ):
        with pytest.raises(ValueError, match="kernel equal to its stride"):
            embed_patches(torch.zeros(1, conv.in_channels, 8, 8), conv)
    with pytest.raises(ValueError, match="expected an nn.Conv2d, got Linear"):
        check_patch_conv(nn.Linear(3, 3))


def test_embed_patches_checks_channels():
    with pytest.raises(ValueError, match="expected images with 3 channels, got 1"):
        embed_patches(torch.zeros(1, 1, 8, 8), nn.Conv2d(3, 8, 4, stride=4))


def test_tokens_to_grid_and_back():
    tokens = torch.arange(2 * 6 * 5, dtype=torch.float32).reshape(2, 6, 5)
    grid = tokens_to_grid(tokens, 2, 3)
    assert grid.shape == (2, 5, 2, 3)
    assert torch.equal(grid[1, :, 1, 0], tokens[1, 3])  # token 3 sits at row 1, column 0
    assert torch.equal(grid_to_tokens(grid), tokens)
    with pytest.raises(ValueError, match=r"\(B, 6, h\) for a 2x3 grid"):
        tokens_to_grid(tokens[:, :5], 2, 3)
    with pytest.raises(ValueError, match="feature map shaped"):
        grid_to_tokens(tokens)
