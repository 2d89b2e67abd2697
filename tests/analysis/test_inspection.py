"""Filters, kernels, feature maps, class activation maps and patch deletion (notebook 06), checked
against independent computations."""

import math

import pytest
import torch
from support import as_input, small_model

from convmixer.analysis.inspection import (
    class_activation_map,
    depthwise_kernels,
    inspect_image,
    kernel_smoothness,
    kernel_spread,
    mask_patches,
    patch_deletion,
    patch_embedding_filters,
    patch_norms,
    stage_names,
    top_patches,
)
from convmixer.data.sample import cifar10_sample


@pytest.fixture(scope="module")
def images() -> torch.Tensor:
    return cifar10_sample().images[:4]


# --- weights -------------------------------------------------------------------------------------


def test_filters_and_kernels_are_detached_copies_of_the_weights():
    model = small_model(kernel_size=5)
    filters = patch_embedding_filters(model)
    assert filters.shape == (8, 3, 4, 4) and not filters.requires_grad
    torch.testing.assert_close(filters, model.stem.conv.weight.detach())
    kernels = depthwise_kernels(model)
    assert len(kernels) == 2 and all(k.shape == (8, 5, 5) for k in kernels)
    for kernel, block in zip(kernels, model.blocks):
        torch.testing.assert_close(kernel, block.spatial.conv.weight.detach()[:, 0])
    filters.zero_()
    kernels[0].zero_()
    assert model.stem.conv.weight.abs().sum() > 0
    assert model.blocks[0].spatial.conv.weight.abs().sum() > 0


@pytest.mark.parametrize("k", [1, 3, 4, 5, 9])
def test_spread_of_flat_kernels_is_the_rms_distance_from_the_centre(k):
    # mean of r^2 over a k x k grid centred at ((k-1)/2, (k-1)/2) is 2 * (k^2 - 1) / 12
    flat = torch.full((k, k), -0.3)
    assert kernel_spread(flat).item() == pytest.approx(math.sqrt((k * k - 1) / 6), rel=1e-6)


def test_spread_of_point_kernels_is_their_distance():
    centre = torch.zeros(5, 5)
    centre[2, 2] = 4.0
    corner = torch.zeros(5, 5)
    corner[0, 4] = -1.0
    two_points = torch.zeros(5, 5)
    two_points[2, 2], two_points[2, 4] = 1.0, 1.0  # distances 0 and 2, equal energy
    spreads = kernel_spread(torch.stack([centre, corner, two_points, torch.zeros(5, 5)]))
    torch.testing.assert_close(spreads, torch.tensor([0.0, math.sqrt(8), math.sqrt(2), 0.0]))


def test_spread_ignores_scale_and_keeps_leading_dimensions():
    kernels = torch.randn(2, 3, 7, 7)
    spreads = kernel_spread(kernels)
    assert spreads.shape == (2, 3)
    torch.testing.assert_close(kernel_spread(-5 * kernels), spreads)


def test_spread_rejects_non_square_kernels():
    with pytest.raises(ValueError, match="square kernels"):
        kernel_spread(torch.zeros(3, 5))
    with pytest.raises(ValueError, match="square kernels"):
        kernel_spread(torch.zeros(5))


def test_smoothness_tells_smooth_kernels_from_noise_and_checkerboards():
    ramp = torch.arange(5.0)[None, :].expand(5, 5)  # neighbours along a row differ by 1
    checkerboard = (-1.0) ** (torch.arange(5)[:, None] + torch.arange(5)[None, :])
    flat, point = torch.full((5, 5), 2.0), torch.zeros(5, 5)
    point[2, 2] = 1.0
    values = kernel_smoothness(torch.stack([ramp, checkerboard, flat, point]))
    # ramp: v = column - 2; horizontal pairs mean (-2*-1 + -1*0 + 0*1 + 1*2)/4 = 1, vertical = mean v^2 = 2
    assert values[0].item() == pytest.approx((1.0 + 2.0) / 2 / 2.0)
    checker_v = checkerboard - checkerboard.mean()
    expected = ((checker_v[:, 1:] * checker_v[:, :-1]).mean() + (checker_v[1:] * checker_v[:-1]).mean()) / 2
    assert values[1].item() == pytest.approx(float(expected / (checker_v**2).mean()))
    assert values[1].item() < -0.9
    assert values[2].item() == 0.0 and values[3].item() < 0
    torch.manual_seed(0)
    noise = kernel_smoothness(torch.randn(2000, 5, 5))
    assert abs(noise.mean().item()) < 0.05
    assert kernel_smoothness(torch.ones(3, 1, 1)).tolist() == [0.0, 0.0, 0.0]
    with pytest.raises(ValueError, match="square kernels"):
        kernel_smoothness(torch.zeros(2, 3))


# --- activations and attributions ----------------------------------------------------------------


def test_stage_names():
    assert stage_names(3) == ["stem", "block 1", "block 2", "block 3"]


def test_patch_norms_are_norms_over_channels():
    maps = torch.randn(2, 8, 4, 5)
    norms = patch_norms(maps)
    assert norms.shape == (2, 4, 5)
    assert norms[1, 3, 2].item() == pytest.approx(float((maps[1, :, 3, 2] ** 2).sum().sqrt()), rel=1e-5)
    torch.testing.assert_close(patch_norms(maps[0]), norms[0])
    with pytest.raises(ValueError, match="feature map"):
        patch_norms(torch.zeros(4, 5))


