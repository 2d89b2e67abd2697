"""Train ConvMixer-64/8 (the cpu recipe) at patch sizes 2, 4 and 8 under two budgets, the same
epochs and the same training minutes, three seeds each, and store what every model reaches on the
held-out validation split.

    export OMP_WAIT_POLICY=PASSIVE   # on a shared machine: see checkpoints/README.md
    python scripts/patch_study.py --data ../shared/data/cifar10-jpeg.zip

writes ``results/patch_study.json`` after every run: the budget, machine, date, load average,
total wall seconds, the training throughput measured for every ``p`` and the epochs it sets for the
same-minutes budget, and every run; seed 0's models go to ``results/patch_study/``. A run in
progress checkpoints to ``results/patch_study.runs/`` and a study started again resumes it from
there (within a minute of where it stopped), so stopping the study costs little. The throughput
is measured once, when the file is started: a resumed study (runs already in the file with the same
budget are kept) trains the same epochs. The test split is not read while the study trains.

    python scripts/patch_study.py --data ../shared/data/cifar10-jpeg.zip --read-test

does the same and then, when every run of the default plan is stored, reads the test split once for
the setting the study recommends (the same-minutes ``p`` with the best mean validation accuracy;
its kept seed-0 model) and stores the reading under ``"test"``; a stored reading is printed, never
repeated. ``--epochs`` and ``--train-subset`` change the budget for quick tries; ``--minutes`` the
same-minutes budget.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path
from typing import Any

from study_cli import study_main, study_parser

from convmixer.data.sources import ImageDataset, load_cifar10
from convmixer.studies.kernel_depth import measure_throughput
from convmixer.studies.patch import (
    BUDGET,
    BUDGETS,
    EPOCHS_BUDGET,
    PATCH_SIZES,
    SEEDS,
    TRAINING_MINUTES,
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
from convmixer.studies.records import run_planned, stored_runs
from convmixer.train import TrainProfile
from convmixer.train.checkpoint import load_model

DEFAULT_OUT = Path(__file__).resolve().parents[1] / "results" / "patch_study.json"
VALIDATION_PER_CLASS = 500
KEPT_SEED = 0


def build_parser() -> argparse.ArgumentParser:
    parser = study_parser(__doc__.split("\n\n")[0], DEFAULT_OUT, SEEDS, VALIDATION_PER_CLASS)
    parser.add_argument("--patch-sizes", type=int, nargs="+", default=list(PATCH_SIZES))
    parser.add_argument("--budgets", nargs="+", default=list(BUDGETS), choices=list(BUDGETS))
    parser.add_argument("--minutes", type=float, default=TRAINING_MINUTES, help="training minutes per model, same-minutes budget")
    parser.add_argument("--read-test", action="store_true",
                        help="once the whole study is stored: read the test set once for the recommended setting")
    return parser


def study(args: argparse.Namespace, budget: TrainProfile, train: ImageDataset, validation: ImageDataset,
          notes: dict[str, Any]) -> list:
    """Train what the command line asks for that the file does not hold yet, seed by seed."""
    done = stored_runs(args.out, read_results, budget, notes)
    images = len(train.subset(budget.train_subset, budget.seed))
    throughput = notes.setdefault("images_per_second", {})
    for p in args.patch_sizes:  # measured once per file: a resumed study keeps its epochs
        if str(p) not in throughput:
            throughput[str(p)] = round(measure_throughput(with_patch(budget, p, seed=0)), 1)
    notes["training_minutes"] = notes.get("training_minutes", args.minutes)
    minutes_epochs = {p: epochs_for_minutes(notes["training_minutes"], throughput[str(p)], images) for p in args.patch_sizes}
    notes["minutes_budget_epochs"] = {str(p): e for p, e in minutes_epochs.items()}
    have = {(r.budget, r.patch_size, r.seed) for r in done}
    planned = [(kind, p, seed) for seed in args.seeds for kind in args.budgets for p in args.patch_sizes
               if (kind, p, seed) not in have]
    models = Path(args.out).with_suffix("")
    unfinished = Path(args.out).with_suffix(".runs")  # the runs' checkpoints while they train
    runs = run_planned(
        planned,
        lambda kind, p, seed: run_patch(
            budget, kind, p, seed, budget.epochs if kind == EPOCHS_BUDGET else minutes_epochs[p], train, validation,
            model_path=models / f"p{p}-{kind}-seed{seed}.pt" if seed == KEPT_SEED else None,
            run_dir=unfinished / f"p{p}-{kind}-seed{seed}"),
        lambda runs: write_results(args.out, budget, runs, notes),
        notes,
        lambda run: (f"same {run.budget}: p{run.patch_size} seed {run.seed}, {run.epochs} epochs: "
                     f"{100 * run.validation_accuracy:.2f}% in {run.train_seconds / 60:.1f} training min"),
        done,
    )
    shutil.rmtree(unfinished, ignore_errors=True)  # every planned run is stored: nothing left to resume
    summaries = summarise(runs)
    print(format_table(summaries))
    for comparison in comparisons(summaries):
        print(comparison.describe())
    if args.read_test:
        read_test(args, budget, runs, summaries, models, notes)
    return runs


def read_test(args: argparse.Namespace, budget: TrainProfile, runs: list, summaries: list, models: Path,
              notes: dict[str, Any]) -> None:
    """Read the test set once for the recommended setting (see the module docstring) and store it;
    one ``ValueError`` while the default plan is incomplete."""
    if "test" not in notes:
        stored = {(r.budget, r.patch_size, r.seed) for r in runs}
        missing = [plan for plan in ((kind, p, seed) for kind in BUDGETS for p in PATCH_SIZES for seed in SEEDS)
                   if plan not in stored]
        if missing:
            raise ValueError(f"the test set is read once the whole study is stored; {len(missing)} runs missing")
        chosen = chosen_setting(summaries)
        model = load_model(models / f"p{chosen.patch_size}-{chosen.budget}-seed{KEPT_SEED}.pt")
        notes["test"] = read_test_once(model, load_cifar10("test", args.data), chosen, KEPT_SEED, budget.tta)
        write_results(args.out, budget, runs, notes)
    test = notes["test"]
    print(f"test set (read once): same {test['budget']}, p = {test['patch_size']}, seed {test['seed']}: "
          f"{100 * test['accuracy']:.2f} % of {test['images']:,} images")


def main(argv: list[str] | None = None) -> int:
    return study_main(build_parser(), BUDGET, argv, study)


if __name__ == "__main__":
    sys.exit(main())
