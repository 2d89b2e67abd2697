"""The effective-receptive-field study: one measurement, one run (with a stand-in for training), the
summary over seeds, the result file, the figure, and the script end to end on tiny generated data."""

from __future__ import annotations

import dataclasses
import json
import math

import pytest
import torch
from study_fakes import FakeFit
from support import TINY, load_script, synthetic, tiny_model

from convmixer.analysis.fields import centre_position, effective_receptive_field, effective_side, own_patch_share
from convmixer.data.augment import prepare_images
from convmixer.studies.erf import (
    ErfMeasure,
    ErfRun,
    Estimate,
    comparisons,
    format_table,
    measure,
    read_results,
    run_cell,
    summarise,
    training_comparisons,
    write_results,
)
from convmixer.train import TrainProfile, build_model, with_kernel_depth
from convmixer.train.checkpoint import load_model
from convmixer.viz.fields import erf_study_figure
from convmixer.viz.model import receptive_box


def inside_receptive_field(kernel_size: int, patch_size: int, depth: int) -> torch.Tensor:
    top, left, side = receptive_box(kernel_size, patch_size, depth, *centre_position(32, 32, patch_size))
    inside = torch.zeros(32, 32, dtype=torch.bool)
    inside[max(top, 0): top + side, max(left, 0): left + side] = True
    return inside


def spot(row: int, col: int) -> tuple[tuple[float, ...], ...]:
    """A 32x32 map with all its mass on one pixel."""
    grid = torch.zeros(32, 32, dtype=torch.float64)
    grid[row, col] = 1.0
    return tuple(tuple(r) for r in grid.tolist())


def erf_run(k: int, d: int, seed: int, side: int, share: float, accuracy: float = 0.5) -> ErfRun:
    """A run whose trained map sits on pixel (seed, 0) and untrained map on (0, seed)."""
    return ErfRun(k, d, 4, seed, accuracy, 1000, ErfMeasure(side, share, spot(seed, 0)),
                  ErfMeasure(4, 0.9, spot(0, seed)), 10.0)


def test_a_measured_map_sums_to_one_and_is_zero_outside_the_theoretical_receptive_field():
    model = tiny_model(kernel_size=3, depth=2)
    images = prepare_images(synthetic(1, 0).images[:6])
    measured = measure(model, images)
    erf = effective_receptive_field(model, images)  # the unrounded map, all d blocks, centre position
    grid = measured.tensor()
    assert grid.shape == (32, 32) and grid.sum().item() == pytest.approx(1.0, abs=1e-3)
    assert (grid[~inside_receptive_field(3, 4, 2)] == 0).all() and grid.max() > 0
    torch.testing.assert_close(grid, (erf / erf.sum()).double(), atol=1e-4, rtol=1e-2)
    assert measured.side == effective_side(erf, 4, (4, 4))
    assert measured.own_share == pytest.approx(own_patch_share(erf, 4, (4, 4)), abs=1e-4)
    assert model.training  # measured in eval mode, left as found


def test_run_cell_trains_k_d_seed_and_measures_the_trained_model_and_its_initial_weights():
    fake, train, validation = FakeFit(accuracy=0.4, test_images=40), synthetic(2, 1), synthetic(1, 2)
    run = run_cell(TINY, 3, 1, 2, train, validation, fit=fake, erf_images=5)
    (profile, kwargs), = fake.calls
    assert profile == with_kernel_depth(TINY, 3, 1, 2)
    assert kwargs["test"] is validation and kwargs["train"] is train and kwargs["progress"] is False
    assert (run.kernel_size, run.depth, run.patch_size, run.seed) == (3, 1, 4, 2)
    assert (run.validation_accuracy, run.validation_images) == (0.4, 40)
    images = prepare_images(validation.images[:5])
    assert run.untrained == measure(build_model(profile, "cpu", train.images), images)  # where fit starts (whitened)
    assert run.trained != run.untrained  # the stand-in's model has other weights
    for measured in (run.trained, run.untrained):
        assert (measured.tensor()[~inside_receptive_field(3, 4, 1)] == 0).all()


def test_estimates_are_the_mean_and_a_95_percent_half_width():
    estimate = Estimate((10.0, 12.0, 14.0), 4.97)
    assert estimate.mean == 12.0
    assert estimate.describe() == "12.0 ± 5.0"
    assert Estimate((0.25,), None).describe(100) == "25.0"


