"""Data augmentation on whole batches, on the device the model runs on.

A batch of uint8 images ``(B, 3, H, W)`` goes through, in the order of the official ConvMixer
CIFAR-10 script (each step optional, see :class:`AugmentConfig`):

1. geometry: random crop of a zero-padded image, random-resized crop (square, area fraction in
   ``[scale, 1]``, bilinear), horizontal flip. All three are linear maps that *select* or
   *interpolate* rows and columns, so each image's geometry is one pair of matrices:
   ``out = R_y @ x @ R_x^T`` with ``R_y, R_x`` of shape ``(H, H), (W, W)``;
2. RandAugment (``N`` random operations per image at magnitude ``M``);
3. colour jitter (brightness, contrast, saturation factors in ``[1 - j, 1 + j]``);
4. normalisation with CIFAR-10's channel mean and standard deviation;
5. random erasing (a random rectangle set to 0, i.e. to the mean colour).

Every random number comes from the ``torch.Generator`` passed in, so a batch is a pure function
of the images, the configuration and the generator's state.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
import torchvision.transforms.v2.functional as TF

CIFAR10_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR10_STD = (0.2471, 0.2435, 0.2616)
MAGNITUDE_BINS = 31  # RandAugment's magnitude scale 0..30, as in torchvision


@dataclass(frozen=True)
class AugmentConfig:
    """Which augmentations to apply to training batches, and how strongly.

    - ``crop_padding``: random ``H x W`` crop of the image zero-padded by this many pixels
      (0: off). The classic CIFAR-10 recipe uses 4.
    - ``scale``: random-resized crop keeping an area fraction in ``[scale, 1]`` (square crops,
      resized back with bilinear interpolation); 1.0: off. The official script uses 0.75.
    - ``flip``: horizontal flip with probability 1/2.
    - ``alternate_flip``: with ``flip``, each image is flipped at random in the first epoch and
      then every other epoch, so that over any two epochs the model sees both of its sides (the
      fast CIFAR-10 trainers' "alternating flip"; :class:`convmixer.train.loader.BatchLoader`
      draws the flips and hands them to :func:`augment_batch`).
    - ``randaugment_ops`` / ``randaugment_magnitude``: RandAugment's ``N`` and ``M`` (``N = 0``:
      off). The official script uses ``N = 1, M = 8``.
    - ``jitter``: colour jitter strength ``j`` for brightness, contrast and saturation (0: off).
    - ``erase_prob``: probability of random erasing (0: off).
    """

    crop_padding: int = 4
    scale: float = 1.0
    flip: bool = True
    alternate_flip: bool = False
    randaugment_ops: int = 0
    randaugment_magnitude: int = 9
    jitter: float = 0.0
    erase_prob: float = 0.0

    def __post_init__(self) -> None:
        if self.crop_padding < 0:
            raise ValueError(f"crop_padding must be >= 0, got {self.crop_padding}")
        if not 0.0 < self.scale <= 1.0:
            raise ValueError(f"scale must be in (0, 1], got {self.scale}")
        if self.alternate_flip and not self.flip:
            raise ValueError("alternate_flip needs flip=True")
        if self.randaugment_ops < 0:
            raise ValueError(f"randaugment_ops must be >= 0, got {self.randaugment_ops}")
        if not 0 <= self.randaugment_magnitude < MAGNITUDE_BINS:
            raise ValueError(
                f"randaugment_magnitude must be in 0..{MAGNITUDE_BINS - 1}, "
                f"got {self.randaugment_magnitude}"
            )
        if not 0.0 <= self.jitter < 1.0:
            raise ValueError(f"jitter must be in [0, 1), got {self.jitter}")
        if not 0.0 <= self.erase_prob <= 1.0:
            raise ValueError(f"erase_prob must be in [0, 1], got {self.erase_prob}")


def to_float(images: torch.Tensor) -> torch.Tensor:
    """uint8 images in 0..255 -> float32 in [0, 1]."""
    if images.dtype != torch.uint8:
        raise ValueError(f"expected uint8 images, got dtype {images.dtype}")
    return images.float().div_(255)


def normalize(images: torch.Tensor) -> torch.Tensor:
    """``(x - mean) / std`` per channel, with CIFAR-10's training-set statistics."""
    mean = torch.tensor(CIFAR10_MEAN, device=images.device).view(1, 3, 1, 1)
    std = torch.tensor(CIFAR10_STD, device=images.device).view(1, 3, 1, 1)
    return (images - mean) / std


