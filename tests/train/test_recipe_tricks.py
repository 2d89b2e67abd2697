"""The fast CIFAR-10 trainers' tricks the engine offers, and fit's held-out validation curve:
progressive resizing, alternating flip, Dirac-initialised depth-wise kernels, a larger learning
rate for BatchNorm biases, lookahead with a fast BatchNorm momentum, and the test set read once."""

from __future__ import annotations

import dataclasses

import pytest
import torch
import torch.nn.functional as F
from support import TINY, synthetic

import convmixer.train.loader
from convmixer.data.augment import AugmentConfig, augment_batch, prepare_images
from convmixer.layers import DepthwiseConv2d
from convmixer.train import BatchLoader, build_model, build_optimizer, build_schedule, fit
from convmixer.train.acceleration import Acceleration
from convmixer.train.evaluate import evaluate
from convmixer.train.lookahead import DECAY_POWER, STEP_DECAY, Lookahead

pytestmark = pytest.mark.usefixtures("single_threaded")


@pytest.fixture(scope="module")
def train_set():
    return synthetic(20, seed=1, split="train")


@pytest.fixture(scope="module")
def test_set():
    return synthetic(5, seed=2)


def uint8_images(count: int, seed: int = 0) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, (count, 3, 32, 32), dtype=torch.uint8, generator=generator)


# --- progressive resizing --------------------------------------------------------------------------


def test_a_smaller_size_is_the_same_augmentation_scaled_down():
    images, config = uint8_images(6), AugmentConfig(crop_padding=4, flip=True)
    full = augment_batch(images, config, torch.Generator().manual_seed(3))
    small = augment_batch(images, config, torch.Generator().manual_seed(3), size=24)
    assert small.shape == (6, 3, 24, 24)
    expected = F.interpolate(full, size=(24, 24), mode="bilinear", antialias=True, align_corners=False)
    torch.testing.assert_close(small, expected, atol=1e-4, rtol=1e-4)


def test_a_cropped_size_is_a_window_of_the_same_augmentation_at_its_own_scale():
    images, config = uint8_images(64), AugmentConfig(crop_padding=4, flip=True)
    full = augment_batch(images, config, torch.Generator().manual_seed(3))
    small = augment_batch(images, config, torch.Generator().manual_seed(3), size=24, crop=True)
    assert small.shape == (64, 3, 24, 24)
    corners = set()
    for image, window in zip(full, small):  # each window is an unscaled 24 x 24 piece of its image
        found = [(top, left) for top in range(9) for left in range(9)
                 if torch.equal(image[:, top:top + 24, left:left + 24], window)]
        assert found, "a cropped image is not a window of the full augmentation"
        corners.add(found[0])
    assert len(corners) > 20  # windows drawn at random, not one fixed place


def test_sizes_that_cannot_be_reached_are_one_sentence():
    with pytest.raises(ValueError, match="can only scale square images down: 32x32 to 40x40"):
        augment_batch(uint8_images(2), AugmentConfig(), torch.Generator(), size=40)


def test_progressive_profile_checks_its_size_and_says_which_epochs_are_small():
    profile = TINY.replace(epochs=4, progressive_size=24, progressive_epochs=2)
    assert [profile.train_size(e) for e in range(4)] == [24, 24, None, None]
    with pytest.raises(ValueError, match="multiple of the patch size 4 and at most 32, got 22"):
        TINY.replace(progressive_size=22, progressive_epochs=1)
    with pytest.raises(ValueError, match="needs both progressive_size and progressive_epochs"):
        TINY.replace(progressive_size=24)
    with pytest.raises(ValueError, match="progressive_mode must be one of scale, crop, got 'zoom'"):
        TINY.replace(progressive_mode="zoom")


@pytest.mark.parametrize("mode", ["scale", "crop"])
def test_fit_trains_the_first_epochs_small_and_evaluates_full_size(train_set, test_set, monkeypatch, mode):
    sizes = []

    def recording(images, config, generator, *, size=None, flip=None, crop=False):
        sizes.append((size, crop))
        return augment_batch(images, config, generator, size=size, flip=flip, crop=crop)

    monkeypatch.setattr(convmixer.train.loader, "augment_batch", recording)
    profile = TINY.replace(epochs=3, progressive_size=16, progressive_epochs=2, progressive_mode=mode)
    result = fit(profile, train=train_set, test=test_set, device="cpu", progress=False)
    steps = len(train_set) // profile.batch_size
    assert sizes == [(16, mode == "crop")] * (2 * steps) + [(None, mode == "crop")] * steps
    assert result.evaluation.accuracy == evaluate(result.model, test_set).accuracy  # 32 x 32 test images


