"""The time-to-accuracy benchmark on a tiny dataset: both contenders hold the same validation split
out, draw their curves on it, read the test set once with the profile's test-time augmentation,
and the stored runs make the seed table and the figure."""

from __future__ import annotations

import pytest
from support import TINY, load_script

from convmixer.records import read_record_file
from convmixer.train.acceleration import Acceleration

pytest.importorskip("timm", reason="the bench extra (timm) is part of make env")


@pytest.fixture
def benchmark(tmp_path, monkeypatch, trainable_folder):
    script = load_script("time_to_accuracy", folder="benchmarks")
    profile = TINY.replace(name="tiny", epochs=2, batch_size=20, validation_per_class=3, tta="flip")
    monkeypatch.setattr(script, "get_profile", lambda name: profile)
    monkeypatch.setattr(script, "RESULTS", tmp_path)
    monkeypatch.setattr(script, "FIGURE", tmp_path / "figure.png")
    return script, str(trainable_folder.zip)


def test_both_contenders_curve_on_validation_and_score_the_test_set_once_alike(benchmark, single_threaded):
    script, data = benchmark
    ours = read_record_file(script.run("ours", "tiny", data, None, seed=1), script.RECORD_FORMAT, script.RECORD_VERSION)
    timm = read_record_file(script.run("timm", "tiny", data, None, seed=1), script.RECORD_FORMAT, script.RECORD_VERSION)
    for record in (ours, timm):
        assert [p["split"] for p in record["curve"]] == ["validation", "validation", "test"]
        assert record["final_test_accuracy"] == record["curve"][-1]["accuracy"]
        assert record["profile"]["seed"] == 1 and record["machine"]["matmul_peak_gflops"] > 0
        minutes = [p["minutes"] for p in record["curve"]]
        assert minutes == sorted(minutes)
    assert "one_view_accuracy" in timm["curve"][-1]  # scored with the profile's TTA, one view stored beside it
    table = script.seed_table("ours", "tiny")
    assert "| 1 | **" in table and "| mean of" not in table  # one run: no mean row
    product = "bfloat16" if Acceleration.for_device("cpu").product_dtype else "float32"
    assert ours["product_dtype"] == product and table.endswith(f"| {product} |") and "product_dtype" not in timm
    assert script.draw_figure(0.85).stat().st_size > 10_000
    with pytest.raises(ValueError, match="no stored runs of timm with profile other"):
        script.seed_table("timm", "other")


def test_an_archived_recipe_is_set_against_the_current_one_on_the_validation_split(benchmark, single_threaded):
    script, data = benchmark
    record = read_record_file(script.run("ours", "tiny", data, None, seed=1), script.RECORD_FORMAT, script.RECORD_VERSION)
    *epochs, final = record["curve"]

    def store(folder, stem: str, seed: int, validation: float, split: str = "validation") -> None:
        curve = [*epochs[:-1], {**epochs[-1], "accuracy": validation, "split": split}, final]
        payload = {**record, "curve": curve, "profile": {**record["profile"], "seed": seed}}
        script.write_record_file(folder / f"time_to_accuracy-ours-{stem}-seed{seed}.json",
                                 script.RECORD_FORMAT, script.RECORD_VERSION, payload)

    archive = script.RESULTS / "archive"
    archive.mkdir()
    store(script.RESULTS, "tiny", 1, 0.76)
    store(script.RESULTS, "tiny", 2, 0.78)
    store(archive, "tiny-candidate", 0, 0.80)
    store(archive, "tiny-candidate", 1, 0.82)
    comparison = script.recipe_comparison("ours", "tiny", "candidate")
    # means 81 and 77; both pairs 2 points apart, so s = sqrt(2) points with 2 degrees of freedom
    assert comparison.difference == pytest.approx(4.0)
    assert comparison.half_width == pytest.approx(4.303 * 2 ** 0.5, rel=1e-3)
    assert comparison.label == "tiny candidate vs tiny" and not comparison.separable
    assert "| mean of 2 |" in script.seed_table("ours", "tiny", "candidate")
    # a decision made on some seeds is re-made on exactly those: seed 1 of each recipe alone has no spread
    with pytest.raises(ValueError, match="two or more seeds"):
        script.recipe_comparison("ours", "tiny", "candidate", seeds=[1])
    with pytest.raises(ValueError, match="no stored runs of ours with profile tiny-candidate and seeds 2"):
        script.recipe_comparison("ours", "tiny", "candidate", seeds=[2])
    # two archived recipes against each other: the current one archived under another tag
    store(archive, "tiny-old", 1, 0.76)
    store(archive, "tiny-old", 2, 0.78)
    between = script.recipe_comparison("ours", "tiny", "candidate", against="old")
    assert between.label == "tiny candidate vs tiny old"
    assert (between.difference, between.half_width) == (comparison.difference, comparison.half_width)
    store(archive, "tiny-old", 0, 0.71)  # a third seed of the old recipe moves the comparison of all seeds
    assert script.recipe_comparison("ours", "tiny", "candidate", against="old").difference == pytest.approx(81 - 75)
    # seeds 1 and 2 only: the candidate's seed 1 (82) against the old recipe's 76 and 78
    assert script.recipe_comparison("ours", "tiny", "candidate", against="old", seeds=[1, 2]).difference == pytest.approx(82 - 77)
    store(archive, "tiny-candidate", 1, 0.82, split="test")
    with pytest.raises(ValueError, match="drew its curve on the test split, so its runs cannot choose a recipe"):
        script.recipe_comparison("ours", "tiny", "candidate")
    with pytest.raises(ValueError, match="no stored runs of ours with profile tiny-other"):
        script.recipe_comparison("ours", "tiny", "other")


def test_a_candidate_recipe_runs_straight_into_the_archive_with_its_changed_fields(benchmark, single_threaded):
    script, data = benchmark
    path = script.run("ours", "tiny", data, None, seed=1, settings=["lr=0.02", "epochs=1", "tta=none"], tag="lr-0.02")
    assert path == script.RESULTS / "archive" / "time_to_accuracy-ours-tiny-lr-0.02-seed1.json"
    [record] = script.stored_runs("ours", "tiny", "lr-0.02")
    assert (record["profile"]["lr"], record["profile"]["tta"], record["profile"]["seed"]) == (0.02, "none", 1)
    assert [p["split"] for p in record["curve"]] == ["validation", "test"]  # one epoch, then the test set
    assert not list(script.RESULTS.glob("*.json"))  # the profile's own runs are untouched


def test_the_command_line_says_in_one_sentence_what_is_wrong_with_its_arguments_or_stored_runs(benchmark, capsys):
    script, _data = benchmark
    for argv, message in ((["ours", "--profile", "tiny", "--archived", "other"], "no stored runs of ours with profile tiny-other"),
                          (["ours", "--profile", "tiny", "--table"], "no stored runs of ours with profile tiny"),
                          (["ours", "--set", "lr=0.02"], "a run with --set is a candidate, not the profile's own run: name it with --tag"),
                          (["ours", "--set", "lr", "--tag", "x"], "expected KEY=VALUE with KEY one of the profile's fields "
                                                                   f"({', '.join(script.get_profile('tiny').to_dict())})"),
                          (["ours", "--set", "epochs=0", "--tag", "x"], "epochs must be an integer >= 1, got 0")):
        with pytest.raises(SystemExit) as stop:
            script.main(argv)
        assert stop.value.code == 2
        assert capsys.readouterr().err.strip().endswith(message)
