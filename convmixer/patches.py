"""Patch embeddings by hand: cut an image into ``p x p`` patches, flatten them, project them.

ConvMixer's stem is ``Conv_{c_in -> h}(X, kernel = stride = p)``. Because the kernel equals the
stride, every pixel belongs to exactly one patch and the convolution is

.. math::

    t_n = W\\,\\mathrm{vec}(P_n) + b, \\qquad n = 1, \\dots, N = \\frac{H}{p} \\cdot \\frac{W}{p},

where ``P_n`` is the ``n``-th patch (``c_in x p x p``, flattened to ``c_in p^2`` numbers, channel
first, then row, then column) and ``W`` is the convolution's weight reshaped to ``(h, c_in p^2)``.
The functions here build that sum from ``F.unfold`` and one matrix multiply, so the notebooks can
check it against ``nn.Conv2d``.

Two layouts of the same numbers appear: the *sequence* ``(B, N, h)`` (one row per token, as in
ViT) and the *grid* ``(B, h, H/p, W/p)`` (ConvMixer keeps this one, so that its depth-wise
convolutions know which patches are neighbours).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from convmixer.layers import check_positive_int


def patch_grid(height: int, width: int, patch_size: int) -> tuple[int, int]:
    """Rows and columns of the patch grid, ``(H/p, W/p)``.

    Raises one clear ``ValueError`` when ``p`` does not divide ``H`` or ``W``: the patches must
    tile the image exactly (``nn.Conv2d`` would silently drop the leftover rows and columns).
    """
    check_positive_int("height", height)
    check_positive_int("width", width)
    check_positive_int("patch_size", patch_size)
    if height % patch_size or width % patch_size:
        raise ValueError(
            f"image size {height}x{width} is not divisible by the patch size {patch_size}: "
            f"{height % patch_size} row(s) and {width % patch_size} column(s) would be left over; "
            f"use a patch size that divides both sides, or crop the image to "
            f"{max(patch_size, height - height % patch_size)}x"
            f"{max(patch_size, width - width % patch_size)}"
        )
    return height // patch_size, width // patch_size


def num_tokens(height: int, width: int, patch_size: int) -> int:
    """Number of patches (tokens) ``N = (H/p) (W/p)`` of an ``H x W`` image."""
    rows, cols = patch_grid(height, width, patch_size)
    return rows * cols


def patchify(images: torch.Tensor, patch_size: int) -> torch.Tensor:
    """Cut ``(B, C, H, W)`` images into non-overlapping ``p x p`` patches: ``(B, N, C p^2)``.

    Patches are numbered row by row (``n = i * W/p + j``); each is flattened channel first, then
    row, then column, the same order as a convolution weight ``(h, C, p, p)`` flattened to
    ``(h, C p^2)``. Built on ``F.unfold`` with ``kernel_size = stride = p``.
    """
    if images.dim() != 4:
        raise ValueError(
            f"expected a batch of images shaped (B, C, H, W), got a tensor of shape "
            f"{tuple(images.shape)}"
        )
    patch_grid(images.shape[2], images.shape[3], patch_size)
    columns = F.unfold(images, kernel_size=patch_size, stride=patch_size)  # (B, C p^2, N)
    return columns.transpose(1, 2)


def unpatchify(patches: torch.Tensor, patch_size: int, height: int, width: int) -> torch.Tensor:
    """Inverse of :func:`patchify`: ``(B, N, C p^2)`` patches back to ``(B, C, H, W)`` images."""
    rows, cols = patch_grid(height, width, patch_size)
    if patches.dim() != 3 or patches.shape[1] != rows * cols or patches.shape[2] % patch_size**2:
        raise ValueError(
            f"expected patches shaped (B, {rows * cols}, C*{patch_size}*{patch_size}) for a "
            f"{height}x{width} image and patch size {patch_size}, got {tuple(patches.shape)}"
        )
    return F.fold(
        patches.transpose(1, 2), (height, width), kernel_size=patch_size, stride=patch_size
    )


def check_patch_conv(conv: nn.Conv2d) -> int:
    """Return the patch size ``p`` of a patch-embedding convolution, or raise a clear
    ``ValueError`` unless ``conv`` is a plain ``nn.Conv2d`` with square kernel = stride = ``p``,
    no padding, no dilation and no groups (the only convolutions that are a patch embedding)."""
    if not isinstance(conv, nn.Conv2d):
        raise ValueError(f"expected an nn.Conv2d, got {type(conv).__name__}")
    (kh, kw), stride = conv.kernel_size, conv.stride
    plain = conv.padding == (0, 0) and conv.dilation == (1, 1) and conv.groups == 1
    if kh != kw or stride != (kh, kw) or not plain:
        raise ValueError(
            "a patch embedding is a convolution with a square kernel equal to its stride, no "
            f"padding, dilation or groups; got kernel {conv.kernel_size}, stride {conv.stride}, "
            f"padding {conv.padding}, dilation {conv.dilation}, groups {conv.groups}"
        )
    return kh


def embedding_matrix(conv: nn.Conv2d) -> tuple[torch.Tensor, torch.Tensor]:
    """The patch-embedding convolution as a linear map: ``W`` of shape ``(h, c_in p^2)`` and the
    bias ``b`` of shape ``(h,)`` (zeros when the convolution has no bias)."""
    check_patch_conv(conv)
    weight = conv.weight.reshape(conv.out_channels, -1)
    bias = conv.bias if conv.bias is not None else weight.new_zeros(conv.out_channels)
    return weight, bias


def embed_patches(images: torch.Tensor, conv: nn.Conv2d) -> torch.Tensor:
    """Embed every patch with the weights of ``conv``: ``t_n = W vec(P_n) + b``, as one matrix
    multiply. ``(B, c_in, H, W) -> (B, N, h)``, the token sequence (ViT's layout)."""
    patches = patchify(images, check_patch_conv(conv))
    if images.shape[1] != conv.in_channels:
        raise ValueError(
            f"expected images with {conv.in_channels} channels, got {images.shape[1]} "
            f"(input shape {tuple(images.shape)})"
        )
    weight, bias = embedding_matrix(conv)
    return patches @ weight.T + bias


def tokens_to_grid(tokens: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Lay a ``(B, N, h)`` token sequence out on its ``(B, h, height, width)`` patch grid
    (``height * width == N``; tokens numbered row by row)."""
    if tokens.dim() != 3 or tokens.shape[1] != height * width:
        raise ValueError(
            f"expected tokens shaped (B, {height * width}, h) for a {height}x{width} grid, got "
            f"{tuple(tokens.shape)}"
        )
    return tokens.transpose(1, 2).reshape(tokens.shape[0], tokens.shape[2], height, width)


def grid_to_tokens(feature_map: torch.Tensor) -> torch.Tensor:
    """Flatten a ``(B, h, H', W')`` feature map to the ``(B, H' W', h)`` sequence ViT uses."""
    if feature_map.dim() != 4:
        raise ValueError(
            f"expected a feature map shaped (B, h, H', W'), got {tuple(feature_map.shape)}"
        )
    return feature_map.flatten(2).transpose(1, 2)
