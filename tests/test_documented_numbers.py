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


@pytest.mark.parametrize("name", ["recipe_ablation.json", "recipe_full.json"])
def test_the_ablation_tables_are_the_ones_their_results_files_give(name):
    runs, _ = read_results(REPO / "results" / name)
    assert format_table(summarise(runs)) in BENCHMARKS


def test_the_grid_major_table_is_the_one_its_results_file_gives():
    script = load_script("grid_major", folder="benchmarks")
    steps = json.loads((REPO / "benchmarks" / "results" / "grid_major-cpu.json").read_text())["steps"]
    assert script.format_table(steps) in BENCHMARKS


@pytest.mark.parametrize("name", ["step_breakdown-cpu.json", "archive/step_breakdown-cpu-2026-12-07-zen4-mm.json",
                                  "archive/step_breakdown-cpu-2026-12-07.json",
                                  "archive/step_breakdown-cpu-2026-12-07-zen4-conv.json"])
def test_the_step_breakdown_tables_are_the_ones_their_results_files_give(name):
    script = load_script("step_breakdown", folder="benchmarks")
    record = json.loads((REPO / "benchmarks" / "results" / name).read_text())
    assert script.format_table(record) in BENCHMARKS


@pytest.mark.parametrize("archived", [None, "full-size"])
def test_the_seed_tables_are_the_ones_the_stored_runs_give(archived):
    script = load_script("time_to_accuracy", folder="benchmarks")
    assert script.seed_table("ours", "cpu", archived) in BENCHMARKS


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


def test_the_kernel_size_study_on_good_models_is_stated_as_its_file_says():
    """README and notebook 08: every model above 80 %, the accuracy verdict in words (registered
    with its interval), and "widened both" only where training widened each model's field by more
    than its noise."""
    _, _, by_k, found = documented.kernel_size_study()
    assert all(s.accuracy.mean >= 0.80 for s in by_k.values()) and len(by_k) == 2
    widened = [found[f"half-gradient side, k{k} d8: trained vs initial weights"] for k in (3, 9)]
    if "widened both" in README:
        assert all(c.separable and c.difference > 0 for c in widened)
    assert "is being run" not in " ".join(README.split())


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


# --- notebooks 03, 04, 07: the claims their prose makes in words ---------------------------------