# --- alternating flip ------------------------------------------------------------------------------


def mirrored(batch: torch.Tensor, sources: torch.Tensor) -> list[bool]:
    """For each augmented image, whether it is its source mirrored (True) or as it was (False)."""
    plain = prepare_images(sources)
    answers = []
    for image in batch:
        distances = ((plain - image) ** 2).flatten(1).sum(1), ((plain.flip(-1) - image) ** 2).flatten(1).sum(1)
        answers.append(bool(distances[1].min() < distances[0].min()))
    return answers


def test_alternating_flip_shows_each_image_mirrored_in_exactly_one_of_two_epochs(train_set):
    augment = AugmentConfig(crop_padding=0, flip=True, alternate_flip=True)
    loader = BatchLoader(train_set, 50, augment, seed=5, device="cpu")
    flipped = {}
    for epoch in range(3):
        order = convmixer.train.loader.epoch_order(len(train_set), 5, epoch)
        for step, (images, _) in enumerate(loader.batches(epoch)):
            index = order[step * 50 : (step + 1) * 50]
            for i, was in zip(index.tolist(), mirrored(images, train_set.images)):
                flipped.setdefault(i, []).append(was)
    assert len(flipped) == 200 and all(len(v) == 3 for v in flipped.values())
    assert all(v[0] != v[1] and v[0] == v[2] for v in flipped.values())
    share = sum(v[0] for v in flipped.values()) / 200
    assert 0.35 < share < 0.65  # the first epoch's flips are coins


def test_alternating_flip_needs_flip():
    with pytest.raises(ValueError, match="alternate_flip needs flip=True"):
        AugmentConfig(flip=False, alternate_flip=True)


# --- initialisation and optimizer ------------------------------------------------------------------


def test_dirac_depthwise_starts_half_the_kernels_as_the_identity():
    for k in (3, 4):
        profile = TINY.replace(model_overrides={**TINY.model_overrides, "kernel_size": k}, dirac_depthwise=True, stem_init="random")
        model, random = build_model(profile), build_model(profile.replace(dirac_depthwise=False))
        convs = [m for m in model.modules() if isinstance(m, DepthwiseConv2d)]
        assert len(convs) == 2
        x = torch.randn(2, 16, 8, 8)
        for conv in convs:
            out = conv(x) - conv.bias.view(1, -1, 1, 1)
            torch.testing.assert_close(out[:, :8], x[:, :8])  # the identity, for odd and even k
        other = [m for m in random.modules() if isinstance(m, DepthwiseConv2d)]
        assert torch.equal(convs[0].weight[8:], other[0].weight[8:])  # the rest as PyTorch draws them


