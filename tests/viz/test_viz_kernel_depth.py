"""Notebook 07's figures: cell means with 95 % error bars, and the reader's runs on the same axes."""

import pytest
from matplotlib.collections import PathCollection
from matplotlib.colors import to_rgba
from matplotlib.container import ErrorbarContainer
from study_fakes import sweep_grid

from convmixer.studies.kernel_depth import cells
from convmixer.studies.panel_runs import StudyRun
from convmixer.studies.stats import interval_half_width, seed_noise
from convmixer.viz.kernel_depth import (
    METRICS,
    YOUR_RUNS_OFFSET,
    metric_figure,
    select,
    study_figure,
    sweep_figure,
)


@pytest.fixture()
def grid():
    return sweep_grid()


def lines_by_label(ax):
    """Label -> data line, for plain lines and for the lines of error-bar series."""
    found = {line.get_label(): line for line in ax.lines if not line.get_label().startswith("_")}
    found.update({c.get_label(): c.lines[0] for c in ax.containers if isinstance(c, ErrorbarContainer)})
    return found


def error_bars(ax) -> dict[str, list[float]]:
    """Each error-bar series' label -> the half-lengths of its bars."""
    found = {}
    for container in ax.containers:
        if isinstance(container, ErrorbarContainer):
            (bars,) = container.lines[2]
            found[container.get_label()] = [abs(s[1][1] - s[0][1]) / 2 for s in bars.get_segments()]
    return found


def test_select_filters_depths_and_rejects_unknown_ones(grid):
    assert {r.depth for r in select(grid, [4])} == {4}
    with pytest.raises(ValueError, match=r"depths must be chosen from \[2, 4\]"):
        select(grid, [8])
    with pytest.raises(ValueError, match="no sweep runs"):
        select([])


@pytest.mark.parametrize("metric", list(METRICS))
def test_sweep_figure_draws_cell_means_of_every_metric(grid, metric):
    by_kernel = sweep_figure(grid, metric).axes[0]
    assert by_kernel.get_ylabel() == METRICS[metric].label
    lines = lines_by_label(by_kernel)
    assert {"d = 2", "d = 4"} <= set(lines)
    value = METRICS[metric].value
    k5d4 = [value(r) for r in grid if (r.kernel_size, r.depth) == (5, 4)]
    expected = [value(grid[3]), sum(k5d4) / 3, value(grid[5])]  # k5 d4: the mean of its 3 seeds
    assert list(lines["d = 4"].get_ydata()) == pytest.approx(expected)


def test_accuracy_has_95_percent_error_bars_from_the_seed_spread(grid):
    ax = sweep_figure(grid, "accuracy").axes[0]
    summary = cells(grid)
    noise = seed_noise(summary)
    bars = error_bars(ax)
    expected = [interval_half_width([c], noise) for c in summary if c.depth == 4]
    assert bars["d = 4"] == pytest.approx(expected)
    assert bars["d = 4"][1] < bars["d = 4"][0]  # the repeated cell is known better
    assert "95 % interval" in ax.get_title() and "k5 d4 × 3 seeds" in ax.get_title()
    assert not error_bars(sweep_figure(grid, "parameters").axes[0])  # exact numbers: no bars
    single_seeds = [c for c in ax.collections if c.get_label() == "d = 4, single seeds"]
    assert sorted(single_seeds[0].get_offsets()[:, 1]) == pytest.approx([50.5, 52.0, 53.0])


def test_without_a_repeated_cell_there_are_no_error_bars(grid):
    ax = sweep_figure([r for r in grid if r.seed == 0], "accuracy").axes[0]
    assert not error_bars(ax) and ax.get_title() == ""


def test_error_bars_use_the_noise_of_all_runs_when_depths_are_filtered(grid):
    ax = sweep_figure(grid, "accuracy", depths=[2]).axes[0]
    assert set(lines_by_label(ax)) == {"d = 2"}
    assert error_bars(ax)["d = 2"] == pytest.approx([interval_half_width([c], seed_noise(cells(grid)))
                                                     for c in cells(grid) if c.depth == 2])
    with pytest.raises(ValueError, match="unknown metric 'speed'"):
        sweep_figure(grid, "speed")


def test_metric_figure_is_one_panel(grid):
    fig = metric_figure(grid, "gflops_per_second", depths=[4])
    assert len(fig.axes) == 1
    line = lines_by_label(fig.axes[0])["d = 4"]
    k5d4 = [3 * r.flops * r.train_images_per_second / 1e9 for r in grid if (r.kernel_size, r.depth) == (5, 4)]
    assert line.get_ydata()[1] == pytest.approx(sum(k5d4) / 3)


def your_run(k: int, d: int, seed: int, accuracy: float) -> StudyRun:
    return StudyRun(k, d, seed, 64, 4, "short", "abc", 5000, 4, "validation", 1000, accuracy, 1, 1.0, "x", "now")


