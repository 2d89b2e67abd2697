"""Train a ConvMixer on CIFAR-10: one engine for a notebook (:func:`fit`) and the command line.

The recipe is the official ConvMixer CIFAR-10 script's: AdamW, a one-cycle learning rate
(linear warm-up to the peak over the first 2/5 of training, linear decay to peak/20 at 4/5,
then to 0), gradient clipping, mixed precision where the device has it, and RandAugment-style
augmentation. Profiles (:data:`PROFILES`) fix the model and the budget for a GPU, for a 2-core
CPU and for a seconds-long smoke test; all three run the same code.

Speed: the dataset lives on the device as uint8 tensors and every batch is augmented there
(:mod:`convmixer.augment`), so there are no data-loader workers. Channels-last memory format,
autocast and ``torch.compile`` come from :class:`~convmixer.acceleration.Acceleration`, shared
with the benchmarks.

Resuming is exact: the data order of an epoch and the augmentation of a batch are drawn from
generators seeded by ``(seed, epoch, step, rank)``, so a run restarted from a checkpoint sees
the same batches as one that never stopped.

Command line::

    python -m convmixer.train --profile cpu --data cifar10-jpeg.zip --out runs/cpu [--resume]
    torchrun --nproc_per_node=2 -m convmixer.train --profile gpu --out runs/gpu
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from tqdm.auto import tqdm

from convmixer import distributed
from convmixer.acceleration import Acceleration
from convmixer.augment import AugmentConfig, augment_batch, prepare_images
from convmixer.checkpoint import (
    CHECKPOINT_NAME,
    CheckpointError,
    load_checkpoint,
    restore_training_state,
    save_checkpoint,
    training_state,
)
from convmixer.data import ImageDataset, load_cifar10
from convmixer.model import CONFIGS, ConvMixer, ConvMixerConfig, get_config

EVAL_BATCH_SIZE = 500  # images per forward pass when evaluating

# --- profiles ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrainProfile:
    """Everything that decides what a training run computes.

    ``model`` names a registered config (:data:`convmixer.model.CONFIGS`) and
    ``model_overrides`` changes some of its fields. ``lr`` is the peak of the one-cycle
    schedule; ``grad_clip`` the maximum global gradient norm (0: no clipping). ``batch_size``
    is the global batch (split evenly over distributed ranks). ``train_subset`` /
    ``test_subset`` train and evaluate on a fixed random subset (``None``: everything).
    """

    name: str
    model: str
    epochs: int
    batch_size: int
    lr: float
    weight_decay: float
    label_smoothing: float = 0.0
    grad_clip: float = 1.0
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    model_overrides: dict[str, int] = field(default_factory=dict)
    train_subset: int | None = None
    test_subset: int | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
        for name in ("train_subset", "test_subset"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or value < 1):
                raise ValueError(f"{name} must be None or an integer >= 1, got {value!r}")
        if not self.lr > 0:
            raise ValueError(f"lr must be > 0, got {self.lr}")
        if self.weight_decay < 0 or self.grad_clip < 0:
            raise ValueError("weight_decay and grad_clip must be >= 0")
        if not 0 <= self.label_smoothing < 1:
            raise ValueError(f"label_smoothing must be in [0, 1), got {self.label_smoothing}")
        self.model_config()  # unknown model names or fields fail here, with one sentence

    def model_config(self) -> ConvMixerConfig:
        """The model this profile trains."""
        config = get_config(self.model)
        known = {f.name for f in dataclasses.fields(ConvMixerConfig)}
        unknown = sorted(set(self.model_overrides) - known)
        if unknown:
            raise ValueError(
                f"unknown model field(s) {', '.join(unknown)}; valid fields: {', '.join(sorted(known))}"
            )
        return dataclasses.replace(config, **self.model_overrides)

    def replace(self, **changes: Any) -> "TrainProfile":
        """A copy with some fields changed (e.g. ``profile.replace(epochs=5)``)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (numbers, strings, nested dicts), as stored in checkpoints."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "TrainProfile":
        """Inverse of :meth:`to_dict`."""
        values = dict(values)
        values["augment"] = AugmentConfig(**values["augment"])
        return cls(**values)


