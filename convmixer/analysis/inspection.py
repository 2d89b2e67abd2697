"""Looking inside a trained ConvMixer: its filters, its feature maps, and the patches that drive
its prediction (notebook 06; the figures are in :mod:`convmixer.viz.inspection`).

Notation as in the paper: ``h`` width, ``d`` depth, ``k`` depth-wise kernel size, ``p`` patch
size, ``N = (H/p)(W/p)`` patches. What is looked at:

- the stem's filters ``W_0``, ``(h, c_in, p, p)``: one ``p x p`` colour filter per channel;
- the depth-wise kernels of block ``l``, ``(h, k, k)``: one spatial kernel per channel;
- the feature maps ``z_0`` (after the stem) ... ``z_d`` (after block ``d``), each ``(h, H/p, W/p)``.

Which patches drive class ``c``? The head is a global average pool and a linear map, so the logit
splits *exactly* over the patches of the last feature map (the class activation map, CAM, of
Zhou et al., 2016):

.. math::

    y_c = \\frac{1}{N} \\sum_{i,j} \\mathrm{CAM}_c(i, j) + b_c, \\qquad
    \\mathrm{CAM}_c(i, j) = w_c^\\top z_d[:, i, j].

For an earlier map ``z_l`` we use *gradient x activation*,
``A_l(i, j) = sum_ch (dy_c / dz_l[ch, i, j]) z_l[ch, i, j]``, a first-order estimate of each
patch's share of ``y_c``; at ``l = d`` it equals ``CAM_c / N`` (the tests check this).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from convmixer._util import eval_mode
from convmixer.model import ConvMixer

# --- weights -------------------------------------------------------------------------------------


def patch_embedding_filters(model: ConvMixer) -> torch.Tensor:
    """The stem's convolution weights ``W_0``, ``(h, c_in, p, p)``, detached."""
    return model.stem.conv.weight.detach().cpu().clone()


def depthwise_kernels(model: ConvMixer) -> list[torch.Tensor]:
    """The depth-wise kernels of every block, ``d`` tensors of shape ``(h, k, k)``, detached."""
    return [block.spatial.conv.weight.detach().cpu()[:, 0].clone() for block in model.blocks]


def kernel_spread(kernels: torch.Tensor) -> torch.Tensor:
    """How far from its centre a kernel reaches: the root-mean-square distance from the centre,
    weighted by the squared weights,

    .. math::  s(w) = \\sqrt{\\sum_{ij} w_{ij}^2 r_{ij}^2 / \\sum_{ij} w_{ij}^2},

    with ``r_ij`` the distance of tap ``(i, j)`` from the kernel's centre ``((k-1)/2, (k-1)/2)``,
    in positions of the patch grid. ``(..., k, k) -> (...)``. A kernel that only weights its centre
    has ``s = 0``; a kernel with equal-magnitude weights has ``s = sqrt(mean r^2)``
    (``sqrt((k^2 - 1) / 6)``: 2.0 for ``k = 5``), which is also what random initial kernels have
    on average. An all-zero kernel has spread 0.
    """
    if kernels.dim() < 2 or kernels.shape[-1] != kernels.shape[-2]:
        raise ValueError(f"expected square kernels shaped (..., k, k), got {tuple(kernels.shape)}")
    k = kernels.shape[-1]
    offsets = torch.arange(k, dtype=torch.float32) - (k - 1) / 2
    r2 = offsets[:, None] ** 2 + offsets[None, :] ** 2
    energy = kernels.detach().float() ** 2
    total = energy.sum(dim=(-2, -1))
    weighted = (energy * r2).sum(dim=(-2, -1))
    return torch.where(total > 0, weighted / total.clamp_min(1e-30), torch.zeros_like(total)).sqrt()


def kernel_smoothness(kernels: torch.Tensor) -> torch.Tensor:
    """How smooth a kernel is: the correlation of neighbouring taps,

    .. math::  c(w) = \\frac{\\mathrm{mean}_{(t, t') \\text{ adjacent}}\\; v_t v_{t'}}{\\mathrm{mean}_t\\; v_t^2},
               \\qquad v = w - \\bar{w},

    over all horizontally and vertically adjacent pairs of taps. ``(..., k, k) -> (...)``.
    Independent random weights give ``c`` near 0, a smooth blob or ramp gives ``c`` well above
    0, a checkerboard gives -1. Kernels without neighbours (``k = 1``) or with all taps equal
    give 0.
    """
    if kernels.dim() < 2 or kernels.shape[-1] != kernels.shape[-2]:
        raise ValueError(f"expected square kernels shaped (..., k, k), got {tuple(kernels.shape)}")
    v = kernels.detach().float()
    v = v - v.mean(dim=(-2, -1), keepdim=True)
    energy = (v**2).mean(dim=(-2, -1))
    if kernels.shape[-1] == 1:
        return torch.zeros_like(energy)
    horizontal = (v[..., :, 1:] * v[..., :, :-1]).mean(dim=(-2, -1))
    vertical = (v[..., 1:, :] * v[..., :-1, :]).mean(dim=(-2, -1))
    pairs = (horizontal + vertical) / 2
    return torch.where(energy > 0, pairs / energy.clamp_min(1e-30), torch.zeros_like(energy))


