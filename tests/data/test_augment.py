"""Batched augmentation: determinism, and agreement with torchvision's per-image transforms."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
import torchvision.transforms.v2 as T
import torchvision.transforms.v2.functional as TF

from convmixer.data.augment import (
    CIFAR10_MEAN,
    CIFAR10_STD,
    RANDAUGMENT_OPS,
    SIGNED_OPS,
    AugmentConfig,
    _magnitudes,
    apply_op,
    augment_batch,
    color_jitter,
    normalize,
    prepare_images,
    rand_augment,
    random_erase,
    random_geometry,
    resize_matrices,
)
from convmixer.data.sample import cifar10_sample

PAPER = AugmentConfig(crop_padding=0, scale=0.75, flip=True, randaugment_ops=1, randaugment_magnitude=8, jitter=0.1, erase_prob=0.25)

pytestmark = pytest.mark.usefixtures("single_threaded")  # see support.single_thread


@pytest.fixture(scope="module")
def images() -> torch.Tensor:
    return cifar10_sample().images[:64]


def generator(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_same_seed_same_batch_other_seed_other_batch(images):
    a = augment_batch(images, PAPER, generator(0))
    b = augment_batch(images, PAPER, generator(0))
    c = augment_batch(images, PAPER, generator(1))
    assert a.dtype == torch.float32 and a.shape == images.shape
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


def test_no_augmentation_is_normalisation_only(images):
    plain = AugmentConfig(crop_padding=0, flip=False)
    assert torch.equal(augment_batch(images, plain, generator(0)), prepare_images(images))
    mean = torch.tensor(CIFAR10_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(CIFAR10_STD).view(1, 3, 1, 1)
    torch.testing.assert_close(normalize(images.float() / 255), (images.float() / 255 - mean) / std)


def test_padded_crop_and_flip_are_shifts_and_mirrors(images):
    x = images.float() / 255
    out = random_geometry(x, AugmentConfig(crop_padding=4, flip=True), generator(5))
    padded = F.pad(x, (4, 4, 4, 4))
    flips = 0
    for image, result in zip(padded, out):
        candidates = [image[:, dy : dy + 32, dx : dx + 32] for dy in range(9) for dx in range(9)]
        plain = any(torch.equal(result, c) for c in candidates)
        mirrored = any(torch.equal(result, c.flip(-1)) for c in candidates)
        assert plain or mirrored
        flips += mirrored and not plain
    assert 16 < flips < 48  # about half of 64


def test_resize_matrices_match_interpolate_of_the_crop(images):
    x = images[:4].float()
    top, left, side = torch.tensor([0, 3, 1, 4]), torch.tensor([4, 0, 1, 1]), torch.tensor([28, 29, 31, 28])
    rows, cols = resize_matrices(top, side, 32), resize_matrices(left, side, 32)
    out = torch.einsum("bij,bcjk,blk->bcil", rows, x, cols)
    for b in range(4):
        crop = x[b : b + 1, :, top[b] : top[b] + side[b], left[b] : left[b] + side[b]]
        expected = F.interpolate(crop, size=(32, 32), mode="bilinear", align_corners=False)
        torch.testing.assert_close(out[b : b + 1], expected, atol=1e-3, rtol=1e-5)


def test_resized_crop_keeps_at_least_the_scale_of_the_area(images):
    # A crop of side s stretched to 32 repeats rows: distinct rows <= s, and s^2 >= scale * 32^2.
    x = torch.arange(32.0).view(1, 1, 32, 1).expand(8, 3, 32, 32).contiguous()
    out = random_geometry(x, AugmentConfig(crop_padding=0, scale=0.75, flip=False), generator(2))
    first_row = out[:, 0, :, 0]
    low, high = first_row[:, 0], first_row[:, -1]
    assert torch.all(high - low >= 0.75**0.5 * 32 - 2) and torch.all(high - low <= 31)


OP_SIGNS = [(op, negative) for op in RANDAUGMENT_OPS for negative in ((False, True) if op in SIGNED_OPS else (False,))]


def drawn_op(seed: int) -> tuple[str, bool]:
    """The (operation, negative sign) that torchvision's RandAugment (one op) draws after
    ``torch.manual_seed(seed)``: an index into its 14 operations, then, for a signed one,
    ``rand() <= 0.5`` for a negative magnitude."""
    torch.manual_seed(seed)
    op = RANDAUGMENT_OPS[int(torch.randint(len(RANDAUGMENT_OPS), ()))]
    return op, op in SIGNED_OPS and bool(torch.rand(()) <= 0.5)


@pytest.mark.parametrize("op, negative", OP_SIGNS)
def test_rand_augment_ops_match_torchvision(images, op, negative):
    """Every (operation, sign) pair against torchvision: take the first seed under which its
    RandAugment draws that pair, and compare its output on one image with ours."""
    seed = next(s for s in range(10_000) if drawn_op(s) == (op, negative))
    image = images[OP_SIGNS.index((op, negative))].float() / 255
    torch.manual_seed(seed)
    expected = T.RandAugment(num_ops=1, magnitude=8)(image)
    value = _magnitudes(8, 32, 32)[op]
    ours = apply_op(image.unsqueeze(0).repeat(3, 1, 1, 1), op, -value if negative else value)
    for copy in ours:  # the batched op gives every image the per-image result
        torch.testing.assert_close(copy, expected, atol=1e-6, rtol=0)


def test_rand_augment_gives_each_image_one_op(images):
    x = images.float() / 255
    out = rand_augment(x, 8, generator(3))
    candidates = []
    for op in RANDAUGMENT_OPS:
        value = _magnitudes(8, 32, 32)[op]
        candidates.append(apply_op(x, op, value))
        if op in SIGNED_OPS:
            candidates.append(apply_op(x, op, -value))
    matched = [any(torch.equal(out[i], c[i]) for c in candidates) for i in range(len(x))]
    assert all(matched)
    assert (out != x).flatten(1).any(1).sum() > len(x) // 2


def test_unknown_op_is_named():
    with pytest.raises(ValueError, match="unknown RandAugment operation 'Invert'"):
        apply_op(torch.zeros(1, 3, 4, 4), "Invert", None)


def test_color_jitter_matches_torchvision_with_the_same_factors(images):
    x = images[:8].float() / 255
    out = color_jitter(x, 0.4, generator(7))
    g = generator(7)
    factors = [torch.rand(8, generator=g) * 0.8 + 0.6 for _ in range(3)]
    for i in range(8):
        expected = TF.adjust_brightness(x[i], float(factors[0][i]))
        expected = TF.adjust_contrast(expected, float(factors[1][i]))
        expected = TF.adjust_saturation(expected, float(factors[2][i]))
        torch.testing.assert_close(out[i], expected, atol=1e-5, rtol=1e-5)


def test_random_erase_clears_one_rectangle_with_the_given_probability():
    x = torch.ones(400, 3, 32, 32)
    out = random_erase(x, 0.25, generator(11))
    erased = out[:, 0] == 0
    counts = erased.flatten(1).sum(1)
    assert 70 < int((counts > 0).sum()) < 130  # about 100 of 400
    for mask in erased[counts > 0]:
        rows, cols = mask.any(1).nonzero().flatten(), mask.any(0).nonzero().flatten()
        box = mask[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
        assert box.all() and int(mask.sum()) == box.numel()  # one filled rectangle
        assert 0.02 * 1024 * 0.5 <= box.numel() <= 0.33 * 1024 * 1.3
    assert torch.equal(out[:, 0], out[:, 2])  # all channels erased alike


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("crop_padding", -1, "crop_padding must be >= 0"),
        ("scale", 0.0, r"scale must be in \(0, 1\]"),
        ("randaugment_ops", -1, "randaugment_ops must be >= 0"),
        ("randaugment_magnitude", 31, "randaugment_magnitude must be in 0..30"),
        ("jitter", 1.0, r"jitter must be in \[0, 1\)"),
        ("erase_prob", 1.5, r"erase_prob must be in \[0, 1\]"),
    ],
)
def test_bad_config_is_one_sentence(field, value, message):
    with pytest.raises(ValueError, match=message):
        AugmentConfig(**{field: value})


def test_bad_images_are_rejected():
    with pytest.raises(ValueError, match="expected uint8 images, got dtype torch.float32"):
        augment_batch(torch.zeros(2, 3, 8, 8), PAPER, generator(0))
    with pytest.raises(ValueError, match=r"expected uint8 images shaped \(B, 3, H, W\)"):
        augment_batch(torch.zeros(3, 8, 8, dtype=torch.uint8), PAPER, generator(0))
