"""Kernel size ``k`` x depth ``d``: train small ConvMixers under one fixed budget, several seeds
each, and record what each costs and reaches (notebook 07, ``scripts/kernel_depth_sweep.py``).

The *budget* is one :class:`~convmixer.train.TrainProfile` (:data:`~convmixer.train.profiles.STUDY`, the ``study``
profile of :data:`convmixer.train.PROFILES`): the same training images, epochs, batch size,
learning-rate schedule and augmentation for every model; only ``k``, ``d`` and the seed change
(:func:`convmixer.train.with_kernel_depth`). Every model takes the same number of optimizer steps: a
fixed *data* budget, not a fixed compute budget -- a bigger model spends more seconds on it, and
the results record how many.

Models are judged on a *validation* split held out of CIFAR-10's training images
(:func:`convmixer.studies.records.held_out_split`); every comparison and the choice of the best cell
use it. The test split is read once, at the end, for the chosen cell only
(:func:`final_test`): that number is what the study reports as its result, free of the choice.

Each run gives one :class:`SweepRun`: validation accuracy after every epoch, the model's size and
forward cost (parameters, FLOPs per image from ``torch.utils.flop_counter``), its receptive field,
its training throughput and the wall time. :func:`write_results` stores them with the budget,
split, machine and date as one JSON file (:mod:`convmixer.studies.records`); :func:`read_results`
reads it back.

Speed is measured apart from training: :func:`measure_throughput` times a few training steps of
the model on a fixed batch (the model, optimizer and step of :func:`convmixer.train.fit`, from
:func:`convmixer.train.build_training`). Accuracy does not depend on how busy the machine was,
throughput does; :func:`retime` measures it again for stored runs, without retraining.
"""

from __future__ import annotations

import dataclasses
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch

from convmixer._util import check_positive_int
from convmixer.analysis.cost import count_parameters, forward_flops
from convmixer.analysis.fields import receptive_field
from convmixer.data.augment import prepare_images
from convmixer.data.sources import ImageDataset
from convmixer.studies.panel_runs import describe_budget
from convmixer.studies.records import StudyFormat, check_whole_split, read_study, write_study
from convmixer.studies.stats import Comparison, Group, SeedNoise, compare, mean_half_width
from convmixer.train import STUDY, EpochRecord, TrainProfile, build_training, evaluate, fit, with_kernel_depth
from convmixer.train.acceleration import Acceleration
from convmixer.train.checkpoint import load_model

KERNEL_SIZES: tuple[int, ...] = (3, 5, 7, 9)
DEPTHS: tuple[int, ...] = (2, 4, 8)
SEEDS: tuple[int, ...] = (0, 1, 2)
VALIDATION_PER_CLASS = 500  # held out of the training split: 5,000 validation images

# ConvMixer-64/d with p = 4 (an 8x8 patch grid on 32x32 images), several epochs over the 45,000
# training images left after the validation split: see the `study` profile.


# results/kernel_depth_sweep.json, a convmixer.records file: notes, "budget" and "runs" (SweepRun records)
RESULTS_FORMAT = StudyFormat("convmixer kernel-size x depth sweep", 1, "scripts/kernel_depth_sweep.py")


@dataclass(frozen=True)
class SweepRun:
    """One trained model of the sweep: its shape and seed, what it costs, and what it reached on
    the validation split (a fraction, after the last epoch; ``history`` has every epoch)."""

    kernel_size: int  # k
    depth: int  # d
    dim: int  # h
    patch_size: int  # p
    seed: int
    parameters: int
    flops: int  # forward FLOPs for one image
    receptive_field: int  # pixels seen by one position of the last feature map
    validation_accuracy: float
    validation_loss: float
    validation_images: int
    train_loss: float  # mean training loss of the last epoch
    train_images_per_second: float  # measure_throughput: median of timed training steps
    train_seconds: float  # training only, as it happened (depends on the machine's load)
    wall_seconds: float  # the whole run: training and the checks after every epoch
    history: tuple[EpochRecord, ...] = ()  # fit's records, evaluated on the validation split

    @property
    def label(self) -> str:
        return f"k{self.kernel_size} d{self.depth}"

    @property
    def key(self) -> tuple[int, int, int]:
        """``(k, d, seed)``: what :func:`plan` lists."""
        return self.kernel_size, self.depth, self.seed



