"""Seed noise, 95 % intervals and which differences a study can separate (convmixer.studies.stats),
and the kernel-size x depth study's cells and comparisons built on them."""

import math

import pytest
import torch
from study_fakes import sweep_grid, sweep_run

from convmixer.studies.kernel_depth import Cell, cells, depth_comparisons, kernel_comparison, kernel_comparisons, pick
from convmixer.studies.stats import (
    Group,
    binomial_half_width,
    binomial_standard_error,
    compare,
    interval_half_width,
    mean_half_width,
    seed_noise,
    standard_error,
    t_quantile,
)


def cell(k: int, d: int, values: tuple[float, ...]) -> Cell:
    return Cell(f"k{k} d{d}", values, k, d)


def test_cells_group_runs_by_kernel_and_depth():
    summary = cells(sweep_grid())
    assert [(c.kernel_size, c.depth) for c in summary] == [(3, 2), (5, 2), (9, 2), (3, 4), (5, 4), (9, 4)]
    repeated = pick(summary, 5, 4)[0]
    assert repeated.values == pytest.approx((53.0, 52.0, 50.5))  # ordered by seed
    assert repeated.mean == pytest.approx(51.8333333)
    assert repeated.std == pytest.approx(math.sqrt(((53 - 51.8333333) ** 2 + (52 - 51.8333333) ** 2
                                                    + (50.5 - 51.8333333) ** 2) / 2))
    assert pick(summary, 3, 2)[0].std is None
    with pytest.raises(ValueError, match="no runs"):
        cells([])
    with pytest.raises(ValueError, match="no cell with kernel size 7"):
        pick(summary, 7)


def test_seed_noise_pools_every_repeated_cell():
    a, b, single = cell(3, 2, (1.0, 2.0, 3.0)), cell(5, 2, (10.0, 14.0)), cell(7, 2, (5.0,))
    noise = seed_noise([a, b, single])
    assert noise.dof == 3  # (3 - 1) + (2 - 1)
    assert noise.std == pytest.approx(math.sqrt((2.0 + 8.0) / 3))  # squares 2 and 8 about the means
    assert noise.sources == (a, b)
    assert "k3 d2, 3 seeds, k5 d2, 2 seeds; 3 degrees of freedom" in noise.describe()
    assert noise.short() == f"s = {noise.std:.2f} points (k3 d2 × 3 seeds, k5 d2 × 2 seeds)"
    assert seed_noise([single]) is None


def test_seed_noise_of_many_cells_counts_them_instead_of_naming_them():
    grid = [cell(k, d, (40.0 + k, 41.0 + k, 42.0 + k)) for d in (2, 4) for k in (3, 5)] + [cell(9, 8, (1.0, 2.0))]
    noise = seed_noise(grid)
    assert noise.dof == 4 * 2 + 1 and noise.std == pytest.approx(math.sqrt((4 * 2.0 + 0.5) / 9))
    assert noise.describe().endswith("(from 1 setting × 2 seeds, 4 settings × 3 seeds; 9 degrees of freedom)")
    assert noise.short().endswith("(1 setting × 2 seeds, 4 settings × 3 seeds)")


# the 0.975 quantiles, from outside the table's rows too (scipy.stats.t.ppf(0.975, dof))
@pytest.mark.parametrize("dof, expected", [(1, 12.706), (2, 4.303), (3, 3.182), (10, 2.228), (35, 2.030),
                                           (50, 2.009), (90, 1.987), (500, 1.965), (100_000, 1.960)])
def test_t_quantile_matches_the_distribution(dof, expected):
    assert t_quantile(dof) == pytest.approx(expected, abs=1.5e-3)


def test_t_quantile_falls_towards_the_normal_quantile():
    values = [t_quantile(dof) for dof in range(1, 400)] + [t_quantile(math.inf)]
    assert all(a > b for a, b in zip(values, values[1:]))
    assert values[-1] == pytest.approx(1.95996, abs=1e-3)


def test_t_quantile_rejects_bad_arguments():
    with pytest.raises(ValueError, match="dof must be an integer >= 1"):
        t_quantile(0)
    with pytest.raises(ValueError, match="dof must be an integer >= 1"):
        t_quantile(2.5)


