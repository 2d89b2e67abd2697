"""The kernel-size x depth sweep: profiles, one real (tiny) run, the result files (figures and panels:
test_viz_sweep.py, test_widgets_sweep.py)."""

import csv
import dataclasses
import json
import re

import pytest
import torch
from support import load_script

from convmixer import ConvMixer
from convmixer.analysis import count_parameters, forward_flops
from convmixer.data import CIFAR10_CLASSES, ImageDataset
from convmixer.sweep import (
    FIELDS,
    SWEEP_BUDGET,
    SweepRun,
    measure_throughput,
    plan,
    read_results,
    retime,
    run_one,
    write_results,
)
from convmixer.train import build_training, with_kernel_depth

TINY = SWEEP_BUDGET.replace(
    model_overrides={"dim": 8, "patch_size": 8}, epochs=1, batch_size=32, train_subset=64, test_subset=32,
)


def fake_cifar(count: int, seed: int) -> ImageDataset:
    generator = torch.Generator().manual_seed(seed)
    images = torch.randint(0, 256, (count, 3, 32, 32), dtype=torch.uint8, generator=generator)
    labels = torch.randint(0, 10, (count,), generator=generator)
    return ImageDataset(images, labels, CIFAR10_CLASSES, "random images")


def fake_run(k: int, d: int, seed: int = 0, accuracy: float = 0.5, speed: float = 100.0) -> SweepRun:
    config = dict(dim=64, depth=d, kernel_size=k, patch_size=4)
    model = ConvMixer(**config)
    return SweepRun(
        kernel_size=k, depth=d, dim=64, patch_size=4, seed=seed,
        parameters=count_parameters(model), flops=1000 * (k * k + 64) * d,
        receptive_field=4 * (1 + d * (k - 1)), test_accuracy=accuracy, test_loss=1.5,
        test_images=10_000, train_loss=1.4, train_images_per_second=speed,
        train_seconds=10.0 * d, wall_seconds=12.0 * d,
    )


@pytest.fixture()
def grid() -> list[SweepRun]:
    runs = [fake_run(k, d, accuracy=0.40 + 0.01 * k + 0.02 * d, speed=1000 / (k * d))
            for d in (2, 4) for k in (3, 5, 9)]
    return runs + [fake_run(5, 4, seed=1, accuracy=0.52), fake_run(5, 4, seed=2, accuracy=0.505)]


# --- profiles and the plan -----------------------------------------------------------------------


def test_with_kernel_depth_changes_only_kernel_depth_and_seed():
    profile = with_kernel_depth(SWEEP_BUDGET, kernel_size=7, depth=8, seed=3)
    config = profile.model_config()
    assert (config.kernel_size, config.depth, config.dim, config.patch_size) == (7, 8, 64, 4)
    assert profile.seed == 3 and profile.name == "study-k7-d8"
    same = {"epochs", "batch_size", "lr", "weight_decay", "augment", "train_subset", "test_subset", "grad_clip"}
    for name in same:
        assert getattr(profile, name) == getattr(SWEEP_BUDGET, name)
    assert with_kernel_depth(SWEEP_BUDGET, 3, 2).seed == SWEEP_BUDGET.seed
    with pytest.raises(ValueError, match="kernel_size must be an integer >= 1"):
        with_kernel_depth(SWEEP_BUDGET, 0, 2)


def test_plan_runs_every_pair_once_then_repeats_one():
    runs = plan((3, 9), (2, 4), repeat=(3, 4), seeds=(0, 5))
    assert runs == [(3, 2, 0), (9, 2, 0), (3, 4, 0), (9, 4, 0), (3, 4, 5)]
    assert plan((3,), (2,), repeat=None) == [(3, 2, 0)]
    with pytest.raises(ValueError, match="at least one kernel size"):
        plan((), (2,))


# --- one real run --------------------------------------------------------------------------------


def test_run_one_trains_and_measures_the_model():
    train, test = fake_cifar(96, seed=0), fake_cifar(40, seed=1)
    profile = with_kernel_depth(TINY, kernel_size=4, depth=2)  # even kernel on purpose
    run = run_one(profile, train, test)
    model = ConvMixer(dim=8, depth=2, kernel_size=4, patch_size=8)
    assert (run.kernel_size, run.depth, run.dim, run.patch_size, run.seed) == (4, 2, 8, 8, 0)
    assert run.parameters == count_parameters(model)
    assert run.flops == forward_flops(model, (1, 3, 32, 32))
    assert run.receptive_field == 8 * (1 + 2 * 3)
    assert run.test_images == 40  # the whole test split, not the per-epoch subset
    assert 0 <= run.test_accuracy <= 1 and (run.test_accuracy * 40) == pytest.approx(round(run.test_accuracy * 40))
    assert run.train_images_per_second > 0
    assert 0 < run.train_seconds <= run.wall_seconds
    again = run_one(profile, train, test)
    assert (again.test_accuracy, again.train_loss) == (run.test_accuracy, run.train_loss)  # seeded