def test_class_activation_map_averages_to_the_logit_minus_bias(images):
    model = small_model()
    x = as_input(images)
    model.eval()
    with torch.no_grad():
        logits = model(x)
    model.train()
    bias = model.head.fc.bias.detach()
    for target in (0, 7):
        cam = class_activation_map(model, x, target)
        assert cam.shape == (4, 8, 8)
        torch.testing.assert_close(cam.mean(dim=(1, 2)) + bias[target], logits[:, target])
    per_image = torch.tensor([1, 2, 3, 9])
    cam = class_activation_map(model, x, per_image)
    torch.testing.assert_close(cam.mean(dim=(1, 2)) + bias[per_image], logits[torch.arange(4), per_image])
    assert model.training, "the model's mode is restored"


def test_class_activation_map_rejects_unknown_classes(images):
    with pytest.raises(ValueError, match="class index must be in 0..9, got 10"):
        class_activation_map(small_model(), as_input(images), 10)
    with pytest.raises(ValueError, match="got -1"):
        class_activation_map(small_model(), as_input(images), torch.tensor([0, 1, -1, 2]))


@pytest.mark.parametrize("kernel_size", [3, 4])
def test_inspect_image_matches_the_model(images, kernel_size):
    model = small_model(kernel_size)
    x = as_input(images[:1])[0]
    result = inspect_image(model, x)
    model.eval()
    with torch.no_grad():
        expected_maps = model.feature_maps(x[None])
        logits = model(x[None])[0]
    model.train()
    assert model.training and all(p.grad is None for p in model.parameters())
    assert len(result.feature_maps) == len(result.attributions) == 3
    for got, expected in zip(result.feature_maps, expected_maps):
        torch.testing.assert_close(got, expected[0])
    assert all(a.shape == (8, 8) for a in result.attributions)
    torch.testing.assert_close(result.logits, logits)
    torch.testing.assert_close(result.probabilities, logits.softmax(0))
    assert result.target == result.prediction == int(logits.argmax())


def test_last_attribution_is_the_class_activation_map_over_n(images):
    model = small_model()
    x = as_input(images[1:2])
    result = inspect_image(model, x[0], target=4)
    assert result.target == 4
    torch.testing.assert_close(result.attributions[-1] * 64, class_activation_map(model, x, 4)[0])


def test_attributions_sum_to_the_directional_derivative_of_the_logit(images):
    """sum_ij A_l(i, j) = d/de y_c(z_l * (1 + e)) at e = 0, computed by finite differences."""
    model = small_model().double().eval()
    x = as_input(images[2:3]).double()
    target = 5
    result = inspect_image(model, x[0], target=target)

    def logit_from(layer: int, scale: float) -> float:
        with torch.no_grad():
            z = model.feature_maps(x)[layer] * scale
            for block in model.blocks[layer:]:
                z = block(z)
            return float(model.head(z)[0, target])

    eps = 1e-6
    for layer in range(3):
        derivative = (logit_from(layer, 1 + eps) - logit_from(layer, 1 - eps)) / (2 * eps)
        assert float(result.attributions[layer].sum()) == pytest.approx(derivative, rel=1e-5, abs=1e-8)


def test_inspect_image_rejects_bad_input():
    model = small_model()
    with pytest.raises(ValueError, match="one image shaped"):
        inspect_image(model, torch.zeros(1, 3, 32, 32))
    with pytest.raises(ValueError, match="class index"):
        inspect_image(model, torch.zeros(3, 32, 32), target=12)
    with pytest.raises(ValueError, match="not divisible by the patch size"):
        inspect_image(model, torch.zeros(3, 30, 30))


def test_top_patches_picks_the_largest_entries():
    maps = torch.tensor([[[0.0, 5.0], [3.0, -1.0]], [[9.0, 1.0], [2.0, 8.0]]])
    assert top_patches(maps, 2).tolist() == [[1, 2], [0, 3]]
    assert top_patches(maps, 0).shape == (2, 0)
    with pytest.raises(ValueError, match="count must be in 0..4, got 5"):
        top_patches(maps, 5)


def test_mask_patches_zeroes_exactly_the_listed_patches():
    x = torch.arange(2 * 3 * 8 * 8, dtype=torch.float32).view(2, 3, 8, 8) + 1
    masked = mask_patches(x, 4, torch.tensor([[1], [2]]))  # grid 2x2: patch 1 = top right, 2 = bottom left
    zero = masked == 0
    assert zero[0, :, :4, 4:].all() and zero[1, :, 4:, :4].all()
    assert int(zero.sum()) == 2 * 3 * 16
    assert torch.equal(masked[~zero], x[~zero])
    assert torch.equal(mask_patches(x, 4, torch.zeros(2, 0, dtype=torch.long)), x)


def test_patch_deletion_compares_cam_patches_with_random_ones(images):
    model = small_model()
    x = as_input(images)
    none, some, everything = patch_deletion(model, x, counts=[0, 8, 64], seed=1)
    assert model.training, "the model's mode is restored"
    assert none.original == none.top_masked == none.random_masked
    assert everything.top_masked == pytest.approx(everything.random_masked)  # all patches masked
    model.eval()
    with torch.no_grad():
        probabilities = model(x).softmax(1)
        predicted = probabilities.argmax(1)
        top = top_patches(class_activation_map(model, x, predicted), 8)
        expected = model(mask_patches(x, 4, top)).softmax(1).gather(1, predicted[:, None]).mean()
    assert some.count == 8
    assert some.original == pytest.approx(float(probabilities.max(1).values.mean()))
    assert some.top_masked == pytest.approx(float(expected))
    assert some.random_masked != pytest.approx(some.top_masked)