def test_intervals_shrink_with_seeds_and_differences_add_in_quadrature():
    noise = seed_noise([cell(3, 2, (1.0, 2.0, 3.0))])  # s = 1, 2 dof
    once, thrice = cell(5, 2, (4.0,)), cell(7, 2, (4.0, 5.0, 6.0))
    assert standard_error([once], noise) == pytest.approx(1.0)
    assert standard_error([thrice], noise) == pytest.approx(1 / math.sqrt(3))
    assert standard_error([once, thrice], noise) == pytest.approx(math.sqrt(1 + 1 / 3) / 2)
    assert interval_half_width([once], noise) == pytest.approx(4.303, abs=2e-3)
    comparison = compare([thrice], [once], noise, "k7 vs k5")
    assert comparison.difference == pytest.approx(1.0)
    assert comparison.half_width == pytest.approx(4.303 * math.sqrt(1 + 1 / 3), abs=3e-3)
    assert not comparison.separable
    assert comparison.describe() == f"k7 vs k5: +1.0 ± {comparison.half_width:.1f} points: within the noise"
    far = compare([cell(9, 2, (40.0,))], [once], noise, "far")
    assert far.separable and far.describe().endswith("larger than the noise")
    with pytest.raises(ValueError, match="empty set of groups"):
        compare([], [once], noise, "nothing")


def test_kernel_and_depth_comparisons_on_a_grid():
    summary = cells(sweep_grid())
    noise = seed_noise(summary)
    at_two = kernel_comparison(summary, 2, noise)
    assert at_two.label == "k = 9 vs k = 3 at d = 2"
    assert at_two.difference == pytest.approx(6.0)  # 0.01 per unit of k
    assert [c.label for c in kernel_comparisons(summary, noise)] == [
        "k = 9 vs k = 3 at d = 2", "k = 9 vs k = 3 at d = 4"
    ]
    (deeper,) = depth_comparisons(summary, noise)
    assert deeper.label == "d = 4 vs d = 2, mean over k = 3, 5, 9"
    mean_d4 = (51.0 + (53.0 + 52.0 + 50.5) / 3 + 57.0) / 3  # cell means, k5 d4 over its 3 seeds
    mean_d2 = (47.0 + 49.0 + 53.0) / 3
    assert deeper.difference == pytest.approx(mean_d4 - mean_d2)
    se = math.hypot(noise.std / 3 * math.sqrt(2 + 1 / 3), noise.std / 3 * math.sqrt(3))
    assert deeper.half_width == pytest.approx(t_quantile(noise.dof) * se)


def test_depth_comparison_uses_only_kernels_both_depths_have():
    runs = [sweep_run(3, 2, accuracy=0.4), sweep_run(9, 2, accuracy=0.9), sweep_run(3, 4, accuracy=0.5),
            sweep_run(3, 4, seed=1, accuracy=0.52)]
    summary = cells(runs)
    (comparison,) = depth_comparisons(summary, seed_noise(summary))
    assert comparison.label == "d = 4 vs d = 2, mean over k = 3"
    assert comparison.difference == pytest.approx(51.0 - 40.0)


def test_binomial_half_width_is_the_binomial_interval():
    assert binomial_standard_error(0.8, 5000) == pytest.approx(math.sqrt(0.8 * 0.2 / 5000))
    assert binomial_half_width(0.5, 1000) == pytest.approx(1.959964 * math.sqrt(0.25 / 1000), rel=1e-4)
    assert binomial_half_width(0.45, 10_000) < binomial_half_width(0.45, 1000)
    assert binomial_half_width(1.0, 500) == 0.0
    with pytest.raises(ValueError, match="accuracy must be a fraction"):
        binomial_half_width(45.0, 1000)
    with pytest.raises(ValueError, match="images must be an integer >= 1"):
        binomial_half_width(0.5, 0)


def test_mean_half_width_is_t_times_the_standard_error_of_the_mean():
    assert mean_half_width([45.5]) is None  # one seed: no spread
    # three values with sample std 1: 4.303 / sqrt(3)
    assert mean_half_width([1.0, 2.0, 3.0]) == pytest.approx(4.303 / math.sqrt(3), abs=1e-3)
    values = (1.0, 2.5, 3.0, 7.0)  # the same rule as a group pooled with itself
    group = Group("g", values)
    assert mean_half_width(values) == pytest.approx(interval_half_width([group], seed_noise([group])))


def test_standard_error_is_the_binomial_one_and_matches_simulation():
    assert binomial_standard_error(0.8, 5000) == pytest.approx(math.sqrt(0.8 * 0.2 / 5000))
    assert binomial_standard_error(1.0, 10) == 0.0
    # The spread of accuracies measured on 400 random images each, for a true accuracy of 0.7.
    generator = torch.Generator().manual_seed(0)
    measured = (torch.rand(20_000, 400, generator=generator) < 0.7).double().mean(dim=1)
    assert float(measured.std()) == pytest.approx(binomial_standard_error(0.7, 400), rel=0.03)
    with pytest.raises(ValueError, match="fraction"):
        binomial_standard_error(81.5, 100)
    with pytest.raises(ValueError, match="images"):
        binomial_standard_error(0.5, 0)
