"""Is a difference between trained models real? One rule for every study and notebook.

A study trains each setting -- a *group*: a cell ``(k, d)``, a skip variant, ... -- with several
seeds. Training the same setting again with another seed moves its accuracy; that seed-to-seed
spread is the yardstick for every comparison. With group ``i`` trained ``n_i`` times (values
``a_ij``), the pooled standard deviation

    s^2 = sum_i sum_j (a_ij - mean_i)^2 / sum_i (n_i - 1)

uses every group with two or more seeds and has ``sum_i (n_i - 1)`` degrees of freedom. It applies
to single-seed groups too: one run is one draw from its setting's seed distribution.

A *set* of groups (one group, or e.g. every cell with ``d = 8``) is summarised by the mean of its
group means; with ``G`` groups its standard error is ``(s / G) * sqrt(sum_i 1 / n_i)``, and its
95 % interval (an error bar) is ``mean +- t * se``. The difference of two sets has the 95 % interval

    difference +- t * sqrt(se_A^2 + se_B^2),

with Student's ``t`` for the pooled degrees of freedom (:func:`t_quantile`: 4.30 for 2 of them,
1.96 for many). A difference is *separable* only when that interval excludes zero
(:func:`compare`). That is the one rule; nothing here asks whether two error bars overlap.

An accuracy measured on ``n`` images is also a binomial proportion: its standard error from the
images alone is ``sqrt(a (1 - a) / n)`` (:func:`binomial_standard_error`), and its 95 % interval
``+- 1.96`` of those (:func:`binomial_half_width`).
"""

from __future__ import annotations

import collections
import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from convmixer._util import check_positive_int

CONFIDENCE = 0.95

# Student's t, two-sided 95 % (the 0.975 quantile), by degrees of freedom: the standard table
# (e.g. NIST/SEMATECH e-Handbook of Statistical Methods, table 1.3.6.7.2), exact to 3 decimals.
_T_975 = {
    1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262,
    10: 2.228, 11: 2.201, 12: 2.179, 13: 2.160, 14: 2.145, 15: 2.131, 16: 2.120, 17: 2.110,
    18: 2.101, 19: 2.093, 20: 2.086, 21: 2.080, 22: 2.074, 23: 2.069, 24: 2.064, 25: 2.060,
    26: 2.056, 27: 2.052, 28: 2.048, 29: 2.045, 30: 2.042, 40: 2.021, 60: 2.000, 120: 1.980,
}
Z_975 = 1.960  # the normal quantile: t with infinitely many degrees of freedom


def t_quantile(dof: int | float) -> float:
    """Student's ``t`` for a two-sided 95 % interval with ``dof`` degrees of freedom (12.71 for 1,
    4.30 for 2, 2.23 for 10, 1.96 for ``math.inf``): the table, and between its rows (past 30) a
    linear interpolation in ``1 / dof``, exact to 3 decimals."""
    if dof == math.inf:
        return Z_975
    check_positive_int("dof", dof)
    if dof in _T_975:
        return _T_975[dof]
    rows = sorted(_T_975) + [math.inf]
    low = max(r for r in rows if r < dof)
    high = min(r for r in rows if r > dof)
    t_high = Z_975 if high == math.inf else _T_975[high]
    share = (1 / low - 1 / dof) / (1 / low - (0.0 if high == math.inf else 1 / high))
    return _T_975[low] + share * (t_high - _T_975[low])


@dataclass(frozen=True)
class Group:
    """One setting and its values (e.g. validation accuracies in points), one per seed."""

    label: str
    values: tuple[float, ...]

    @property
    def n(self) -> int:
        return len(self.values)

    @property
    def mean(self) -> float:
        return float(np.mean(self.values))

    @property
    def std(self) -> float | None:
        """Sample standard deviation over seeds (``None`` for a single seed)."""
        return float(np.std(self.values, ddof=1)) if self.n > 1 else None


