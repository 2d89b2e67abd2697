"""The patch-size study's figure draws what the summaries say: means with their 95 % error bars and
every seed by patch size, and the means against training minutes, labelled with their p."""

import numpy as np
import pytest
from test_viz_skip import error_bar_half_widths

from convmixer.studies.patch import PatchRun, summarise
from convmixer.viz.patch_study import patch_study_figure


def run(kind: str, p: int, seed: int, accuracy: float, minutes: float) -> PatchRun:
    tokens = (32 // p) ** 2
    return PatchRun(kind, p, seed, 10, accuracy, 5000, 50_000, 10_000 * tokens, tokens, (), 60 * minutes, 60 * minutes + 5)


def test_figure_shows_both_budgets_by_p_with_intervals_seeds_and_their_minutes():
    runs = [run("epochs", p, s, a + 0.01 * s, m) for p, a, m in ((2, 0.80, 20), (4, 0.75, 5), (8, 0.60, 2)) for s in range(3)]
    runs += [run("minutes", p, s, a + 0.01 * s, 5) for p, a in ((2, 0.70), (4, 0.78), (8, 0.72)) for s in range(3)]
    summaries = summarise(runs)
    fig = patch_study_figure(summaries)
    by_p, by_minutes = fig.axes
    assert [t.get_text() for t in by_p.get_xticklabels()] == ["p = 2\n16 x 16 grid", "p = 4\n8 x 8 grid", "p = 8\n4 x 4 grid"]
    expected = [s.half_width for s in summaries]
    assert error_bar_half_widths(by_p) == pytest.approx(expected, abs=1e-6)
    assert error_bar_half_widths(by_minutes) == pytest.approx(expected, abs=1e-6)
    seeds = [np.asarray(c.get_offsets())[:, 1] for c in by_p.collections if len(c.get_offsets()) == 3]
    np.testing.assert_allclose(seeds[0], [80, 81, 82])
    np.testing.assert_allclose(np.asarray(by_minutes.get_lines()[0].get_xdata(), dtype=float), [20, 5, 2])
    assert by_minutes.get_xscale() == "log"
    assert [t.get_text() for t in by_minutes.get_xticklabels()] == ["2", "5", "10", "20"]  # plain minutes
    assert not [t.get_text() for t in by_minutes.get_xticklabels(minor=True) if t.get_text()]
    assert sorted(t.get_text() for t in by_minutes.texts) == ["p = 2", "p = 2", "p = 4", "p = 4", "p = 8", "p = 8"]
    (legend,) = fig.legends
    assert [t.get_text() for t in legend.get_texts()] == ["same epochs", "same minutes"]


def test_single_seeds_get_no_error_bars_and_nothing_is_an_error():
    fig = patch_study_figure(summarise([run("minutes", 4, 0, 0.7, 5), run("minutes", 2, 0, 0.6, 5)]))
    assert error_bar_half_widths(fig.axes[0]) == []
    with pytest.raises(ValueError, match="no summaries"):
        patch_study_figure([])
