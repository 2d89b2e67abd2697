"""How much of a difference between trained models is noise (notebook 07).

A study trains every configuration ``(k, d)`` -- a *cell* -- with one or more seeds. Training the
same cell again with another seed moves its (validation) accuracy; that seed-to-seed spread is the
yardstick for every comparison. With cell ``i`` trained ``n_i`` times (accuracies ``a_ij``), the
pooled standard deviation

    s^2 = sum_i sum_j (a_ij - mean_i)^2 / sum_i (n_i - 1)

uses every cell with two or more seeds and has ``sum_i (n_i - 1)`` degrees of freedom. It applies
to the single-seed cells too: one run is one draw from its cell's seed distribution.

A *group* of cells (one cell, or e.g. every cell with ``d = 8``) is summarised by the mean of its
cell means; with ``G`` cells its standard error is ``(s / G) * sqrt(sum_i 1 / n_i)``. The
difference of two groups has the 95 % interval ``difference +- t * sqrt(se_A^2 + se_B^2)``, with
Student's ``t`` for the pooled degrees of freedom (4.30 for 2 of them, 1.96 for many). A
difference is *separable* only when that interval excludes zero.
"""

from __future__ import annotations

import collections
import functools
import math
import statistics
from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

import numpy as np

from convmixer._util import check_positive_int
if TYPE_CHECKING:  # convmixer.studies.kernel_depth uses this module
    from convmixer.studies.kernel_depth import SweepRun

CONFIDENCE = 0.95


@dataclass(frozen=True)
class Cell:
    """One configuration ``(k, d)`` and its validation accuracies in percent, one per seed."""

    kernel_size: int
    depth: int
    accuracies: tuple[float, ...]

    @property
    def n(self) -> int:
        return len(self.accuracies)

    @property
    def mean(self) -> float:
        return float(np.mean(self.accuracies))

    @property
    def std(self) -> float | None:
        """Sample standard deviation over seeds (``None`` for a single seed)."""
        return float(np.std(self.accuracies, ddof=1)) if self.n > 1 else None

    @property
    def label(self) -> str:
        return f"k{self.kernel_size} d{self.depth}"


def cells(runs: Sequence[SweepRun]) -> list[Cell]:
    """The runs grouped by ``(k, d)``, ordered by depth, then kernel size."""
    if not runs:
        raise ValueError("no runs to summarise")
    groups: dict[tuple[int, int], list[float]] = {}
    for run in sorted(runs, key=lambda r: r.seed):
        groups.setdefault((run.kernel_size, run.depth), []).append(100 * run.validation_accuracy)
    return [Cell(k, d, tuple(acc)) for (k, d), acc in sorted(groups.items(), key=lambda item: item[0][::-1])]


@dataclass(frozen=True)
class SeedNoise:
    """The pooled seed-to-seed standard deviation ``std`` (accuracy points), its degrees of
    freedom, and the repeated cells it was estimated from."""

    std: float
    dof: int
    sources: tuple[Cell, ...]

    def _sources(self, times: str) -> str:
        """The repeated cells: named when there are one or two (``k5 d4, 3 seeds``), else counted
        (``12 cells × 3 seeds``)."""
        if len(self.sources) <= 2:
            return ", ".join(f"{c.label}{times}{c.n} seeds" for c in self.sources)
        by_seeds = collections.Counter(c.n for c in self.sources)
        return ", ".join(f"{count} cell{'s' * (count > 1)} × {n} seeds" for n, count in sorted(by_seeds.items()))

    def describe(self) -> str:
        """E.g. ``0.40 points (from k5 d4, 3 seeds; 2 degrees of freedom)``."""
        return f"{self.std:.2f} points (from {self._sources(', ')}; {self.dof} degrees of freedom)"

    def short(self) -> str:
        """E.g. ``s = 0.40 points (k5 d4 × 3 seeds)``."""
        return f"s = {self.std:.2f} points ({self._sources(' × ')})"


