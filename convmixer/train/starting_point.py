"""The weights a run started from: rebuild the model :func:`~convmixer.train.fit` initialised,
from the run's profile and the training set it was given.

A trained model is best compared with *its own* starting point. With ``stem_init="whiten"`` that
is not a random network: :func:`~convmixer.train.engine.build_model` sets the stem's first
filters to the patch-whitening filters of the first training images, and ``fit`` hands it the
training split *after* its validation hold-out (``validation_per_class``) and the profile's
``train_subset``. :func:`initial_model` repeats exactly those steps.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from convmixer.data.sources import ImageDataset
from convmixer.model import ConvMixer
from convmixer.train.engine import build_model, training_split
from convmixer.train.profiles import TrainProfile, get_profile


def as_profile(profile: TrainProfile | Mapping[str, Any] | str) -> TrainProfile:
    """A :class:`TrainProfile` from a profile, its stored dict (a checkpoint's ``"profile"``) or its name."""
    if isinstance(profile, TrainProfile):
        return profile
    if isinstance(profile, str):
        return get_profile(profile)
    return TrainProfile.from_dict(dict(profile))


def training_images(profile: TrainProfile | Mapping[str, Any] | str, train: ImageDataset) -> ImageDataset:
    """The images ``fit(profile, train=train)`` trains on (:func:`~convmixer.train.engine.training_split`)."""
    return training_split(as_profile(profile), train)[0]


def initial_model(profile: TrainProfile | Mapping[str, Any] | str, train: ImageDataset) -> ConvMixer:
    """The model exactly as ``fit(profile, train=train)`` built it before its first step (same
    seed, same whitened stem, same identity depth-wise kernels), on the CPU in eval mode.

    ``train``: the full training split the run was given (e.g. ``load_cifar10("train")``); the
    hold-out and subset are applied here by the function ``fit`` applies them with
    (:func:`training_images`).
    """
    profile = as_profile(profile)
    images = training_images(profile, train).images if profile.stem_init == "whiten" else None
    return build_model(profile, "cpu", images).eval()
