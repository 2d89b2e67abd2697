"""The cpu recipe's tricks, one at a time and all together, on the studies' validation split.

Each variant is a base recipe with one change (:data:`VARIANTS`): either the recipe the tricks were
first measured against (the ``cpu-plain`` profile with the whitened stem and 6-view test-time
augmentation) under a shorter *proxy* budget (the recipe for fewer epochs, its one-cycle schedule
compressed to them), or the whole ``cpu`` recipe at its own budget. Each is trained
on the 45,000 training images the studies keep, with two or more seeds, and judged on the 5,000
held-out validation images with the profile's test-time augmentation. The test set is never read.
Every variant is compared with the unchanged recipe by the package's one rule
(:func:`convmixer.studies.stats.compare`: the 95 % interval of the difference, the seed spread
pooled over all variants). ``scripts/recipe_ablation.py`` runs it and writes
``results/recipe_ablation.json``.
"""

from __future__ import annotations

import dataclasses
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

from convmixer.data.sources import ImageDataset
from convmixer.studies.records import StudyFormat, check_whole_split, read_study, write_study
from convmixer.studies.stats import Comparison, Group, compare, interval_half_width, seed_noise
from convmixer.train import EpochRecord, FitResult, TrainProfile, fit


def _alternate_flip(budget: TrainProfile) -> TrainProfile:
    return budget.replace(augment=dataclasses.replace(budget.augment, alternate_flip=True))


