"""Receptive fields: the *theoretical* one, which input pixels one position of a feature map can
see, and the *effective* one, which it actually depends on, and how strongly (Luo et al., 2016,
"Understanding the Effective Receptive Field in Deep Convolutional Neural Networks").

The theoretical receptive field of a position after the stem and ``l`` mixer blocks is a square of
side ``p (1 + l (k - 1))`` pixels (:func:`receptive_field`): every pixel outside
it has no influence at all. Inside it, influence is far from uniform. With ``z_l`` the feature
map after ``l`` blocks and ``(r, c)`` a grid position, the effective receptive field over images
``x^(1) .. x^(B)`` is

.. math::

    \\mathrm{ERF}(u, v) = \\frac{1}{B} \\sum_b \\sum_{ch_{in}}
        \\Big| \\frac{\\partial}{\\partial x^{(b)}_{ch_{in}, u, v}} \\sum_{ch} z_l^{(b)}[ch, r, c] \\Big| ,

the gradient magnitude of the position's output (all ``h`` channels summed, as Luo et al. seed
the backward pass with 1 at the centre of every channel) with respect to every input pixel,
averaged over images. The model runs in eval mode (BatchNorm uses its stored statistics), so each
image's gradient depends on that image alone.
"""

from __future__ import annotations

import torch

from convmixer._util import check_int_in_range, check_positive_int
from convmixer.model import ConvMixer


def receptive_field(kernel_size: int, patch_size: int, blocks: int) -> int:
    """Side, in input pixels, of the region that one output position can see after ``blocks``
    mixer blocks.

    The stem sees one ``p x p`` patch. Each depth-wise ``k x k`` convolution then widens the view
    by ``k - 1`` positions of the patch grid, i.e. by ``(k - 1) p`` pixels (point-wise convolutions
    add nothing): ``RF(l) = p (1 + l (k - 1))``.
    """
    check_positive_int("kernel_size", kernel_size)
    check_positive_int("patch_size", patch_size)
    if blocks < 0:
        raise ValueError(f"blocks must be >= 0, got {blocks}")
    return patch_size * (1 + blocks * (kernel_size - 1))


def centre_position(height: int, width: int, patch_size: int) -> tuple[int, int]:
    """The grid position ``((H/p) // 2, (W/p) // 2)`` the panels follow (the one below and
    right of the centre when the grid side is even)."""
    return (height // patch_size) // 2, (width // patch_size) // 2


def effective_receptive_field(
    model: ConvMixer,
    images: torch.Tensor,
    blocks: int | None = None,
    position: tuple[int, int] | None = None,
) -> torch.Tensor:
    """The effective receptive field ``(H, W)`` of grid ``position`` (default: the centre, see
    :func:`centre_position`) after the stem and the first ``blocks`` mixer blocks (default: all
    ``d``), averaged over the preprocessed ``images`` ``(B, c_in, H, W)``.

    One forward and one backward pass for the whole batch (the images do not interact in eval
    mode). The model is put in eval mode and left as found; its parameters get no gradients.
    """
    if images.dim() != 4 or images.shape[1] != model.stem.conv.in_channels:
        raise ValueError(
            f"expected images shaped (B, {model.stem.conv.in_channels}, H, W), got {tuple(images.shape)}"
        )
    patch_size = model.stem.patch_size
    height, width = images.shape[-2:]
    if height % patch_size or width % patch_size:
        raise ValueError(f"the {height}x{width} images are not divisible by the patch size {patch_size}")
    blocks = len(model.blocks) if blocks is None else check_int_in_range("blocks", blocks, 0, len(model.blocks))
    row, col = centre_position(height, width, patch_size) if position is None else position
    check_int_in_range("row", row, 0, height // patch_size - 1)
    check_int_in_range("col", col, 0, width // patch_size - 1)

    was_training = model.training
    model.eval()
    try:
        with torch.enable_grad():
            x = images.detach().to(model.stem.conv.weight.dtype).requires_grad_(True)
            z = model.stem(x)
            for block in model.blocks[:blocks]:
                z = block(z)
            (gradient,) = torch.autograd.grad(z[:, :, row, col].sum(), x)
    finally:
        model.train(was_training)
    return gradient.abs().sum(dim=1).mean(dim=0)


def ring_mass(erf: torch.Tensor, patch_size: int, position: tuple[int, int]) -> torch.Tensor:
    """The ERF's total in square rings around the patch of grid ``position``: entry ``m`` sums
    the pixels ``m`` pixels outside the patch (Chebyshev distance), so entry 0 is the patch
    itself and entries ``0 .. m`` together cover the centred square of side ``p + 2m``."""
    if erf.dim() != 2:
        raise ValueError(f"expected an ERF map shaped (H, W), got {tuple(erf.shape)}")
    height, width = erf.shape
    row, col = position
    check_int_in_range("row", row, 0, height // patch_size - 1)
    check_int_in_range("col", col, 0, width // patch_size - 1)

    def outside(index: torch.Tensor, start: int) -> torch.Tensor:  # pixels from [start, start + p)
        return (start - index).clamp_min(0) + (index - (start + patch_size - 1)).clamp_min(0)

    rows = outside(torch.arange(height), row * patch_size)
    cols = outside(torch.arange(width), col * patch_size)
    ring = torch.maximum(rows[:, None], cols[None, :])
    mass = torch.zeros(int(ring.max()) + 1, dtype=torch.float64)
    return mass.index_add_(0, ring.flatten(), erf.detach().double().flatten())


def own_patch_share(erf: torch.Tensor, patch_size: int, position: tuple[int, int]) -> float:
    """The fraction of the ERF's total that falls on the position's own ``p x p`` patch."""
    mass = ring_mass(erf, patch_size, position)
    return float(mass[0] / _total(mass))


def effective_side(erf: torch.Tensor, patch_size: int, position: tuple[int, int], fraction: float = 0.5) -> int:
    """The side, in pixels, of the smallest square centred on the patch of grid ``position`` that
    holds ``fraction`` of the ERF's total.

    The squares grow one pixel on every side at a time: sides ``p, p + 2, p + 4, ...``. A position
    that depends only on its own patch has side ``p``; the theoretical receptive field bounds the
    answer from above (and so does the image: pixels beyond its border cannot be measured).
    """
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}")
    mass = ring_mass(erf, patch_size, position)
    enough = torch.nonzero(mass.cumsum(0) >= fraction * _total(mass) * (1 - 1e-12)).flatten()
    return patch_size + 2 * int(enough[0])


def _total(mass: torch.Tensor) -> float:
    total = float(mass.sum())
    if total <= 0:
        raise ValueError("the ERF map is zero everywhere: nothing to measure")
    return total