def prepare_images(images: torch.Tensor) -> torch.Tensor:
    """What a model sees at test time: uint8 ``(B, 3, H, W)`` -> normalised float32."""
    return normalize(to_float(images))


def augment_batch(
    images: torch.Tensor,
    config: AugmentConfig,
    generator: torch.Generator,
    *,
    size: int | None = None,
    flip: torch.Tensor | None = None,
    crop: bool = False,
) -> torch.Tensor:
    """Augment a uint8 batch ``(B, 3, H, W)`` and return it normalised, as float32.

    ``generator`` must live on ``images.device``; the result depends only on the images, the
    config, the generator's state and the options: ``size`` makes the output
    ``(B, 3, size, size)`` (square images, scaled down with antialiased bilinear interpolation as
    part of the geometry: progressive resizing), or with ``crop`` a random ``size x size`` window
    of each image at its own scale; ``flip`` (``B`` booleans) says which images to mirror instead
    of a coin flip (alternating flip; needs ``config.flip``).
    """
    if images.dim() != 4 or images.shape[1] != 3:
        raise ValueError(f"expected uint8 images shaped (B, 3, H, W), got {tuple(images.shape)}")
    x = to_float(images)
    x = random_geometry(x, config, generator, size, flip, crop)
    for _ in range(config.randaugment_ops):
        x = rand_augment(x, config.randaugment_magnitude, generator)
    if config.jitter > 0:
        x = color_jitter(x, config.jitter, generator)
    x = normalize(x)
    if config.erase_prob > 0:
        x = random_erase(x, config.erase_prob, generator)
    return x


# --- geometry as per-image row/column matrices ---------------------------------------------------


def _uniform(shape: tuple[int, ...], low: float, high: float, generator: torch.Generator) -> torch.Tensor:
    return torch.rand(shape, generator=generator, device=generator.device) * (high - low) + low