@dataclass(frozen=True)
class SeedNoise:
    """The pooled seed-to-seed standard deviation ``std``, its degrees of freedom, and the
    repeated groups it was estimated from."""

    std: float
    dof: int
    sources: tuple[Group, ...]

    def _sources(self, times: str) -> str:
        """The repeated groups: named when there are one or two (``k5 d4, 3 seeds``), else
        counted (``12 groups × 3 seeds``)."""
        if len(self.sources) <= 2:
            return ", ".join(f"{g.label}{times}{g.n} seeds" for g in self.sources)
        by_seeds = collections.Counter(g.n for g in self.sources)
        return ", ".join(f"{count} setting{'s' * (count > 1)} × {n} seeds" for n, count in sorted(by_seeds.items()))

    def describe(self) -> str:
        """E.g. ``0.40 points (from k5 d4, 3 seeds; 2 degrees of freedom)``."""
        return f"{self.std:.2f} points (from {self._sources(', ')}; {self.dof} degrees of freedom)"

    def short(self) -> str:
        """E.g. ``s = 0.40 points (k5 d4 × 3 seeds)``."""
        return f"s = {self.std:.2f} points ({self._sources(' × ')})"


def seed_noise(groups: Sequence[Group]) -> SeedNoise | None:
    """The pooled seed-to-seed standard deviation of the groups trained with two or more seeds;
    ``None`` when no group was repeated (then no difference can be judged)."""
    repeated = tuple(g for g in groups if g.n > 1)
    if not repeated:
        return None
    dof = sum(g.n - 1 for g in repeated)
    squares = sum(float(np.sum((np.array(g.values) - g.mean) ** 2)) for g in repeated)
    return SeedNoise(math.sqrt(squares / dof), dof, repeated)


def standard_error(groups: Sequence[Group], noise: SeedNoise) -> float:
    """Standard error of the mean of ``groups``' means: ``(s / G) sqrt(sum 1 / n_i)``."""
    if not groups:
        raise ValueError("an empty set of groups has no mean")
    return noise.std / len(groups) * math.sqrt(sum(1 / g.n for g in groups))


def interval_half_width(groups: Sequence[Group], noise: SeedNoise) -> float:
    """Half-width of the 95 % interval of ``groups``' mean (an error bar)."""
    return t_quantile(noise.dof) * standard_error(groups, noise)


def mean_half_width(values: Sequence[float]) -> float | None:
    """Half-width of the 95 % interval of the mean of ``values`` when they are the only seeds
    there are (one group pooled with itself: ``t_{n-1} s / sqrt(n)``); ``None`` for one value."""
    group = Group("", tuple(values))
    noise = seed_noise([group])
    return None if noise is None else interval_half_width([group], noise)


@dataclass(frozen=True)
class Comparison:
    """Mean of set A minus set B (points) and the 95 % interval's half-width."""

    label: str
    difference: float
    half_width: float
    unit: str = "points"

    @property
    def separable(self) -> bool:
        """Whether the 95 % interval of the difference excludes zero."""
        return abs(self.difference) > self.half_width

    def describe(self) -> str:
        """E.g. ``k9 vs k3 at d = 2: +1.8 ± 2.5 points: within the noise``."""
        verdict = "larger than the noise" if self.separable else "within the noise"
        return f"{self.label}: {self.difference:+.1f} ± {self.half_width:.1f} {self.unit}: {verdict}"


def compare(a: Sequence[Group], b: Sequence[Group], noise: SeedNoise, label: str, unit: str = "points") -> Comparison:
    """Set ``a``'s mean against set ``b``'s, with the 95 % interval of the difference: the one
    rule every "A differs from B" in the package and the notebooks uses."""
    se = math.hypot(standard_error(a, noise), standard_error(b, noise))  # checks both sets
    mean_a, mean_b = (float(np.mean([g.mean for g in groups])) for groups in (a, b))
    return Comparison(label, mean_a - mean_b, t_quantile(noise.dof) * se, unit)


def binomial_standard_error(accuracy: float, images: int) -> float:
    """Standard error ``sqrt(a (1 - a) / n)`` of an accuracy ``a`` (a fraction) measured on ``n``
    images, each right or wrong independently: the sampling error alone, before any seed-to-seed
    spread."""
    check_positive_int("images", images)
    if not 0.0 <= accuracy <= 1.0:
        raise ValueError(f"accuracy must be a fraction between 0 and 1, got {accuracy}")
    return math.sqrt(accuracy * (1.0 - accuracy) / images)


def binomial_half_width(accuracy: float, images: int) -> float:
    """Half-width of the 95 % interval (a fraction) that judging on only ``images`` images puts
    around ``accuracy``: ``1.96`` binomial standard errors."""
    return Z_975 * binomial_standard_error(accuracy, images)