# --- activations and attributions ----------------------------------------------------------------


def stage_names(depth: int) -> list[str]:
    """``["stem", "block 1", ..., "block d"]``: the names of ``z_0 .. z_d``."""
    return ["stem"] + [f"block {i}" for i in range(1, depth + 1)]


def patch_norms(feature_map: torch.Tensor) -> torch.Tensor:
    """The Euclidean norm of every patch's ``h``-vector: ``(..., h, H', W') -> (..., H', W')``."""
    if feature_map.dim() < 3:
        raise ValueError(
            f"expected a feature map shaped (h, H', W') or (B, h, H', W'), got {tuple(feature_map.shape)}"
        )
    return feature_map.detach().float().norm(dim=-3)


def most_varied_channel(feature_map: torch.Tensor) -> int:
    """The channel of one feature map ``(h, H', W')`` whose values vary most over the grid
    (largest standard deviation): the one that shows the most structure of this image. Chosen per
    map: channel ``c`` of ``z_l`` and of ``z_{l+1}`` are unrelated features."""
    if feature_map.dim() != 3:
        raise ValueError(f"expected one feature map shaped (h, H', W'), got {tuple(feature_map.shape)}")
    return int(feature_map.detach().float().flatten(1).std(dim=1).argmax())


def class_activation_map(model: ConvMixer, x: torch.Tensor, target: int | torch.Tensor) -> torch.Tensor:
    """CAM of class ``target`` for a batch ``x`` ``(B, c_in, H, W)``: ``(B, H/p, W/p)`` with
    ``CAM(i, j) = w_target^T z_d[:, i, j]``; its mean over the grid plus the class bias is the
    logit. ``target`` is one class for all images or a ``(B,)`` tensor. Runs in eval mode."""
    with eval_mode(model):
        features = model.forward_features(x)
    return _cam(features, model.head.fc.weight, target)


def _cam(features: torch.Tensor, weights: torch.Tensor, target: int | torch.Tensor) -> torch.Tensor:
    """``CAM(b, i, j) = w_target[b]^T z[b, :, i, j]`` for features ``(B, h, H', W')``."""
    target = torch.as_tensor(target).expand(features.shape[0])
    _check_class(int(target.max()), weights.shape[0])
    _check_class(int(target.min()), weights.shape[0])
    return torch.einsum("bchw,bc->bhw", features, weights.detach()[target])


def _check_class(target: int, num_classes: int) -> None:
    if not 0 <= target < num_classes:
        raise ValueError(f"class index must be in 0..{num_classes - 1}, got {target}")


@dataclass(frozen=True)
class Inspection:
    """Everything notebook 06 shows about one image.

    ``feature_maps[l]`` is ``z_l`` ``(h, H/p, W/p)`` (``l = 0`` the stem); ``attributions[l]`` is
    gradient x activation ``(H/p, W/p)`` of the ``target`` logit at ``z_l``.
    """

    logits: torch.Tensor  # (n,)
    probabilities: torch.Tensor  # (n,), softmax of the logits
    target: int  # the class the attributions explain
    feature_maps: list[torch.Tensor]
    attributions: list[torch.Tensor]

    @property
    def prediction(self) -> int:
        return int(self.logits.argmax())


def inspect_image(model: ConvMixer, x: torch.Tensor, target: int | None = None) -> Inspection:
    """Run one preprocessed image ``x`` ``(c_in, H, W)`` through ``model`` in eval mode and keep
    every feature map, the class probabilities, and the gradient x activation of class
    ``target`` (default: the predicted class) at every stage. Parameter gradients are untouched."""
    if x.dim() != 3:
        raise ValueError(f"expected one image shaped (C, H, W), got shape {tuple(x.shape)}")
    with eval_mode(model), torch.enable_grad():
        maps = [model.stem(x[None].to(model.stem.conv.weight.dtype))]
        for block in model.blocks:
            maps.append(block(maps[-1]))
        logits = model.head(maps[-1])[0]
        target = int(logits.argmax()) if target is None else target
        _check_class(target, logits.shape[0])
        grads = torch.autograd.grad(logits[target], maps)
    return Inspection(
        logits=logits.detach(),
        probabilities=logits.detach().softmax(dim=0),
        target=target,
        feature_maps=[m.detach()[0] for m in maps],
        attributions=[(g * m).detach().sum(dim=1)[0] for g, m in zip(grads, maps)],
    )


