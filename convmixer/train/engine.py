"""The training engine: the model, the optimizer, the schedule, one step, and :func:`fit`.

The recipe is the official ConvMixer CIFAR-10 script's: AdamW, a one-cycle learning rate
(linear warm-up to the peak over the first 2/5 of training, linear decay to peak/20 at 4/5,
then to 0), gradient clipping, mixed precision where the device has it, and RandAugment-style
augmentation; a :class:`~convmixer.train.profiles.TrainProfile` fixes its numbers.

Everything that trains -- :func:`fit`, the speed benchmarks (``benchmarks/speed.py``,
``benchmarks/profile_step.py``) and the kernel-size study's throughput
(:func:`convmixer.studies.kernel_depth.measure_throughput`) -- builds its model, optimizer and step here
(:func:`build_training`), so a speed measured by one is the speed of the others. Channels-last
memory format, autocast, ``torch.compile``, the fused optimizer and its thread count come from
:class:`~convmixer.train.acceleration.Acceleration`.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from tqdm.auto import tqdm

from convmixer.data.sources import ImageDataset, load_cifar10
from convmixer.data.splits import hold_out
from convmixer.model import ConvMixer
from convmixer.train import distributed
from convmixer.train.acceleration import Acceleration
from convmixer.train.checkpoint import restore_training_state
from convmixer.train.evaluate import Evaluation, evaluate_on_ranks, rank_shard
from convmixer.train.initial import dirac_depthwise
from convmixer.train.loader import BatchLoader
from convmixer.train.lookahead import Lookahead
from convmixer.train.profiles import TrainProfile, get_profile
from convmixer.train.run import EpochRecord, RunFolder, Training, TrainStep
from convmixer.train.whitening import whiten_stem

# --- the parts ------------------------------------------------------------------------------------


WHITENING_IMAGES = 5000  # training images whose patches set a whitened stem


def build_model(
    profile: TrainProfile, device: torch.device | str = "cpu", images: torch.Tensor | None = None
) -> ConvMixer:
    """The profile's ConvMixer on ``device``, initialised after ``torch.manual_seed(profile.seed)``;
    with ``stem_init="whiten"`` its stem starts from the patch-whitening filters of the first
    :data:`WHITENING_IMAGES` of ``images`` (uint8 training images; required then); with
    ``dirac_depthwise`` half of its depth-wise kernels start as the identity; its BatchNorm layers
    keep running statistics with the profile's ``norm_momentum``."""
    torch.manual_seed(profile.seed)
    model = ConvMixer(profile.model_config())
    for module in model.modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm):
            module.momentum = profile.norm_momentum
    if profile.stem_init == "whiten":
        if images is None:
            raise ValueError("a whitened stem (stem_init='whiten') needs the training images")
        whiten_stem(model, images[:WHITENING_IMAGES].cpu())
    if profile.dirac_depthwise:
        dirac_depthwise(model)
    return model.to(device)


