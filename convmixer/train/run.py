"""A training run's parts (:class:`Training`), where it stands (:class:`RunState`), and the folder
that keeps it: ``checkpoint.pt`` (everything needed to resume exactly) and ``history.json`` (the
per-epoch records, for people and plots: a :mod:`convmixer.records` file)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import torch
from torch import nn

from convmixer.model import ConvMixer
from convmixer.records import from_record, to_record, write_record_file
from convmixer.train import distributed
from convmixer.train.checkpoint import (
    CHECKPOINT_NAME,
    CheckpointError,
    load_checkpoint,
    save_checkpoint,
    training_state,
)
from convmixer.train.lookahead import Lookahead
from convmixer.train.profiles import TrainProfile

HISTORY_NAME = "history.json"
HISTORY_FORMAT = "convmixer training history"  # a record file (convmixer.records): {"history": [EpochRecord, ...]}
HISTORY_VERSION = 1

TrainStep = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


@dataclass
class Training:
    """Everything that trains one model: ``model`` (the plain module: save and load through it),
    ``runner`` (the same model as it runs: channels-last, maybe compiled), the optimizer, the
    schedule, the loss scaler, ``step`` (:func:`make_train_step`) and the weights' lookahead
    average, if the profile has one."""

    model: ConvMixer
    runner: nn.Module
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler
    scaler: torch.amp.GradScaler
    step: TrainStep
    lookahead: Lookahead | None = None


@dataclass(frozen=True)
class EpochRecord:
    """What one epoch did: mean training loss, loss and accuracy (a fraction) on ``eval_images``
    images of the split named by ``eval_split`` (``"test"``, or ``"validation"`` for images held
    out of the training set), learning rate at its end, the wall-clock seconds its training steps
    took (a resumed epoch adds what its steps took before the checkpoint it resumed from; steps
    lost after that checkpoint and done again count once) and training images per second. The
    evaluation of the last epoch is the final one, with the profile's test-time augmentation;
    earlier epochs classify each image once. Stored through :mod:`convmixer.records`."""

    epoch: int
    train_loss: float
    eval_loss: float
    eval_accuracy: float
    eval_split: str
    eval_images: int
    lr: float
    seconds: float
    images_per_second: float


@dataclass
class RunState:
    """Where a run stands: ``step`` batches done in ``epoch`` (0-based), the records of the
    finished epochs, the current epoch's running training-loss sum and image count (float64
    tensors on the device: on rank 0 they include what was done before a resume) and the training
    seconds its steps took up to the last checkpoint (``epoch_seconds``: what a resumed epoch
    carries over from the process that checkpointed it)."""

    epoch: int
    step: int
    history: list[EpochRecord]
    loss_sum: torch.Tensor
    seen: torch.Tensor
    epoch_seconds: float = 0.0

    def add(self, loss: torch.Tensor, images: int) -> None:
        """Count one finished step whose mean loss over ``images`` images was ``loss``."""
        self.loss_sum += loss.double() * images
        self.seen += images
        self.step += 1

    def global_sums(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The running loss sum and image count over all ranks (copies; a collective call)."""
        return distributed.all_reduce_sum(self.loss_sum.clone()), distributed.all_reduce_sum(self.seen.clone())

    def end_epoch(self, record: EpochRecord) -> None:
        """Append ``record`` and move to the start of the next epoch."""
        self.history.append(record)
        self.epoch, self.step, self.epoch_seconds = self.epoch + 1, 0, 0.0
        self.loss_sum.zero_()
        self.seen.zero_()


