"""The kernel-size x depth sweep: profiles, the plan, one real (tiny) run, the choice on validation
and the one test, the result file and the script (figures and panels: test_viz_sweep.py,
test_widgets_sweep.py)."""

import dataclasses
import json

import pytest
import torch
from study_fakes import sweep_grid, sweep_run
from support import load_script

from convmixer import ConvMixer, ConvMixerConfig
from convmixer.analysis.cost import count_parameters, forward_flops
from convmixer.data.sources import CIFAR10_CLASSES, ImageDataset
from convmixer.studies import records as study_records
from convmixer.studies.kernel_depth import (
    chosen_cell,
    describe_sweep,
    final_test,
    measure_throughput,
    model_folder,
    plan,
    read_results,
    retime,
    run_one,
    write_results,
)
from convmixer.train import STUDY, build_training, get_profile, with_kernel_depth

TINY = STUDY.replace(
    model_overrides={"dim": 8, "patch_size": 8}, epochs=2, batch_size=32, train_subset=64, test_subset=None,
)


def fake_cifar(count: int, seed: int) -> ImageDataset:
    generator = torch.Generator().manual_seed(seed)
    images = torch.randint(0, 256, (count, 3, 32, 32), dtype=torch.uint8, generator=generator)
    labels = torch.randint(0, 10, (count,), generator=generator)
    return ImageDataset(images, labels, CIFAR10_CLASSES, "random images")


# --- profiles and the plan -----------------------------------------------------------------------




def test_with_kernel_depth_changes_only_kernel_depth_and_seed():
    profile = with_kernel_depth(STUDY, kernel_size=7, depth=8, seed=3)
    config = profile.model_config()
    assert (config.kernel_size, config.depth, config.dim, config.patch_size) == (7, 8, 64, 4)
    assert profile.seed == 3 and profile.name == "study-k7-d8"
    same = {"epochs", "batch_size", "lr", "weight_decay", "augment", "train_subset", "test_subset", "grad_clip"}
    for name in same:
        assert getattr(profile, name) == getattr(STUDY, name)
    assert with_kernel_depth(STUDY, 3, 2).seed == STUDY.seed
    with pytest.raises(ValueError, match="kernel_size must be an integer >= 1"):
        with_kernel_depth(STUDY, 0, 2)


def test_plan_runs_the_whole_grid_once_per_seed_seed_after_seed():
    assert plan((3, 9), (2, 4), seeds=(0, 5)) == [
        (3, 2, 0), (9, 2, 0), (3, 4, 0), (9, 4, 0), (3, 2, 5), (9, 2, 5), (3, 4, 5), (9, 4, 5),
    ]
    assert len(plan()) == 4 * 3 * 3
    with pytest.raises(ValueError, match="at least one kernel size"):
        plan((), (2,))


# --- one real run --------------------------------------------------------------------------------


def test_run_one_trains_checks_every_epoch_on_validation_and_measures_the_model(tmp_path):
    train, validation = fake_cifar(96, seed=0), fake_cifar(40, seed=1)
    profile = with_kernel_depth(TINY, kernel_size=4, depth=2)  # even kernel on purpose
    run = run_one(profile, train, validation, models=tmp_path)
    model = ConvMixer(ConvMixerConfig(dim=8, depth=2, kernel_size=4, patch_size=8))
    assert (run.kernel_size, run.depth, run.dim, run.patch_size, run.seed) == (4, 2, 8, 8, 0)
    assert run.parameters == count_parameters(model)
    assert run.flops == forward_flops(model, (1, 3, 32, 32))
    assert run.receptive_field == 8 * (1 + 2 * 3)
    assert run.validation_images == 40
    assert 0 <= run.validation_accuracy <= 1
    assert (run.validation_accuracy * 40) == pytest.approx(round(run.validation_accuracy * 40))
    assert [p.epoch for p in run.history] == [1, 2] and run.history[-1].eval_accuracy == run.validation_accuracy
    assert run.train_images_per_second > 0
    assert 0 < run.train_seconds <= run.wall_seconds
    assert (model_folder(tmp_path, 4, 2, 0) / "checkpoint.pt").is_file()  # kept for the final test
    again = run_one(profile, train, validation)
    assert (again.validation_accuracy, again.train_loss) == (run.validation_accuracy, run.train_loss)  # seeded