def measure_throughput(profile: TrainProfile, steps: int = 5, acceleration: Acceleration | None = None) -> float:
    """Training images per second of a fresh model of ``profile`` on this CPU: the median time
    of ``steps`` optimisation steps (after one warm-up step) on a fixed random batch of the
    profile's batch size, with the model, optimizer and step :func:`convmixer.train.fit` uses."""
    check_positive_int("steps", steps)
    acceleration = acceleration or Acceleration.for_device("cpu")
    config, generator = profile.model_config(), torch.Generator().manual_seed(profile.seed)
    size = config.image_size
    pixels = torch.randint(0, 256, (profile.batch_size, config.in_channels, size, size), generator=generator)
    pixels = pixels.to(torch.uint8)  # also what a whitened stem is computed from
    training = build_training(profile, "cpu", acceleration, steps_per_epoch=steps + 1, images=pixels)
    images = prepare_images(pixels)
    labels = torch.randint(0, config.num_classes, (profile.batch_size,), generator=generator)
    training.step(images, labels)
    times = []
    for _ in range(steps):
        started = time.perf_counter()
        training.step(images, labels)
        times.append(time.perf_counter() - started)
    return profile.batch_size / sorted(times)[len(times) // 2]


def model_folder(models: str | os.PathLike, kernel_size: int, depth: int, seed: int) -> Path:
    """Where :func:`run_one` keeps the run's checkpoint, e.g. ``models/k5-d4-seed0``."""
    return Path(models) / f"k{kernel_size}-d{depth}-seed{seed}"


def run_one(
    profile: TrainProfile,
    train: ImageDataset,
    validation: ImageDataset,
    models: str | os.PathLike | None = None,
    acceleration: Acceleration | None = None,
    timing_steps: int = 5,
) -> SweepRun:
    """Train ``profile`` with :func:`convmixer.train.fit` on ``train`` (its subset applies),
    checking it on all of ``validation`` after every epoch, and measure the model (throughput:
    :func:`measure_throughput`).

    With ``models``, fit keeps the run's checkpoint in :func:`model_folder` (so :func:`final_test`
    can read the model later) and resumes an interrupted run from it. Raises ``ValueError`` when
    the budget would evaluate on only part of ``validation`` (its ``test_subset`` must be ``None``).
    """
    check_whole_split(profile, validation)
    config = profile.model_config()
    out = model_folder(models, config.kernel_size, config.depth, profile.seed) if models is not None else None
    started = time.perf_counter()
    result = fit(profile, train=train, test=validation, out=out, resume=True, device="cpu",
                 acceleration=acceleration, progress=False)
    wall = time.perf_counter() - started
    size = config.image_size
    return SweepRun(
        kernel_size=config.kernel_size,
        depth=config.depth,
        dim=config.dim,
        patch_size=config.patch_size,
        seed=profile.seed,
        parameters=count_parameters(result.model),
        flops=forward_flops(result.model, (1, config.in_channels, size, size)),
        receptive_field=receptive_field(config.kernel_size, config.patch_size, config.depth),
        validation_accuracy=result.evaluation.accuracy,
        validation_loss=result.evaluation.loss,
        validation_images=int(result.evaluation.confusion.sum()),
        train_loss=result.history[-1].train_loss,
        train_images_per_second=measure_throughput(profile, timing_steps, acceleration),
        train_seconds=round(sum(r.seconds for r in result.history), 3),  # a tiny run can take under 0.05 s
        wall_seconds=round(wall, 3),
        history=tuple(result.history),
    )


def retime(
    runs: Sequence[SweepRun], budget: TrainProfile, steps: int = 5, acceleration: Acceleration | None = None,
) -> list[SweepRun]:
    """The runs with ``train_images_per_second`` measured again (same models, no training)."""
    timed = []
    for run in runs:
        speed = measure_throughput(with_kernel_depth(budget, run.kernel_size, run.depth, run.seed), steps, acceleration)
        timed.append(dataclasses.replace(run, train_images_per_second=speed))
    return timed


def plan(
    kernel_sizes: Sequence[int] = KERNEL_SIZES,
    depths: Sequence[int] = DEPTHS,
    seeds: Sequence[int] = SEEDS,
) -> list[tuple[int, int, int]]:
    """The runs ``(k, d, seed)``: every ``k`` with every ``d`` at the first seed, then the whole
    grid again at each further seed -- an interrupted sweep still holds complete grids."""
    if not kernel_sizes or not depths or not seeds:
        raise ValueError("need at least one kernel size, one depth and one seed")
    return [(k, d, seed) for seed in seeds for d in depths for k in kernel_sizes]


# --- the cells and the comparisons notebook 07 makes -------------------------------------------


@dataclass(frozen=True)
class Cell(Group):
    """One configuration ``(k, d)`` and its validation accuracies in points, one per seed (a
    :class:`~convmixer.studies.stats.Group` labelled ``k5 d4``)."""

    kernel_size: int = 0
    depth: int = 0


def cells(runs: Sequence[SweepRun]) -> list[Cell]:
    """The runs grouped by ``(k, d)``, ordered by depth, then kernel size."""
    if not runs:
        raise ValueError("no runs to summarise")
    groups: dict[tuple[int, int], list[float]] = {}
    for run in sorted(runs, key=lambda r: r.seed):
        groups.setdefault((run.kernel_size, run.depth), []).append(100 * run.validation_accuracy)
    return [Cell(f"k{k} d{d}", tuple(acc), k, d) for (k, d), acc in sorted(groups.items(), key=lambda item: item[0][::-1])]


def pick(summary: Sequence[Cell], kernel_size: int | None = None, depth: int | None = None) -> list[Cell]:
    """The cells with this ``k`` and/or ``d``; an empty result is a ``ValueError``."""
    chosen = [
        c for c in summary
        if (kernel_size is None or c.kernel_size == kernel_size) and (depth is None or c.depth == depth)
    ]
    if not chosen:
        raise ValueError(f"no cell with kernel size {kernel_size} and depth {depth}")
    return chosen


def kernel_comparison(summary: Sequence[Cell], depth: int, noise: SeedNoise) -> Comparison:
    """At ``depth``, the largest kernel against the smallest."""
    row = pick(summary, depth=depth)
    small, large = row[0], row[-1]
    label = f"k = {large.kernel_size} vs k = {small.kernel_size} at d = {depth}"
    return compare([large], [small], noise, label)


def kernel_comparisons(summary: Sequence[Cell], noise: SeedNoise) -> list[Comparison]:
    """:func:`kernel_comparison` at every depth."""
    return [kernel_comparison(summary, depth, noise) for depth in sorted({c.depth for c in summary})]


def depth_comparisons(summary: Sequence[Cell], noise: SeedNoise) -> list[Comparison]:
    """Each depth against the next smaller one, averaged over the kernel sizes both have."""
    depths = sorted({c.depth for c in summary})
    found = []
    for shallow, deep in zip(depths, depths[1:]):
        kernels = sorted({c.kernel_size for c in pick(summary, depth=shallow)}
                         & {c.kernel_size for c in pick(summary, depth=deep)})
        a = [c for c in summary if c.depth == deep and c.kernel_size in kernels]
        b = [c for c in summary if c.depth == shallow and c.kernel_size in kernels]
        over = ", ".join(str(k) for k in kernels)
        found.append(compare(a, b, noise, f"d = {deep} vs d = {shallow}, mean over k = {over}"))
    return found


def chosen_cell(runs: Sequence[SweepRun]) -> tuple[int, int]:
    """The cell ``(k, d)`` with the highest mean validation accuracy over its seeds: the study's
    choice, made without the test split."""
    best = max(cells(runs), key=lambda cell: cell.mean)
    return best.kernel_size, best.depth


def final_test(runs: Sequence[SweepRun], models: str | os.PathLike, test: ImageDataset) -> dict[str, Any]:
    """Read the test split once: evaluate every seed of :func:`chosen_cell` (models kept by
    :func:`run_one` under ``models``) on all of ``test``. Returns the record the results file
    stores: the cell, the seeds, their test accuracies (fractions), the images, the mean and the
    95 % interval's half-width of the mean in points (``None`` for one seed)."""
    kernel_size, depth = chosen_cell(runs)
    seeds = sorted(r.seed for r in runs if (r.kernel_size, r.depth) == (kernel_size, depth))
    accuracies = []
    for seed in seeds:
        folder = model_folder(models, kernel_size, depth, seed)
        if not folder.is_dir():
            raise ValueError(f"the model of k{kernel_size} d{depth} seed {seed} is not in {folder}; "
                             f"train it again with --resume")
        accuracies.append(evaluate(load_model(folder), test).accuracy)
    points = [100 * a for a in accuracies]
    return {
        "kernel_size": kernel_size,
        "depth": depth,
        "seeds": seeds,
        "test_accuracies": [round(a, 6) for a in accuracies],
        "test_images": len(test),
        "mean": round(float(np.mean(points)), 3),
        "half_width": None if len(points) < 2 else round(mean_half_width(points), 3),
    }


def describe_sweep(notes: dict[str, Any]) -> str:
    """The stored sweep's budget in words, from what :func:`read_results` returns besides the runs,
    e.g. ``study budget: ConvMixer-64/d, p = 4, 45,000 images × 3 epochs, checked on 5,000
    validation images, seeds 0, 1, 2``."""
    split = notes["split"]
    budget = describe_budget(TrainProfile.from_dict(notes["budget"]), split["train"], split["validation"], eval_split="validation")
    return f"{budget}, seeds {', '.join(str(seed) for seed in notes['seeds'])}"


def write_results(path: str | os.PathLike, budget: TrainProfile, runs: Sequence[SweepRun],
                  notes: dict[str, Any]) -> Path:
    """Store the sweep as JSON, atomically: ``notes`` (split, machine, date, load, ...), the budget
    as a profile dict and every run."""
    return write_study(path, RESULTS_FORMAT, budget, runs, notes)


def read_results(path: str | os.PathLike) -> tuple[list[SweepRun], dict[str, Any]]:
    """The runs stored by :func:`write_results` and everything else in the file; a missing or
    unreadable file is one clear ``ValueError``."""
    return read_study(path, SweepRun, RESULTS_FORMAT)
