"""Held-out validation: a split of the training images that is never trained on, and how precisely
an accuracy measured on ``n`` images pins down the true one.

Choices during development (which recipe, which epoch, which kernel size) are made on the
*validation* split; the test set is evaluated once, at the end, so its number is not the best of
many tries. :func:`hold_out` sets the validation images aside, the same number from every class.

An accuracy measured on ``n`` images is a binomial proportion: with true accuracy ``a`` its
standard error is ``sqrt(a (1 - a) / n)`` (:func:`accuracy_standard_error`); two standard errors
either side is the usual ~95 % band.
"""

from __future__ import annotations

import math

import torch

from convmixer._util import check_positive_int
from convmixer.data.sources import ImageDataset


def hold_out(data: ImageDataset, per_class: int, seed: int = 0) -> tuple[ImageDataset, ImageDataset]:
    """Split ``data`` into ``(rest, held_out)``: ``per_class`` images of every class, drawn at
    random (a fixed draw for each ``seed``), go to ``held_out``; the others, in their original
    order, stay in ``rest``. The two never share an image.

    Raises:
        ValueError: ``per_class`` is not a positive integer, or some class has no more than
            ``per_class`` images (nothing of it would be left to train on).
    """
    check_positive_int("per_class", per_class)
    generator = torch.Generator().manual_seed(seed)
    held = torch.zeros(len(data), dtype=torch.bool)
    for label, name in enumerate(data.classes):
        members = torch.nonzero(data.labels == label).flatten()
        if len(members) <= per_class:
            raise ValueError(
                f"class {name!r} has {len(members)} images; holding out {per_class} per class needs more"
            )
        held[members[torch.randperm(len(members), generator=generator)[:per_class]]] = True

    def part(mask: torch.Tensor) -> ImageDataset:
        return ImageDataset(data.images[mask], data.labels[mask], data.classes, data.source)

    return part(~held), part(held)


def accuracy_standard_error(accuracy: float, images: int) -> float:
    """Standard error ``sqrt(a (1 - a) / n)`` of an accuracy ``a`` measured on ``n`` images
    (each image right or wrong independently: a binomial proportion)."""
    check_positive_int("images", images)
    if not 0.0 <= accuracy <= 1.0:
        raise ValueError(f"accuracy must be a fraction in [0, 1], got {accuracy}")
    return math.sqrt(accuracy * (1.0 - accuracy) / images)
