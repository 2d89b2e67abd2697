"""Patch whitening: start the stem from filters that decorrelate image patches.

ConvMixer's stem is a ``p x p`` convolution with stride ``p`` -- a linear map applied to each
``c_in * p * p``-dimensional patch vector ``x``. The fastest CIFAR-10 trainers
(KellerJordan/airbench, tysam-code/hlb-CIFAR10) initialise their first convolution so that it
*whitens* patches: with the patch second-moment matrix ``S = E[x x^T] = V diag(lambda) V^T``,
the filters are the rows of

    W = diag(lambda + eps)^(-1/2) V^T,

so ``W x`` has (nearly) identity covariance: every direction of patch space, from the smooth
average colour (largest ``lambda``) down to the finest checkerboard (smallest), arrives at the
same scale. Each filter is used twice, as ``+w`` and ``-w``, because the GELU after the stem
would otherwise discard half of each direction (``GELU(z) - GELU(-z) = z``: the pair keeps it
all). ``c_in * p * p`` directions give ``2 * c_in * p * p`` filters; a stem wider than that keeps
its random initialisation for the rest, a narrower one takes the strongest directions.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from convmixer._util import check_positive_int
from convmixer.data.augment import prepare_images
from convmixer.model import ConvMixer


def patch_whitening_filters(images: torch.Tensor, patch_size: int, eps: float = 5e-4) -> torch.Tensor:
    """Whitening filters for the non-overlapping ``p x p`` patches of ``images``.

    Args:
        images: uint8 ``(N, c_in, H, W)``, normalised here as the trainer normalises batches.
        patch_size: ``p``; must divide ``H`` and ``W``.
        eps: added to every eigenvalue before the inverse square root, so near-zero directions
            are not amplified without bound.

    Returns:
        ``(2 * c_in * p * p, c_in, p, p)`` float32 filters: the whitening rows ``W``, strongest
        direction first, followed by their negatives.
    """
    check_positive_int("patch_size", patch_size)
    if images.dim() != 4 or images.shape[-1] % patch_size or images.shape[-2] % patch_size:
        raise ValueError(
            f"need images shaped (N, C, H, W) with H and W divisible by patch_size {patch_size}, "
            f"got {tuple(images.shape)}"
        )
    if not eps > 0:
        raise ValueError(f"eps must be > 0, got {eps}")
    x = prepare_images(images).double()
    patches = F.unfold(x, patch_size, stride=patch_size).transpose(1, 2).flatten(0, 1)  # (N * L, c p p)
    moment = patches.T @ patches / len(patches)
    eigenvalues, eigenvectors = torch.linalg.eigh(moment)  # ascending
    rows = (eigenvectors / torch.sqrt(eigenvalues + eps)).T.flip(0)
    filters = torch.cat([rows, -rows]).float()
    return filters.view(len(filters), images.shape[1], patch_size, patch_size)


@torch.no_grad()
def whiten_stem(model: ConvMixer, images: torch.Tensor, eps: float = 5e-4) -> int:
    """Overwrite the first filters of ``model``'s stem with :func:`patch_whitening_filters` of
    ``images`` (the training images); returns how many filters were set. The bias and the
    remaining filters keep their initialisation; all stay trainable."""
    conv = model.stem.conv
    filters = patch_whitening_filters(images, conv.kernel_size[0], eps)[: conv.out_channels]
    conv.weight[: len(filters)] = filters.to(conv.weight)
    return len(filters)
