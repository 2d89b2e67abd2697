"""The skip-connection study: one run per variant and seed, the summary with 95 % intervals, the
result file, and the script end to end on a tiny generated dataset."""

from __future__ import annotations

import json
import math

import pytest
from study_fakes import FakeFit, epoch_record
from support import TINY, load_script, synthetic

from convmixer import ConvMixer
from convmixer.analysis.cost import count_parameters
from convmixer.layers import RESIDUALS
from convmixer.studies import records as study_records
from convmixer.studies.skip import (
    SkipRun,
    comparisons,
    read_results,
    run_variant,
    summarise,
    variant_profile,
    verdicts,
    write_results,
)
from convmixer.studies.stats import Group, compare, seed_noise
from convmixer.train import EpochRecord


def skip_run(variant: str, seed: int, accuracy: float, curve: tuple[float, ...] = (0.3, 0.4)) -> SkipRun:
    history = tuple(epoch_record(e, 2.0 - 0.2 * e + seed * 0.01, 1.9, a, 1.0) for e, a in enumerate(curve, start=1))
    return SkipRun(variant, seed, 1234, accuracy, 5000, history, 10.0)


def test_variant_profile_changes_only_the_skip_the_seed_and_the_name():
    profile = variant_profile(TINY, "both", seed=2)
    assert profile.model_config().residual == "both" and profile.seed == 2 and profile.name == "tiny-both"
    assert profile.replace(name=TINY.name, seed=TINY.seed, model_overrides=TINY.model_overrides) == TINY
    with pytest.raises(ValueError, match="^residual must be one of 'depthwise', 'block', 'both', 'none'"):
        variant_profile(TINY, "pointwise", seed=0)


def test_run_variant_trains_the_variant_and_checks_it_on_all_validation_images():
    fake, validation = FakeFit(accuracy=0.4, test_images=40), synthetic(4, 2, split="validation")
    run = run_variant(TINY.replace(epochs=3), "none", 1, synthetic(10, 1), validation, fit=fake)
    (profile, kwargs), = fake.calls
    assert profile.model_config().residual == "none" and profile.seed == 1 and profile.epochs == 3
    assert kwargs["test"] is validation and kwargs["progress"] is False
    assert (run.variant, run.seed, run.validation_accuracy, run.validation_images) == ("none", 1, 0.4, 40)
    assert [p.epoch for p in run.history] == [1, 2, 3]
    assert run.history[0] == EpochRecord(1, 1.9, 2.0, 0.4, "validation", 40, 0.01, 1.0, 100.0)  # fit's, as it was
    assert run.parameters == count_parameters(ConvMixer(profile.model_config()))


def test_run_variant_refuses_a_budget_that_checks_only_part_of_the_validation_split():
    with pytest.raises(ValueError, match="evaluates on 10 images; set test_subset=None to use all 40"):
        run_variant(TINY.replace(test_subset=10), "block", 0, synthetic(10, 1), synthetic(4, 2), fit=FakeFit())


def test_run_variant_really_trains(single_threaded):
    train, validation = synthetic(10, 1), synthetic(3, 2)
    paper = run_variant(TINY.replace(epochs=2), "depthwise", 0, train, validation)
    both = run_variant(TINY.replace(epochs=2), "both", 0, train, validation)
    assert paper.parameters == both.parameters  # the skips add no parameters
    assert paper.validation_images == 30 and len(paper.history) == 2
    assert paper.history[-1].eval_accuracy == paper.validation_accuracy
    assert {(p.eval_split, p.eval_images) for p in paper.history} == {(validation.split, 30)}
    assert paper.history != both.history  # same seed and data, another function


def test_summary_means_and_95_percent_intervals():
    runs = [skip_run("none", 2, 0.40, (0.2, 0.40)), skip_run("none", 0, 0.43, (0.3, 0.43)),
            skip_run("none", 1, 0.46, (0.4, 0.46)), skip_run("depthwise", 0, 0.5)]
    none, paper = summarise(runs)[::-1]
    assert [s.variant for s in summarise(runs)] == ["depthwise", "none"]  # the order of RESIDUALS
    assert none.accuracies == pytest.approx((43.0, 46.0, 40.0))  # by seed
    assert none.mean == pytest.approx(43.0)
    assert none.half_width == pytest.approx(4.303 * 3.0 / math.sqrt(3), abs=1e-3)  # s = 3 points
    assert none.accuracy_curve == pytest.approx((30.0, 43.0))
    assert none.train_loss_curve == pytest.approx((1.81, 1.61))
    assert paper.half_width == pytest.approx(4.303 * 3.0, abs=1e-3)  # one seed, the spread pooled from 'none'
    assert none.describe() == "no skip: 43.00 ± 7.45 points (3 seeds: 43.0, 46.0, 40.0)"


def test_summary_rejects_nothing_and_curves_of_different_lengths():
    with pytest.raises(ValueError, match="no runs"):
        summarise([])
    with pytest.raises(ValueError, match="'block' have different numbers of epochs"):
        summarise([skip_run("block", 0, 0.5, (0.4, 0.5)), skip_run("block", 1, 0.5, (0.5,))])