def build_optimizer(
    model: nn.Module, profile: TrainProfile, device: torch.device | str, acceleration: Acceleration
) -> torch.optim.AdamW:
    """AdamW with the profile's peak learning rate and weight decay: fused where PyTorch has a
    fused kernel for ``device`` and stepping on one CPU thread, as ``acceleration`` says
    (:meth:`~Acceleration.optimizer_options`, :meth:`~Acceleration.prepare_optimizer`). With
    ``norm_bias_lr_scale`` != 1 the BatchNorm biases form a second group whose learning rate is
    that many times the rest's (the schedule scales both alike)."""
    groups: list[dict] = [{"params": list(model.parameters())}]
    if profile.norm_bias_lr_scale != 1.0:
        biases = [m.bias for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
        chosen = {id(b) for b in biases}
        groups = [
            {"params": [p for p in model.parameters() if id(p) not in chosen]},
            {"params": biases, "lr": profile.lr * profile.norm_bias_lr_scale},
        ]
    optimizer = torch.optim.AdamW(
        groups, lr=profile.lr, weight_decay=profile.weight_decay, **acceleration.optimizer_options(device)
    )
    return acceleration.prepare_optimizer(optimizer)


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


def build_schedule(
    optimizer: torch.optim.Optimizer, profile: TrainProfile, steps_per_epoch: int
) -> torch.optim.lr_scheduler.LambdaLR:
    """:func:`one_cycle_schedule` over the profile's epochs, stepped once per batch."""
    return torch.optim.lr_scheduler.LambdaLR(optimizer, one_cycle_schedule(profile.epochs, steps_per_epoch))


def build_scaler(device: torch.device | str, acceleration: Acceleration) -> torch.amp.GradScaler:
    """The loss scaler: on for float16 autocast (whose small gradients would underflow), a
    pass-through otherwise."""
    return torch.amp.GradScaler(torch.device(device).type, enabled=acceleration.amp_dtype == torch.float16)


def make_train_step(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: torch.optim.lr_scheduler.LRScheduler | None,
    acceleration: Acceleration,
    device: torch.device | str,
    label_smoothing: float = 0.0,
    grad_clip: float = 0.0,
    scaler: torch.amp.GradScaler | None = None,
    on_phase: Callable[[str], None] | None = None,
) -> TrainStep:
    """One optimisation step as a function ``step(images, labels) -> loss``.

    ``model`` is what :meth:`Acceleration.prepare_model` returned (possibly wrapped in
    DistributedDataParallel); ``images`` are normalised float ``(B, 3, H, W)`` on ``device``.
    The step: zero the gradients, forward under autocast, cross-entropy (with label
    smoothing), backward (through ``scaler`` for float16), clip the global gradient norm to
    ``grad_clip`` (0: off; on :meth:`Acceleration.optimizer_threads`), optimizer step, scheduler
    step. Returns the detached loss (no device synchronisation). ``on_phase``, if given, is
    called with ``"forward"``, ``"backward"`` and ``"optimizer"`` as each phase ends (for
    profiling).
    """
    device = torch.device(device)
    loss_fn = nn.CrossEntropyLoss(label_smoothing=label_smoothing)
    scaler = scaler or torch.amp.GradScaler(device.type, enabled=False)
    parameters = [p for p in model.parameters() if p.requires_grad]
    phase_done = on_phase or (lambda phase: None)

    def step(images: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        images = acceleration.prepare_input(images)
        optimizer.zero_grad(set_to_none=True)
        with acceleration.autocast(device):
            loss = loss_fn(model(images), labels)
        phase_done("forward")
        scaler.scale(loss).backward()
        phase_done("backward")
        if grad_clip > 0:
            with acceleration.optimizer_threads(device):
                scaler.unscale_(optimizer)
                nn.utils.clip_grad_norm_(parameters, grad_clip)
        scaler.step(optimizer)
        scaler.update()
        if scheduler is not None:
            scheduler.step()
        phase_done("optimizer")
        return loss.detach()

    return step


def build_training(
    profile: TrainProfile,
    device: torch.device | str,
    acceleration: Acceleration,
    steps_per_epoch: int,
    model: ConvMixer | None = None,
    checkpoint: dict | None = None,
    on_phase: Callable[[str], None] | None = None,
    images: torch.Tensor | None = None,
) -> Training:
    """The model (:func:`build_model`, or ``model`` as given), optimizer, schedule and scaler of
    ``profile``, restored from a training ``checkpoint`` if given, then prepared to run on
    ``device`` and wrapped in DistributedDataParallel inside a process group; and the step (which
    ends with the :class:`~convmixer.train.lookahead.Lookahead` update when the profile has one).
    ``images``: the training images, for a whitened stem (:func:`build_model`)."""
    device = torch.device(device)
    if model is None:  # a checkpoint's weights replace the initial ones, whitened or not
        model = build_model(profile.replace(stem_init="random") if checkpoint else profile, device, images)
    optimizer = build_optimizer(model, profile, device, acceleration)
    scheduler = build_schedule(optimizer, profile, steps_per_epoch)
    scaler = build_scaler(device, acceleration)
    lookahead = None
    if profile.lookahead_every:
        lookahead = Lookahead(model, profile.lookahead_every, profile.epochs * steps_per_epoch)
    if checkpoint is not None:
        restore_training_state(checkpoint, model, optimizer, scheduler, scaler, lookahead)
    runner = acceleration.prepare_model(model)
    trained = runner
    if distributed.is_distributed():
        trained = DistributedDataParallel(runner, device_ids=[device.index] if device.type == "cuda" else None)
    step = make_train_step(
        trained, optimizer, scheduler, acceleration, device, profile.label_smoothing, profile.grad_clip, scaler,
        on_phase,
    )
    if lookahead is not None:
        step = _with_lookahead(step, lookahead, scheduler)
    return Training(model, runner, optimizer, scheduler, scaler, step, lookahead)


def _with_lookahead(step: TrainStep, lookahead: Lookahead, scheduler: torch.optim.lr_scheduler.LRScheduler) -> TrainStep:
    """``step`` followed by the lookahead update (the schedule counts the steps done)."""

    def step_and_average(images: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        loss = step(images, labels)
        lookahead.after_step(scheduler.last_epoch)
        return loss

    return step_and_average


# --- fit ------------------------------------------------------------------------------------------


def training_split(profile: TrainProfile, train: ImageDataset) -> tuple[ImageDataset, ImageDataset | None]:
    """What :func:`fit` trains on and draws its curve on, from the training split it is given:
    ``validation_per_class`` images of every class held out (:func:`convmixer.data.splits.hold_out`;
    ``None`` without), then the profile's ``train_subset`` of the rest."""
    validation = None
    if profile.validation_per_class:
        train, validation = hold_out(train, profile.validation_per_class)
    return train.subset(profile.train_subset, profile.seed), validation


@dataclass
class FitResult:
    """What :func:`fit` returns: the trained model (eval mode), per-epoch history, the final
    test evaluation, the checkpoint file (if any) and the digest of the final weights."""

    model: ConvMixer
    history: list[EpochRecord]
    evaluation: Evaluation
    checkpoint: Path | None
    digest: str


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
        data: where to load CIFAR-10 from (see :func:`convmixer.data.sources.load_cifar10`); ignored
            for the splits passed as ``train`` / ``test``.
        train, test: the datasets, if already loaded (the profile's subsets still apply).
            With the profile's ``validation_per_class`` > 0, ``validation_per_class`` images of
            every class are held out of ``train`` (the studies' split,
            :func:`convmixer.data.splits.hold_out`), every epoch is evaluated on them and ``test``
            is read once, after the last epoch. Otherwise ``test`` is what every epoch is
            evaluated on. The evaluated set's ``split`` (``"test"``, or ``"validation"`` for
            images held out of the training set) names the numbers in each
            :class:`EpochRecord` (``eval_split``).
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
        The trained model (eval mode), the per-epoch history, the final evaluation of ``test``
        (with the profile's test-time augmentation; the epochs' curve is evaluated plainly, which
        is cheaper), the checkpoint path and the SHA-256 digest of the final weights.

    Raises:
        ValueError: bad profile or data, a batch larger than the training set, an existing
            checkpoint without ``resume``; :class:`~convmixer.train.checkpoint.CheckpointError` (a
            ``ValueError``) for an unreadable checkpoint or one from another configuration.
            Nothing on disk is changed before these checks pass.

    Under ``torchrun`` (a process group initialised by :func:`convmixer.train.distributed.setup`)
    each rank trains on its shard with DistributedDataParallel; only rank 0 writes files,
    calls ``callback`` and shows progress.
    """
    profile = get_profile(profile) if isinstance(profile, str) else profile
    device = torch.device(device) if device is not None else distributed.setup(None)
    acceleration = acceleration or Acceleration.for_device(device)
    if checkpoint_every < 0:
        raise ValueError(f"checkpoint_every must be >= 0, got {checkpoint_every}")
    folder = RunFolder(out, profile, resume)
    train, curve = training_split(profile, load_cifar10("train", data, cache_dir) if train is None else train)
    test = (load_cifar10("test", data, cache_dir) if test is None else test).subset(profile.test_subset, profile.seed)
    curve = test if curve is None else curve
    loader = BatchLoader(train, profile.batch_size, profile.augment, profile.seed, device)
    training = build_training(
        profile, device, acceleration, len(loader), checkpoint=folder.checkpoint, images=train.images
    )
    state, curve_shard = folder.run_state(device), rank_shard(curve, device)
    main_process = distributed.rank() == 0
    bar = _progress_bar(profile, len(loader), state.epoch * len(loader) + state.step, progress and main_process)
    evaluation = None
    try:
        while state.epoch < profile.epochs:
            training.model.train()
            started, carried = time.perf_counter(), state.epoch_seconds  # carried: before a resume
            small = profile.train_size(state.epoch)
            for images, labels in loader.batches(state.epoch, state.step, small, profile.progressive_mode == "crop"):
                state.add(training.step(images, labels), len(labels))
                bar.update(1)
                if checkpoint_every and state.step % checkpoint_every == 0 and state.step < len(loader):
                    state.epoch_seconds = carried + time.perf_counter() - started
                    folder.save(training, state)
            if training.lookahead is not None:
                training.lookahead.end_epoch()
            seconds = carried + time.perf_counter() - started
            loss_sum, seen = state.global_sums()
            last = state.epoch + 1 == profile.epochs
            tta = profile.tta if last and curve is test else "none"  # only the final model's is read
            evaluation = evaluate_on_ranks(training.model, curve_shard, training.runner, acceleration, tta)
            record = EpochRecord(
                epoch=state.epoch + 1, train_loss=float(loss_sum / seen), eval_loss=evaluation.loss,
                eval_accuracy=evaluation.accuracy, eval_split=curve.split,
                eval_images=int(evaluation.confusion.sum()),
                lr=training.optimizer.param_groups[0]["lr"], seconds=seconds,
                images_per_second=len(loader) * profile.batch_size / seconds,
            )
            state.end_epoch(record)
            folder.save(training, state)
            if main_process:
                _report(bar, record, profile.epochs, verbose, callback)
    finally:
        bar.close()
    if evaluation is None or curve is not test:  # the test set, read once; or the checkpoint was complete
        evaluation = evaluate_on_ranks(training.model, rank_shard(test, device), training.runner, acceleration, profile.tta)
    digest = distributed.check_replicas_identical(training.model)
    return FitResult(training.model.eval(), state.history, evaluation, folder.path, digest)


def _progress_bar(profile: TrainProfile, steps_per_epoch: int, done: int, show: bool) -> tqdm:
    config = profile.model_config()
    total = profile.epochs * steps_per_epoch
    return tqdm(
        total=total,
        initial=min(done, total),
        disable=not show,
        desc=f"{profile.name}: {config.dim}/{config.depth} k{config.kernel_size} p{config.patch_size}",
        unit="step",
        dynamic_ncols=True,
    )


def _report(bar: tqdm, record: EpochRecord, epochs: int, verbose: bool, callback: Callable | None) -> None:
    """Show a finished epoch: on the progress bar, as a line if ``verbose``, to ``callback``."""
    bar.set_postfix(loss=f"{record.train_loss:.3f}", **{f"{record.eval_split}_acc": f"{record.eval_accuracy:.3f}"})
    if verbose:
        bar.write(
            f"epoch {record.epoch:>3}/{epochs}  train loss {record.train_loss:.4f}  {record.eval_split} loss "
            f"{record.eval_loss:.4f}  {record.eval_split} acc {100 * record.eval_accuracy:6.2f}%  "
            f"lr {record.lr:.2e}  {record.seconds:6.1f}s  {record.images_per_second:7.0f} img/s"
        )
    if callback is not None:
        callback(record)
