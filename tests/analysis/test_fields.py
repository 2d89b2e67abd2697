"""The effective receptive field: where it can be non-zero, how it averages over images, known
answers for hand-set kernels, and the two numbers that summarise it."""

import pytest
import torch

from convmixer import ConvMixer, ConvMixerConfig
from convmixer.analysis.fields import (
    centre_position,
    effective_receptive_field,
    effective_side,
    own_patch_share,
    ring_mass,
)
from convmixer.viz.fields import erf_figure
from convmixer.viz.model import receptive_box


def seeded_model(dim=8, depth=2, kernel_size=3, patch_size=2, seed=0):
    torch.manual_seed(seed)
    return ConvMixer(ConvMixerConfig(dim, depth, kernel_size, patch_size))


def images(count=3, size=32, seed=1):
    return torch.randn(count, 3, size, size, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("k, p, d", [(3, 2, 2), (4, 2, 3), (5, 4, 1), (2, 1, 4)])
def test_erf_is_non_zero_exactly_inside_the_theoretical_receptive_field(k, p, d):
    model = seeded_model(kernel_size=k, patch_size=p, depth=d)
    erf = effective_receptive_field(model, images())
    row, col = centre_position(32, 32, p)
    top, left, side = receptive_box(k, p, d, row, col)
    inside = torch.zeros(32, 32, dtype=torch.bool)
    inside[max(top, 0) : top + side, max(left, 0) : left + side] = True
    assert erf.shape == (32, 32)
    assert (erf[~inside] == 0).all()
    assert (erf[inside] > 0).all()


def test_erf_of_a_batch_is_the_mean_of_the_single_image_erfs():
    model = seeded_model(depth=3)
    x = images(4)
    singles = torch.stack([effective_receptive_field(model, x[i : i + 1]) for i in range(4)])
    torch.testing.assert_close(effective_receptive_field(model, x), singles.mean(0))


def test_erf_is_the_gradient_of_the_summed_centre_output():
    model = seeded_model(depth=2).eval()
    x = images(1).requires_grad_(True)
    features = model.blocks(model.stem(x))
    features[0, :, 8, 8].sum().backward()
    torch.testing.assert_close(effective_receptive_field(model, x.detach()), x.grad[0].abs().sum(0))


def test_erf_leaves_mode_and_parameter_gradients_alone():
    model = seeded_model().train()
    effective_receptive_field(model, images())
    assert model.training
    assert all(parameter.grad is None for parameter in model.parameters())


def test_after_the_stem_a_position_sees_only_its_own_patch():
    model = seeded_model(patch_size=4)
    erf = effective_receptive_field(model, images(), blocks=0, position=(2, 5))
    assert own_patch_share(erf, 4, (2, 5)) == pytest.approx(1.0)
    assert effective_side(erf, 4, (2, 5), fraction=1.0) == 4
    assert erf[8:12, 20:24].gt(0).all()


def test_a_depthwise_kernel_with_one_tap_moves_the_field_by_one_patch():
    # Depth-wise weights that only read the right-hand neighbour: block 1's output at (4, 4)
    # depends on patch (4, 4) (the skip) and on patch (4, 5), nothing else.
    model = seeded_model(depth=1, kernel_size=3, patch_size=4)
    with torch.no_grad():
        model.blocks[0].spatial.conv.weight.zero_()
        model.blocks[0].spatial.conv.weight[:, 0, 1, 2] = 1.0
    erf = effective_receptive_field(model, images(), position=(4, 4))
    support = erf > 0
    expected = torch.zeros(32, 32, dtype=torch.bool)
    expected[16:20, 16:24] = True
    assert torch.equal(support, expected)


def test_ring_mass_side_and_share_on_a_flat_square():
    # p = 2, position (3, 3): the patch is pixels 6..7; a flat 6x6 square around it (pixels 4..9)
    erf = torch.zeros(16, 16)
    erf[4:10, 4:10] = 1.0
    mass = ring_mass(erf, 2, (3, 3))
    assert mass.tolist()[:3] == [4.0, 12.0, 20.0] and mass[3:].sum() == 0
    assert own_patch_share(erf, 2, (3, 3)) == pytest.approx(4 / 36)
    assert effective_side(erf, 2, (3, 3), fraction=4 / 36) == 2
    assert effective_side(erf, 2, (3, 3), fraction=0.4) == 4  # 16/36 of it within 4x4
    assert effective_side(erf, 2, (3, 3), fraction=0.5) == 6
    assert effective_side(erf, 2, (3, 3), fraction=1.0) == 6


def test_bad_input_raises_one_clear_sentence():
    model = seeded_model(patch_size=4)
    with pytest.raises(ValueError, match=r"expected images shaped \(B, 3, H, W\)"):
        effective_receptive_field(model, images()[0])
    with pytest.raises(ValueError, match="not divisible by the patch size 4"):
        effective_receptive_field(model, torch.randn(1, 3, 30, 30))
    with pytest.raises(ValueError, match="blocks must be an integer between 0 and 2, got 3"):
        effective_receptive_field(model, images(), blocks=3)
    with pytest.raises(ValueError, match="row must be an integer between 0 and 7, got 8"):
        effective_receptive_field(model, images(), position=(8, 0))
    with pytest.raises(ValueError, match="zero everywhere"):
        effective_side(torch.zeros(8, 8), 2, (1, 1))
    with pytest.raises(ValueError, match=r"fraction must be in \(0, 1\]"):
        effective_side(torch.ones(8, 8), 2, (1, 1), fraction=0)
    with pytest.raises(ValueError, match=r"shaped \(H, W\)"):
        own_patch_share(torch.ones(1, 8, 8), 2, (1, 1))


def test_erf_figure_shares_one_colour_scale_and_says_what_is_missing():
    model = seeded_model(patch_size=4, depth=2)
    sharp = effective_receptive_field(model, images(), blocks=0)
    broad = effective_receptive_field(model, images(), blocks=2)
    fig = erf_figure({"sharp": sharp, "broad": broad, "absent": None}, own_patch=(16, 16, 4),
                     receptive_fields={"broad": (0, 0, 20)}, missing="nothing here")
    panels = [ax for ax in fig.axes if ax.get_title()]
    assert [ax.get_title() for ax in panels] == ["sharp", "broad", "absent"]
    drawn = [ax.images[0] for ax in panels[:2]]
    assert drawn[0].norm is drawn[1].norm  # one scale for the comparison ...
    assert drawn[0].norm.vmax == pytest.approx(float((sharp / sharp.sum()).max()), rel=1e-5)
    assert len(fig.axes) == 4  # ... and one colour bar
    torch.testing.assert_close(torch.as_tensor(drawn[1].get_array().data).double().sum(),
                               torch.tensor(1.0, dtype=torch.float64), atol=1e-5, rtol=0)
    assert [len(ax.patches) for ax in panels[:2]] == [1, 2]  # own patch, + the theoretical field
    assert panels[2].texts[0].get_text() == "nothing here"
    with pytest.raises(ValueError, match="at least one ERF map"):
        erf_figure({}, own_patch=(0, 0, 4))
