"""Where should a mixer block's skip connection go? Train every placement under one budget and
compare (``scripts/skip_study.py``, notebook 04).

The variants are :data:`convmixer.layers.RESIDUALS`, with ``S`` the depth-wise part and ``C`` the
point-wise part of a block (:class:`~convmixer.layers.MixerBlock`):

- ``"depthwise"`` (the paper): ``z_l = C(z_{l-1} + S(z_{l-1}))``,
- ``"block"``: ``z_l = z_{l-1} + C(S(z_{l-1}))``,
- ``"both"``: ``z_l = z'_l + C(z'_l)`` with ``z'_l = z_{l-1} + S(z_{l-1})``,
- ``"none"``: ``z_l = C(S(z_{l-1}))``.

All four have the same parameters; only the function differs. Each variant is trained with
several seeds on the same *budget* (one :class:`~convmixer.train.TrainProfile`: model, images,
epochs, schedule) and judged on a validation split held out of the training set, never on the
test split. A variant's seeds are one :class:`~convmixer.studies.stats.Group`; the error bars and
every "A differs from B" follow the package's one rule (:mod:`convmixer.studies.stats`): the
seed-to-seed standard deviation pooled over all variants, and a difference is told apart only when
the 95 % interval of the difference excludes zero (:func:`comparisons`).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from convmixer.analysis.cost import count_parameters
from convmixer.data.sources import ImageDataset
from convmixer.layers import RESIDUALS, check_residual
from convmixer.studies.records import StudyFormat, check_whole_split, read_study, write_study
from convmixer.studies.stats import Comparison, Group, compare, interval_half_width, seed_noise
from convmixer.train import EpochRecord, FitResult, TrainProfile, fit

# How the figures and tables name each variant.
VARIANT_LABELS: dict[str, str] = {
    "depthwise": "around depth-wise (paper)",
    "block": "around the whole block",
    "both": "two skips",
    "none": "no skip",
}


def variant_profile(budget: TrainProfile, variant: str, seed: int) -> TrainProfile:
    """``budget`` with the blocks' skip set to ``variant`` and the seed set to ``seed``, named
    e.g. ``skip-study-both``: one run of the study."""
    check_residual(variant)
    return budget.replace(
        name=f"{budget.name}-{variant}",
        model_overrides={**budget.model_overrides, "residual": variant},
        seed=seed,
    )


# results/skip_study.json, a convmixer.records file: notes, "budget" and "runs" (SkipRun records)
RESULTS_FORMAT = StudyFormat("convmixer skip study", 1, "scripts/skip_study.py")


@dataclass(frozen=True)
class SkipRun:
    """One trained model: its variant and seed, parameter count, validation accuracy after the
    last epoch (a fraction, on ``validation_images`` images), per-epoch history and wall time."""

    variant: str
    seed: int
    parameters: int
    validation_accuracy: float
    validation_images: int
    history: tuple[EpochRecord, ...]  # fit's records, evaluated on the validation split
    wall_seconds: float



def run_variant(
    budget: TrainProfile,
    variant: str,
    seed: int,
    train: ImageDataset,
    validation: ImageDataset,
    *,
    fit: Callable[..., FitResult] = fit,
    device: str = "cpu",
) -> SkipRun:
    """Train ``variant`` with ``seed`` under ``budget`` on ``train`` (the budget's
    ``train_subset`` applies), checking it on all of ``validation`` after every epoch.

    ``fit`` is :func:`convmixer.train.fit` (a stand-in in tests). Raises ``ValueError`` when the
    budget would evaluate on only part of ``validation`` (its ``test_subset`` must be ``None``).
    """
    check_whole_split(budget, validation)
    started = time.perf_counter()
    result = fit(variant_profile(budget, variant, seed), train=train, test=validation, device=device, progress=False)
    return SkipRun(
        variant=variant,
        seed=seed,
        parameters=count_parameters(result.model),
        validation_accuracy=result.evaluation.accuracy,
        validation_images=int(result.evaluation.confusion.sum()),
        history=tuple(result.history),
        wall_seconds=round(time.perf_counter() - started, 1),
    )


@dataclass(frozen=True)
class VariantSummary:
    """A variant's seeds summarised, in accuracy points: final validation accuracies (one per
    seed, by seed), their mean and the 95 % interval's half-width from the seed spread pooled over
    every variant (``None`` when no variant has two seeds), and the mean validation accuracy and
    training loss after each epoch."""

    variant: str
    accuracies: tuple[float, ...]
    mean: float
    half_width: float | None
    accuracy_curve: tuple[float, ...]
    train_loss_curve: tuple[float, ...]

    @property
    def label(self) -> str:
        return VARIANT_LABELS[self.variant]

    @property
    def group(self) -> Group:
        """The variant's final accuracies as a :class:`~convmixer.studies.stats.Group`."""
        return Group(self.label, self.accuracies)

    def describe(self) -> str:
        """E.g. ``two skips: 45.31 ± 0.82 points (3 seeds: 44.9, 45.5, 45.6)``."""
        spread = f" ± {self.half_width:.2f}" if self.half_width is not None else ""
        seeds = ", ".join(f"{a:.1f}" for a in self.accuracies)
        return f"{self.label}: {self.mean:.2f}{spread} points ({len(self.accuracies)} seeds: {seeds})"


