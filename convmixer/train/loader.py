"""The training set on the device, served as augmented batches in a seeded order.

There are no data-loader workers: the uint8 images live on the training device (50,000 CIFAR-10
images are 150 MB) and each batch is augmented there (:func:`convmixer.data.augment.augment_batch`).
The order of an epoch and the augmentation of a batch are drawn from generators seeded by
``(seed, epoch, rank)`` and ``(seed, epoch, step, rank)``, so a run resumed at any step sees the
same batches as one that never stopped. With the augmentation's ``alternate_flip`` each image's
flip is its own seeded coin in even epochs and the opposite in odd ones.
"""

from __future__ import annotations

import hashlib
from typing import Iterator

import torch

from convmixer.data.augment import AugmentConfig, augment_batch
from convmixer.data.sources import ImageDataset
from convmixer.train import distributed


def derive_seed(*keys: object) -> int:
    """A 63-bit seed from any keys, e.g. ``(seed, epoch, step, rank)``: stable across runs,
    processes and Python versions."""
    text = "/".join(str(k) for k in keys).encode()
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "little") >> 1


def epoch_order(size: int, seed: int, epoch: int, rank: int = 0, world: int = 1) -> torch.Tensor:
    """The indices this rank trains on in ``epoch``: a seeded permutation of ``range(size)``,
    cut into ``world`` equal shards (the remainder is dropped)."""
    generator = torch.Generator().manual_seed(derive_seed(seed, epoch, "order"))
    shard = size // world
    return torch.randperm(size, generator=generator)[rank * shard : (rank + 1) * shard]


class BatchLoader:
    """This rank's training batches: ``(images, labels)`` with images augmented and normalised
    (float32 ``(B, 3, H, W)``) and ``B = batch_size / world``, on ``device``.

    ``batches(epoch, start_step, size, crop)`` yields the batches of ``epoch`` from step
    ``start_step`` on, ``size x size`` if given (progressive resizing: scaled down, or cropped);
    an epoch has :attr:`steps_per_epoch` steps (the last incomplete batch is dropped).

    Raises:
        ValueError: ``batch_size`` does not split evenly over the processes, or the training set
            holds fewer images than one batch.
    """

    def __init__(
        self, data: ImageDataset, batch_size: int, augment: AugmentConfig, seed: int, device: torch.device | str
    ) -> None:
        self.rank, self.world = distributed.rank(), distributed.world_size()
        self.batch_size, remainder = divmod(batch_size, self.world)
        if remainder:
            raise ValueError(f"batch size {batch_size} is not divisible by the {self.world} processes")
        self.steps_per_epoch = (len(data) // self.world) // self.batch_size
        if self.steps_per_epoch == 0:
            raise ValueError(
                f"the training set ({len(data)} images) is smaller than one batch ({batch_size}); "
                "use a smaller batch size"
            )
        self.device = torch.device(device)
        self.images, self.labels = data.images.to(self.device), data.labels.to(self.device)
        self.augment, self.seed = augment, seed
        self.generator = torch.Generator(device=self.device)
        self.first_flips = None
        if augment.alternate_flip:  # one coin per image, the same on every rank
            coins = torch.Generator().manual_seed(derive_seed(seed, "flip"))
            self.first_flips = (torch.rand(len(data), generator=coins) < 0.5).to(self.device)

    def __len__(self) -> int:
        return self.steps_per_epoch

    def batches(
        self, epoch: int, start_step: int = 0, size: int | None = None, crop: bool = False
    ) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """The batches of ``epoch`` from ``start_step`` to the end of the epoch, ``size x size``
        pixels if ``size`` is given: the images scaled down, or with ``crop`` a random window of
        each at its own scale."""
        order = epoch_order(len(self.labels), self.seed, epoch, self.rank, self.world).to(self.device)
        for step in range(start_step, self.steps_per_epoch):
            index = order[step * self.batch_size : (step + 1) * self.batch_size]
            self.generator.manual_seed(derive_seed(self.seed, epoch, step, self.rank))
            flip = None if self.first_flips is None else self.first_flips[index] ^ bool(epoch % 2)
            images = augment_batch(self.images[index], self.augment, self.generator, size=size, flip=flip, crop=crop)
            yield images, self.labels[index]