# The official CIFAR-10 recipe (locuslab/convmixer-cifar10, train.py defaults with --clip-norm):
# ConvMixer-256/8, k=5, p=2, 25 epochs, batch 512, AdamW lr 0.01 wd 0.01, plain cross-entropy,
# RandomResizedCrop(scale 0.75), flip, RandAugment(N=1, M=8), ColorJitter(0.1), RandomErasing(0.25).
GPU = TrainProfile(
    name="gpu",
    model="convmixer_256_8",
    epochs=25,
    batch_size=512,
    lr=0.01,
    weight_decay=0.01,
    label_smoothing=0.0,
    grad_clip=1.0,
    augment=AugmentConfig(
        crop_padding=0, scale=0.75, flip=True, randaugment_ops=1, randaugment_magnitude=8,
        jitter=0.1, erase_prob=0.25,
    ),
)
# A 2-core CPU, ~30 minutes: ConvMixer-128/8 with k=5 and 4x4 patches (an 8x8 grid). Chosen by
# measurement (2-core AMD EPYC container, shared; see the training notebook): per CPU-second its
# train step is 2.3x faster than ConvMixer-256/8 p4 and 5.7x faster than ConvMixer-128/8 p2, and
# with equal compute it learned fastest of the candidates. 15 epochs of 50,000 images take ~25
# minutes at the ~500 images/s two idle cores give it; crop + flip suit such a short schedule.
CPU = TrainProfile(
    name="cpu",
    model="convmixer_128_4",
    model_overrides={"depth": 8, "patch_size": 4},
    epochs=15,
    batch_size=256,
    lr=0.01,
    weight_decay=0.01,
    label_smoothing=0.0,
    grad_clip=1.0,
    augment=AugmentConfig(crop_padding=4, flip=True),
)
# Seconds, for CI: a tiny model (4x4 patches) on 2,000 training images.
SMOKE = TrainProfile(
    name="smoke",
    model="convmixer_128_4",
    model_overrides={"dim": 32, "depth": 2, "patch_size": 4},
    epochs=4,
    batch_size=100,
    lr=0.01,
    weight_decay=0.01,
    grad_clip=1.0,
    augment=AugmentConfig(crop_padding=4, flip=True),
    train_subset=2000,
    test_subset=500,
)
PROFILES: dict[str, TrainProfile] = {p.name: p for p in (GPU, CPU, SMOKE)}


def get_profile(name: str) -> TrainProfile:
    """The profile called ``name``; a clear ``ValueError`` lists the known ones."""
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(f"unknown profile {name!r}; known profiles: {', '.join(PROFILES)}") from None


# --- the learning-rate schedule and one training step --------------------------------------------


def one_cycle_schedule(epochs: int, steps_per_epoch: int) -> Callable[[int], float]:
    """The official script's schedule as a multiplier of the peak learning rate, per step.

    With ``t`` = epochs done after the step (``(k + 1) / steps_per_epoch`` for step ``k``) and
    ``E`` epochs, it interpolates linearly through ``(0, 0)``, ``(2E/5, 1)``, ``(4E/5, 1/20)``,
    ``(E, 0)``: warm-up, decay, annealing.
    """
    knots = ((0.0, 0.0), (0.4 * epochs, 1.0), (0.8 * epochs, 0.05), (float(epochs), 0.0))

    def multiplier(step: int) -> float:
        t = (step + 1) / steps_per_epoch
        for (t0, y0), (t1, y1) in zip(knots, knots[1:]):
            if t <= t1:
                return y0 + (y1 - y0) * (t - t0) / (t1 - t0)
        return 0.0

    return multiplier