def test_error_bars_pool_the_seed_spread_over_the_cells_the_one_rule():
    # k3 d2 sides spread by s = 1, k9 d2 by s = 3: pooled s = sqrt((2 + 18) / 4), 4 dof (t = 2.776)
    runs = [erf_run(3, 2, seed, side, 0.3) for seed, side in enumerate((7, 8, 9))]
    runs += [erf_run(9, 2, seed, side, 0.2) for seed, side in enumerate((11, 14, 17))]
    small, large = summarise(runs)
    pooled = 2.776 * math.sqrt(20 / 4) / math.sqrt(3)
    assert small.trained.side.half_width == pytest.approx(pooled, abs=1e-3)
    assert large.trained.side.half_width == pytest.approx(pooled, abs=1e-3)
    side = next(c for c in comparisons([small, large]) if c.label == "half-gradient side, trained: k9 d2 vs k3 d2")
    assert side.difference == pytest.approx(6.0) and side.unit == "px"
    assert side.half_width == pytest.approx(2.776 * math.sqrt(20 / 4) * math.sqrt(2 / 3), abs=1e-3)
    assert side.separable
    labels = [c.label for c in comparisons([small, large])]
    assert labels[0] == "validation accuracy: k9 d2 vs k3 d2"


def test_training_comparisons_set_each_cell_trained_against_its_initial_weights_by_the_one_rule():
    # untrained sides are all 4 (no spread); trained k3 d2 sides 7, 8, 9: pooled over 4 groups, 8 dof
    runs = [erf_run(3, 2, seed, side, 0.3) for seed, side in enumerate((7, 8, 9))]
    runs += [erf_run(9, 2, seed, side, 0.2) for seed, side in enumerate((11, 14, 17))]
    found = {c.label: c for c in training_comparisons(summarise(runs))}
    side = found["half-gradient side, k3 d2: trained vs initial weights"]
    assert side.difference == pytest.approx(4.0) and side.unit == "px" and side.separable
    share = found["own-patch share, k9 d2: trained vs initial weights"]
    assert share.difference == pytest.approx(100 * (0.2 - 0.9)) and share.unit == "points"


def test_summary_per_kernel_and_depth_averages_seeds_and_maps():
    runs = [erf_run(9, 2, seed, side, share, acc) for seed, side, share, acc in
            ((2, 16, 0.2, 0.44), (0, 12, 0.3, 0.40), (1, 14, 0.4, 0.42))]
    runs += [erf_run(3, 8, 0, 20, 0.1), erf_run(3, 2, 0, 8, 0.5)]
    summaries = summarise(runs)
    assert [s.label for s in summaries] == ["k3 d2", "k9 d2", "k3 d8"]  # by depth, then kernel size
    assert [s.receptive_field for s in summaries] == [20, 68, 68]  # p (1 + d (k - 1)), p = 4
    cell = summaries[1]
    assert cell.seeds == (0, 1, 2)
    assert cell.trained.side.values == (12.0, 14.0, 16.0) and cell.trained.side.mean == 14.0
    assert cell.trained.own_share.mean == pytest.approx(0.3)
    assert cell.accuracy.mean == pytest.approx(0.42)
    assert cell.untrained.side.values == (4.0, 4.0, 4.0) and cell.untrained.side.half_width == 0.0
    expected = torch.zeros(32, 32, dtype=torch.float64)
    expected[0:3, 0] = 1 / 3  # the trained maps sat on (seed, 0)
    torch.testing.assert_close(cell.trained.map, expected)
    assert cell.untrained.map[0, 0:3].tolist() == pytest.approx([1 / 3] * 3)
    assert summaries[0].trained.side.half_width == pytest.approx(4.303 * 2.0, abs=1e-3)  # one seed, k9 d2's spread
    table = format_table(summaries)
    assert "k9 d2" in table and "14.0 ± 5.0" in table and "30.0 ± 24.8" in table and "42.0 ± 5.0" in table


def test_summary_rejects_nothing_and_cells_it_cannot_average():
    with pytest.raises(ValueError, match="no runs"):
        summarise([])
    other = erf_run(3, 2, 1, 8, 0.5)
    other = dataclasses.replace(other, patch_size=2)
    with pytest.raises(ValueError, match="k3 d2 differ in patch or image size"):
        summarise([erf_run(3, 2, 0, 8, 0.5), other])


def test_results_round_trip_and_bad_files_say_what_is_wrong(tmp_path):
    model = tiny_model(kernel_size=3, depth=2)
    measured = measure(model, prepare_images(synthetic(1, 0).images[:3]))
    runs = [ErfRun(3, 2, 4, seed, 0.4, 100, measured, erf_run(3, 2, 0, 4, 0.9).untrained, 1.5) for seed in (0, 1)]
    path = write_results(tmp_path / "erf.json", TINY, runs, {"date": "today", "load_average": {"before": [1.0, 2.0]}})
    back, meta = read_results(path)
    assert back == runs
    assert meta == {"date": "today", "load_average": {"before": [1.0, 2.0]}, "budget": TINY.to_dict()}
    assert "\n     [0.0, 0.0," in path.read_text()  # a map row on one line
    assert [p.name for p in tmp_path.iterdir()] == ["erf.json"]  # no temporary file left
    with pytest.raises(ValueError, match="does not exist; run scripts/erf_study.py"):
        read_results(tmp_path / "missing.json")
    for name, text in (("cut.json", path.read_text()[:-200]), ("other.json", json.dumps({"budget": {}})),
                       ("list.json", "[1, 2]")):
        (tmp_path / name).write_text(text)
        with pytest.raises(ValueError, match=f"{name} is not a (readable )?convmixer ERF study file"):
            read_results(tmp_path / name)


