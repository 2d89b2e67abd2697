"""Evaluation on a test set: logits, loss, accuracy, per-class accuracy and the confusion matrix,
in one process or summed over the ranks of a distributed run."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from convmixer import distributed
from convmixer._util import eval_mode
from convmixer.acceleration import Acceleration
from convmixer.augment import prepare_images
from convmixer.data import ImageDataset

EVAL_BATCH_SIZE = 500  # images per forward pass when evaluating


@dataclass(frozen=True)
class Evaluation:
    """Test-set results: mean loss, accuracy, per-class accuracy and the confusion matrix
    (``confusion[i, j]`` = images of true class ``i`` predicted as ``j``)."""

    loss: float
    accuracy: float
    per_class_accuracy: torch.Tensor
    confusion: torch.Tensor
    classes: tuple[str, ...]


def confusion_matrix(predictions: torch.Tensor, labels: torch.Tensor, num_classes: int) -> torch.Tensor:
    """``(num_classes, num_classes)`` int64 counts: row = true class, column = predicted class."""
    if predictions.shape != labels.shape:
        raise ValueError(f"predictions {tuple(predictions.shape)} and labels {tuple(labels.shape)} differ in shape")
    index = labels.long() * num_classes + predictions.long()
    return torch.bincount(index.flatten(), minlength=num_classes**2).view(num_classes, num_classes)


def per_class_accuracy(confusion: torch.Tensor) -> torch.Tensor:
    """Fraction of each true class predicted correctly (NaN for a class with no images)."""
    totals = confusion.sum(dim=1).double()
    return confusion.diagonal().double() / totals


def predict(
    model: nn.Module,
    images: torch.Tensor,
    batch_size: int = EVAL_BATCH_SIZE,
    acceleration: Acceleration | None = None,
    flip: bool = False,
) -> torch.Tensor:
    """Logits ``(N, n)`` (float32, on the model's device) for uint8 images ``(N, 3, H, W)``,
    computed in eval mode, ``batch_size`` at a time.

    ``flip``: test-time augmentation -- each image and its mirror image are classified and their
    class probabilities averaged; the result is then ``log`` of that average (log-probabilities
    are logits: softmax gives the average back)."""
    device = next(model.parameters()).device
    acceleration = acceleration or Acceleration(channels_last=False)
    outputs = []
    with eval_mode(model):
        for start in range(0, len(images), batch_size):
            batch = prepare_images(images[start : start + batch_size].to(device))
            with acceleration.autocast(device):
                logits = model(acceleration.prepare_input(batch)).float()
                if flip:
                    mirrored = model(acceleration.prepare_input(batch.flip(-1))).float()
                    logits = (logits.softmax(1) + mirrored.softmax(1)).div(2).log()
            outputs.append(logits)
    return torch.cat(outputs) if outputs else torch.empty(0, 0, device=device)


def _counts(
    model: nn.Module, data: ImageDataset, batch_size: int, acceleration: Acceleration | None, flip: bool
) -> tuple[torch.Tensor, torch.Tensor]:
    """(confusion matrix, summed cross-entropy) over ``data``, as float64 tensors."""
    logits = predict(model, data.images, batch_size, acceleration, flip)
    labels = data.labels.to(logits.device)
    confusion = confusion_matrix(logits.argmax(1), labels, len(data.classes)).double()
    loss = nn.functional.cross_entropy(logits, labels, reduction="sum").double()
    return confusion, loss


def _evaluation(confusion: torch.Tensor, loss_sum: torch.Tensor, classes: tuple[str, ...]) -> Evaluation:
    confusion = confusion.round().long().cpu()
    total = int(confusion.sum())
    return Evaluation(
        loss=float(loss_sum) / max(total, 1),
        accuracy=float(confusion.diagonal().sum()) / max(total, 1),
        per_class_accuracy=per_class_accuracy(confusion),
        confusion=confusion,
        classes=classes,
    )


def evaluate(
    model: nn.Module,
    data: ImageDataset,
    batch_size: int = EVAL_BATCH_SIZE,
    acceleration: Acceleration | None = None,
    flip: bool = False,
) -> Evaluation:
    """Loss, accuracy, per-class accuracy and confusion matrix of ``model`` on ``data``
    (``flip``: averaged with the mirror images, see :func:`predict`)."""
    if len(data) == 0:
        raise ValueError("cannot evaluate on an empty dataset")
    return _evaluation(*_counts(model, data, batch_size, acceleration, flip), data.classes)


def rank_shard(data: ImageDataset, device: torch.device | str) -> ImageDataset:
    """This rank's share of ``data`` for :func:`evaluate_on_ranks` (every ``world``-th image,
    starting at ``rank``), on ``device``; all of it in a single process."""
    index = torch.arange(distributed.rank(), len(data), distributed.world_size())
    return ImageDataset(data.images[index].to(device), data.labels[index].to(device), data.classes, data.source)


def evaluate_on_ranks(
    model: nn.Module,
    shard: ImageDataset,
    runner: nn.Module | None = None,
    acceleration: Acceleration | None = None,
    flip: bool = False,
) -> Evaluation:
    """:func:`evaluate` of ``model`` (run as ``runner``, its prepared form, if given) on this rank's
    :func:`rank_shard`, with the counts summed over all ranks; every rank first takes rank 0's
    BatchNorm statistics, so all evaluate the same network."""
    distributed.broadcast_buffers(model)
    confusion, loss = _counts(runner or model, shard, EVAL_BATCH_SIZE, acceleration, flip)
    return _evaluation(distributed.all_reduce_sum(confusion), distributed.all_reduce_sum(loss), shard.classes)