def make_train_step(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: torch.optim.lr_scheduler.LRScheduler | None,
    acceleration: Acceleration,
    device: torch.device | str,
    label_smoothing: float = 0.0,
    grad_clip: float = 0.0,
    scaler: torch.amp.GradScaler | None = None,
) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """One optimisation step as a function ``step(images, labels) -> loss``.

    ``model`` is what :meth:`Acceleration.prepare_model` returned (possibly wrapped in
    DistributedDataParallel); ``images`` are normalised float ``(B, 3, H, W)`` on ``device``.
    The step: zero the gradients, forward under autocast, cross-entropy (with label
    smoothing), backward (through ``scaler`` for float16), clip the global gradient norm to
    ``grad_clip`` (0: off), optimizer step, scheduler step. Returns the detached loss (no
    device synchronisation).
    """
    device = torch.device(device)
    loss_fn = nn.CrossEntropyLoss(label_smoothing=label_smoothing)
    scaler = scaler or torch.amp.GradScaler(device.type, enabled=False)
    parameters = [p for p in model.parameters() if p.requires_grad]

    def step(images: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        images = acceleration.prepare_input(images)
        optimizer.zero_grad(set_to_none=True)
        with acceleration.autocast(device):
            loss = loss_fn(model(images), labels)
        scaler.scale(loss).backward()
        if grad_clip > 0:
            scaler.unscale_(optimizer)
            nn.utils.clip_grad_norm_(parameters, grad_clip)
        scaler.step(optimizer)
        scaler.update()
        if scheduler is not None:
            scheduler.step()
        return loss.detach()

    return step


# --- evaluation ----------------------------------------------------------------------------------


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


@torch.no_grad()
def predict(
    model: nn.Module,
    images: torch.Tensor,
    batch_size: int = EVAL_BATCH_SIZE,
    acceleration: Acceleration | None = None,
) -> torch.Tensor:
    """Logits ``(N, n)`` (float32, on the model's device) for uint8 images ``(N, 3, H, W)``,
    computed in eval mode, ``batch_size`` at a time."""
    device = next(model.parameters()).device
    acceleration = acceleration or Acceleration(channels_last=False)
    was_training = model.training
    model.eval()
    try:
        outputs = []
        for start in range(0, len(images), batch_size):
            batch = prepare_images(images[start : start + batch_size].to(device))
            with acceleration.autocast(device):
                outputs.append(model(acceleration.prepare_input(batch)).float())
    finally:
        model.train(was_training)
    return torch.cat(outputs) if outputs else torch.empty(0, 0, device=device)


def _counts(model, images, labels, num_classes, batch_size, acceleration) -> tuple[torch.Tensor, torch.Tensor]:
    """(confusion matrix, summed cross-entropy) over ``images``, as float64 tensors."""
    logits = predict(model, images, batch_size, acceleration)
    labels = labels.to(logits.device)
    confusion = confusion_matrix(logits.argmax(1), labels, num_classes).double()
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
) -> Evaluation:
    """Loss, accuracy, per-class accuracy and confusion matrix of ``model`` on ``data``."""
    if len(data) == 0:
        raise ValueError("cannot evaluate on an empty dataset")
    confusion, loss = _counts(model, data.images, data.labels, len(data.classes), batch_size, acceleration)
    return _evaluation(confusion, loss, data.classes)


# --- fit -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EpochRecord:
    """What one epoch did: mean training loss, test loss and accuracy, learning rate at its end,
    and its wall-clock time (of this process; a resumed epoch counts only the resumed part)."""

    epoch: int
    train_loss: float
    test_loss: float
    test_accuracy: float
    lr: float
    seconds: float
    images_per_second: float


@dataclass
class FitResult:
    """What :func:`fit` returns: the trained model (eval mode), per-epoch history, the final
    test evaluation, the checkpoint file (if any) and the digest of the final weights."""

    model: ConvMixer
    history: list[EpochRecord]
    evaluation: Evaluation
    checkpoint: Path | None
    digest: str


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


def _check_profile(state: dict[str, Any], profile: TrainProfile, path: Path) -> None:
    stored, current = state["profile"], profile.to_dict()
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


