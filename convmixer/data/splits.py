"""Held-out validation: a split of the training images that is never trained on.

Choices during development (which recipe, which epoch, which kernel size) are made on the
*validation* split; the test set is evaluated once, at the end, so its number is not the best of
many tries. :func:`hold_out` sets the validation images aside, the same number from every class.
How precisely an accuracy measured on the held-out images pins down the true one is
:func:`convmixer.studies.stats.binomial_half_width`.
"""

from __future__ import annotations

import torch

from convmixer._util import check_positive_int
from convmixer.data.sources import ImageDataset

# The draw of every held-out split in the project (the studies' and fit's): one validation set.
VALIDATION_SEED = 0


def hold_out(data: ImageDataset, per_class: int, seed: int = VALIDATION_SEED) -> tuple[ImageDataset, ImageDataset]:
    """Split ``data`` into ``(rest, held_out)``: ``per_class`` images of every class, drawn at
    random (a fixed draw for each ``seed``), go to ``held_out`` (its ``split`` is
    ``"validation"``); the others, in their original order, stay in ``rest``. The two never share an image.

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

    def part(mask: torch.Tensor, split: str) -> ImageDataset:
        return ImageDataset(data.images[mask], data.labels[mask], data.classes, data.source, split)

    return part(~held, data.split), part(held, "validation")