def _progressive(budget: TrainProfile) -> TrainProfile:
    return budget.replace(progressive_size=24, progressive_epochs=max(1, budget.epochs // 2))


# What each variant changes in the budget, and how it reads in a table. "all" keeps the five tricks
# before it together, so the partners the fast trainers use them with are present; lookahead comes with
# its partner, a fast BatchNorm momentum (airbench: 0.6 in its convention, 1 - 0.6 in PyTorch's), as
# airbench's ablations found that neither helps alone.
VARIANTS: dict[str, tuple[str, Callable[[TrainProfile], TrainProfile]]] = {
    "baseline": ("the reference recipe", lambda b: b),
    "alternate-flip": ("alternating flip", _alternate_flip),
    "bias-lr": ("BatchNorm biases at 4x the learning rate", lambda b: b.replace(norm_bias_lr_scale=4.0)),
    "dirac": ("half the depth-wise kernels start as identity", lambda b: b.replace(dirac_depthwise=True)),
    "label-smoothing": ("label smoothing 0.2", lambda b: b.replace(label_smoothing=0.2)),
    "progressive": ("first half of the epochs at 24 x 24", _progressive),
    "all": ("all five together", lambda b: _progressive(_alternate_flip(b)).replace(
        norm_bias_lr_scale=4.0, dirac_depthwise=True, label_smoothing=0.2)),
    "lookahead": ("lookahead every 5 steps with BatchNorm momentum 0.4",
                  lambda b: b.replace(lookahead_every=5, norm_momentum=0.4)),
    "progressive-crop": ("first half of the epochs on 24 x 24 crops at full scale",
                         lambda b: _progressive(b).replace(progressive_mode="crop")),
    "no-bias-lr": ("BatchNorm biases at the base learning rate", lambda b: b.replace(norm_bias_lr_scale=1.0)),
}

RESULTS_FORMAT = StudyFormat("convmixer recipe ablation", 1, "scripts/recipe_ablation.py")


def variant_profile(budget: TrainProfile, variant: str, seed: int) -> TrainProfile:
    """``budget`` with ``variant``'s change and ``seed``, named e.g. ``cpu-proxy-dirac``."""
    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}; known: {', '.join(VARIANTS)}")
    return VARIANTS[variant][1](budget).replace(name=f"{budget.name}-{variant}", seed=seed)


@dataclass(frozen=True)
class RecipeRun:
    """One trained model: variant, seed, final validation accuracy (a fraction, with the budget's
    test-time augmentation, on ``validation_images``), per-epoch history, wall and training seconds."""

    variant: str
    seed: int
    validation_accuracy: float
    validation_images: int
    history: tuple[EpochRecord, ...]
    wall_seconds: float
    train_seconds: float


def run_variant(budget: TrainProfile, variant: str, seed: int, train: ImageDataset, validation: ImageDataset, *,
                fit: Callable[..., FitResult] = fit, device: str = "cpu") -> RecipeRun:
    """Train ``variant`` with ``seed`` on ``train`` and judge it on all of ``validation``."""
    check_whole_split(budget, validation)
    started = time.perf_counter()
    result = fit(variant_profile(budget, variant, seed), train=train, test=validation, device=device, progress=False)
    return RecipeRun(
        variant=variant,
        seed=seed,
        validation_accuracy=result.evaluation.accuracy,
        validation_images=int(result.evaluation.confusion.sum()),
        history=tuple(result.history),
        wall_seconds=round(time.perf_counter() - started, 1),
        train_seconds=round(sum(r.seconds for r in result.history), 1),
    )


@dataclass(frozen=True)
class VariantResult:
    """A variant over its seeds: accuracies in points (by seed), mean, 95 % half-width (pooled
    spread; ``None`` without repeats), mean training minutes, and the comparison with the baseline
    (``None`` for the baseline itself or without repeats)."""

    variant: str
    accuracies: tuple[float, ...]
    mean: float
    half_width: float | None
    train_minutes: float
    versus_baseline: Comparison | None

    @property
    def label(self) -> str:
        return VARIANTS[self.variant][0]


def summarise(runs: Sequence[RecipeRun]) -> list[VariantResult]:
    """One :class:`VariantResult` per variant with runs, in the order of :data:`VARIANTS`."""
    by_variant = {v: sorted((r for r in runs if r.variant == v), key=lambda r: r.seed) for v in VARIANTS}
    by_variant = {v: chosen for v, chosen in by_variant.items() if chosen}
    if not by_variant:
        raise ValueError("no runs to summarise")
    groups = {v: Group(v, tuple(100 * r.validation_accuracy for r in chosen)) for v, chosen in by_variant.items()}
    noise = seed_noise(list(groups.values()))
    base = groups.get("baseline")
    results = []
    for variant, group in groups.items():
        versus = None
        if noise is not None and base is not None and variant != "baseline":
            versus = compare([group], [base], noise, f"{VARIANTS[variant][0]} vs {VARIANTS['baseline'][0]}")
        minutes = sum(r.train_seconds for r in by_variant[variant]) / len(by_variant[variant]) / 60
        results.append(VariantResult(variant, group.values, group.mean,
                                     None if noise is None else interval_half_width([group], noise), minutes, versus))
    return results


def format_table(results: Sequence[VariantResult]) -> str:
    """A Markdown table: variant, accuracy per seed, mean ± half-width, difference to the
    baseline with its interval and verdict, training minutes."""
    lines = ["| variant | seeds (validation %) | mean | vs the reference | training min |",
             "|---|---|---:|---|---:|"]
    for r in results:
        spread = f" ± {r.half_width:.2f}" if r.half_width is not None else ""
        c = r.versus_baseline
        versus = "--" if c is None else (
            f"{c.difference:+.2f} ± {c.half_width:.2f}: {'larger than' if c.separable else 'within'} the noise")
        seeds = ", ".join(f"{a:.2f}" for a in r.accuracies)
        lines.append(f"| {r.label} | {seeds} | {r.mean:.2f}{spread} | {versus} | {r.train_minutes:.1f} |")
    return "\n".join(lines)


def write_results(path: str | os.PathLike, budget: TrainProfile, runs: Sequence[RecipeRun], notes: dict[str, Any]) -> Path:
    """Store the ablation atomically (:func:`convmixer.studies.records.write_study`)."""
    return write_study(path, RESULTS_FORMAT, budget, runs, notes)


def read_results(path: str | os.PathLike) -> tuple[list[RecipeRun], dict[str, Any]]:
    """The runs :func:`write_results` stored and the rest of the file; one ``ValueError`` if it
    cannot be read."""
    return read_study(path, RecipeRun, RESULTS_FORMAT)