def fit(
    profile: TrainProfile | str,
    *,
    data: str | os.PathLike | None = None,
    train: ImageDataset | None = None,
    test: ImageDataset | None = None,
    out: str | os.PathLike | None = None,
    resume: bool = False,
    device: str | torch.device | None = None,
    acceleration: Acceleration | None = None,
    progress: bool = True,
    callback: Callable[[EpochRecord], None] | None = None,
    cache_dir: str | os.PathLike | None = None,
    checkpoint_every: int = 0,
    verbose: bool = False,
) -> FitResult:
    """Train a ConvMixer as ``profile`` says and return it with its history.

    Args:
        profile: a :class:`TrainProfile` or the name of one in :data:`PROFILES`.
        data: where to load CIFAR-10 from (see :func:`convmixer.data.load_cifar10`); ignored
            for the splits passed as ``train`` / ``test``.
        train, test: the datasets, if already loaded (the profile's subsets still apply).
        out: folder for ``checkpoint.pt`` (written after every epoch) and ``history.json``;
            ``None``: keep nothing on disk.
        resume: continue from ``out``'s checkpoint if there is one. Without it, an existing
            checkpoint is an error (it is never overwritten by a fresh run).
        device: defaults to CUDA when available, else CPU.
        acceleration: defaults to :meth:`Acceleration.for_device`.
        progress: show a tqdm progress bar (``tqdm.auto``: a widget in notebooks).
        callback: called on the main process with each :class:`EpochRecord` (live plots).
        checkpoint_every: also checkpoint every this many steps inside an epoch (0: only at
            epoch ends).
        verbose: print one line per epoch.

    Returns:
        The trained model (eval mode), the per-epoch history, the final test evaluation, the
        checkpoint path and the SHA-256 digest of the final weights.

    Raises:
        ValueError: bad profile or data, a batch larger than the training set, an existing
            checkpoint without ``resume``; :class:`~convmixer.checkpoint.CheckpointError` (a
            ``ValueError``) for an unreadable checkpoint or one from another configuration.
            Nothing on disk is changed before these checks pass.

    Under ``torchrun`` (a process group initialised by :func:`convmixer.distributed.setup`)
    each rank trains on its shard with DistributedDataParallel; only rank 0 writes files,
    calls ``callback`` and shows progress.
    """
    profile = get_profile(profile) if isinstance(profile, str) else profile
    device = torch.device(device) if device is not None else distributed.setup(None)
    rank, world = distributed.rank(), distributed.world_size()
    main_process = rank == 0
    acceleration = acceleration or Acceleration.for_device(device)
    if checkpoint_every < 0:
        raise ValueError(f"checkpoint_every must be >= 0, got {checkpoint_every}")

    path = Path(out) / CHECKPOINT_NAME if out is not None else None
    state = None
    if path is not None and path.exists():
        if not resume:
            raise ValueError(
                f"{path} already exists; resume it (resume=True, CLI --resume) or choose another output folder"
            )
        state = load_checkpoint(path)
        _check_profile(state, profile, path)

    if train is None:
        train = load_cifar10("train", data, cache_dir)
    if test is None:
        test = load_cifar10("test", data, cache_dir)
    train = train.subset(profile.train_subset, profile.seed)
    test = test.subset(profile.test_subset, profile.seed)
    per_rank_batch, remainder = divmod(profile.batch_size, world)
    if remainder:
        raise ValueError(f"batch size {profile.batch_size} is not divisible by the {world} processes")
    steps_per_epoch = (len(train) // world) // per_rank_batch
    if steps_per_epoch == 0:
        raise ValueError(
            f"the training set ({len(train)} images) is smaller than one batch "
            f"({profile.batch_size}); use a smaller batch size"
        )

    config = profile.model_config()
    torch.manual_seed(profile.seed)
    model = ConvMixer.from_config(config).to(device)
    # Fused AdamW (one kernel per parameter, same update rule) where PyTorch has it.
    fused = device.type in ("cpu", "cuda")
    optimizer = torch.optim.AdamW(model.parameters(), lr=profile.lr, weight_decay=profile.weight_decay, fused=fused)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, one_cycle_schedule(profile.epochs, steps_per_epoch))
    scaler = torch.amp.GradScaler(device.type, enabled=acceleration.amp_dtype == torch.float16)
    epoch, start_step, history = 0, 0, []
    loss_sum = torch.zeros((), dtype=torch.float64, device=device)
    seen = torch.zeros((), dtype=torch.float64, device=device)
    if state is not None:
        restore_training_state(state, model, optimizer, scheduler, scaler, path)
        epoch, start_step = state["epoch"], state["step"]
        history = [EpochRecord(**record) for record in state["metrics"]["history"]]
        if main_process:  # the running sums are global: add them once
            loss_sum += state["metrics"]["loss_sum"]
            seen += state["metrics"]["seen"]

    runner = acceleration.prepare_model(model)
    trained = runner
    if world > 1:
        trained = DistributedDataParallel(runner, device_ids=[device.index] if device.type == "cuda" else None)
    train_step = make_train_step(
        trained, optimizer, scheduler, acceleration, device, profile.label_smoothing, profile.grad_clip, scaler
    )
    test_shard = torch.arange(rank, len(test), world)
    test_images, test_labels = test.images[test_shard].to(device), test.labels[test_shard].to(device)
    train_images, train_labels = train.images.to(device), train.labels.to(device)
    generator = torch.Generator(device=device)

    def save(epoch_: int, step_: int, loss_sum_: torch.Tensor, seen_: torch.Tensor) -> None:
        if path is None or not main_process:
            return
        metrics = {
            "history": [dataclasses.asdict(r) for r in history],
            "loss_sum": loss_sum_.cpu(),
            "seen": seen_.cpu(),
        }
        save_checkpoint(
            path,
            training_state(
                config=config, profile=profile.to_dict(), model=model, optimizer=optimizer,
                scheduler=scheduler, scaler=scaler, epoch=epoch_, step=step_, metrics=metrics,
            ),
        )
        records = json.dumps([dataclasses.asdict(r) for r in history], indent=1)
        temporary = path.with_name(f".history.json.{os.getpid()}.tmp")
        temporary.write_text(records)
        os.replace(temporary, path.with_name("history.json"))

    total_steps = profile.epochs * steps_per_epoch
    bar = tqdm(
        total=total_steps,
        initial=min(epoch * steps_per_epoch + start_step, total_steps),
        disable=not (progress and main_process),
        desc=f"{profile.name}: {config.dim}/{config.depth} k{config.kernel_size} p{config.patch_size}",
        unit="step",
        dynamic_ncols=True,
    )
    evaluation = None
    try:
        while epoch < profile.epochs:
            order = epoch_order(len(train), profile.seed, epoch, rank, world).to(device)
            model.train()
            started = time.perf_counter()
            for step in range(start_step, steps_per_epoch):
                index = order[step * per_rank_batch : (step + 1) * per_rank_batch]
                generator.manual_seed(derive_seed(profile.seed, epoch, step, rank))
                images = augment_batch(train_images[index], profile.augment, generator)
                loss = train_step(images, train_labels[index])
                loss_sum += loss.double() * len(index)
                seen += len(index)
                bar.update(1)
                if checkpoint_every and (step + 1) % checkpoint_every == 0 and step + 1 < steps_per_epoch:
                    save(epoch, step + 1, *_global_sums(loss_sum, seen))
                    distributed.barrier()
            seconds = time.perf_counter() - started
            images_done = (steps_per_epoch - start_step) * profile.batch_size
            total_loss, total_seen = _global_sums(loss_sum, seen)
            evaluation = _evaluate_shards(model, runner, test_images, test_labels, test.classes, acceleration)
            record = EpochRecord(
                epoch=epoch + 1,
                train_loss=float(total_loss / total_seen),
                test_loss=evaluation.loss,
                test_accuracy=evaluation.accuracy,
                lr=optimizer.param_groups[0]["lr"],
                seconds=seconds,
                images_per_second=images_done / seconds,
            )
            history.append(record)
            epoch, start_step = epoch + 1, 0
            loss_sum.zero_()
            seen.zero_()
            save(epoch, 0, loss_sum, seen)
            distributed.barrier()
            if main_process:
                bar.set_postfix(loss=f"{record.train_loss:.3f}", test_acc=f"{record.test_accuracy:.3f}")
                if verbose:
                    bar.write(_format_record(record, profile.epochs))
                if callback is not None:
                    callback(record)
    finally:
        bar.close()

    if evaluation is None:  # the checkpoint was already complete
        evaluation = _evaluate_shards(model, runner, test_images, test_labels, test.classes, acceleration)
    digest = distributed.check_replicas_identical(model)
    return FitResult(model.eval(), history, evaluation, path, digest)


