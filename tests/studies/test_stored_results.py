"""The committed study results were made with the budgets of the profile registry, on the whole
validation split, and load through their modules (so a changed budget or format cannot leave a
stale file behind)."""

import pytest
from support import REPO

from convmixer.studies import erf, kernel_depth, patch, skip
from convmixer.train import TrainProfile, get_profile
from convmixer.train.checkpoint import load_model


@pytest.mark.parametrize("module, name, profile", [
    (kernel_depth, "kernel_depth_sweep.json", "study"),
    (skip, "skip_study.json", "skip-study"),
    (erf, "erf_study.json", "erf-study"),
])
def test_each_stored_study_used_its_registry_budget_on_the_whole_validation_split(module, name, profile):
    runs, notes = module.read_results(REPO / "results" / name)
    budget = TrainProfile.from_dict(notes["budget"])
    assert budget == get_profile(profile)
    assert budget.test_subset is None  # every model judged on every validation image
    assert {run.validation_images for run in runs} == {notes["split"]["validation"]}
    assert (budget.stem_init, budget.tta) == ("random", "none")  # architectures compared as they are


def test_the_kernel_size_study_is_the_cpu_recipe_on_its_own_split_with_seed_zeros_models_kept():
    plan = erf.PLANS["kernel-study"]
    runs, notes = erf.read_results(REPO / "results" / plan.results)
    assert TrainProfile.from_dict(notes["budget"]) == plan.budget == get_profile("kernel-study")
    assert notes["split"]["validation_per_class"] == get_profile("cpu").validation_per_class == plan.validation_per_class
    assert {run.validation_images for run in runs} == {notes["split"]["validation"]}
    for run in runs:
        if run.seed in plan.kept_seeds:
            model = load_model(REPO / "results" / "kernel_size_study" / f"k{run.kernel_size}-d{run.depth}-seed{run.seed}.pt")
            assert (model.config.kernel_size, model.config.depth) == (run.kernel_size, run.depth)


def test_the_patch_study_is_complete_its_models_kept_and_its_test_read_once_for_the_validation_choice():
    runs, notes = patch.read_results(REPO / "results" / "patch_study.json")
    assert TrainProfile.from_dict(notes["budget"]) == get_profile("patch-study")
    assert {(r.budget, r.patch_size, r.seed) for r in runs} == {
        (kind, p, seed) for kind in patch.BUDGETS for p in patch.PATCH_SIZES for seed in patch.SEEDS}
    assert {run.validation_images for run in runs} == {notes["split"]["validation"]}
    epochs = {kind: {r.patch_size: r.epochs for r in runs if r.budget == kind} for kind in patch.BUDGETS}
    assert set(epochs["epochs"].values()) == {get_profile("patch-study").epochs}
    assert epochs["minutes"] == {int(p): e for p, e in notes["minutes_budget_epochs"].items()}
    for run in runs:
        if run.seed == 0:
            model = load_model(REPO / "results" / "patch_study" / f"p{run.patch_size}-{run.budget}-seed0.pt")
            assert model.config.patch_size == run.patch_size
    chosen = patch.chosen_setting(patch.summarise(runs))
    test = notes["test"]
    assert (test["budget"], test["patch_size"], test["seed"]) == (chosen.budget, chosen.patch_size, 0)
    assert test["images"] == 10_000 and test["tta"] == get_profile("patch-study").tta
