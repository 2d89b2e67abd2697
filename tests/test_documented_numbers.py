"""The numbers the documentation quotes are those of the results files: tables are rendered from the
files by the code that reads them, and single numbers are formatted from the files here, so that a
changed result cannot leave stale prose behind."""

from __future__ import annotations

import json

import pytest
from support import REPO, load_script

from convmixer.studies.recipe import format_table, read_results, summarise
from convmixer.studies.stats import mean_half_width

README = (REPO / "README.md").read_text()
BENCHMARKS = (REPO / "benchmarks" / "README.md").read_text()
CHECKPOINTS = (REPO / "checkpoints" / "README.md").read_text()


def shipped() -> dict:
    return json.loads((REPO / "checkpoints" / "convmixer_cpu.json").read_text())


def seed_accuracies() -> list[float]:
    return [100 * json.loads(p.read_text())["final_test_accuracy"]
            for p in sorted((REPO / "benchmarks" / "results").glob("time_to_accuracy-ours-cpu-seed*.json"))]


def test_the_ablation_table_is_the_one_its_results_file_gives():
    runs, _ = read_results(REPO / "results" / "recipe_ablation.json")
    assert format_table(summarise(runs)) in BENCHMARKS


def test_the_seed_table_is_the_one_the_stored_runs_give():
    script = load_script("time_to_accuracy", folder="benchmarks")
    assert script.seed_table("ours", "cpu") in BENCHMARKS


@pytest.mark.parametrize("text", [README, BENCHMARKS], ids=["README", "benchmarks/README"])
def test_the_mean_over_seeds_is_quoted_as_the_files_give_it(text):
    accuracies = seed_accuracies()
    assert len(accuracies) >= 3
    quoted = f"{sum(accuracies) / len(accuracies):.2f} ± {mean_half_width(accuracies):.2f} %"
    assert quoted in text


@pytest.mark.parametrize("text", [README, CHECKPOINTS], ids=["README", "checkpoints/README"])
def test_the_shipped_models_accuracy_and_minutes_are_its_records(text):
    record = shipped()
    assert f"{100 * record['test_accuracy']:.2f} %" in text
    assert f"{record['fit_wall_seconds'] / 60:.1f} min" in text
