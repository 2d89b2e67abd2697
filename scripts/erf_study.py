"""Train ConvMixers with a small and a large kernel (and a shallow and a deep stack), several seeds
each, and store every model's validation accuracy and the effective receptive field of the trained
model and of its initial weights (notebook 07). Two studies, each a plan of
``convmixer.studies.erf.PLANS``:

    export OMP_WAIT_POLICY=PASSIVE   # on a shared machine: see checkpoints/README.md
    python scripts/erf_study.py --data ../shared/data/cifar10-jpeg.zip                        # erf-study
    python scripts/erf_study.py --data ../shared/data/cifar10-jpeg.zip --study kernel-study

``erf-study`` (weak models: ConvMixer-64/d, k = 3, 9, d = 2, 8, 100 validation images per class)
writes ``results/erf_study.json``; ``kernel-study`` (the cpu recipe's ConvMixer-128/8 with k = 3, 9, 5,
its 500 validation images per class) writes ``results/kernel_size_study.json`` and keeps seed 0's
trained models in ``results/kernel_size_study/``. Each file holds the budget, machine, date, load
average before and after, total wall seconds and every run (k, d, seed, validation accuracy, and for
the trained model and its initial weights the ERF map of the centre position, its half-gradient side
and own-patch share), rewritten after every run; runs already in it with the same budget are kept, so
an interrupted study resumes where it stopped, seed by seed. The held-out images come from
CIFAR-10's training split (``convmixer.data.splits.hold_out``, seed 0); every model is evaluated on
all of them and the ERF is averaged over the first 64. The test split is never read. ``--epochs``
and ``--train-subset`` change the budget for quick tries, not for the stored results.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from study_cli import study_main, study_parser

from convmixer.data.sources import ImageDataset
from convmixer.studies.erf import ERF_IMAGES, PLANS, format_table, read_results, run_cell, summarise, write_results
from convmixer.studies.records import run_planned, stored_runs
from convmixer.train import TrainProfile

RESULTS = Path(__file__).resolve().parents[1] / "results"


def build_parser(plan_name: str) -> argparse.ArgumentParser:
    plan = PLANS[plan_name]
    parser = study_parser(__doc__.split("\n\n")[0], RESULTS / plan.results, plan.seeds, plan.validation_per_class)
    parser.add_argument("--study", choices=list(PLANS), default=plan_name, help="which plan (default: erf-study)")
    parser.add_argument("--kernel-sizes", type=int, nargs="+", default=list(plan.kernel_sizes))
    parser.add_argument("--depths", type=int, nargs="+", default=list(plan.depths))
    parser.add_argument("--erf-images", type=int, default=ERF_IMAGES, help="validation images the ERF averages over")
    return parser


def model_path(out: str, kernel_size: int, depth: int, seed: int) -> Path:
    """Where a kept model of the study writing ``out`` goes: ``<out without .json>/k9-d8-seed0.pt``."""
    return Path(out).with_suffix("") / f"k{kernel_size}-d{depth}-seed{seed}.pt"


def study(args: argparse.Namespace, budget: TrainProfile, train: ImageDataset, validation: ImageDataset,
          notes: dict[str, Any]) -> list:
    """Train every run the command line asks for that the file does not hold yet, seed by seed;
    store them after each and print the summary."""
    done = stored_runs(args.out, read_results, budget, notes)
    notes["erf_images"] = min(args.erf_images, len(validation))
    have = {(r.kernel_size, r.depth, r.seed) for r in done}
    planned = [(k, d, seed) for seed in args.seeds for d in args.depths for k in args.kernel_sizes
               if (k, d, seed) not in have]
    kept = PLANS[args.study].kept_seeds
    runs = run_planned(
        planned,
        lambda k, d, seed: run_cell(budget, k, d, seed, train, validation, erf_images=args.erf_images,
                                    model_path=model_path(args.out, k, d, seed) if seed in kept else None),
        lambda runs: write_results(args.out, budget, runs, notes),
        notes,
        lambda run: (f"k{run.kernel_size} d{run.depth} seed {run.seed}: validation accuracy "
                     f"{100 * run.validation_accuracy:.2f}%, half-gradient side {run.trained.side} px trained / "
                     f"{run.untrained.side} px untrained, in {run.wall_seconds:.0f} s"),
        done,
    )
    print(format_table(summarise(runs)))
    return runs


def main(argv: list[str] | None = None) -> int:
    first = argparse.ArgumentParser(add_help=False)  # the plan sets the other options' defaults
    first.add_argument("--study", choices=list(PLANS), default="erf-study")
    plan_name = first.parse_known_args(argv)[0].study
    return study_main(build_parser(plan_name), PLANS[plan_name].budget, argv, study)


if __name__ == "__main__":
    sys.exit(main())
