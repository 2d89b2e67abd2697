"""Train the kernel-size x depth grid of notebook 07 under one fixed budget, three seeds per cell,
choose the best cell on a validation split and test it once.

    export OMP_WAIT_POLICY=PASSIVE   # on a shared machine: see checkpoints/README.md
    python scripts/kernel_depth_sweep.py --data ../shared/data/cifar10-jpeg.zip            # everything
    python scripts/kernel_depth_sweep.py --data ../shared/data/cifar10-jpeg.zip --resume   # the missing runs
    python scripts/kernel_depth_sweep.py --retime                                          # throughput only

writes ``results/kernel_depth_sweep.json``: the budget, split, machine, date, load average before
and after, total wall seconds, every run (k, d, seed, validation accuracy after every epoch,
parameters, FLOPs, receptive field, throughput) and, once the grid is complete, the test accuracy of
the chosen cell. 500 images of every class are held out of CIFAR-10's training split for validation
(``convmixer.data.splits.hold_out``, seed 0); the models train on the other 45,000. The cell with the
best mean validation accuracy is the study's choice; only its models are evaluated on the test
split, once. Every run's checkpoint is kept under ``--models`` (default: a folder for this budget in
the package's cache folder), so an interrupted sweep continues with ``--resume`` and the final test
can read the chosen models. The budget is the ``study`` profile (``convmixer.train.profiles.STUDY``);
``--epochs`` and ``--train-subset`` change it for quick tries, not for the stored results.
Throughput is timed apart from training and is only meaningful on a quiet machine: ``--retime``
measures it again for the stored runs (no training) and records the load average while it did.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from study_cli import budget_from_args, study_main, study_parser

from convmixer.data.sources import ImageDataset, default_cache_dir, load_cifar10
from convmixer.machine import utc_timestamp
from convmixer.studies.kernel_depth import (
    DEPTHS,
    KERNEL_SIZES,
    SEEDS,
    VALIDATION_PER_CLASS,
    final_test,
    plan,
    read_results,
    retime,
    run_one,
    write_results,
)
from convmixer.studies.panel_runs import budget_digest
from convmixer.studies.records import load_average, run_planned
from convmixer.train import STUDY, TrainProfile, with_kernel_depth

DEFAULT_OUT = Path(__file__).resolve().parents[1] / "results" / "kernel_depth_sweep.json"


def build_parser() -> argparse.ArgumentParser:
    parser = study_parser(__doc__.split("\n\n")[0], DEFAULT_OUT, SEEDS, VALIDATION_PER_CLASS)
    parser.add_argument("--kernels", type=int, nargs="+", default=list(KERNEL_SIZES))
    parser.add_argument("--depths", type=int, nargs="+", default=list(DEPTHS))
    parser.add_argument("--models", help="folder for every run's checkpoint (default: one per budget in the "
                                          "package's cache folder)")
    parser.add_argument("--resume", action="store_true", help="keep the stored runs, train the missing ones")
    parser.add_argument("--retime", action="store_true", help="only measure the stored runs' throughput again")
    parser.add_argument("--timing-steps", type=int, default=5, help="timed training steps per model")
    return parser


def retime_stored(args: argparse.Namespace, budget: TrainProfile) -> int:
    """Measure the stored runs' throughput again (no data, no training) and store it with the load."""
    try:
        runs, notes = read_results(args.out)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if notes.pop("budget") != budget.to_dict():
        print("error: the stored runs were trained with a different budget", file=sys.stderr)
        return 2
    before = load_average()
    runs = retime(runs, budget, args.timing_steps)
    # "date" stays the training date; the timing has its own.
    notes["timing"] = {"date": utc_timestamp(), "steps": args.timing_steps, "load_before": before,
                       "load_after": load_average()}
    write_results(args.out, budget, runs, notes)
    for run in runs:
        print(f"{run.label} seed {run.seed}: {run.train_images_per_second:.0f} img/s")
    print(f"load average {before} before, {notes['timing']['load_after']} after")
    return 0


def stored_runs(args: argparse.Namespace, budget: TrainProfile, notes: dict[str, Any]) -> list:
    """With ``--resume``, the runs already in ``--out`` (their budget must be ``budget``; their
    notes' total seconds carry on); otherwise none."""
    if not (args.resume and Path(args.out).is_file()):
        return []
    runs, stored = read_results(args.out)
    if stored["budget"] != budget.to_dict():
        raise ValueError(f"{args.out} was written with a different budget; remove it or drop --resume")
    notes["total_wall_seconds"] = stored.get("total_wall_seconds", 0.0)
    return runs


def study(args: argparse.Namespace, budget: TrainProfile, train: ImageDataset, validation: ImageDataset,
          notes: dict[str, Any]) -> list:
    """Train every missing run, store them after each; when the grid is complete, test the chosen
    cell once and store that too."""
    done = stored_runs(args, budget, notes)
    finished = {run.key for run in done}
    planned = [key for key in plan(args.kernels, args.depths, args.seeds) if key not in finished]
    notes["timing_steps"] = args.timing_steps
    models = args.models or default_cache_dir() / "kernel_depth_sweep" / budget_digest(budget)
    runs = run_planned(
        planned,
        lambda k, d, seed: run_one(with_kernel_depth(budget, k, d, seed), train, validation, models,
                                   timing_steps=args.timing_steps),
        lambda runs: write_results(args.out, budget, runs, notes),
        notes,
        lambda run: (f"{run.label} seed {run.seed}: validation accuracy {100 * run.validation_accuracy:.2f}%  "
                     f"{run.parameters:,} params  {run.flops / 1e6:.2f} MFLOPs  {run.train_images_per_second:.0f} img/s  "
                     f"{run.wall_seconds:.0f} s"),
        done,
    )
    chosen = final_test(runs, models, load_cifar10("test", args.data))
    notes["test"] = {"split": "test", "dataset": notes["dataset"], **chosen}
    write_results(args.out, budget, runs, notes)
    print(f"chosen on validation: k{chosen['kernel_size']} d{chosen['depth']}; test accuracy "
          f"{chosen['mean']:.2f} ± {chosen['half_width'] or 0:.2f} % over seeds {chosen['seeds']} "
          f"({chosen['test_images']:,} test images, read once)")
    return runs


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.retime:
        return retime_stored(args, budget_from_args(STUDY, args))
    return study_main(parser, STUDY, argv, study)


if __name__ == "__main__":
    sys.exit(main())
