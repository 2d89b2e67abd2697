"""The numbers the documentation quotes are those of the results files: tables are rendered from the
files by the code that reads them, and single numbers are formatted from the files here, so that a
changed result cannot leave stale prose behind."""

from __future__ import annotations

import json

import documented
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


# --- every number of the owned documents: registered, derived or allowlisted (tests/documented.py) --


@pytest.mark.parametrize("name", documented.DOCUMENTS)
def test_every_registered_quote_is_in_its_document(name):
    """Each quote is formatted from its results file; a changed result changes the quote, and the
    document must follow."""
    assert documented.missing_quotes(name) == []


@pytest.mark.parametrize("name", documented.DOCUMENTS)
def test_every_number_in_the_prose_has_a_source(name):
    """No number-bearing token outside a registered quote, a derived constant or the allowlist."""
    assert documented.stray_numbers(name, documented.quotes()[name]) == []


def test_a_stale_or_unsourced_number_is_caught():
    """The two checks bite: a quoted mean that no longer matches its file is missing, and a
    number that nothing backs is a stray."""
    text = documented.document_text("README.md")
    mean = documented.seed_quotes()[0][0]
    stale = text.replace(mean, "83.00 ± 0.84 %")
    assert any(mean in q for q in documented.missing_quotes("README.md", stale))
    planted = text + "\n\nThe model reached 91.37 % in 12.5 minutes.\n"
    strays = documented.stray_numbers("README.md", documented.quotes()["README.md"], planted)
    assert any("'91.37'" in s for s in strays) and any("'12.5'" in s for s in strays)


def test_the_allowlist_stays_short_and_explained():
    assert len(documented.ALLOWLIST) <= 10
    assert all(reason for _, _, reason in documented.ALLOWLIST)
    assert all(doc == "*" or doc in documented.DOCUMENTS for doc, _, _ in documented.ALLOWLIST)


def test_the_kernel_size_study_on_the_cpu_recipe_is_announced_without_numbers():
    """README: the ≥ 80 % kernel-size study is being run; nothing is quoted from it until it is
    stored (then its numbers must be registered like the others)."""
    assert "`results/kernel_size_study.json`" in README
    if not (REPO / "results" / "kernel_size_study.json").exists():
        assert "is being\nrun" in README or "is being run" in README


def test_the_verdicts_the_prose_states_are_the_files():
    """The README's words for the studies ("cannot be told apart", "scored ... below", "beat")
    are `convmixer.studies.stats.compare`'s verdicts on the stored runs."""
    *_, kernels, depths = documented.kernel_depth_study()
    separable = {c.label: c.separable for c in kernels + depths}
    assert not separable["k = 9 vs k = 3 at d = 2"] and not separable["k = 9 vs k = 3 at d = 4"]
    assert separable["k = 9 vs k = 3 at d = 8"]
    assert all(c.separable for c in depths)
    _, _, erf_comparisons = documented.erf_study()
    assert not any(c.separable for c in erf_comparisons if c.label.startswith("validation accuracy"))
    _, _, skip_comparisons, _ = documented.skip_study()
    assert all(c.separable for c in skip_comparisons)