def top_patches(patch_maps: torch.Tensor, count: int) -> torch.Tensor:
    """Indices (row-major on the grid) of the ``count`` largest entries of each map:
    ``(B, H', W') -> (B, count)``."""
    if patch_maps.dim() != 3:
        raise ValueError(f"expected per-patch maps shaped (B, H', W'), got {tuple(patch_maps.shape)}")
    if not 0 <= count <= patch_maps[0].numel():
        raise ValueError(f"count must be in 0..{patch_maps[0].numel()}, got {count}")
    return patch_maps.flatten(1).topk(count, dim=1).indices


def mask_patches(x: torch.Tensor, patch_size: int, patches: torch.Tensor) -> torch.Tensor:
    """A copy of the batch ``x`` ``(B, C, H, W)`` with the listed patches of each image set to 0
    (for normalised inputs: the dataset's mean colour). ``patches``: ``(B, m)`` row-major indices
    on the ``H/p x W/p`` grid."""
    batch, _, height, width = x.shape
    rows, cols = height // patch_size, width // patch_size
    keep = torch.ones(batch, rows * cols, dtype=x.dtype, device=x.device)
    keep.scatter_(1, patches.to(x.device), 0.0)
    keep = keep.view(batch, 1, rows, cols)
    keep = keep.repeat_interleave(patch_size, dim=2).repeat_interleave(patch_size, dim=3)
    return x * keep


@dataclass(frozen=True)
class DeletionResult:
    """Mean probability of each image's originally predicted class: as is, with the ``count``
    patches of largest CAM masked, and with ``count`` random patches masked; each with the
    standard error of that mean over the images (``*_error``: std / sqrt(B))."""

    count: int
    original: float
    top_masked: float
    random_masked: float
    original_error: float
    top_masked_error: float
    random_masked_error: float


def patch_deletion(
    model: ConvMixer, x: torch.Tensor, counts: Sequence[int], seed: int = 0,
) -> list[DeletionResult]:
    """A check that the CAM finds the patches that matter: for each ``count``, mask the ``count``
    patches with the largest CAM of the predicted class, or ``count`` random patches, and compare
    how much the probability of that class drops (averaged over the batch ``x``). Runs in eval
    mode; the random patches of a smaller count are among those of a larger one."""
    patch_size = model.stem.patch_size
    with eval_mode(model):
        features = model.forward_features(x)
        probabilities = model.head(features).softmax(1)
        predicted = probabilities.argmax(1)
        cams = _cam(features, model.head.fc.weight, predicted)
        grid = cams[0].numel()
        generator = torch.Generator().manual_seed(seed)
        shuffled = torch.stack([torch.randperm(grid, generator=generator) for _ in range(len(x))])

        def mean_and_error(probability: torch.Tensor) -> tuple[float, float]:
            error = probability.std() / len(probability) ** 0.5 if len(probability) > 1 else 0.0
            return float(probability.mean()), float(error)

        def masked_probability(masked: torch.Tensor) -> tuple[float, float]:
            return mean_and_error(model(masked).softmax(1).gather(1, predicted[:, None])[:, 0])

        original, original_error = mean_and_error(probabilities.gather(1, predicted[:, None])[:, 0])
        results = []
        for count in counts:
            top, top_error = masked_probability(mask_patches(x, patch_size, top_patches(cams, count)))
            random, random_error = masked_probability(mask_patches(x, patch_size, shuffled[:, :count]))
            results.append(DeletionResult(count, original, top, random, original_error, top_error, random_error))
        return results


def filter_movement(initial: torch.Tensor, trained: torch.Tensor) -> torch.Tensor:
    """How far each of the ``(h, ...)`` filters moved in training, relative to where it started:
    ``||trained[c] - initial[c]|| / ||initial[c]||`` (0: unchanged; 1: moved as far as it was long)."""
    if initial.shape != trained.shape:
        raise ValueError(f"need filters of one shape, got {tuple(initial.shape)} and {tuple(trained.shape)}")
    start = initial.detach().flatten(1).double()
    return ((trained.detach().flatten(1).double() - start).norm(dim=1) / start.norm(dim=1)).float()