def _randint(high: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """One integer in ``[0, high)`` per entry of ``high`` (an integer tensor)."""
    return (torch.rand(high.shape, generator=generator, device=high.device) * high).long()


def window_matrices(starts: torch.Tensor, size: int, length: int) -> torch.Tensor:
    """``(B, size, length)`` matrices with ``M[b, i, starts[b] + i] = 1``: row ``i`` of the output
    reads row ``starts[b] + i`` of a ``length``-row input, at its own scale, and rows that fall
    outside read zeros."""
    i = torch.arange(size, device=starts.device)
    j = torch.arange(length, device=starts.device)
    return (j.view(1, 1, length) == (i.view(1, size, 1) + starts.view(-1, 1, 1))).float()


def shift_matrices(offsets: torch.Tensor, size: int) -> torch.Tensor:
    """``(B, size, size)`` matrices with ``M[b, i, i + offsets[b]] = 1``: row ``i`` of the output
    reads row ``i + offset`` of the input, and rows that fall outside read zeros."""
    return window_matrices(offsets, size, size)


def resize_matrices(starts: torch.Tensor, lengths: torch.Tensor, size: int) -> torch.Tensor:
    """``(B, size, size)`` bilinear-interpolation matrices that stretch the input rows
    ``[start, start + length)`` over all ``size`` output rows (``align_corners=False``, like
    ``F.interpolate`` on the cropped image)."""
    device = starts.device
    scale = (lengths.float() / size).view(-1, 1)
    source = ((torch.arange(size, device=device) + 0.5) * scale - 0.5).clamp_min(0)
    low = source.floor()
    weight_high = source - low
    low = low.long()
    high = torch.minimum(low + 1, lengths.view(-1, 1) - 1)
    offset = starts.view(-1, 1)
    matrices = torch.zeros(len(starts), size, size, device=device)
    matrices.scatter_add_(2, (low + offset).unsqueeze(2), (1 - weight_high).unsqueeze(2))
    matrices.scatter_add_(2, (high + offset).unsqueeze(2), weight_high.unsqueeze(2))
    return matrices


def scale_matrix(in_size: int, out_size: int, device: torch.device | str = "cpu") -> torch.Tensor:
    """The ``(out_size, in_size)`` matrix that resizes one axis as ``F.interpolate`` does with
    bilinear interpolation and antialiasing (each output row a weighted average of input rows)."""
    identity = torch.eye(in_size, device=device).view(1, 1, in_size, in_size)
    return F.interpolate(identity, size=(in_size, out_size), mode="bilinear", antialias=True, align_corners=False)[0, 0].T


def random_geometry(
    x: torch.Tensor,
    config: AugmentConfig,
    generator: torch.Generator,
    size: int | None = None,
    flip: torch.Tensor | None = None,
    crop: bool = False,
) -> torch.Tensor:
    """Random crop with padding, random-resized crop and horizontal flip, as configured, in one
    batched product ``R_y @ x @ R_x^T``; with ``size``, a final downscale to ``size x size`` (or,
    with ``crop``, a random ``size x size`` window) joins the product, and ``flip`` (booleans, one
    per image) replaces the coin flip (:func:`augment_batch`)."""
    batch, _, height, width = x.shape
    if flip is not None and (not config.flip or flip.shape != (batch,)):
        raise ValueError(f"flip must be {batch} booleans and needs config.flip=True")
    if size is not None and (height != width or not 1 <= size <= height):
        raise ValueError(f"can only scale square images down: {height}x{width} to {size}x{size}")
    if size == height:
        size = None
    if config.crop_padding == 0 and config.scale == 1.0 and not config.flip and size is None:
        return x
    device = x.device
    rows = torch.eye(height, device=device).expand(batch, height, height)
    cols = torch.eye(width, device=device).expand(batch, width, width)
    if config.crop_padding > 0:
        pad = config.crop_padding
        span = torch.full((batch,), 2 * pad + 1, device=device)
        rows = shift_matrices(_randint(span, generator) - pad, height) @ rows
        cols = shift_matrices(_randint(span, generator) - pad, width) @ cols
    if config.scale < 1.0:
        # torchvision's RandomResizedCrop with ratio (1, 1): side = round(sqrt(area)).
        area = _uniform((batch,), config.scale, 1.0, generator) * height * width
        side = area.sqrt().round().long().clamp(1, min(height, width))
        top = _randint(height - side + 1, generator)
        left = _randint(width - side + 1, generator)
        rows = resize_matrices(top, side, height) @ rows
        cols = resize_matrices(left, side, width) @ cols
    if config.flip:
        coin = torch.rand(batch, generator=generator, device=device) < 0.5
        flip = coin if flip is None else flip.to(device)
        mirror = torch.eye(width, device=device).flip(0)
        cols = torch.where(flip.view(-1, 1, 1), mirror @ cols, cols)
    if size is not None and crop:
        rows = window_matrices(_randint(torch.full((batch,), height - size + 1, device=device), generator),
                               size, height) @ rows
        cols = window_matrices(_randint(torch.full((batch,), width - size + 1, device=device), generator),
                               size, width) @ cols
    elif size is not None:
        scale = scale_matrix(height, size, device)
        rows, cols = scale @ rows, scale @ cols
    return torch.einsum("bij,bcjk,blk->bcil", rows, x, cols)


# --- RandAugment -------------------------------------------------------------------------------


def _magnitudes(magnitude: int, height: int, width: int) -> dict[str, float | None]:
    """The value of each RandAugment operation at ``magnitude`` (torchvision's table, 31 bins);
    ``None`` for operations without a magnitude."""

    def bin_of(high: float) -> float:
        return float(torch.linspace(0.0, high, MAGNITUDE_BINS)[magnitude])

    return {
        "Identity": None,
        "ShearX": bin_of(0.3),
        "ShearY": bin_of(0.3),
        "TranslateX": bin_of(150.0 / 331.0 * width),
        "TranslateY": bin_of(150.0 / 331.0 * height),
        "Rotate": bin_of(30.0),
        "Brightness": bin_of(0.9),
        "Color": bin_of(0.9),
        "Contrast": bin_of(0.9),
        "Sharpness": bin_of(0.9),
        "Posterize": float((8 - torch.arange(MAGNITUDE_BINS) / ((MAGNITUDE_BINS - 1) / 4)).round()[magnitude]),
        "Solarize": float(torch.linspace(1.0, 0.0, MAGNITUDE_BINS)[magnitude]),
        "AutoContrast": None,
        "Equalize": None,
    }


RANDAUGMENT_OPS = tuple(_magnitudes(0, 32, 32))
SIGNED_OPS = frozenset(
    ("ShearX", "ShearY", "TranslateX", "TranslateY", "Rotate", "Brightness", "Color", "Contrast", "Sharpness")
)


def apply_op(x: torch.Tensor, op: str, magnitude: float | None) -> torch.Tensor:
    """Apply one RandAugment operation with one (signed) magnitude to every image of ``x``
    (float in [0, 1]), exactly as torchvision's ``RandAugment`` applies it to one image."""
    if op == "Identity":
        return x
    if op in ("ShearX", "ShearY"):
        angle = math.degrees(math.atan(magnitude))
        shear = [angle, 0.0] if op == "ShearX" else [0.0, angle]
        return TF.affine(x, angle=0.0, translate=[0, 0], scale=1.0, shear=shear, center=[0, 0])
    if op in ("TranslateX", "TranslateY"):
        shift = [int(magnitude), 0] if op == "TranslateX" else [0, int(magnitude)]
        return TF.affine(x, angle=0.0, translate=shift, scale=1.0, shear=[0.0, 0.0])
    if op == "Rotate":
        return TF.rotate(x, angle=magnitude)
    if op == "Brightness":
        return TF.adjust_brightness(x, 1.0 + magnitude)
    if op == "Color":
        return TF.adjust_saturation(x, 1.0 + magnitude)
    if op == "Contrast":
        return TF.adjust_contrast(x, 1.0 + magnitude)
    if op == "Sharpness":
        return TF.adjust_sharpness(x, 1.0 + magnitude)
    if op == "Posterize":
        return TF.posterize(x, int(magnitude))
    if op == "Solarize":
        return TF.solarize(x, magnitude)
    if op == "AutoContrast":
        return TF.autocontrast(x)
    if op == "Equalize":
        return TF.equalize(x)
    raise ValueError(f"unknown RandAugment operation {op!r}; known: {', '.join(RANDAUGMENT_OPS)}")


def rand_augment(x: torch.Tensor, magnitude: int, generator: torch.Generator) -> torch.Tensor:
    """One round of RandAugment: every image gets one operation drawn uniformly from the 14 of
    :data:`RANDAUGMENT_OPS` (identity included), at ``magnitude``, with a random sign for the
    signed ones. Images sharing an operation and sign are transformed together."""
    batch, _, height, width = x.shape
    values = _magnitudes(magnitude, height, width)
    choice = torch.randint(len(RANDAUGMENT_OPS), (batch,), generator=generator, device=x.device)
    negative = torch.rand(batch, generator=generator, device=x.device) <= 0.5
    out = x.clone()
    for index, op in enumerate(RANDAUGMENT_OPS):
        if op == "Identity":
            continue
        signs = (False, True) if op in SIGNED_OPS else (None,)
        for sign in signs:
            chosen = choice == index
            if sign is not None:
                chosen &= negative == sign
            selected = chosen.nonzero().squeeze(1)
            if len(selected) == 0:
                continue
            value = values[op]
            if sign:
                value = -value
            out[selected] = apply_op(x[selected], op, value)
    return out


# --- colour jitter and random erasing -----------------------------------------------------------


def _grayscale(x: torch.Tensor) -> torch.Tensor:
    """ITU-R 601 luma ``0.2989 R + 0.587 G + 0.114 B``, shape ``(B, 1, H, W)``."""
    r, g, b = x.unbind(1)
    return (0.2989 * r + 0.587 * g + 0.114 * b).unsqueeze(1)


def _blend(x: torch.Tensor, other: torch.Tensor, factor: torch.Tensor) -> torch.Tensor:
    """``factor * x + (1 - factor) * other``, clamped to [0, 1]; one factor per image."""
    factor = factor.view(-1, 1, 1, 1)
    return (factor * x + (1 - factor) * other).clamp_(0, 1)


def color_jitter(x: torch.Tensor, strength: float, generator: torch.Generator) -> torch.Tensor:
    """Brightness, then contrast, then saturation, each scaled by a factor drawn per image from
    ``[1 - strength, 1 + strength]`` (torchvision's ``ColorJitter`` semantics, in a fixed order)."""
    batch = x.shape[0]
    brightness, contrast, saturation = (
        _uniform((batch,), 1 - strength, 1 + strength, generator) for _ in range(3)
    )
    x = _blend(x, torch.zeros_like(x), brightness)
    x = _blend(x, _grayscale(x).mean(dim=(1, 2, 3), keepdim=True), contrast)
    return _blend(x, _grayscale(x), saturation)


def random_erase(
    x: torch.Tensor,
    prob: float,
    generator: torch.Generator,
    area: tuple[float, float] = (0.02, 0.33),
    ratio: tuple[float, float] = (0.3, 3.3),
    attempts: int = 10,
) -> torch.Tensor:
    """torchvision's ``RandomErasing`` on each image with probability ``prob``: a rectangle of
    ``area`` fraction and aspect ``ratio`` (log-uniform) set to 0. As in torchvision, up to
    ``attempts`` draws are made per image and the first that fits inside it is used; an image
    where none fits is left as is."""
    batch, _, height, width = x.shape
    device = x.device
    erase = torch.rand(batch, generator=generator, device=device) < prob
    target = _uniform((batch, attempts), *area, generator) * height * width
    aspect = torch.exp(_uniform((batch, attempts), math.log(ratio[0]), math.log(ratio[1]), generator))
    h = (target * aspect).sqrt().round().long()
    w = (target / aspect).sqrt().round().long()
    fits = (h < height) & (w < width)
    first = fits.long().argmax(dim=1, keepdim=True)  # first attempt that fits (0 if none does)
    h, w = h.gather(1, first).squeeze(1), w.gather(1, first).squeeze(1)
    erase &= fits.any(dim=1)
    top = _randint((height - h + 1).clamp_min(1), generator)
    left = _randint((width - w + 1).clamp_min(1), generator)
    i = torch.arange(height, device=device).view(1, height, 1)
    j = torch.arange(width, device=device).view(1, 1, width)
    inside = (
        (i >= top.view(-1, 1, 1))
        & (i < (top + h).view(-1, 1, 1))
        & (j >= left.view(-1, 1, 1))
        & (j < (left + w).view(-1, 1, 1))
    )
    mask = inside & erase.view(-1, 1, 1)
    return x.masked_fill(mask.unsqueeze(1), 0.0)