def test_the_word_claims_of_notebook_03_and_04_are_their_numbers():
    """03: a stride-7 convolution drops "almost a quarter of the pixels" of a 32 x 32 image. 04:
    the skip study sees "under a quarter of the images" of 07's; ConvMixer-1024/20 has "more
    parameters than ConvMixer-768/32 ... but a quarter of the positions, and less than a third of
    its FLOPs"; the whole-block and two-skip variants' validation accuracy "lead from the first
    epoch"; exercise 7 is "three times the budget"."""
    import convmixer
    from convmixer.analysis.cost import convmixer_flops, convmixer_parameters
    from convmixer.train import get_profile

    assert 0.2 < 1 - (32 // 7 * 7 / 32) ** 2 < 0.25
    skip = json.loads((REPO / "results" / "skip_study.json").read_text())
    sweep = json.loads((REPO / "results" / "kernel_depth_sweep.json").read_text())
    seen = skip["budget"]["train_subset"] * skip["budget"]["epochs"]
    assert seen / (sweep["split"]["train"] * sweep["budget"]["epochs"]) < 0.25
    c1024, c768 = convmixer.CONFIGS["convmixer_1024_20"], convmixer.CONFIGS["convmixer_768_32"]
    assert convmixer_parameters(c1024) > convmixer_parameters(c768)
    assert (c768.patch_size / c1024.patch_size) ** 2 == 0.25
    assert convmixer_flops(c1024) < convmixer_flops(c768) / 3
    curves = {v: [sum(r["history"][e]["eval_accuracy"] for r in skip["runs"] if r["variant"] == v)
                  for e in range(skip["budget"]["epochs"])] for v in skip["variants"]}
    assert all(a > b for v in ("block", "both") for a, b in zip(curves[v], curves["depthwise"]))
    epochs, _ = documented.exercise_skip_minutes()
    assert epochs == 3 * get_profile("skip-study").epochs


def test_the_word_claims_of_notebook_07_are_its_numbers():
    """07: a 9 x 9 kernel is "nearly free" at h = 1536 and "more than half of the block" at
    h = 64; every model "was still improving" and the deep ones "trail" after the first epoch;
    the chosen cell is "the cheapest" of those it cannot be separated from and its test mean is
    below its validation mean; five comparisons at 95 % miss "about one time in four"; k = 3 with
    8 blocks "sees the whole image"; the rates are "a small fraction" of a large matrix multiply;
    our FLOPs are "about twice" mmpretrain's MACs, "a little more", as theirs are close to ours
    without the depth-wise convolutions; ConvMixer-768/32 trains "twice the epochs"; the ERF runs
    use "the panel's short budget"."""
    import convmixer
    from convmixer.analysis.cost import convmixer_flops
    from convmixer.analysis.fields import receptive_field
    from convmixer.notebook.published import IMAGENET, IMAGENET_EPOCHS
    from convmixer.studies import erf
    from convmixer.studies.kernel_depth import chosen_cell
    from convmixer.studies.stats import compare
    from convmixer.train import SHORT

    share = lambda h, k: h * k * k / (h * k * k + h * h)
    assert share(1536, 9) < 0.1 and share(64, 9) > 0.5
    runs, notes, summary, _, _ = documented.kernel_depth_study()
    first = {}
    for r in runs:
        first.setdefault((r.kernel_size, r.depth), []).append(r.history[0].eval_accuracy)
    mean_first = {key: sum(v) / len(v) for key, v in first.items()}
    deepest = max(d for _, d in mean_first)
    assert max(a for (_, d), a in mean_first.items() if d == deepest) < min(a for (_, d), a in mean_first.items() if d != deepest)
    assert all(r.history[-1].eval_accuracy > r.history[-2].eval_accuracy for r in runs)
    noise = documented.seed_noise(summary)
    best = next(c for c in summary if (c.kernel_size, c.depth) == chosen_cell(runs))
    close = [c for c in summary if c is not best and not compare([best], [c], noise, "").separable]
    cost = {(r.kernel_size, r.depth): (r.parameters, r.flops) for r in runs}
    assert close and all(a < b for c in close
                         for a, b in zip(cost[best.kernel_size, best.depth], cost[c.kernel_size, c.depth]))
    assert notes["test"]["mean"] < best.mean
    assert abs((1 - 0.95 ** 5) - 0.25) < 0.05
    assert receptive_field(3, documented.budget_model(notes['budget']).patch_size, 8) >= 32
    peaks = [documented.roofline_zen3()["peak_gflops"],
             documented.load(documented.BENCH / "archive" / "roofline-cpu-2026-12-02.json")["peak_gflops"]]
    assert max(3 * r.flops * r.train_images_per_second / 1e9 for r in runs) < 0.15 * min(peaks)
    for model in IMAGENET:
        config = convmixer.CONFIGS[model.config]
        flops = convmixer_flops(config, 224)
        positions = (224 // config.patch_size) ** 2
        depthwise = config.depth * 2 * config.dim * config.kernel_size ** 2 * positions
        assert 2 < flops / model.macs < 2.2
        assert (flops - depthwise) / 2 == pytest.approx(model.macs, rel=0.01)
    assert IMAGENET_EPOCHS["convmixer_768_32"] == 2 * IMAGENET_EPOCHS["convmixer_1536_20"]
    budget = erf.PLANS["erf-study"].budget
    assert budget.replace(name=SHORT.name, test_subset=SHORT.test_subset) == SHORT


def test_the_verdicts_notebooks_04_and_07_state_are_the_files():
    """04: whole block and two skips beat the paper's block, no skip falls below it. 07: k = 9's
    trained half-gradient square is wider at both depths; the same-field pair differs trained and
    untrained; training moved sensitivity off the own patch in every cell and widened the
    small-kernel fields, while the k = 9 fields stayed within their noise; accuracy cannot tell
    the kernel sizes apart."""
    from convmixer.studies import erf

    _, _, skip_comparisons, _ = documented.skip_study()
    by = {c.label.split(" vs ")[0]: c for c in skip_comparisons}
    assert by["around the whole block"].difference > 0 and by["two skips"].difference > 0
    assert by["no skip"].difference < 0 and all(c.separable for c in skip_comparisons)
    _, erf_summary, erf_comparisons = documented.erf_study()
    verdict = {c.label: c for c in erf_comparisons + erf.training_comparisons(erf_summary)}
    for label in ("half-gradient side, trained: k9 d2 vs k3 d2", "half-gradient side, trained: k9 d8 vs k3 d8",
                  "half-gradient side, trained: k9 d2 vs k3 d8", "half-gradient side, untrained: k9 d2 vs k3 d8"):
        assert verdict[label].separable and verdict[label].difference > 0, label
    for cell in ("k3 d2", "k9 d2", "k3 d8", "k9 d8"):
        own = verdict[f"own-patch share, {cell}: trained vs initial weights"]
        assert own.separable and own.difference < 0, cell
        side = verdict[f"half-gradient side, {cell}: trained vs initial weights"]
        assert side.separable == cell.startswith("k3") and (not side.separable or side.difference > 0), cell
    assert not any(c.separable for label, c in verdict.items() if label.startswith("validation accuracy"))


def test_the_word_claims_of_notebook_08_are_its_kept_models():
    """08, section 4 (seed 0 of each k): in every block the k = 9 kernels' weight sits farther from
    the centre than a 3 x 3 kernel can reach (spread above 1.5 positions, k = 3 below 1), deeper
    blocks reach farther (the last block's spread above the first's), and the 9 x 9 kernels are
    smoother than the 3 x 3 ones in every block (neighbouring taps alike: smoothness above 0)."""
    from convmixer.analysis.inspection import depthwise_kernels, kernel_smoothness, kernel_spread
    from convmixer.train.checkpoint import load_model

    kernels = {k: depthwise_kernels(load_model(REPO / "results" / "kernel_size_study" / f"k{k}-d8-seed0.pt"))
               for k in (3, 9)}
    spread = {k: [kernel_spread(block).mean().item() for block in blocks] for k, blocks in kernels.items()}
    smooth = {k: [kernel_smoothness(block).mean().item() for block in blocks] for k, blocks in kernels.items()}
    assert min(spread[9]) > 1.5 > 1 > max(spread[3])
    assert spread[9][-1] > spread[9][0]
    assert all(s9 > 0 and s9 > s3 for s9, s3 in zip(smooth[9], smooth[3]))


def test_the_verdicts_of_notebook_08_are_its_files():
    """08: k = 3 scored higher than k = 9 by more than the noise; at the starting weights k = 9's
    half-gradient square is more than twice as wide; training doubled k = 3's, widened k = 9's less
    (but by more than its noise), left them closer than they started and k = 9's wider; it moved
    sensitivity off the own patch in both. Section 2: run grid-major, a k = 9 step costs about what
    a k = 3 step does (within 15 %)."""
    _, _, by_k, found = documented.kernel_size_study()
    accuracy = found["validation accuracy: k9 d8 vs k3 d8"]
    assert accuracy.separable and accuracy.difference < 0
    sides = {k: (s.untrained.side.mean, s.trained.side.mean) for k, s in by_k.items()}
    assert sides[9][0] > 2 * sides[3][0]
    assert 1.8 <= sides[3][1] / sides[3][0] <= 2.2
    grew = {k: found[f"half-gradient side, k{k} d8: trained vs initial weights"] for k in (3, 9)}
    assert all(c.separable and c.difference > 0 for c in grew.values()) and grew[9].difference < grew[3].difference
    assert 0 < sides[9][1] - sides[3][1] < sides[9][0] - sides[3][0]
    for k in (3, 9):
        own = found[f"own-patch share, k{k} d8: trained vs initial weights"]
        assert own.separable and own.difference < 0
    steps = {(s["kernel_size"], s["patch_size"], s["image_size"]): s
             for s in json.loads((REPO / "benchmarks" / "results" / "grid_major-cpu.json").read_text())["steps"]}
    assert 0.85 < steps[9, 4, 32]["grid_major_ms"] / steps[3, 4, 32]["onednn_ms"] < 1.15


def test_the_verdicts_of_notebook_09_are_its_files():
    """09, sections 2-3: under the same epochs p = 2 beat p = 4 and p = 4 beat p = 8, each by more
    than the noise, and every halving of p cost more than three times the training minutes; under
    the same minutes p = 2 came last by more than the noise, on more minutes than the budget's, and
    p = 4's mean was above p = 8's by less than the noise; p = 4 is the setting chosen on validation
    and the one the test set was read for (README's patch-size paragraph says the same)."""
    from convmixer.studies import patch

    runs, notes = patch.read_results(REPO / "results" / "patch_study.json")
    summaries = patch.summarise(runs)
    found = {c.label: c for c in patch.comparisons(summaries)}
    for small, large in ((2, 4), (4, 8)):
        finer = found[f"same epochs: p = {small} vs p = {large}"]
        assert finer.separable and finer.difference > 0
    for other in (4, 8):
        last = found[f"same minutes: p = 2 vs p = {other}"]
        assert last.separable and last.difference < 0
    coarse = found["same minutes: p = 4 vs p = 8"]
    assert not coarse.separable and coarse.difference > 0
    chosen = patch.chosen_setting(summaries)
    assert (chosen.budget, chosen.patch_size) == ("minutes", 4)
    assert (notes["test"]["budget"], notes["test"]["patch_size"]) == ("minutes", 4)
    by = {(s.budget, s.patch_size): s for s in summaries}
    assert by["epochs", 2].train_minutes > 3 * by["epochs", 4].train_minutes > 9 * by["epochs", 8].train_minutes
    assert by["minutes", 2].train_minutes > notes["training_minutes"]


def test_the_stem_words_of_notebook_09_are_its_kept_models():
    """09, section 6 (seed 0's same-epochs models): at p = 2 and 4 the whitened stem filters moved
    by less than a sixth of their length (median: "almost where they started"), at p = 8 by more
    than half of it, more than five times as far as at p = 4 ("far more"). Needs the training split
    the runs started from."""
    from support import real_cifar_zip

    from convmixer.analysis.inspection import filter_movement
    from convmixer.data.sources import load_cifar10
    from convmixer.data.splits import hold_out
    from convmixer.studies import patch
    from convmixer.train.checkpoint import load_model
    from convmixer.train.starting_point import initial_model

    if real_cifar_zip() is None:
        pytest.skip("CONVMIXER_DATA does not name the CIFAR-10 JPEG zip (make test sets it)")
    _, notes = patch.read_results(REPO / "results" / "patch_study.json")
    train, _ = hold_out(load_cifar10("train", real_cifar_zip()), notes["split"]["validation_per_class"],
                        notes["split"]["hold_out_seed"])
    moved = {}
    for p in patch.PATCH_SIZES:
        model = load_model(REPO / "results" / "patch_study" / f"p{p}-epochs-seed0.pt")
        whitened = min(model.config.dim, 2 * model.config.in_channels * p * p)
        start = initial_model(patch.with_patch(patch.BUDGET, p, seed=0), train).stem.conv.weight[:whitened]
        moved[p] = filter_movement(start, model.stem.conv.weight[:whitened]).median().item()
    assert max(moved[2], moved[4]) < 1 / 6 and moved[8] > 0.5 and moved[8] > 5 * moved[4]