def test_study_figure_puts_your_runs_on_the_stored_plot(grid):
    yours = [your_run(5, 4, 0, 0.43), your_run(7, 6, 1, 0.41)]
    ax = study_figure(grid, yours, "short budget: 5,000 images × 4 epochs", next_run=(7, 6, 1)).axes[0]
    stars = {tuple(c.get_offsets()[0]): c for c in ax.collections
             if isinstance(c, PathCollection) and len(c.get_offsets()) == 1}
    assert set(stars) == {(5 + YOUR_RUNS_OFFSET, 43.0), (7 + YOUR_RUNS_OFFSET, 41.0)}
    legend = [t.get_text().replace("\n", " ") for t in ax.get_legend().get_texts()]
    assert "your runs (short budget: 5,000 images × 4 epochs)" in legend
    assert "next run: k = 7, d = 6, seed 1" in legend
    assert ax.get_legend().get_title().get_text() == "lines: the stored study"
    assert list(ax.get_xticks()) == [3, 5, 7, 9]
    colors = {label: to_rgba(line.get_color()) for label, line in lines_by_label(ax).items()}
    assert to_rgba(stars[5 + YOUR_RUNS_OFFSET, 43.0].get_facecolor()[0]) == colors["d = 4"]  # its depth's colour
    assert to_rgba(stars[7 + YOUR_RUNS_OFFSET, 41.0].get_facecolor()[0]) not in colors.values()  # a new depth


def test_study_figure_without_your_runs_has_no_your_runs_entry(grid):
    ax = study_figure(grid).axes[0]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert not any(text.startswith("your runs") for text in legend)
    assert error_bars(ax)  # the stored study keeps its error bars


# --- legibility: labels that do not collide, legends off the data ---------------------------------


def stored_runs():
    from support import REPO

    from convmixer.studies.kernel_depth import read_results

    return read_results(REPO / "results" / "kernel_depth_sweep.json")[0]


def drawn(fig):
    """``fig`` drawn by Agg (text extents are known only then) and its renderer."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return canvas.get_renderer()


def overlap(a, b) -> bool:
    return a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1


def marker_boxes(ax, radius: float):
    """Display-pixel boxes of the error-bar markers of ``ax`` (``radius`` pixels each way)."""
    from matplotlib.transforms import Bbox

    boxes = []
    for container in ax.containers:
        for x, y in container.lines[0].get_xydata():
            px, py = ax.transData.transform((x, y))
            boxes.append(Bbox([[px - radius, py - radius], [px + radius, py + radius]]))
    return boxes


@pytest.mark.parametrize("runs", ["stored", "fake"])
def test_the_trade_off_labels_stay_inside_and_apart(runs, grid):
    """Each ``k`` label of the FLOPs and throughput panels lies inside its panel, overlaps no other
    label, no marker and no error bar, and is nearest its own marker (the stored study's labels
    collided where cells were close in FLOPs or speed)."""
    from matplotlib.transforms import Bbox

    fig = sweep_figure(stored_runs() if runs == "stored" else grid, "accuracy", title="a title")
    renderer = drawn(fig)
    radius = 2.5 * fig.dpi / 72  # markersize 5
    for ax in fig.axes[1:]:
        frame = ax.get_window_extent(renderer)
        labels = [(t, t.get_window_extent(renderer)) for t in ax.texts]
        assert labels and len(labels) == sum(len(c.lines[0].get_xydata()) for c in ax.containers)
        markers = marker_boxes(ax, radius)
        bars = [Bbox(segment_box) for c in ax.containers if c.lines[2]
                for segment_box in [ax.transData.transform(c.lines[2][0].get_segments()[0])]]
        for i, (text, box) in enumerate(labels):
            assert frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0 and box.y1 <= frame.y1, text
            assert not any(overlap(box, other) for j, (_, other) in enumerate(labels) if j != i), text
            assert not any(overlap(box, m) for m in markers), text
            assert not any(overlap(box, b.padded(0.5)) for b in bars), text
            centre = ((box.x0 + box.x1) / 2, (box.y0 + box.y1) / 2)
            own = ax.transData.transform(text.xy)
            nearest = min((m for m in markers), key=lambda m: (m.x0 + radius - centre[0]) ** 2 + (m.y0 + radius - centre[1]) ** 2)
            assert (nearest.x0 + radius, nearest.y0 + radius) == pytest.approx(tuple(own)), text


def test_the_legends_are_off_the_data(grid):
    """The sweep figure's one legend sits below its panels, the study figure's beside its axes."""
    fig = sweep_figure(stored_runs(), "accuracy", title="a title")
    renderer = drawn(fig)
    (legend,) = fig.legends
    assert not any(overlap(legend.get_window_extent(renderer), ax.get_tightbbox(renderer)) for ax in fig.axes)
    assert all(ax.get_legend() is None for ax in fig.axes)
    yours = [your_run(9, 8, 0, 0.41)]
    fig = study_figure(stored_runs(), yours, "short budget", next_run=(9, 8, 1))
    renderer = drawn(fig)
    ax = fig.axes[0]
    frame = ax.get_window_extent(renderer)
    assert ax.get_legend().get_window_extent(renderer).x0 >= frame.x1
    for text in ax.texts:  # the stars' labels stay inside the axes
        assert text.get_window_extent(renderer).x1 <= frame.x1, text