def _evaluate_shards(
    model: nn.Module,
    runner: nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    classes: tuple[str, ...],
    acceleration: Acceleration,
) -> Evaluation:
    """Evaluate ``runner`` (the prepared ``model``) on this rank's shard of the test set and sum
    the counts over ranks, after giving every rank rank 0's BatchNorm statistics."""
    distributed.broadcast_buffers(model)
    confusion, loss = _counts(runner, images, labels, len(classes), EVAL_BATCH_SIZE, acceleration)
    return _evaluation(distributed.all_reduce_sum(confusion), distributed.all_reduce_sum(loss), classes)


def _global_sums(loss_sum: torch.Tensor, seen: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The running loss sum and image count over all ranks (copies; the inputs are unchanged)."""
    return distributed.all_reduce_sum(loss_sum.clone()), distributed.all_reduce_sum(seen.clone())


def _format_record(record: EpochRecord, epochs: int) -> str:
    return (
        f"epoch {record.epoch:>3}/{epochs}  train loss {record.train_loss:.4f}  "
        f"test loss {record.test_loss:.4f}  test acc {100 * record.test_accuracy:6.2f}%  "
        f"lr {record.lr:.2e}  {record.seconds:6.1f}s  {record.images_per_second:7.0f} img/s"
    )


# --- command line --------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    """The command-line interface of ``python -m convmixer.train``."""
    parser = argparse.ArgumentParser(
        prog="python -m convmixer.train",
        description="Train a ConvMixer on CIFAR-10 (also under torchrun for several processes).",
    )
    parser.add_argument("--profile", choices=sorted(PROFILES), help="training recipe (default: gpu with CUDA, else cpu)")
    parser.add_argument("--config", choices=sorted(CONFIGS), help="model config (default: the profile's)")
    parser.add_argument("--epochs", type=int, help="override the profile's number of epochs")
    parser.add_argument("--batch-size", type=int, help="override the profile's (global) batch size")
    parser.add_argument("--lr", type=float, help="override the profile's peak learning rate")
    parser.add_argument("--seed", type=int, help="override the profile's seed")
    parser.add_argument("--train-subset", type=int, help="train on this many images")
    parser.add_argument("--test-subset", type=int, help="evaluate on this many images")
    parser.add_argument("--data", help="CIFAR-10 source: image folder, .zip or torchvision root (default: $CONVMIXER_DATA)")
    parser.add_argument("--cache-dir", help="where decoded images are cached (default: ~/.cache/convmixer)")
    parser.add_argument("--out", help="output folder for checkpoint.pt and history.json (default: runs/<profile>)")
    parser.add_argument("--resume", action="store_true", help="continue from the checkpoint in --out, if any")
    parser.add_argument("--checkpoint-every", type=int, default=0, help="also checkpoint every N steps")
    parser.add_argument("--device", help="cpu, cuda, ... (default: cuda when available)")
    parser.add_argument("--compile", action=argparse.BooleanOptionalAction, help="torch.compile the model (default: on CUDA only)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser


def profile_from_args(args: argparse.Namespace) -> TrainProfile:
    """The profile named by ``--profile`` with the command line's overrides applied."""
    name = args.profile or ("gpu" if torch.cuda.is_available() else "cpu")
    profile = get_profile(name)
    changes: dict[str, Any] = {}
    if args.config is not None:
        changes.update(model=args.config, model_overrides={})
    for option in ("epochs", "batch_size", "lr", "seed", "train_subset", "test_subset"):
        if getattr(args, option) is not None:
            changes[option] = getattr(args, option)
    return profile.replace(**changes)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m convmixer.train``; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        profile = profile_from_args(args)
        device = distributed.setup(args.device)
        acceleration = Acceleration.for_device(device)
        if args.compile is not None:
            acceleration = dataclasses.replace(acceleration, compile=args.compile)
        result = fit(
            profile,
            data=args.data,
            out=Path(args.out or Path("runs") / profile.name),
            resume=args.resume,
            device=device,
            acceleration=acceleration,
            progress=not args.no_progress,
            cache_dir=args.cache_dir,
            checkpoint_every=args.checkpoint_every,
            verbose=True,
        )
    except ValueError as error:  # bad input, data or checkpoint: one sentence, no traceback
        print(f"error: {error}", file=sys.stderr)
        return 2
    finally:
        rank, world = distributed.rank(), distributed.world_size()
        distributed.shutdown()
    if rank == 0:
        evaluation = result.evaluation
        print(
            f"test accuracy {100 * evaluation.accuracy:.2f}% on {int(evaluation.confusion.sum())} images; "
            f"checkpoint {result.checkpoint}; weights sha256 {result.digest}"
            + (f" (identical on all {world} processes)" if world > 1 else "")
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
