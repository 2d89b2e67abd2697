"""The time-to-accuracy benchmark on a tiny dataset: both contenders hold the same validation split
out, draw their curves on it, read the test set once with the profile's test-time augmentation,
and the stored runs make the seed table and the figure."""

from __future__ import annotations

import pytest
from support import TINY, load_script

from convmixer.records import read_record_file

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
    assert "| 1 | **" in table and "| mean of 1 |" in table
    assert script.draw_figure(0.85).stat().st_size > 10_000
    with pytest.raises(ValueError, match="no stored runs of timm with profile other"):
        script.seed_table("timm", "other")