def seed_noise(summary: Sequence[Cell]) -> SeedNoise | None:
    """The pooled seed-to-seed standard deviation of the cells trained with two or more seeds;
    ``None`` when no cell was repeated (then no difference can be judged)."""
    repeated = tuple(c for c in summary if c.n > 1)
    if not repeated:
        return None
    dof = sum(c.n - 1 for c in repeated)
    squares = sum(float(np.sum((np.array(c.accuracies) - c.mean) ** 2)) for c in repeated)
    return SeedNoise(math.sqrt(squares / dof), dof, repeated)


@functools.lru_cache(maxsize=None)
def t_quantile(dof: int, probability: float = 0.5 + CONFIDENCE / 2) -> float:
    """Student's ``t`` quantile for ``dof`` degrees of freedom (e.g. 0.975: 12.71 for 1, 4.30
    for 2, 2.23 for 10), by integrating the density numerically: exact to 3 decimals."""
    check_positive_int("dof", dof)
    if not 0.5 < probability < 1:
        raise ValueError(f"probability must be between 0.5 and 1, got {probability}")
    log_scale = math.lgamma((dof + 1) / 2) - math.lgamma(dof / 2) - 0.5 * math.log(dof * math.pi)
    x = np.linspace(0.0, 400.0, 400_001)
    density = np.exp(log_scale - (dof + 1) / 2 * np.log1p(x * x / dof))
    cdf = 0.5 + np.concatenate([[0.0], np.cumsum((density[1:] + density[:-1]) / 2 * (x[1] - x[0]))])
    return float(np.interp(probability, cdf, x))


def mean_half_width(values: Sequence[float]) -> float | None:
    """Half-width of the 95 % interval of the mean of ``values`` (independent repeats, e.g. one
    per seed): ``t_{n-1} s / sqrt(n)``; ``None`` for a single value, which has no spread."""
    n = len(values)
    return t_quantile(n - 1) * float(np.std(values, ddof=1)) / math.sqrt(n) if n > 1 else None


def standard_error(group: Sequence[Cell], noise: SeedNoise) -> float:
    """Standard error of the mean of ``group``'s cell means: ``(s / G) sqrt(sum 1 / n_i)``."""
    if not group:
        raise ValueError("an empty group of cells has no mean")
    return noise.std / len(group) * math.sqrt(sum(1 / c.n for c in group))


def interval_half_width(group: Sequence[Cell], noise: SeedNoise) -> float:
    """Half-width of the 95 % interval of ``group``'s mean accuracy (an error bar)."""
    return t_quantile(noise.dof) * standard_error(group, noise)


@dataclass(frozen=True)
class Comparison:
    """Mean accuracy of group A minus group B (points) and the 95 % interval's half-width."""

    label: str
    difference: float
    half_width: float

    @property
    def separable(self) -> bool:
        """Whether the 95 % interval of the difference excludes zero."""
        return abs(self.difference) > self.half_width

    def describe(self) -> str:
        """E.g. ``k9 vs k3 at d = 2: +1.8 +- 2.5 points: within the noise``."""
        verdict = "larger than the noise" if self.separable else "within the noise"
        return f"{self.label}: {self.difference:+.1f} ± {self.half_width:.1f} points: {verdict}"


def compare(a: Sequence[Cell], b: Sequence[Cell], noise: SeedNoise, label: str) -> Comparison:
    """Group ``a``'s mean accuracy against group ``b``'s, with a 95 % interval."""
    se = math.hypot(standard_error(a, noise), standard_error(b, noise))  # checks both groups
    mean_a, mean_b = (float(np.mean([c.mean for c in group])) for group in (a, b))
    return Comparison(label, mean_a - mean_b, t_quantile(noise.dof) * se)


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


def sampling_half_width(accuracy: float, images: int) -> float:
    """Half-width, in points, of the 95 % interval that testing on only ``images`` images puts
    around an ``accuracy`` (a fraction): ``1.96 sqrt(a (1 - a) / n)``, the binomial sampling error
    alone, before any seed-to-seed spread."""
    check_positive_int("images", images)
    if not 0 <= accuracy <= 1:
        raise ValueError(f"accuracy must be a fraction between 0 and 1, got {accuracy}")
    return 100 * statistics.NormalDist().inv_cdf(0.5 + CONFIDENCE / 2) * math.sqrt(accuracy * (1 - accuracy) / images)