def test_batchnorm_biases_get_their_own_learning_rate_and_follow_the_schedule():
    profile = TINY.replace(norm_bias_lr_scale=4.0, lr=0.01, stem_init="random")
    model = build_model(profile)
    optimizer = build_optimizer(model, profile, "cpu", Acceleration.for_device("cpu"))
    main, biases = optimizer.param_groups
    norm_biases = [m.bias for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert {id(p) for p in biases["params"]} == {id(b) for b in norm_biases}
    assert len(main["params"]) + len(biases["params"]) == len(list(model.parameters()))
    schedule = build_schedule(optimizer, profile, steps_per_epoch=10)
    for _ in range(7):
        optimizer.step()
        schedule.step()
    assert biases["lr"] == pytest.approx(4 * main["lr"]) and main["lr"] < 0.01
    with pytest.raises(ValueError, match="norm_bias_lr_scale must be > 0"):
        TINY.replace(norm_bias_lr_scale=0.0)


# --- the held-out curve and one read of the test set -----------------------------------------------


def test_fit_draws_its_curve_on_held_out_images_and_reads_the_test_set_once(train_set, test_set, monkeypatch):
    from convmixer.train import engine

    evaluated = []

    def recording(model, shard, runner, acceleration, tta):
        evaluated.append((shard.split, len(shard), tta))
        return engine_evaluate(model, shard, runner, acceleration, tta)

    engine_evaluate = engine.evaluate_on_ranks
    monkeypatch.setattr(engine, "evaluate_on_ranks", recording)
    profile = TINY.replace(epochs=2, validation_per_class=3, tta="flip")
    result = fit(profile, train=train_set, test=test_set, device="cpu", progress=False)
    assert evaluated == [("validation", 30, "none"), ("validation", 30, "none"), ("test", 50, "flip")]
    assert [r.eval_split for r in result.history] == ["validation", "validation"]
    assert all(r.eval_images == 30 for r in result.history)
    assert result.evaluation.confusion.sum() == 50
    assert result.evaluation.accuracy == evaluate(result.model, test_set, tta="flip").accuracy


def test_a_run_resumed_from_a_checkpoint_without_the_new_fields_is_accepted(train_set, test_set, tmp_path):
    from convmixer.train.run import _check_profile

    stored = TINY.to_dict()
    for name in ("validation_per_class", "norm_bias_lr_scale", "dirac_depthwise", "progressive_size",
                 "progressive_epochs", "norm_momentum", "lookahead_every"):
        stored.pop(name)
    _check_profile(stored, TINY, tmp_path)  # the defaults the file predates
    with pytest.raises(ValueError, match="different training configuration"):
        _check_profile(stored, dataclasses.replace(TINY, dirac_depthwise=True), tmp_path)


# --- lookahead and BatchNorm momentum --------------------------------------------------------------


def test_lookahead_waits_a_quarter_then_pulls_the_weights_to_their_average():
    model = torch.nn.Linear(2, 1, bias=False)
    lookahead = Lookahead(model, every=2, total_steps=8)
    with torch.no_grad():
        model.weight.fill_(1.0)
    lookahead.after_step(1)  # before a quarter of the steps: nothing
    assert lookahead.average is None
    lookahead.after_step(2)  # the first update only takes the average
    torch.testing.assert_close(lookahead.average["weight"], torch.ones(1, 2))
    with torch.no_grad():
        model.weight.fill_(3.0)
    lookahead.after_step(3)  # not a multiple of every
    assert model.weight[0, 0].item() == 3.0
    lookahead.after_step(4)
    rho = STEP_DECAY ** 2 * (4 / 8) ** DECAY_POWER
    expected = torch.full((1, 2), rho * 1.0 + (1 - rho) * 3.0)
    torch.testing.assert_close(lookahead.average["weight"], expected)
    torch.testing.assert_close(model.weight.detach(), expected)  # the weights become the average
    with torch.no_grad():
        model.weight.fill_(5.0)
    lookahead.end_epoch()
    torch.testing.assert_close(model.weight.detach(), expected)


def test_lookahead_and_norm_momentum_are_checked_and_applied(train_set):
    with pytest.raises(ValueError, match="norm_momentum must be in"):
        TINY.replace(norm_momentum=0.0)
    with pytest.raises(ValueError, match="lookahead_every must be an integer >= 0"):
        TINY.replace(lookahead_every=-1)
    model = build_model(TINY.replace(norm_momentum=0.4), images=train_set.images)
    norms = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert norms and all(m.momentum == 0.4 for m in norms)


class Stop(Exception):
    pass


def stop_after_first_epoch(record) -> None:
    if record.epoch == 1:
        raise Stop


def test_a_lookahead_run_resumes_exactly_and_differs_from_one_without(train_set, test_set, tmp_path):
    profile = TINY.replace(epochs=2, lookahead_every=2, norm_momentum=0.4)
    whole = fit(profile, train=train_set, test=test_set, device="cpu", progress=False)
    plain = fit(profile.replace(lookahead_every=0), train=train_set, test=test_set, device="cpu", progress=False)
    assert whole.digest != plain.digest
    out = tmp_path / "run"
    with pytest.raises(Stop):
        fit(profile, train=train_set, test=test_set, out=out, device="cpu", progress=False,
            callback=stop_after_first_epoch)
    state = torch.load(out / "checkpoint.pt", weights_only=True)
    assert state["epoch"] == 1 and state["lookahead"]["average"] is not None  # stopped with an average
    resumed = fit(profile, train=train_set, test=test_set, out=out, resume=True, device="cpu", progress=False)
    assert resumed.digest == whole.digest