def test_variants_are_compared_by_the_one_rule():
    paper = [skip_run("depthwise", s, a) for s, a in enumerate((0.50, 0.51, 0.52))]
    far = [skip_run("none", s, a) for s, a in enumerate((0.40, 0.41, 0.42))]
    near = [skip_run("both", s, a) for s, a in enumerate((0.49, 0.505, 0.53))]
    summaries = summarise(paper + far + near)
    near_vs_paper, far_vs_paper = comparisons(summaries)
    # the interval of the difference with the seed spread pooled over the three variants (6 dof)
    groups = [Group(v, tuple(100 * r.validation_accuracy for r in runs)) for v, runs in
              (("depthwise", paper), ("both", near), ("none", far))]
    expected = compare([groups[1]], [groups[0]], seed_noise(groups), "x")
    assert (near_vs_paper.difference, near_vs_paper.half_width) == pytest.approx((expected.difference, expected.half_width))
    assert near_vs_paper.difference == pytest.approx(-0.1667, abs=1e-3)
    assert near_vs_paper.half_width == pytest.approx(2.447 * math.sqrt(2.0278) * math.sqrt(2 / 3), abs=2e-3)
    assert not near_vs_paper.separable and far_vs_paper.separable
    assert verdicts(summaries) == [
        f"two skips vs around depth-wise (paper): -0.2 ± {near_vs_paper.half_width:.1f} points: within the noise",
        f"no skip vs around depth-wise (paper): -10.0 ± {far_vs_paper.half_width:.1f} points: larger than the noise",
    ]
    assert comparisons(summarise([paper[0], far[0]])) == []  # no variant repeated: nothing to judge by
    with pytest.raises(ValueError, match="no runs of the reference variant 'depthwise'"):
        verdicts(summarise(far))


def test_results_round_trip_and_bad_files_say_what_is_wrong(tmp_path):
    runs = [skip_run(v, s, 0.4 + 0.01 * s) for v in RESIDUALS for s in (0, 1)]
    path = write_results(tmp_path / "skip.json", TINY, runs, {"date": "today", "total_wall_seconds": 3.0})
    back, meta = read_results(path)
    assert back == runs
    assert meta == {"date": "today", "total_wall_seconds": 3.0, "budget": TINY.to_dict()}
    assert [p.name for p in tmp_path.iterdir()] == ["skip.json"]  # no temporary file left
    with pytest.raises(ValueError, match="does not exist; run scripts/skip_study.py"):
        read_results(tmp_path / "missing.json")
    assert json.loads(path.read_text())["format"] == "convmixer skip study"
    (tmp_path / "broken.json").write_text(json.dumps({"budget": {}}))
    with pytest.raises(ValueError, match="broken.json is not a convmixer skip study file"):
        read_results(tmp_path / "broken.json")
    (tmp_path / "bad_run.json").write_text(json.dumps({"format": "convmixer skip study", "version": 1, "runs": [{}]}))
    with pytest.raises(ValueError, match="bad_run.json is not a complete convmixer skip study file .*missing field"):
        read_results(tmp_path / "bad_run.json")





def test_script_trains_every_variant_and_seed_on_a_held_out_split_never_the_test_split(
    trainable_folder, tmp_path, monkeypatch, single_threaded
):
    script = load_script("skip_study")
    asked = []
    real_load = study_records.load_cifar10
    monkeypatch.setattr(study_records, "load_cifar10", lambda split, data: asked.append(split) or real_load(split, data))
    out = tmp_path / "skip.json"
    code = script.main(["--data", str(trainable_folder.zip), "--out", str(out), "--variants", "depthwise", "none",
                        "--seeds", "0", "1", "--per-class", "4", "--epochs", "1", "--train-subset", "100"])
    assert code == 0 and asked == ["train"]
    runs, meta = read_results(out)
    assert [(r.variant, r.seed) for r in runs] == [("depthwise", 0), ("depthwise", 1), ("none", 0), ("none", 1)]
    assert all(r.validation_images == 40 and len(r.history) == 1 for r in runs)
    assert meta["split"] == {"train": 200, "validation": 40, "validation_per_class": 4, "hold_out_seed": 0}
    assert meta["budget"]["epochs"] == 1 and meta["budget"]["train_subset"] == 100
    assert len(meta["load_average"]["before"]) == len(meta["load_average"]["after"]) == 3
    assert meta["machine"]["cpu_count"] and meta["date"] and meta["total_wall_seconds"] > 0
    assert runs[0].history != runs[1].history and runs[0].history != runs[2].history  # seeds and variants differ


def test_script_reports_a_missing_dataset_in_one_line(tmp_path, capsys):
    assert load_script("skip_study").main(["--data", str(tmp_path / "nothing.zip"), "--out", str(tmp_path / "x.json")]) == 2
    assert capsys.readouterr().err.startswith("error: ") and not (tmp_path / "x.json").exists()
