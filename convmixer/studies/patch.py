"""Patch size, trained: what a finer grid buys, per image seen and per minute of a 2-core CPU.

A ConvMixer's stem cuts the ``H x W`` image into ``p x p`` patches, so the blocks work on a grid of
``(H/p) (W/p)`` positions ("tokens"). Halving ``p`` quadruples the tokens, and with them the cost
of every block -- about ``(H/p)^2 (h^2 + h k^2)`` multiply-adds per block -- while the parameter
count barely moves (only the stem's ``3 p^2 h`` weights depend on ``p``). So the question has two
honest forms:

- **the same epochs** (:data:`EPOCHS_BUDGET`): every ``p`` sees the same images the same number of
  times; what does a finer grid buy per image seen?
- **the same minutes** (:data:`MINUTES_BUDGET`): every ``p`` trains for the same wall-clock
  minutes on this machine, its epochs set from its measured training throughput
  (:func:`epochs_for_minutes`, measured once per study and stored, so a resumed study trains the
  same epochs); what should a laptop pick?

Both train the ``patch-study`` profile (the cpu recipe at ConvMixer-64/8, k = 5, without
progressive resizing, which the recipe ablation did not separate from the noise and which would
shrink p = 8's grid to 3 x 3) with only ``p`` and the epochs changed, on the studies' training split, and judge every
model on the whole validation split with the recipe's 6-view test-time augmentation; the test set
is never read while the study runs. Differences are judged by the package's one rule
(:func:`convmixer.studies.stats.compare`, the seed spread pooled over the ``p`` of one budget).
``scripts/patch_study.py`` runs it and writes ``results/patch_study.json``.

Once every run is stored, the study names the setting it recommends (:func:`chosen_setting`: the
same-minutes ``p`` with the best mean validation accuracy, the laptop's question) and reads the test
set once, for that setting's kept model (:func:`read_test_once`); the reading is stored and never
repeated.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

from convmixer._util import check_positive_int
from convmixer.analysis.cost import convmixer_flops, convmixer_parameters
from convmixer.data.sources import ImageDataset
from convmixer.model import ConvMixer
from convmixer.studies.records import StudyFormat, check_whole_split, read_study, write_study
from convmixer.studies.stats import Comparison, Group, compare, interval_half_width, seed_noise
from convmixer.train import EpochRecord, FitResult, TrainProfile, fit, get_profile
from convmixer.train.checkpoint import save_model
from convmixer.train.evaluate import evaluate

BUDGET = get_profile("patch-study")
PATCH_SIZES: tuple[int, ...] = (2, 4, 8)
SEEDS: tuple[int, ...] = (0, 1, 2)
EPOCHS_BUDGET = "epochs"
MINUTES_BUDGET = "minutes"
BUDGETS = (EPOCHS_BUDGET, MINUTES_BUDGET)
TRAINING_MINUTES = 5.0  # the same-minutes budget: training time per model on 2 cores
CHECKPOINT_STEPS = 50  # a resumable run's checkpoint interval (p = 2: about a minute of training)
RESULTS_FORMAT = StudyFormat("convmixer patch-size study", 1, "scripts/patch_study.py")


def with_patch(budget: TrainProfile, patch_size: int, seed: int, epochs: int | None = None) -> TrainProfile:
    """``budget`` with patch size ``p`` (and optionally the epochs) and ``seed``, named e.g.
    ``patch-study-p2``. The image must tile into whole patches (one clear ``ValueError`` if not)."""
    check_positive_int("patch_size", patch_size)
    return budget.replace(
        name=f"{budget.name}-p{patch_size}",
        model_overrides={**budget.model_overrides, "patch_size": patch_size},
        epochs=budget.epochs if epochs is None else epochs,
        seed=seed,
    )


def epochs_for_minutes(minutes: float, images_per_second: float, train_images: int) -> int:
    """Whole epochs of ``train_images`` that ``minutes`` of training at ``images_per_second`` buy
    (at least 1)."""
    if not (minutes > 0 and images_per_second > 0):
        raise ValueError(f"need minutes > 0 and images_per_second > 0, got {minutes} and {images_per_second}")
    check_positive_int("train_images", train_images)
    return max(1, round(minutes * 60 * images_per_second / train_images))


@dataclass(frozen=True)
class PatchRun:
    """One trained model: which budget (``"epochs"`` or ``"minutes"``), ``p``, seed and epochs;
    validation accuracy (a fraction, 6 views, on ``validation_images``); the model's parameters,
    forward FLOPs per image and grid positions; its per-epoch history; training and wall seconds."""

    budget: str
    patch_size: int
    seed: int
    epochs: int
    validation_accuracy: float
    validation_images: int
    parameters: int
    flops: int
    tokens: int
    history: tuple[EpochRecord, ...]
    train_seconds: float
    wall_seconds: float


def run_patch(budget: TrainProfile, kind: str, patch_size: int, seed: int, epochs: int, train: ImageDataset,
              validation: ImageDataset, *, fit: Callable[..., FitResult] = fit, device: str = "cpu",
              model_path: str | os.PathLike | None = None, run_dir: str | os.PathLike | None = None) -> PatchRun:
    """Train ``p`` with ``seed`` for ``epochs`` under ``budget`` on ``train``, judge it on all of
    ``validation``; keep the model at ``model_path`` if given. With ``run_dir`` the run checkpoints
    there every :data:`CHECKPOINT_STEPS` steps and resumes from it, exactly, when started again
    (an interrupted run loses less than that; its training seconds count only the work kept)."""
    if kind not in BUDGETS:
        raise ValueError(f"budget kind must be one of {', '.join(BUDGETS)}, got {kind!r}")
    check_whole_split(budget, validation)
    profile = with_patch(budget, patch_size, seed, epochs)
    config = profile.model_config()
    started = time.perf_counter()
    resumable = {} if run_dir is None else {"out": run_dir, "resume": True, "checkpoint_every": CHECKPOINT_STEPS}
    result = fit(profile, train=train, test=validation, device=device, progress=False, **resumable)
    if model_path is not None:
        save_model(model_path, result.model, profile=profile.to_dict())
    return PatchRun(
        budget=kind, patch_size=patch_size, seed=seed, epochs=epochs,
        validation_accuracy=result.evaluation.accuracy, validation_images=int(result.evaluation.confusion.sum()),
        parameters=convmixer_parameters(config), flops=convmixer_flops(config),
        tokens=(config.image_size // patch_size) ** 2, history=tuple(result.history),
        train_seconds=round(sum(r.seconds for r in result.history), 1),
        wall_seconds=round(time.perf_counter() - started, 1),
    )


@dataclass(frozen=True)
class PatchSummary:
    """One ``(budget, p)`` over its seeds: accuracies in points (by seed), mean, 95 % half-width
    (seed spread pooled over the budget's ``p``; ``None`` without repeats), epochs, mean training
    minutes, and the model's parameters, FLOPs and tokens."""

    budget: str
    patch_size: int
    accuracies: tuple[float, ...]
    mean: float
    half_width: float | None
    epochs: int
    train_minutes: float
    parameters: int
    flops: int
    tokens: int


def summarise(runs: Sequence[PatchRun]) -> list[PatchSummary]:
    """One :class:`PatchSummary` per ``(budget, p)`` with runs, by budget then ``p``."""
    if not runs:
        raise ValueError("no runs to summarise")
    summaries = []
    for kind in BUDGETS:
        cells = {p: sorted((r for r in runs if r.budget == kind and r.patch_size == p), key=lambda r: r.seed)
                 for p in sorted({r.patch_size for r in runs if r.budget == kind})}
        groups = {p: Group(f"p{p}", tuple(100 * r.validation_accuracy for r in chosen)) for p, chosen in cells.items()}
        noise = seed_noise(list(groups.values())) if groups else None
        for p, chosen in cells.items():
            first = chosen[0]
            summaries.append(PatchSummary(
                kind, p, groups[p].values, groups[p].mean,
                None if noise is None else interval_half_width([groups[p]], noise),
                first.epochs, sum(r.train_seconds for r in chosen) / len(chosen) / 60,
                first.parameters, first.flops, first.tokens,
            ))
    return summaries


def comparisons(summaries: Sequence[PatchSummary]) -> list[Comparison]:
    """Within each budget, every smaller ``p`` against every larger one, by the one rule (the seed
    spread pooled over that budget's ``p``); none where no ``p`` has two seeds."""
    found = []
    for kind in BUDGETS:
        groups = {s.patch_size: Group(f"p{s.patch_size}", s.accuracies) for s in summaries if s.budget == kind}
        noise = seed_noise(list(groups.values())) if groups else None
        if noise is None:
            continue
        for small in groups:
            for large in groups:
                if small < large:
                    found.append(compare([groups[small]], [groups[large]], noise,
                                         f"same {kind}: p = {small} vs p = {large}"))
    return found


def format_table(summaries: Sequence[PatchSummary]) -> str:
    """A Markdown table: budget, p, grid, epochs, validation accuracy by seed and mean ± half-width,
    training minutes, parameters and forward MFLOPs per image."""
    lines = ["| budget | p | grid | epochs | seeds (validation %) | mean | training min | parameters | MFLOPs |",
             "|---|---:|---|---:|---|---:|---:|---:|---:|"]
    for s in summaries:
        side = int(round(s.tokens ** 0.5))
        spread = f" ± {s.half_width:.2f}" if s.half_width is not None else ""
        seeds = ", ".join(f"{a:.2f}" for a in s.accuracies)
        lines.append(f"| same {s.budget} | {s.patch_size} | {side} x {side} | {s.epochs} | {seeds} | "
                     f"{s.mean:.2f}{spread} | {s.train_minutes:.1f} | {s.parameters:,} | {s.flops / 1e6:.0f} |")
    return "\n".join(lines)


def chosen_setting(summaries: Sequence[PatchSummary]) -> PatchSummary:
    """The setting the study recommends for a 2-core machine: among the same-minutes budget's ``p``,
    the one with the highest mean validation accuracy (the test set plays no part in the choice)."""
    candidates = [s for s in summaries if s.budget == MINUTES_BUDGET]
    if not candidates:
        raise ValueError("the study has no same-minutes runs to choose from")
    return max(candidates, key=lambda s: s.mean)


def read_test_once(model: ConvMixer, test: ImageDataset, chosen: PatchSummary, seed: int, tta: str) -> dict[str, Any]:
    """The one reading of the test set: ``model`` (the kept model of the ``chosen`` setting, trained
    with ``seed``) on all of ``test`` with the recipe's test-time augmentation ``tta``, as the
    record the study stores under ``"test"``."""
    if model.config.patch_size != chosen.patch_size:
        raise ValueError(f"the chosen setting has p = {chosen.patch_size}, the model p = {model.config.patch_size}")
    result = evaluate(model.eval(), test, tta=tta)
    return {"budget": chosen.budget, "patch_size": chosen.patch_size, "seed": seed, "tta": tta,
            "accuracy": result.accuracy, "images": int(result.confusion.sum()), "dataset": test.label}


def write_results(path: str | os.PathLike, budget: TrainProfile, runs: Sequence[PatchRun], notes: dict[str, Any]) -> Path:
    """Store the study atomically (:func:`convmixer.studies.records.write_study`)."""
    return write_study(path, RESULTS_FORMAT, budget, runs, notes)


def read_results(path: str | os.PathLike) -> tuple[list[PatchRun], dict[str, Any]]:
    """The runs :func:`write_results` stored and the rest of the file; one ``ValueError`` if it
    cannot be read."""
    return read_study(path, PatchRun, RESULTS_FORMAT)
