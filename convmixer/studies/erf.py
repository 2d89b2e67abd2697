"""Why kernel size matters, measured: the effective receptive field of trained ConvMixer-h/d models
for a small and a large kernel ``k``, a shallow and a deep ``d`` (``scripts/erf_study.py``,
notebook 07).

After the stem and ``d`` mixer blocks of ``k x k`` depth-wise convolutions, a grid position can see
a square of side

    RF = p (1 + d (k - 1))

pixels (:func:`convmixer.analysis.fields.receptive_field`): nothing outside it has any influence. How much
each pixel inside it *does* influence the position is the effective receptive field (Luo et al.,
2016; :func:`convmixer.analysis.fields.effective_receptive_field`): with ``z_d`` the last feature
map and ``(r, c)`` the centre of the ``H/p x W/p`` grid,

    ERF(u, v) = 1/B sum_b sum_ch_in | d (sum_ch z_d^(b)[ch, r, c]) / d x^(b)[ch_in, u, v] |,

averaged over ``B`` fixed validation images, in eval mode. Every map is stored as shares of its
total (it sums to 1), and summarised by two numbers: the side of the smallest centred square that
holds half of it (:func:`~convmixer.analysis.fields.effective_side`, ``p`` when the position looks
only at its own patch) and the share on the position's own ``p x p`` patch
(:func:`~convmixer.analysis.fields.own_patch_share`).

Two studies share this module (:data:`PLANS`): weak models of notebook 07 (``erf-study``) and the
cpu recipe's good models with only ``k`` changed (``kernel-study``). In each, every
``(k, d)`` is trained with several seeds under one budget (a
:class:`~convmixer.train.TrainProfile`) on a training split, with a validation split held out; the
same architecture at its initial weights (what :func:`convmixer.train.build_model` gives for that
seed, the weights ``fit`` starts from) is measured too, so the change training made is visible.
Each number is reported as its mean over seeds with a 95 % interval, and two cells are compared,
by the package's one rule (:mod:`convmixer.studies.stats`): the seed-to-seed standard deviation of
that number pooled over the four cells, and a difference is separable only when the 95 % interval of
the difference excludes zero (:func:`comparisons`).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import torch

from convmixer.analysis.fields import (
    centre_position,
    effective_receptive_field,
    effective_side,
    own_patch_share,
    receptive_field,
)
from convmixer.data.augment import prepare_images
from convmixer.data.sources import ImageDataset
from convmixer.model import ConvMixer
from convmixer.studies.records import StudyFormat, read_study, write_study
from convmixer.studies.stats import Comparison, Group, compare, interval_half_width, seed_noise
from convmixer.train import FitResult, TrainProfile, build_model, fit, get_profile, with_kernel_depth
from convmixer.train.checkpoint import save_model



@dataclass(frozen=True)
class ErfPlan:
    """One study of this kind: its ``budget`` (a profile of the registry), the validation images held
    out of every class, the kernel sizes, depths and seeds it trains, its results file (under
    ``results/``) and the seeds whose trained models are kept beside that file (for pictures of
    their kernels)."""

    budget: TrainProfile
    validation_per_class: int
    kernel_sizes: tuple[int, ...]
    depths: tuple[int, ...]
    seeds: tuple[int, ...]
    results: str
    kept_seeds: tuple[int, ...] = ()


PLANS: dict[str, ErfPlan] = {
    # The weak models of notebook 07's first question: the `erf-study` profile (the `short` panel's
    # ConvMixer-64/d, 5,000 images x 4 epochs) with small and large k, shallow and deep d.
    "erf-study": ErfPlan(get_profile("erf-study"), 100, (3, 9), (2, 8), (0, 1, 2), "erf_study.json"),
    # Kernel size where the models are good: the cpu recipe (ConvMixer-128/8, p = 4, 18 epochs of
    # 45,000 images) with k = 3, 9 and then 5, judged on the recipe's own validation split.
    "kernel-study": ErfPlan(get_profile("kernel-study"), 500, (3, 9, 5), (8,), (0, 1, 2),
                            "kernel_size_study.json", kept_seeds=(0,)),
}
ERF_IMAGES = 64  # the first validation images, the same for every model
SIGNIFICANT_DIGITS = 3  # of each stored map entry (the pictures need no more)
STATES = ("trained", "untrained")


@dataclass(frozen=True)
class ErfMeasure:
    """One model's ERF of the centre position: ``side`` (pixels, holding half the gradient),
    ``own_share`` (the fraction on its own patch) and the map, ``H`` rows of ``W`` shares summing
    to 1 (rounded to :data:`SIGNIFICANT_DIGITS`; ``side`` and ``own_share`` come from the unrounded
    map)."""

    side: int
    own_share: float
    map: tuple[tuple[float, ...], ...]

    def tensor(self) -> torch.Tensor:
        return torch.tensor(self.map, dtype=torch.float64)


def measure(model: ConvMixer, images: torch.Tensor) -> ErfMeasure:
    """The ERF of ``model``'s centre grid position after all ``d`` blocks, averaged over the
    preprocessed ``images`` (on the model's device), as an :class:`ErfMeasure`."""
    height, width = images.shape[-2:]
    p = model.stem.patch_size
    position = centre_position(height, width, p)
    device = next(model.parameters()).device
    erf = effective_receptive_field(model, images.to(device), position=position).detach().double().cpu()
    share = erf / erf.sum()
    rounded = tuple(tuple(float(f"{v:.{SIGNIFICANT_DIGITS}g}") for v in row) for row in share.tolist())
    return ErfMeasure(effective_side(share, p, position), round(own_patch_share(share, p, position), 4), rounded)


# results/erf_study.json, a convmixer.records file: notes, "budget" and "runs" (ErfRun records)
RESULTS_FORMAT = StudyFormat("convmixer ERF study", 1, "scripts/erf_study.py")


@dataclass(frozen=True)
class ErfRun:
    """One ``(k, d, seed)``: validation accuracy of the trained model (a fraction, on
    ``validation_images`` images), the ERF of the trained model and of its initial weights, and
    the run's wall seconds (training and both measurements)."""

    kernel_size: int
    depth: int
    patch_size: int
    seed: int
    validation_accuracy: float
    validation_images: int
    trained: ErfMeasure
    untrained: ErfMeasure
    wall_seconds: float



def run_cell(
    budget: TrainProfile,
    kernel_size: int,
    depth: int,
    seed: int,
    train: ImageDataset,
    validation: ImageDataset,
    *,
    fit: Callable[..., FitResult] = fit,
    device: str = "cpu",
    erf_images: int = ERF_IMAGES,
    model_path: str | os.PathLike | None = None,
) -> ErfRun:
    """Train ConvMixer-h/``depth`` with ``kernel_size`` and ``seed`` under ``budget``
    (:func:`~convmixer.train.with_kernel_depth`) on ``train``, evaluate it on ``validation`` (the
    budget's ``test_subset`` applies), and measure the ERF of the trained model and of its
    initial weights on the first ``erf_images`` validation images. With ``model_path`` the
    trained model is kept there (:func:`~convmixer.train.checkpoint.save_model`, with its profile).

    ``fit`` is :func:`convmixer.train.fit` (a stand-in in tests)."""
    started = time.perf_counter()
    profile = with_kernel_depth(budget, kernel_size, depth, seed)
    images = prepare_images(validation.images[:erf_images])
    start = build_model(profile, device, train.subset(profile.train_subset, profile.seed).images)
    untrained = measure(start, images)  # the weights fit starts from
    result = fit(profile, train=train, test=validation, device=device, progress=False)
    if model_path is not None:
        save_model(model_path, result.model, profile=profile.to_dict())
    return ErfRun(
        kernel_size=kernel_size, depth=depth, patch_size=profile.model_config().patch_size, seed=seed,
        validation_accuracy=result.evaluation.accuracy,
        validation_images=int(result.evaluation.confusion.sum()),
        trained=measure(result.model, images), untrained=untrained,
        wall_seconds=round(time.perf_counter() - started, 1),
    )


@dataclass(frozen=True)
class Estimate:
    """One number over seeds: the values (by seed), their mean and the 95 % interval's half-width
    from the seed spread pooled over the study's cells (``None`` when no cell has two seeds)."""

    values: tuple[float, ...]
    half_width: float | None

    @property
    def mean(self) -> float:
        return float(np.mean(self.values))

    def describe(self, scale: float = 1.0, digits: int = 1) -> str:
        """E.g. ``13.3 ± 5.7`` (``scale`` multiplies: 100 for percent)."""
        spread = "" if self.half_width is None else f" ± {scale * self.half_width:.{digits}f}"
        return f"{scale * self.mean:.{digits}f}{spread}"


def _estimates(values: Sequence[tuple[float, ...]]) -> list[Estimate]:
    """One :class:`Estimate` per cell's values, the seed spread pooled over the cells."""
    groups = [Group(str(i), v) for i, v in enumerate(values)]
    noise = seed_noise(groups)
    return [Estimate(g.values, None if noise is None else interval_half_width([g], noise)) for g in groups]


@dataclass(frozen=True, eq=False)
class FieldSummary:
    """The ERF of one ``(k, d)`` in one state over seeds: effective side (pixels), own-patch
    share, and the mean of the seeds' maps (an ``(H, W)`` tensor summing to 1)."""

    side: Estimate
    own_share: Estimate
    map: torch.Tensor


@dataclass(frozen=True, eq=False)
class CellSummary:
    """One ``(k, d)`` over its seeds: the theoretical receptive field ``p (1 + d (k - 1))``
    (pixels), the validation accuracy (a fraction), and the ERF trained and untrained."""

    kernel_size: int
    depth: int
    patch_size: int
    seeds: tuple[int, ...]
    receptive_field: int
    accuracy: Estimate
    trained: FieldSummary
    untrained: FieldSummary

    @property
    def label(self) -> str:
        return f"k{self.kernel_size} d{self.depth}"


def summarise(runs: Sequence[ErfRun]) -> list[CellSummary]:
    """One :class:`CellSummary` per ``(k, d)``, ordered by depth, then kernel size; ``ValueError``
    for no runs or for one ``(k, d)`` measured with different patch or image sizes."""
    if not runs:
        raise ValueError("no runs to summarise")
    groups: dict[tuple[int, int], list[ErfRun]] = {}
    for run in sorted(runs, key=lambda r: r.seed):
        groups.setdefault((run.kernel_size, run.depth), []).append(run)
    ordered = sorted(groups.items(), key=lambda item: item[0][::-1])
    for (k, d), chosen in ordered:
        if len({(r.patch_size, len(r.trained.map), len(r.trained.map[0])) for r in chosen}) > 1:
            raise ValueError(f"the runs of k{k} d{d} differ in patch or image size; they cannot be averaged")
    chosen_runs = [chosen for _, chosen in ordered]
    accuracy = _estimates([tuple(r.validation_accuracy for r in chosen) for chosen in chosen_runs])

    def fields(state: str) -> list[FieldSummary]:
        measured = [[getattr(r, state) for r in chosen] for chosen in chosen_runs]
        sides = _estimates([tuple(float(m.side) for m in cell) for cell in measured])
        shares = _estimates([tuple(m.own_share for m in cell) for cell in measured])
        maps = [torch.stack([m.tensor() for m in cell]).mean(dim=0) for cell in measured]
        return [FieldSummary(side, share, erf) for side, share, erf in zip(sides, shares, maps)]

    trained, untrained = fields("trained"), fields("untrained")
    summaries = []
    for i, ((k, d), chosen) in enumerate(ordered):
        p = chosen[0].patch_size
        summaries.append(CellSummary(k, d, p, tuple(r.seed for r in chosen), receptive_field(k, p, d),
                                     accuracy[i], trained[i], untrained[i]))
    return summaries


def comparisons(summaries: Sequence[CellSummary]) -> list[Comparison]:
    """What notebook 07 reads off the study, each by the one rule (the number's seed spread pooled
    over the cells): the validation accuracy of the largest kernel against the smallest at every
    depth; and the half-gradient side and the own-patch share (in points), trained and at the
    initial weights, of those pairs and of the cells with the same theoretical field (the larger
    kernel against the deeper stack)."""
    quantities = (("half-gradient side", "side", 1.0, "px"), ("own-patch share", "own_share", 100.0, "points"))
    kernel_pairs = []  # the largest kernel against the smallest, at each depth
    for depth in sorted({s.depth for s in summaries}):
        row = [s for s in summaries if s.depth == depth]
        if len(row) > 1:
            kernel_pairs.append((row[-1], row[0]))
    same_field_pairs = [(a, b) for a in summaries for b in summaries
                        if a.receptive_field == b.receptive_field and a.kernel_size > b.kernel_size]
    pairs = kernel_pairs + same_field_pairs
    accuracy = {s.label: Group(s.label, tuple(100 * v for v in s.accuracy.values)) for s in summaries}
    accuracy_noise = seed_noise(list(accuracy.values()))
    found = [] if accuracy_noise is None else [
        compare([accuracy[a.label]], [accuracy[b.label]], accuracy_noise, f"validation accuracy: {a.label} vs {b.label}")
        for a, b in kernel_pairs
    ]
    for name, attribute, scale, unit in quantities:
        for state in ("trained", "untrained"):
            groups = {s.label: Group(s.label, tuple(scale * v for v in getattr(getattr(s, state), attribute).values))
                      for s in summaries}
            noise = seed_noise(list(groups.values()))
            if noise is None:
                continue
            for a, b in pairs:
                found.append(compare([groups[a.label]], [groups[b.label]], noise,
                                     f"{name}, {state}: {a.label} vs {b.label}", unit))
    return found


def training_comparisons(summaries: Sequence[CellSummary]) -> list[Comparison]:
    """What training changed, by the one rule: for every cell, the half-gradient side (px) and the
    own-patch share (points) trained against at the initial weights (the seed spread of each number
    pooled over all cells in both states; the two states of a seed share their initial weights,
    so treating them as independent makes the intervals, if anything, too wide)."""
    found = []
    for name, attribute, scale, unit in (("half-gradient side", "side", 1.0, "px"),
                                         ("own-patch share", "own_share", 100.0, "points")):
        groups = {(s.label, state): Group(f"{s.label} {state}",
                                          tuple(scale * v for v in getattr(getattr(s, state), attribute).values))
                  for s in summaries for state in ("trained", "untrained")}
        noise = seed_noise(list(groups.values()))
        if noise is None:
            continue
        for s in summaries:
            found.append(compare([groups[s.label, "trained"]], [groups[s.label, "untrained"]], noise,
                                 f"{name}, {s.label}: trained vs initial weights", unit))
    return found


def format_table(summaries: Sequence[CellSummary]) -> str:
    """The summaries as a text table: theoretical RF, half-gradient side and own-patch share
    trained and untrained, and validation accuracy, each as mean ± 95 % half-width over seeds."""
    lines = [f"{'':<7}{'theoretical':>12}{'half-gradient side (px)':>28}{'share on own patch (%)':>28}"
             f"{'validation':>14}",
             f"{'k, d':<7}{'RF (px)':>12}{'trained':>14}{'untrained':>14}{'trained':>14}{'untrained':>14}"
             f"{'accuracy (%)':>14}"]
    for s in summaries:
        lines.append(
            f"{s.label:<7}{s.receptive_field:>12}{s.trained.side.describe():>14}{s.untrained.side.describe():>14}"
            f"{s.trained.own_share.describe(100):>14}{s.untrained.own_share.describe(100):>14}"
            f"{s.accuracy.describe(100):>14}"
        )
    seeds = sorted({len(s.seeds) for s in summaries})
    lines.append(f"mean ± 95 % half-width over {'/'.join(map(str, seeds))} seed(s) per row, the seed spread pooled over the rows")
    return "\n".join(lines)


def write_results(path: str | os.PathLike, budget: TrainProfile, runs: Sequence[ErfRun], notes: dict[str, Any]) -> Path:
    """Store the study as JSON, atomically: ``notes`` (machine, date, load, ...), the budget as a
    profile dict and every run; each list of numbers (a map row) on one line."""
    return write_study(path, RESULTS_FORMAT, budget, runs, notes, number_rows_on_one_line=True)


def read_results(path: str | os.PathLike) -> tuple[list[ErfRun], dict[str, Any]]:
    """The runs stored by :func:`write_results` and everything else in the file; a missing or
    unreadable file is one clear ``ValueError``."""
    return read_study(path, ErfRun, RESULTS_FORMAT)