def test_run_one_refuses_a_budget_that_checks_only_part_of_the_validation_split():
    with pytest.raises(ValueError, match="set test_subset=None to use all 40 validation images"):
        run_one(TINY.replace(test_subset=10), fake_cifar(64, 0), fake_cifar(40, 1))


def test_measure_throughput_times_fits_own_training_steps(monkeypatch):
    import convmixer.studies.kernel_depth

    built = []

    def spy(profile, *args, **kwargs):
        built.append(profile)
        return build_training(profile, *args, **kwargs)

    monkeypatch.setattr(convmixer.studies.kernel_depth, "build_training", spy)
    profile = with_kernel_depth(TINY, kernel_size=3, depth=1).replace(batch_size=16)
    assert measure_throughput(profile, steps=2) > 0
    assert built == [profile]  # the engine's model, optimizer and step for this very profile
    with pytest.raises(ValueError, match="steps must be an integer >= 1"):
        measure_throughput(profile, steps=0)


def test_retime_changes_only_the_throughput():
    runs = [sweep_run(3, 1, speed=-1.0), sweep_run(5, 1, seed=1, speed=-1.0)]
    timed = retime(runs, TINY.replace(batch_size=8), steps=1)
    assert all(t.train_images_per_second > 0 for t in timed)
    for before, after in zip(runs, timed):
        assert dataclasses.replace(after, train_images_per_second=-1.0) == before


# --- the choice and the one test ----------------------------------------------------------------


def test_chosen_cell_has_the_best_mean_validation_accuracy_not_the_best_single_run():
    runs = [sweep_run(3, 2, 0, 0.60), sweep_run(3, 2, 1, 0.40), sweep_run(9, 2, 0, 0.55), sweep_run(9, 2, 1, 0.54)]
    assert chosen_cell(runs) == (9, 2)
    with pytest.raises(ValueError, match="no runs"):
        chosen_cell([])


def test_final_test_evaluates_only_the_chosen_cells_models_on_the_test_split(tmp_path, monkeypatch):
    import convmixer.studies.kernel_depth

    train, validation, test = fake_cifar(64, 0), fake_cifar(20, 1), fake_cifar(30, 2)
    runs = [run_one(with_kernel_depth(TINY, k, 1, seed), train, validation, models=tmp_path)
            for k in (3, 5) for seed in (0, 1)]
    runs = [dataclasses.replace(r, validation_accuracy=0.9 if r.kernel_size == 5 else 0.1) for r in runs]
    evaluated = []
    real = convmixer.studies.kernel_depth.evaluate
    monkeypatch.setattr(convmixer.studies.kernel_depth, "evaluate", lambda model, data: evaluated.append(model) or real(model, data))
    record = final_test(runs, tmp_path, test)
    assert (record["kernel_size"], record["depth"], record["seeds"], record["test_images"]) == (5, 1, [0, 1], 30)
    assert [m.config.kernel_size for m in evaluated] == [5, 5]
    points = [100 * a for a in record["test_accuracies"]]
    assert record["mean"] == pytest.approx(sum(points) / 2, abs=1e-3) and record["half_width"] is not None
    with pytest.raises(ValueError, match=r"the model of k5 d1 seed 0 is not in .*k5-d1-seed0"):
        final_test(runs, tmp_path / "elsewhere", test)


# --- the result file -----------------------------------------------------------------------------


def test_results_round_trip_and_bad_files_say_what_is_wrong(tmp_path):
    grid = sweep_grid()
    path = write_results(tmp_path / "sweep.json", STUDY, grid, {"dataset": "CIFAR-10 (JPEG copy)"})
    runs, meta = read_results(path)
    assert runs == grid
    assert meta == {"dataset": "CIFAR-10 (JPEG copy)", "budget": STUDY.to_dict()}
    with pytest.raises(ValueError, match="does not exist; run scripts/kernel_depth_sweep.py"):
        read_results(tmp_path / "nothing.json")
    (tmp_path / "broken.json").write_text(json.dumps({"runs": [{"kernel_size": 3}]}))
    with pytest.raises(ValueError, match="is not a convmixer kernel-size x depth sweep file"):
        read_results(tmp_path / "broken.json")


