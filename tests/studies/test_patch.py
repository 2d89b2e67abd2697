"""The patch-size study: one run (with a stand-in for training), the equal-minutes epochs, the
summary and comparisons by the one rule, the file, and the script end to end on tiny data."""

from __future__ import annotations

import dataclasses

import pytest
from study_fakes import FakeFit
from support import TINY, load_script, synthetic

from convmixer.analysis.cost import convmixer_flops
from convmixer.studies.patch import (
    BUDGET,
    CHECKPOINT_STEPS,
    PatchRun,
    chosen_setting,
    comparisons,
    epochs_for_minutes,
    format_table,
    read_results,
    read_test_once,
    run_patch,
    summarise,
    with_patch,
    write_results,
)
from convmixer.model import ConvMixer
from convmixer.train import get_profile
from convmixer.train.checkpoint import load_model


def patch_run(kind: str, p: int, seed: int, accuracy: float) -> PatchRun:
    return PatchRun(kind, p, seed, 10, accuracy, 1000, 50_000, 1_000_000 * (32 // p) ** 2, (32 // p) ** 2, (), 60.0, 61.0)


def test_the_study_is_the_cpu_recipe_at_width_64_with_only_p_and_epochs_changed():
    cpu = get_profile("cpu")
    assert (BUDGET.stem_init, BUDGET.tta, BUDGET.dirac_depthwise) == (cpu.stem_init, cpu.tta, cpu.dirac_depthwise)
    assert BUDGET.progressive_size is None and BUDGET.validation_per_class == 0
    profile = with_patch(BUDGET, 2, seed=3, epochs=7)
    assert (profile.model_config().patch_size, profile.seed, profile.epochs, profile.name) == (2, 3, 7, "patch-study-p2")
    assert convmixer_flops(profile.model_config()) > 3 * convmixer_flops(with_patch(BUDGET, 4, 0).model_config())
    with pytest.raises(ValueError, match="patch"):
        with_patch(BUDGET, 5, 0)  # 32 px do not tile into 5-px patches


def test_the_same_minutes_buy_whole_epochs_in_proportion_to_throughput():
    assert epochs_for_minutes(5, images_per_second=300, train_images=45_000) == 2
    assert epochs_for_minutes(5, images_per_second=4500, train_images=45_000) == 30
    assert epochs_for_minutes(0.1, 1, 45_000) == 1  # at least one
    with pytest.raises(ValueError, match="minutes > 0"):
        epochs_for_minutes(0, 100, 10)


def test_a_run_trains_p_for_its_epochs_judges_all_validation_images_and_keeps_the_model(tmp_path):
    fake, validation = FakeFit(0.6), synthetic(4, 2, split="validation")
    budget = TINY.replace(test_subset=None)
    run = run_patch(budget, "minutes", 2, 1, 3, synthetic(10, 1), validation, fit=fake, model_path=tmp_path / "m.pt")
    (profile, kwargs), = fake.calls
    assert (profile.model_config().patch_size, profile.epochs, profile.seed) == (2, 3, 1) and kwargs["test"] is validation
    assert (run.budget, run.patch_size, run.epochs, run.validation_accuracy, run.tokens) == ("minutes", 2, 3, 0.6, 256)
    assert load_model(tmp_path / "m.pt").config.patch_size == 2
    assert "out" not in kwargs  # nothing kept on disk but the model
    run_patch(budget, "epochs", 4, 0, 2, synthetic(10, 1), validation, fit=fake, run_dir=tmp_path / "run")
    kwargs = fake.calls[-1][1]
    assert (kwargs["out"], kwargs["resume"], kwargs["checkpoint_every"]) == (tmp_path / "run", True, CHECKPOINT_STEPS)
    with pytest.raises(ValueError, match="budget kind must be one of epochs, minutes"):
        run_patch(budget, "hours", 2, 1, 3, synthetic(10, 1), validation, fit=fake)


def test_summary_and_comparisons_pool_the_spread_within_each_budget(tmp_path):
    runs = [patch_run("epochs", p, s, a) for p, accs in ((2, (0.80, 0.805)), (4, (0.75, 0.755))) for s, a in enumerate(accs)]
    runs += [patch_run("minutes", 4, 0, 0.7)]
    summaries = summarise(runs)
    assert [(s.budget, s.patch_size) for s in summaries] == [("epochs", 2), ("epochs", 4), ("minutes", 4)]
    assert summaries[0].mean == pytest.approx(80.25) and summaries[0].half_width is not None
    assert summaries[2].half_width is None  # one seed, nothing to pool within its budget
    (only,) = comparisons(summaries)
    assert only.label == "same epochs: p = 2 vs p = 4" and only.difference == pytest.approx(5.0) and only.separable
    assert "| same epochs | 2 | 16 x 16 | 10 | 80.00, 80.50 |" in format_table(summaries)
    path = write_results(tmp_path / "p.json", BUDGET, runs, {"note": 1})
    again, meta = read_results(path)
    assert again == runs and meta["note"] == 1


def test_script_measures_throughput_once_resumes_and_never_reads_test(trainable_folder, tmp_path, monkeypatch,
                                                                    single_threaded):
    script = load_script("patch_study")
    monkeypatch.setattr(script, "BUDGET", script.BUDGET.replace(batch_size=50, model_overrides={"dim": 8, "depth": 1, "patch_size": 4}))
    measured = []
    monkeypatch.setattr(script, "measure_throughput", lambda profile: measured.append(profile.name) or 1.0 * profile.model_config().patch_size)
    out = tmp_path / "patch.json"
    common = ["--data", str(trainable_folder.zip), "--out", str(out), "--per-class", "4", "--epochs", "1",
              "--train-subset", "100", "--minutes", "1", "--patch-sizes", "4", "8"]
    assert script.main([*common, "--seeds", "0"]) == 0
    first, meta = read_results(out)
    assert meta["images_per_second"] == {"4": 4.0, "8": 8.0}
    assert meta["minutes_budget_epochs"] == {"4": 2, "8": 5}  # 60 s x 4 or 8 images/s over 100 images
    assert [(r.budget, r.patch_size, r.epochs) for r in first] == [("epochs", 4, 1), ("epochs", 8, 1), ("minutes", 4, 2),
                                                                   ("minutes", 8, 5)]
    assert (tmp_path / "patch" / "p8-epochs-seed0.pt").exists()
    assert not (tmp_path / "patch.runs").exists()  # the runs' checkpoints go once the runs are stored
    assert script.main([*common, "--seeds", "0", "1", "--budgets", "epochs"]) == 0
    runs, meta = read_results(out)
    assert measured == ["patch-study-p4", "patch-study-p8"]  # not again on resume
    assert runs[:4] == first and [(r.budget, r.seed) for r in runs[4:]] == [("epochs", 1), ("epochs", 1)]
    assert all(r.validation_images == 40 for r in runs) and meta["seeds"] == [0, 1]


def test_the_recommended_setting_is_the_best_same_minutes_mean_and_the_test_is_read_on_all_images():
    runs = [patch_run("epochs", 2, 0, 0.9), patch_run("minutes", 2, 0, 0.6), patch_run("minutes", 4, 0, 0.7),
            patch_run("minutes", 8, 0, 0.65)]
    chosen = chosen_setting(summarise(runs))
    assert (chosen.budget, chosen.patch_size) == ("minutes", 4)  # the better same-epochs p = 2 is not a laptop's pick
    with pytest.raises(ValueError, match="no same-minutes runs"):
        chosen_setting(summarise(runs[:1]))
    test = synthetic(3, 1, split="test")
    model = ConvMixer(with_patch(TINY, 4, 0).model_config())
    reading = read_test_once(model, test, chosen, seed=0, tta="none")
    assert (reading["patch_size"], reading["budget"], reading["images"]) == (4, "minutes", len(test))
    assert 0 <= reading["accuracy"] <= 1
    with pytest.raises(ValueError, match="chosen setting has p = 4, the model p = 8"):
        read_test_once(ConvMixer(with_patch(TINY, 8, 0).model_config()), test, chosen, 0, "none")


def test_script_reads_the_test_set_once_and_only_for_a_whole_study(trainable_folder, tmp_path, monkeypatch,
                                                                  single_threaded, capsys):
    script = load_script("patch_study")
    monkeypatch.setattr(script, "BUDGET", script.BUDGET.replace(batch_size=50, model_overrides={"dim": 8, "depth": 1, "patch_size": 4}))
    monkeypatch.setattr(script, "measure_throughput", lambda profile: 100.0)
    monkeypatch.setattr(script, "PATCH_SIZES", (4, 8))
    monkeypatch.setattr(script, "SEEDS", (0, 1))
    readings = []
    real = script.read_test_once
    monkeypatch.setattr(script, "read_test_once", lambda *args: readings.append(args[2].patch_size) or real(*args))
    out = tmp_path / "patch.json"
    common = ["--data", str(trainable_folder.zip), "--out", str(out), "--per-class", "4", "--epochs", "1",
              "--train-subset", "100", "--minutes", "0.01", "--patch-sizes", "4", "8", "--read-test"]
    assert script.main([*common, "--seeds", "0"]) == 2  # seed 1 is missing: no reading
    assert "the test set is read once the whole study is stored; 4 runs missing" in capsys.readouterr().err
    assert "test" not in read_results(out)[1] and readings == []
    assert script.main([*common, "--seeds", "0", "1"]) == 0
    runs, meta = read_results(out)
    chosen = chosen_setting(summarise(runs))
    assert readings == [chosen.patch_size] and meta["test"]["patch_size"] == chosen.patch_size
    assert meta["test"]["images"] == 40 and meta["test"]["seed"] == 0
    assert script.main([*common, "--seeds", "0", "1"]) == 0  # stored: printed, not read again
    assert readings == [chosen.patch_size] and read_results(out)[1]["test"] == meta["test"]
    assert f"test set (read once): same minutes, p = {chosen.patch_size}" in capsys.readouterr().out
