"""Evaluation on a test set: logits, loss, accuracy, per-class accuracy and the confusion matrix,
in one process or summed over the ranks of a distributed run."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import torch
from torch import nn

from convmixer._util import eval_mode
from convmixer.data.augment import prepare_images
from convmixer.data.sources import ImageDataset
from convmixer.train import distributed
from convmixer.train.acceleration import Acceleration

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


TTA_MODES = ("none", "flip", "flip-shift")


def check_tta(tta: str) -> None:
    """A ``ValueError`` in one sentence unless ``tta`` is one of :data:`TTA_MODES`."""
    if tta not in TTA_MODES:
        raise ValueError(f"tta must be one of {', '.join(TTA_MODES)}, got {tta!r}")


def shift_images(images: torch.Tensor, down: int, right: int, padding: str = "reflect") -> torch.Tensor:
    """``images`` ``(N, C, H, W)`` moved ``down`` rows and ``right`` columns (negative: up, left),
    the uncovered border filled by ``padding`` (``"reflect"``, ``"replicate"`` or ``"constant"``: zeros)."""
    if not (down or right):
        return images
    pad = max(abs(down), abs(right))
    padded = nn.functional.pad(images, (pad,) * 4, mode=padding)
    height, width = images.shape[-2:]
    return padded[..., pad - down : pad - down + height, pad - right : pad - right + width]


def tta_views(images: torch.Tensor, tta: str = "none") -> Iterator[tuple[float, torch.Tensor]]:
    """The views of a batch ``(N, C, H, W)`` that test-time augmentation ``tta`` classifies, each
    with its weight:

    - ``"none"``: the images (weight 1);
    - ``"flip"``: the images and their mirror images (1 each);
    - ``"flip-shift"``: those, and the images moved one pixel down-right and one pixel up-left
      (:func:`shift_images`, reflect padding), with their mirror images (weight 1/2 each; the 6
      views of airbench's multi-crop evaluation).
    """
    check_tta(tta)
    yield 1.0, images
    if tta == "none":
        return
    yield 1.0, images.flip(-1)
    if tta == "flip-shift":
        for step in (1, -1):
            shifted = shift_images(images, step, step)
            yield 0.5, shifted
            yield 0.5, shifted.flip(-1)


def predict(
    model: nn.Module,
    images: torch.Tensor,
    batch_size: int = EVAL_BATCH_SIZE,
    acceleration: Acceleration | None = None,
    tta: str = "none",
) -> torch.Tensor:
    """Logits ``(N, n)`` (float32, on the model's device) for uint8 images ``(N, 3, H, W)``,
    computed in eval mode, ``batch_size`` at a time.

    ``tta``: test-time augmentation (:func:`tta_views`). Each view ``v`` of weight ``w_v`` is
    classified and the class probabilities averaged, ``p = sum_v w_v softmax(f(v)) / sum_v w_v``;
    the result is then ``log p`` (log-probabilities are logits: softmax gives ``p`` back). With
    ``"none"`` the logits are the model's own."""
    check_tta(tta)
    device = next(model.parameters()).device
    acceleration = acceleration or Acceleration(channels_last=False)
    outputs = []
    with eval_mode(model):
        for start in range(0, len(images), batch_size):
            batch = prepare_images(images[start : start + batch_size].to(device))
            with acceleration.autocast(device):
                if tta == "none":
                    outputs.append(model(acceleration.prepare_input(batch)).float())
                    continue
                total, weights = 0.0, 0.0
                for weight, view in tta_views(batch, tta):
                    total = total + weight * model(acceleration.prepare_input(view)).float().softmax(1)
                    weights += weight
                outputs.append((total / weights).log())
    return torch.cat(outputs) if outputs else torch.empty(0, 0, device=device)


def _counts(
    model: nn.Module, data: ImageDataset, batch_size: int, acceleration: Acceleration | None, tta: str
) -> tuple[torch.Tensor, torch.Tensor]:
    """(confusion matrix, summed cross-entropy) over ``data``, as float64 tensors."""
    logits = predict(model, data.images, batch_size, acceleration, tta)
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
    tta: str = "none",
) -> Evaluation:
    """Loss, accuracy, per-class accuracy and confusion matrix of ``model`` on ``data``
    (``tta``: test-time augmentation, see :func:`predict`)."""
    if len(data) == 0:
        raise ValueError("cannot evaluate on an empty dataset")
    return _evaluation(*_counts(model, data, batch_size, acceleration, tta), data.classes)


def rank_shard(data: ImageDataset, device: torch.device | str) -> ImageDataset:
    """This rank's share of ``data`` for :func:`evaluate_on_ranks` (every ``world``-th image,
    starting at ``rank``), on ``device``; all of it in a single process."""
    index = torch.arange(distributed.rank(), len(data), distributed.world_size())
    return ImageDataset(data.images[index].to(device), data.labels[index].to(device), data.classes, data.source,
                        data.split)


def evaluate_on_ranks(
    model: nn.Module,
    shard: ImageDataset,
    runner: nn.Module | None = None,
    acceleration: Acceleration | None = None,
    tta: str = "none",
) -> Evaluation:
    """:func:`evaluate` of ``model`` (run as ``runner``, its prepared form, if given) on this rank's
    :func:`rank_shard`, with the counts summed over all ranks; every rank first takes rank 0's
    BatchNorm statistics, so all evaluate the same network."""
    distributed.broadcast_buffers(model)
    confusion, loss = _counts(runner or model, shard, EVAL_BATCH_SIZE, acceleration, tta)
    return _evaluation(distributed.all_reduce_sum(confusion), distributed.all_reduce_sum(loss), shard.classes)
