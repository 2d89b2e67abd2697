"""The recipe ablation: each variant changes one thing, runs are judged on the held-out split by the
package's one rule, the file round-trips, and the script resumes where it stopped."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from study_fakes import FakeFit, epoch_record
from support import TINY, load_script, synthetic

from convmixer.studies import records as study_records
from convmixer.studies.recipe import (
    VARIANTS,
    RecipeRun,
    format_table,
    read_results,
    run_variant,
    summarise,
    variant_profile,
    write_results,
)
from convmixer.train import TrainProfile, get_profile
from convmixer.train.profiles import CPU_DECEMBER_6

CPU_PROXY = get_profile("cpu-plain").replace(name="cpu-proxy", epochs=4, stem_init="whiten", tta="flip-shift")


def changed_fields(variant: str) -> set[str]:
    profile = variant_profile(CPU_PROXY, variant, seed=CPU_PROXY.seed)
    changed = {f.name for f in dataclasses.fields(profile) if getattr(profile, f.name) != getattr(CPU_PROXY, f.name)}
    if "augment" in changed:
        changed.remove("augment")
        changed |= {f"augment.{f.name}" for f in dataclasses.fields(profile.augment)
                    if getattr(profile.augment, f.name) != getattr(CPU_PROXY.augment, f.name)}
    return changed - {"name"}


def test_each_variant_changes_one_thing_and_all_changes_all_of_them():
    expected = {
        "baseline": set(),
        "alternate-flip": {"augment.alternate_flip"},
        "bias-lr": {"norm_bias_lr_scale"},
        "dirac": {"dirac_depthwise"},
        "label-smoothing": {"label_smoothing"},
        "progressive": {"progressive_size", "progressive_epochs"},
    }
    for variant, fields in expected.items():
        assert changed_fields(variant) == fields, variant
    assert changed_fields("all") == set().union(*expected.values())
    assert changed_fields("progressive-crop") == {"progressive_size", "progressive_epochs", "progressive_mode"}
    assert variant_profile(CPU_DECEMBER_6, "no-bias-lr", 0).norm_bias_lr_scale == 1.0 != CPU_DECEMBER_6.norm_bias_lr_scale
    progressive = variant_profile(CPU_PROXY, "progressive", 0)
    assert progressive.train_size(1) == 24 and progressive.train_size(2) is None
    with pytest.raises(ValueError, match="unknown variant 'mixup'"):
        variant_profile(CPU_PROXY, "mixup", 0)


def recipe_run(variant: str, seed: int, accuracy: float) -> RecipeRun:
    return RecipeRun(variant, seed, accuracy, 5000, (epoch_record(1, 1.0, 1.0, accuracy, 60.0),), 70.0, 60.0)


def test_summary_judges_every_variant_against_the_recipe_with_the_pooled_seed_spread():
    runs = [recipe_run("baseline", 0, 0.800), recipe_run("baseline", 1, 0.804),
            recipe_run("dirac", 0, 0.850), recipe_run("dirac", 1, 0.846),
            recipe_run("alternate-flip", 0, 0.801), recipe_run("alternate-flip", 1, 0.806)]
    base, flip, dirac = summarise(runs)
    assert [r.variant for r in (base, flip, dirac)] == ["baseline", "alternate-flip", "dirac"]  # VARIANTS' order
    assert base.versus_baseline is None and base.accuracies == pytest.approx((80.0, 80.4))
    assert dirac.versus_baseline.difference == pytest.approx(4.6) and dirac.versus_baseline.separable
    assert flip.versus_baseline.difference == pytest.approx(0.15) and not flip.versus_baseline.separable
    assert base.half_width == flip.half_width == dirac.half_width  # one pooled spread, equal seeds
    table = format_table([base, flip, dirac])
    assert "| alternating flip | 80.10, 80.60 | 80.35 ±" in table and "+4.60 ±" in table
    assert "larger than the noise" in table and "within the noise" in table
    with pytest.raises(ValueError, match="no runs"):
        summarise([])


def test_run_variant_trains_on_train_and_judges_on_all_of_validation(tmp_path):
    fake, validation = FakeFit(accuracy=0.6, test_images=40), synthetic(4, 2, split="validation")
    run = run_variant(TINY, "dirac", 3, synthetic(10, 1), validation, fit=fake)
    (profile, kwargs), = fake.calls
    assert profile.dirac_depthwise and profile.seed == 3 and kwargs["test"] is validation
    assert (run.variant, run.seed, run.validation_accuracy, run.validation_images) == ("dirac", 3, 0.6, 40)
    path = write_results(tmp_path / "r.json", TINY, [run], {"note": 1})
    runs, meta = read_results(path)
    assert runs == [run] and meta["note"] == 1


def test_script_holds_out_validation_never_reads_test_and_resumes(trainable_folder, tmp_path, monkeypatch,
                                                                  single_threaded):
    script = load_script("recipe_ablation")
    monkeypatch.setattr(script, "BUDGET", script.BUDGET.replace(batch_size=50))  # the tiny set holds 200 images
    asked = []
    real_load = study_records.load_cifar10
    monkeypatch.setattr(study_records, "load_cifar10", lambda split, data: asked.append(split) or real_load(split, data))
    out = tmp_path / "ablation.json"
    common = ["--data", str(trainable_folder.zip), "--out", str(out), "--per-class", "4", "--epochs", "1",
              "--train-subset", "100"]
    assert script.main([*common, "--variants", "baseline", "--seeds", "0"]) == 0
    first, _ = read_results(out)
    assert script.main([*common, "--variants", "baseline", "progressive", "--seeds", "0"]) == 0
    runs, meta = read_results(out)
    assert asked == ["train", "train"]
    assert [(r.variant, r.seed) for r in runs] == [("baseline", 0), ("progressive", 0)]
    assert runs[0] == first[0]  # kept, not trained again
    assert all(r.validation_images == 40 for r in runs) and meta["total_wall_seconds"] > 0
    assert meta["split"]["validation_per_class"] == 4 and meta["variants"] == list(VARIANTS)
    full = tmp_path / "full.json"  # the whole cpu recipe as the base: its own budget, its own file
    monkeypatch.setattr(script, "CPU_FULL", script.CPU_FULL.replace(batch_size=50, progressive_epochs=0,
                                                                    progressive_size=None))
    assert script.main([*common[:2], "--out", str(full), *common[4:], "--base", "cpu", "--variants", "baseline",
                        "--seeds", "0"]) == 0
    (run,), meta = read_results(full)
    assert TrainProfile.from_dict(meta["budget"]).name == "cpu-full" and run.validation_images == 40
    assert script.build_parser("cpu").parse_args([]).out.endswith("recipe_full.json")


def test_the_stored_whole_recipe_ablation_is_the_budget_its_base_trains():
    """The file was made on the cpu recipe of 6 December; a later cpu recipe must not change the
    base, or resuming it (``--seeds 2``) would be refused as another budget's file."""
    script = load_script("recipe_ablation")
    _, stored = read_results(Path(script.OUTS["cpu"]))
    assert TrainProfile.from_dict(stored["budget"]) == script.CPU_FULL