def test_figure_draws_every_cell_trained_and_untrained_with_its_theoretical_field():
    runs = [erf_run(3, 2, 0, 8, 0.5), erf_run(9, 2, 0, 20, 0.2)]
    fig = erf_study_figure(summarise(runs))
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert titles == ["k3 d2 trained", "k9 d2 trained", "k3 d2 untrained", "k9 d2 untrained"]
    k3 = fig.axes[0].patches  # the own patch (white), then the theoretical field of k3 d2: 20 px
    assert [(p.get_x(), p.get_y(), p.get_width()) for p in k3] == [(16, 16, 4), (8, 8, 20)]
    assert fig.axes[1].patches[1].get_width() == 68
    other = dataclasses.replace(runs[0], patch_size=2, kernel_size=5)
    with pytest.raises(ValueError, match="differ in patch size or image size"):
        erf_study_figure(summarise([runs[0], other]))





def test_script_trains_on_a_held_out_split_and_stores_every_run(trainable_folder, tmp_path, single_threaded):
    out = tmp_path / "erf.json"
    code = load_script("erf_study").main(["--data", str(trainable_folder.zip), "--out", str(out), "--kernel-sizes", "3",
                               "--depths", "1", "--seeds", "0", "1", "--per-class", "4", "--erf-images", "8",
                               "--epochs", "1", "--train-subset", "100"])
    assert code == 0
    runs, meta = read_results(out)
    assert [(r.kernel_size, r.depth, r.seed) for r in runs] == [(3, 1, 0), (3, 1, 1)]
    assert all(r.validation_images == 40 for r in runs)
    assert runs[0].trained != runs[0].untrained and runs[0].untrained != runs[1].untrained  # trained; seeds differ
    assert meta["split"] == {"train": 200, "validation": 40, "validation_per_class": 4, "hold_out_seed": 0}
    assert meta["erf_images"] == 8 and meta["budget"]["epochs"] == 1 and meta["budget"]["train_subset"] == 100
    assert len(meta["load_average"]["before"]) == len(meta["load_average"]["after"]) == 3
    assert meta["machine"]["cpu_count"] and meta["date"] and meta["total_wall_seconds"] > 0


def test_script_reports_a_missing_dataset_in_one_line(tmp_path, capsys):
    assert load_script("erf_study").main(["--data", str(tmp_path / "nothing.zip"), "--out", str(tmp_path / "x.json")]) == 2
    assert capsys.readouterr().err.startswith("error: ") and not (tmp_path / "x.json").exists()


def test_kernel_study_plan_keeps_seed_zero_models_resumes_and_refuses_another_budget(
        trainable_folder, tmp_path, monkeypatch, single_threaded, capsys):
    script = load_script("erf_study")
    plan = script.PLANS["kernel-study"]
    small = plan.budget.replace(batch_size=50)  # the tiny set holds 200 training images
    monkeypatch.setitem(script.PLANS, "kernel-study", dataclasses.replace(plan, budget=small))
    out = tmp_path / "kernel.json"
    common = ["--study", "kernel-study", "--data", str(trainable_folder.zip), "--out", str(out), "--per-class", "4",
              "--erf-images", "4", "--epochs", "1", "--train-subset", "100", "--kernel-sizes", "3", "--seeds"]
    assert script.main([*common, "0"]) == 0
    first, _ = read_results(out)
    kept = tmp_path / "kernel" / "k3-d8-seed0.pt"
    assert kept.exists() and load_model(kept).config.kernel_size == 3
    assert script.main([*common, "0", "1"]) == 0
    runs, meta = read_results(out)
    assert [(r.kernel_size, r.depth, r.seed) for r in runs] == [(3, 8, 0), (3, 8, 1)]
    assert runs[0] == first[0] and meta["seeds"] == [0, 1]  # kept, not trained again
    assert not (tmp_path / "kernel" / "k3-d8-seed1.pt").exists()  # only the plan's kept seeds
    assert TrainProfile.from_dict(meta["budget"]).stem_init == "whiten"  # the cpu recipe, k changed only
    before = out.read_bytes()
    assert script.main([*common[:-1], "--epochs", "2", "--seeds", "2"]) == 2
    assert "another budget" in capsys.readouterr().err and out.read_bytes() == before