def test_measure_throughput_times_fits_own_training_steps(monkeypatch):
    import convmixer.sweep

    built = []

    def spy(profile, *args, **kwargs):
        built.append(profile)
        return build_training(profile, *args, **kwargs)

    monkeypatch.setattr(convmixer.sweep, "build_training", spy)
    profile = with_kernel_depth(TINY, kernel_size=3, depth=1).replace(batch_size=16)
    assert measure_throughput(profile, steps=2) > 0
    assert built == [profile]  # the engine's model, optimizer and step for this very profile
    with pytest.raises(ValueError, match="steps must be an integer >= 1"):
        measure_throughput(profile, steps=0)


def test_retime_changes_only_the_throughput():
    runs = [fake_run(3, 1, speed=-1.0), fake_run(5, 1, seed=1, speed=-1.0)]
    budget = TINY.replace(batch_size=8)
    timed = retime(runs, budget, steps=1)
    assert all(t.train_images_per_second > 0 for t in timed)
    for before, after in zip(runs, timed):
        assert dataclasses.replace(after, train_images_per_second=-1.0) == before



def test_script_retime_keeps_training_date_and_records_the_load(tmp_path):
    runs = [fake_run(3, 2, speed=-1.0)]
    write_results(runs, tmp_path / "sweep", SWEEP_BUDGET, {"date": "2020-01-02T03:04:05+00:00", "dataset": "x"})
    assert load_script("kernel_depth_sweep").main(["--retime", "--out", str(tmp_path / "sweep"), "--timing-steps", "1"]) == 0
    timed, meta = read_results(tmp_path / "sweep")
    assert timed[0].train_images_per_second > 0 and timed[0].test_accuracy == runs[0].test_accuracy
    assert meta["date"] == "2020-01-02T03:04:05+00:00" and meta["dataset"] == "x"
    assert meta["timing"]["steps"] == 1 and "load_before" in meta["timing"]


def test_script_refuses_to_retime_runs_of_another_budget(tmp_path, capsys):
    write_results([fake_run(3, 2)], tmp_path / "sweep", TINY)
    assert load_script("kernel_depth_sweep").main(["--retime", "--out", str(tmp_path / "sweep")]) == 2
    assert "different budget" in capsys.readouterr().err
    assert json.loads((tmp_path / "sweep.json").read_text())["budget"] == TINY.to_dict()


# --- result files --------------------------------------------------------------------------------


def test_results_round_trip_with_metadata(tmp_path, grid):
    csv_path, json_path = write_results(grid, tmp_path / "sweep", SWEEP_BUDGET, {"dataset": "CIFAR-10 (JPEG copy)"})
    assert (csv_path.name, json_path.name) == ("sweep.csv", "sweep.json")
    with csv_path.open() as file:
        assert tuple(next(csv.reader(file))) == FIELDS
    runs, meta = read_results(tmp_path / "sweep.csv")
    assert runs == grid
    assert meta["budget"] == SWEEP_BUDGET.to_dict() and meta["runs"] == len(grid)
    assert meta["dataset"] == "CIFAR-10 (JPEG copy)"
    assert meta["machine"]["cpu_count"] >= 1 and meta["machine"]["torch"] == torch.__version__
    assert re.match(r"\d{4}-\d\d-\d\dT", meta["date"])
    assert meta["total_wall_seconds"] == pytest.approx(sum(r.wall_seconds for r in grid), abs=0.1)


def test_reading_missing_or_broken_results_says_what_is_wrong(tmp_path, grid):
    with pytest.raises(ValueError, match=r"sweep results .*nothing.csv not found"):
        read_results(tmp_path / "nothing")
    csv_path, _ = write_results(grid, tmp_path / "sweep", SWEEP_BUDGET)
    text = csv_path.read_text().replace("test_accuracy", "accuracy")
    csv_path.write_text(text)
    with pytest.raises(ValueError, match="lacks the column"):
        read_results(tmp_path / "sweep")
