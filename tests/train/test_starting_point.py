"""The weights a run started from (convmixer.train.starting_point)."""

import torch

from convmixer.data.sample import cifar10_sample
from convmixer.data.sources import ImageDataset
from convmixer.data.splits import hold_out
from convmixer.train import SMOKE, build_model
from convmixer.train.starting_point import as_profile, initial_model, training_images

WHITENED = SMOKE.replace(stem_init="whiten", model_overrides={"dim": 64, "depth": 1, "patch_size": 4})


def sample() -> ImageDataset:
    data = cifar10_sample()
    return ImageDataset(data.images, data.labels, data.classes, "sample", "train")


def same_weights(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    return all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))


def test_a_whitened_stem_starts_from_the_whole_training_split_without_a_hold_out():
    train = sample()
    model = initial_model(WHITENED, train)
    assert not model.training
    assert same_weights(model, build_model(WHITENED, images=train.images))
    torch.manual_seed(WHITENED.seed)
    assert not torch.equal(model.stem.conv.weight, build_model(WHITENED.replace(stem_init="random")).stem.conv.weight)


def test_with_a_hold_out_the_stem_is_whitened_on_the_images_fit_trains_on():
    train, profile = sample(), WHITENED.replace(validation_per_class=5)
    rest = hold_out(train, 5)[0]
    assert torch.equal(training_images(profile, train).images, rest.images)
    model = initial_model(profile, train)
    assert same_weights(model, build_model(profile, images=rest.images))
    assert not torch.equal(model.stem.conv.weight, build_model(profile, images=train.images).stem.conv.weight)


def test_the_train_subset_applies_after_the_hold_out_and_a_stored_dict_works_as_the_profile():
    train, profile = sample(), WHITENED.replace(validation_per_class=5, train_subset=100)
    assert len(training_images(profile, train)) == 100
    assert as_profile(profile.to_dict()) == profile
    assert same_weights(initial_model(profile.to_dict(), train), initial_model(profile, train))


def test_a_random_stem_needs_no_images_from_the_set():
    profile = WHITENED.replace(stem_init="random")
    assert same_weights(initial_model(profile, sample()), build_model(profile))
