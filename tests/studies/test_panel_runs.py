"""The reader's runs of notebook 07: the panel's budget, training one run, the JSON file."""

import json
import os

import pytest
from study_fakes import FakeFit, tiny_data

from convmixer import ConvMixer, ConvMixerConfig
from convmixer.analysis.cost import count_parameters
from convmixer.studies.panel_runs import (
    STORE_ENV,
    RunStore,
    StudyRun,
    budget_digest,
    default_store_path,
    describe_budget,
    same_budget,
    train_study_run,
)
from convmixer.train import PROFILES, fit, panel_budget


def a_run(k: int = 5, d: int = 4, seed: int = 0, budget: str = "short", digest: str | None = None) -> StudyRun:
    return StudyRun(
        kernel_size=k, depth=d, seed=seed, dim=64, patch_size=4, budget=budget,
        budget_digest=digest or budget_digest(PROFILES[budget]), train_images=5000, epochs=4,
        eval_split="test", eval_images=1000, eval_accuracy=0.43, parameters=28_234, seconds=31.5, data="somewhere",
        finished="2026-12-01T12:00:00+00:00",
    )


def test_panel_budget_is_short_unless_the_environment_says_smoke():
    assert panel_budget("smoke") is PROFILES["smoke"]
    for value in (None, "", "short", "cpu", "quick"):
        assert panel_budget(value) is PROFILES["short"]


def test_budget_digest_changes_with_any_setting():
    short = PROFILES["short"]
    assert budget_digest(short) == budget_digest(short.replace())
    assert len(budget_digest(short)) == 12
    assert budget_digest(short.replace(epochs=5)) != budget_digest(short)
    assert budget_digest(short.replace(lr=0.02)) != budget_digest(short)


def test_describe_budget_states_model_images_epochs_and_test_size():
    assert describe_budget(PROFILES["short"]) == (
        "short budget: ConvMixer-64/d, p = 4, 5,000 images × 4 epochs, tested on 1,000"
    )
    assert describe_budget(PROFILES["smoke"], 240, 60) == (
        "smoke budget: ConvMixer-32/d, p = 4, 240 images × 4 epochs, tested on 60"
    )
    everything = PROFILES["short"].replace(train_subset=None, test_subset=None)
    assert describe_budget(everything).endswith("all training images × 4 epochs, tested on the full test split")


def test_store_starts_empty_and_keeps_runs_in_order(tmp_path):
    store = RunStore(tmp_path / "sub" / "runs.json")
    assert store.load() == []
    first, second = a_run(3, 2), a_run(9, 8, seed=2)
    assert store.add(first) == [first]
    assert store.add(second) == [first, second]
    assert RunStore(store.path).load() == [first, second]  # a new kernel reads the same runs
    content = json.loads(store.path.read_text())
    assert content["format"] == "convmixer study runs" and content["version"] == 2
    assert content["runs"][1]["kernel_size"] == 9 and content["runs"][1]["seed"] == 2


def test_a_failed_write_leaves_the_previous_file(tmp_path, monkeypatch):
    store = RunStore(tmp_path / "runs.json")
    store.add(a_run(3, 2))
    before = store.path.read_text()

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        store.add(a_run(5, 2))
    assert store.path.read_text() == before
    assert [p.name for p in tmp_path.iterdir()] == ["runs.json"]  # no temporary file left


@pytest.mark.parametrize("content, problem", [
    ("not json", "is not a readable convmixer study runs file"),
    ('{"format": "something else", "version": 2, "runs": []}', "is not a convmixer study runs file"),
    ('{"format": "convmixer study runs", "version": 1, "runs": []}', "is version 1 of the convmixer study runs format"),
    ('{"format": "convmixer study runs", "version": 2, "runs": [{"k": 1}]}', "unknown field"),
    ("[1, 2]", "is not a convmixer study runs file"),
])
def test_an_unreadable_store_is_one_clear_error(tmp_path, content, problem):
    path = tmp_path / "runs.json"
    path.write_text(content)
    with pytest.raises(ValueError, match=f"{problem}.*; move or delete {path} to start a new one"):
        RunStore(path).load()


def test_default_store_path_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.delenv(STORE_ENV, raising=False)
    monkeypatch.setenv("CONVMIXER_CACHE", str(tmp_path / "cache"))
    assert default_store_path() == tmp_path / "cache" / "study_runs.json"
    monkeypatch.setenv(STORE_ENV, str(tmp_path / "mine.json"))
    assert default_store_path() == tmp_path / "mine.json"
    assert RunStore().path == tmp_path / "mine.json"


def test_same_budget_keeps_only_runs_of_that_exact_budget():
    short, smoke = a_run(budget="short"), a_run(budget="smoke")
    changed = a_run(budget="short", digest=budget_digest(PROFILES["short"].replace(epochs=9)))
    assert same_budget([short, smoke, changed], PROFILES["short"]) == [short]
    assert same_budget([short, smoke, changed], PROFILES["smoke"]) == [smoke]
    assert same_budget([short], PROFILES["short"], "test") == [short]
    assert same_budget([short], PROFILES["short"], "validation") == []


def test_train_study_run_trains_that_k_d_and_seed_under_the_budget():
    fake, train, test = FakeFit(accuracy=0.375, test_images=40), tiny_data(30), tiny_data(12)
    epochs = []
    run = train_study_run(PROFILES["short"], 7, 3, 2, train, test, train_fn=fake, on_epoch=epochs.append)
    (profile, kwargs), = fake.calls
    config = profile.model_config()
    assert (config.kernel_size, config.depth, config.dim, config.patch_size, profile.seed) == (7, 3, 64, 4, 2)
    assert profile.epochs == PROFILES["short"].epochs and profile.train_subset == PROFILES["short"].train_subset
    assert kwargs["train"] is train and kwargs["test"] is test and kwargs["progress"] is False
    assert [r.epoch for r in epochs] == [1, 2, 3, 4]
    assert (run.kernel_size, run.depth, run.seed, run.dim, run.patch_size) == (7, 3, 2, 64, 4)
    assert (run.budget, run.budget_digest) == ("short", budget_digest(PROFILES["short"]))
    assert (run.train_images, run.epochs, run.eval_images) == (30, 4, 40)  # the set is smaller than 5,000
    assert run.eval_accuracy == 0.375 and run.eval_split == "test" and run.data == "random test images"
    assert run.parameters == count_parameters(ConvMixer(ConvMixerConfig(dim=64, depth=3, kernel_size=7, patch_size=4)))
    assert run.label == "k7 d3 seed 2"


def test_train_study_run_with_the_real_engine(single_threaded):
    budget = PROFILES["smoke"].replace(
        model_overrides={"dim": 8, "patch_size": 8}, epochs=1, batch_size=16, train_subset=32, test_subset=20,
    )
    run = train_study_run(budget, 3, 1, 0, tiny_data(40), tiny_data(30), train_fn=fit)
    assert (run.train_images, run.eval_images, run.epochs) == (32, 20, 1)
    assert 0.0 <= run.eval_accuracy <= 1.0 and run.seconds >= 0 and run.eval_split == "test"
    assert run.parameters == count_parameters(ConvMixer(ConvMixerConfig(dim=8, depth=1, kernel_size=3, patch_size=8)))