def summarise(runs: Sequence[SkipRun]) -> list[VariantSummary]:
    """One :class:`VariantSummary` per variant that has runs, in the order of :data:`RESIDUALS`.

    Raises ``ValueError`` for no runs, or for runs of one variant with different numbers of epochs
    (their curves cannot be averaged).
    """
    if not runs:
        raise ValueError("no runs to summarise")
    chosen_runs = {variant: sorted((r for r in runs if r.variant == variant), key=lambda r: r.seed)
                   for variant in RESIDUALS}
    chosen_runs = {variant: chosen for variant, chosen in chosen_runs.items() if chosen}
    groups = [Group(variant, tuple(100 * r.validation_accuracy for r in chosen)) for variant, chosen in chosen_runs.items()]
    noise = seed_noise(groups)
    summaries = []
    for group, chosen in zip(groups, chosen_runs.values()):
        if len({len(r.history) for r in chosen}) > 1:
            raise ValueError(f"the runs of {group.label!r} have different numbers of epochs; they cannot be averaged")
        curves = np.array([[(100 * p.eval_accuracy, p.train_loss) for p in r.history] for r in chosen])
        summaries.append(VariantSummary(
            group.label, group.values, group.mean, None if noise is None else interval_half_width([group], noise),
            tuple(curves[:, :, 0].mean(axis=0).tolist()), tuple(curves[:, :, 1].mean(axis=0).tolist()),
        ))
    return summaries


def comparisons(summaries: Sequence[VariantSummary], reference: str = "depthwise") -> list[Comparison]:
    """Every other variant against ``reference``, by the package's one rule
    (:func:`convmixer.studies.stats.compare`, the seed spread pooled over all variants); an empty
    list when no variant has two seeds (no spread to judge by)."""
    by_variant = {s.variant: s for s in summaries}
    if reference not in by_variant:
        raise ValueError(f"no runs of the reference variant {reference!r}")
    noise = seed_noise([s.group for s in summaries])
    if noise is None:
        return []
    base = by_variant[reference]
    return [compare([s.group], [base.group], noise, f"{s.label} vs {base.label}")
            for s in summaries if s.variant != reference]


def verdicts(summaries: Sequence[VariantSummary], reference: str = "depthwise") -> list[str]:
    """:func:`comparisons` one line each, e.g. ``no skip vs around depth-wise (paper): -3.2 ± 2.1
    points: larger than the noise``."""
    return [comparison.describe() for comparison in comparisons(summaries, reference)]


def write_results(path: str | os.PathLike, budget: TrainProfile, runs: Sequence[SkipRun], notes: dict[str, Any]) -> Path:
    """Store the study as JSON, atomically: ``notes`` (machine, date, load, ...), the budget as a
    profile dict and every run."""
    return write_study(path, RESULTS_FORMAT, budget, runs, notes)


def read_results(path: str | os.PathLike) -> tuple[list[SkipRun], dict[str, Any]]:
    """The runs stored by :func:`write_results` and everything else in the file; a missing or
    unreadable file is one clear ``ValueError``."""
    return read_study(path, SkipRun, RESULTS_FORMAT)
