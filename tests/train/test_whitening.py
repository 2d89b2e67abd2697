"""Patch whitening of the stem (convmixer.train.whitening)."""

import pytest
import torch
import torch.nn.functional as F

from convmixer.data.augment import prepare_images
from convmixer.data.sample import cifar10_sample
from convmixer.model import ConvMixer, ConvMixerConfig
from convmixer.train.whitening import patch_whitening_filters, whiten_stem


def patch_vectors(images: torch.Tensor, p: int) -> torch.Tensor:
    x = prepare_images(images).double()
    return F.unfold(x, p, stride=p).transpose(1, 2).flatten(0, 1)


@pytest.mark.parametrize("p", [2, 4])
def test_filters_whiten_the_patches_they_were_computed_from(p):
    images = cifar10_sample().images
    filters = patch_whitening_filters(images, p, eps=1e-9)
    dim = 3 * p * p
    assert filters.shape == (2 * dim, 3, p, p)
    rows = filters[:dim].flatten(1).double()
    torch.testing.assert_close(filters[dim:], -filters[:dim])
    whitened = patch_vectors(images, p) @ rows.T
    moment = whitened.T @ whitened / len(whitened)
    torch.testing.assert_close(moment, torch.eye(dim, dtype=torch.float64), atol=2e-3, rtol=0)


def test_the_strongest_direction_comes_first_and_eps_bounds_the_gain():
    images = cifar10_sample().images
    filters = patch_whitening_filters(images, 4, eps=1e-2).flatten(1)
    norms = filters[:48].norm(dim=1)
    assert norms[0] < norms[-1]  # the strongest direction needs the least gain
    assert norms.max() <= 1 / 1e-2**0.5 + 1e-3  # gain is at most 1 / sqrt(eps)


def test_whiten_stem_sets_the_first_filters_and_keeps_the_rest():
    torch.manual_seed(0)
    images = cifar10_sample().images
    model = ConvMixer(ConvMixerConfig(128, 1, 3, 4))
    before = model.stem.conv.weight.detach().clone()
    assert whiten_stem(model, images) == 96
    torch.testing.assert_close(model.stem.conv.weight[:96], patch_whitening_filters(images, 4))
    torch.testing.assert_close(model.stem.conv.weight[96:], before[96:])
    narrow = ConvMixer(ConvMixerConfig(32, 1, 3, 4))
    assert whiten_stem(narrow, images) == 32


@pytest.mark.parametrize(
    "images, p, eps, message",
    [
        (torch.zeros(2, 3, 30, 30, dtype=torch.uint8), 4, 5e-4, "divisible by patch_size 4"),
        (torch.zeros(3, 32, 32, dtype=torch.uint8), 4, 5e-4, r"\(N, C, H, W\)"),
        (torch.zeros(2, 3, 32, 32, dtype=torch.uint8), 4, 0.0, "eps must be > 0"),
        (torch.zeros(2, 3, 32, 32, dtype=torch.uint8), 0, 5e-4, "patch_size must be an integer >= 1"),
    ],
)
def test_bad_input_is_one_sentence(images, p, eps, message):
    with pytest.raises(ValueError, match=message):
        patch_whitening_filters(images, p, eps)
