"""Kernel size ``k`` x depth ``d``: train small ConvMixers under one fixed budget and record what
each costs and reaches (notebook 07, ``scripts/kernel_depth_sweep.py``).

The *budget* is one :class:`~convmixer.train.TrainProfile` (:data:`SWEEP_BUDGET`, the ``study``
profile of :data:`convmixer.train.PROFILES`): the same training images, epochs, batch size,
learning-rate schedule, augmentation and seed for every model; only ``k`` and ``d`` change
(:func:`convmixer.train.with_kernel_depth`). Every model therefore takes the same number of optimizer
steps on the same batches -- a fixed *data* budget, not a fixed compute budget: a bigger model
spends more seconds on it, and the results record how many.

Each run gives one :class:`SweepRun`: test accuracy on the full test split, the model's size and
forward cost (parameters, FLOPs per image from ``torch.utils.flop_counter``), its receptive
field, its training throughput and the wall time. :func:`write_results` stores the rows as CSV
and the budget, machine and date as JSON beside it; :func:`read_results` reads both back.

Speed is measured apart from training: :func:`measure_throughput` times a few training steps of
the model on a fixed batch (the model, optimizer and step of :func:`convmixer.train.fit`, from
:func:`convmixer.train.build_training`).
Accuracy does not depend on how busy the machine was, throughput does; :func:`retime` measures
it again for stored runs when the machine is quiet, without retraining.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

import torch

from convmixer._util import check_positive_int
from convmixer.acceleration import Acceleration
from convmixer.analysis import count_parameters, forward_flops, receptive_field
from convmixer.augment import prepare_images
from convmixer.data import ImageDataset
from convmixer.machine import machine_info, utc_timestamp
from convmixer.train import STUDY, TrainProfile, build_training, evaluate, fit, with_kernel_depth

KERNEL_SIZES: tuple[int, ...] = (3, 5, 7, 9)
DEPTHS: tuple[int, ...] = (2, 4, 8)

# ConvMixer-64/d with p = 4 (an 8x8 patch grid on 32x32 images), one pass over a fixed 30,000 of
# CIFAR-10's 50,000 training images with the one-cycle schedule of the CPU profile.
SWEEP_BUDGET = STUDY


@dataclass(frozen=True)
class SweepRun:
    """One trained model of the sweep (one CSV row)."""

    kernel_size: int  # k
    depth: int  # d
    dim: int  # h
    patch_size: int  # p
    seed: int
    parameters: int
    flops: int  # forward FLOPs for one image
    receptive_field: int  # pixels seen by one position of the last feature map
    test_accuracy: float  # on the full test split
    test_loss: float
    test_images: int
    train_loss: float  # mean training loss of the last epoch
    train_images_per_second: float  # measure_throughput: median of timed training steps
    train_seconds: float  # training only, as it happened (depends on the machine's load)
    wall_seconds: float  # the whole run: training, per-epoch checks, final test

    @property
    def label(self) -> str:
        return f"k{self.kernel_size} d{self.depth}"


FIELDS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(SweepRun))


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


def run_one(
    profile: TrainProfile,
    train: ImageDataset,
    test: ImageDataset,
    acceleration: Acceleration | None = None,
    verbose: bool = False,
    timing_steps: int = 5,
) -> SweepRun:
    """Train ``profile`` with :func:`convmixer.train.fit` on ``train`` (its subset applies),
    evaluate on all of ``test``, and measure the model (throughput: :func:`measure_throughput`)."""
    started = time.perf_counter()
    result = fit(
        profile, train=train, test=test, device="cpu", acceleration=acceleration,
        progress=False, verbose=verbose,
    )
    final = evaluate(result.model, test, acceleration=acceleration)
    wall = time.perf_counter() - started
    config = profile.model_config()
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
        test_accuracy=final.accuracy,
        test_loss=final.loss,
        test_images=len(test),
        train_loss=result.history[-1].train_loss,
        train_images_per_second=measure_throughput(profile, timing_steps, acceleration),
        train_seconds=sum(r.seconds for r in result.history),
        wall_seconds=wall,
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
    repeat: tuple[int, int] | None = (5, 4),
    seeds: Sequence[int] = (0, 1, 2),
) -> list[tuple[int, int, int]]:
    """The runs ``(k, d, seed)``: every ``k`` with every ``d`` at the first seed, then the
    configuration ``repeat = (k, d)`` again with the other ``seeds``, which shows how much the
    accuracy moves from seed to seed alone."""
    if not kernel_sizes or not depths or not seeds:
        raise ValueError("need at least one kernel size, one depth and one seed")
    runs = [(k, d, seeds[0]) for d in depths for k in kernel_sizes]
    if repeat is not None:
        runs += [(repeat[0], repeat[1], seed) for seed in seeds[1:]]
    return runs


def write_results(
    runs: Iterable[SweepRun], path: str | os.PathLike, budget: TrainProfile, notes: dict[str, Any] | None = None,
) -> tuple[Path, Path]:
    """Write ``path.csv`` (one row per run) and ``path.json`` (budget, machine, date, notes)."""
    base = Path(path)
    base.parent.mkdir(parents=True, exist_ok=True)
    csv_path, json_path = base.with_suffix(".csv"), base.with_suffix(".json")
    runs = list(runs)
    with csv_path.open("w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=FIELDS)
        writer.writeheader()
        for run in runs:
            writer.writerow(dataclasses.asdict(run))
    meta = {
        "date": utc_timestamp(),
        "machine": machine_info(),
        "budget": budget.to_dict(),
        "runs": len(runs),
        "total_wall_seconds": round(sum(r.wall_seconds for r in runs), 1),
        **(notes or {}),
    }
    json_path.write_text(json.dumps(meta, indent=1) + "\n")
    return csv_path, json_path


def read_results(path: str | os.PathLike) -> tuple[list[SweepRun], dict[str, Any]]:
    """The runs of ``path.csv`` and the metadata of ``path.json`` (``path`` with or without a
    suffix). A missing file or column is a ``ValueError`` that names it."""
    base = Path(path)
    base = base.with_suffix("") if base.suffix in (".csv", ".json") else base
    csv_path, json_path = base.with_suffix(".csv"), base.with_suffix(".json")
    for file in (csv_path, json_path):
        if not file.is_file():
            raise ValueError(f"sweep results {file} not found; run scripts/kernel_depth_sweep.py first")
    types = {f.name: f.type for f in dataclasses.fields(SweepRun)}
    convert = {"int": int, "float": float}
    with csv_path.open(newline="") as file:
        reader = csv.DictReader(file)
        missing = [name for name in FIELDS if name not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{csv_path} lacks the column(s) {', '.join(missing)}")
        runs = [SweepRun(**{name: convert[types[name]](row[name]) for name in FIELDS}) for row in reader]
    return runs, json.loads(json_path.read_text())