def test_describe_sweep_names_the_budget_the_split_and_the_seeds():
    notes = {"budget": STUDY.to_dict(), "split": {"train": 45_000, "validation": 5_000}, "seeds": [0, 1, 2]}
    assert describe_sweep(notes) == (
        f"study budget: ConvMixer-64/d, p = 4, 45,000 images × {STUDY.epochs} epochs, "
        "checked on 5,000 validation images, seeds 0, 1, 2"
    )


# --- the script ----------------------------------------------------------------------------------


def test_script_trains_on_a_held_out_split_resumes_and_reads_the_test_split_once(
    trainable_folder, tmp_path, monkeypatch, single_threaded
):
    script = load_script("kernel_depth_sweep")
    asked = []
    real_load, real_test_load = study_records.load_cifar10, script.load_cifar10
    monkeypatch.setattr(study_records, "load_cifar10", lambda split, data: asked.append(split) or real_load(split, data))
    monkeypatch.setattr(script, "load_cifar10", lambda split, data: asked.append(split) or real_test_load(split, data))
    out, models = tmp_path / "sweep.json", tmp_path / "models"
    common = ["--data", str(trainable_folder.zip), "--out", str(out), "--models", str(models), "--kernels", "3", "5",
              "--depths", "1", "--per-class", "4", "--epochs", "1", "--train-subset", "160", "--timing-steps", "1"]
    assert script.main(common + ["--seeds", "0"]) == 0
    assert asked == ["train", "test"]
    first, _ = read_results(out)
    assert [r.key for r in first] == [(3, 1, 0), (5, 1, 0)]
    assert script.main(common + ["--seeds", "0", "1", "--resume"]) == 0  # trains only seed 1
    runs, meta = read_results(out)
    assert runs[:2] == first and [r.key for r in runs[2:]] == [(3, 1, 1), (5, 1, 1)]
    assert all(r.validation_images == 40 and len(r.history) == 1 for r in runs)
    assert meta["split"] == {"train": 200, "validation": 40, "validation_per_class": 4, "hold_out_seed": 0}
    assert (meta["test"]["kernel_size"], meta["test"]["depth"]) == chosen_cell(runs)
    assert meta["test"]["seeds"] == [0, 1] and meta["test"]["test_images"] == 40
    assert meta["total_wall_seconds"] > 0 and meta["machine"]["cpu_count"]
    other = common[:-2] + ["--timing-steps", "1", "--epochs", "2", "--resume"]
    assert script.main(other) == 2  # stored runs of another budget are not mixed in
    assert read_results(out)[0] == runs


def test_script_retime_keeps_training_date_and_records_the_load(tmp_path):
    runs = [sweep_run(3, 2, speed=-1.0)]
    write_results(tmp_path / "sweep.json", STUDY, runs, {"date": "2020-01-02T03:04:05+00:00", "dataset": "x"})
    assert load_script("kernel_depth_sweep").main(["--retime", "--out", str(tmp_path / "sweep.json"),
                                                   "--timing-steps", "1"]) == 0
    timed, meta = read_results(tmp_path / "sweep.json")
    assert timed[0].train_images_per_second > 0 and timed[0].validation_accuracy == runs[0].validation_accuracy
    assert meta["date"] == "2020-01-02T03:04:05+00:00" and meta["dataset"] == "x"
    assert meta["timing"]["steps"] == 1 and len(meta["timing"]["load_before"]) == 3


def test_script_refuses_to_retime_runs_of_another_budget_or_a_missing_file(tmp_path, capsys):
    write_results(tmp_path / "sweep.json", TINY, [sweep_run(3, 2)], {})
    assert load_script("kernel_depth_sweep").main(["--retime", "--out", str(tmp_path / "sweep.json")]) == 2
    assert "different budget" in capsys.readouterr().err
    assert json.loads((tmp_path / "sweep.json").read_text())["budget"] == TINY.to_dict()
    assert load_script("kernel_depth_sweep").main(["--retime", "--out", str(tmp_path / "none.json")]) == 2
    assert "does not exist" in capsys.readouterr().err