class RunFolder:
    """The output folder of :func:`convmixer.train.fit` (or none, when ``out`` is ``None``).

    Opening it checks, before anything is written: an existing checkpoint is resumed only when
    ``resume`` is set (a fresh run never overwrites one), and only by the profile that wrote it.
    :attr:`checkpoint` is the loaded checkpoint (``None`` for a fresh run).

    Raises:
        ValueError: a checkpoint exists and ``resume`` is not set.
        CheckpointError: the checkpoint cannot be read, holds no training state, was written
            by another profile, or holds a history in another record format.
    """

    def __init__(self, out: str | os.PathLike | None, profile: TrainProfile, resume: bool) -> None:
        self.path = Path(out) / CHECKPOINT_NAME if out is not None else None
        self.profile = profile
        self.checkpoint: dict[str, Any] | None = None
        self.history: list[EpochRecord] = []
        if self.path is not None and self.path.exists():
            if not resume:
                raise ValueError(
                    f"{self.path} already exists; resume it (resume=True, CLI --resume) or choose another output folder"
                )
            self.checkpoint = load_checkpoint(self.path, resumable=True)
            _check_profile(self.checkpoint["profile"], profile, self.path)
            self.history = _read_history(self.checkpoint["metrics"]["history"], self.path)

    def run_state(self, device: torch.device) -> RunState:
        """Where the run starts: the checkpoint's epoch, step, history and running sums, or the
        very beginning."""
        zero = torch.zeros((), dtype=torch.float64, device=device)
        state = RunState(0, 0, [], zero, zero.clone())
        if self.checkpoint is not None:
            metrics = self.checkpoint["metrics"]
            state.epoch, state.step = self.checkpoint["epoch"], self.checkpoint["step"]
            state.history = list(self.history)
            state.epoch_seconds = float(metrics.get("epoch_seconds", 0.0))
            if distributed.rank() == 0:  # the stored sums are global: add them once
                state.loss_sum += metrics["loss_sum"]
                state.seen += metrics["seen"]
        return state

    def save(self, training: Training, state: RunState) -> None:
        """Write ``checkpoint.pt`` and ``history.json`` (rank 0 only) for ``state``. Every rank
        must call it: the running sums are gathered from all of them."""
        loss_sum, seen = state.global_sums()
        if self.path is not None and distributed.rank() == 0:
            history = to_record(state.history)
            metrics = {"history": history, "loss_sum": loss_sum.cpu(), "seen": seen.cpu(),
                       "epoch_seconds": state.epoch_seconds}
            save_checkpoint(
                self.path,
                training_state(
                    config=training.model.config, profile=self.profile.to_dict(), model=training.model,
                    optimizer=training.optimizer, scheduler=training.scheduler, scaler=training.scaler,
                    epoch=state.epoch, step=state.step, metrics=metrics,
                    lookahead=None if training.lookahead is None else training.lookahead.state_dict(),
                ),
            )
            write_record_file(self.path.with_name(HISTORY_NAME), HISTORY_FORMAT, HISTORY_VERSION, {"history": history})
        distributed.barrier()


def _check_profile(stored: dict[str, Any], profile: TrainProfile, path: Path) -> None:
    current = profile.to_dict()
    try:  # fields added since the file was written compare as their defaults
        stored = TrainProfile.from_dict(stored).to_dict()
    except ValueError:
        pass
    if stored == current:
        return
    changes = [
        f"{key}: {stored.get(key)!r} in the file, {current.get(key)!r} now"
        for key in sorted(set(stored) | set(current))
        if stored.get(key) != current.get(key)
    ]
    raise CheckpointError(
        f"checkpoint {path} was written by a different training configuration ({'; '.join(changes)}); "
        "resume with the same settings or choose another output folder"
    )


def _read_history(history: list[dict[str, Any]], path: Path) -> list[EpochRecord]:
    """A checkpoint's per-epoch history as records; one :class:`CheckpointError` for a history in
    another format (a run folder of an older version of the package)."""
    try:
        return [from_record(EpochRecord, record) for record in history]
    except ValueError as error:
        raise CheckpointError(
            f"checkpoint {path} holds a training history this version cannot read ({error}); "
            "finish it with the version that wrote it or choose another output folder"
        ) from None
