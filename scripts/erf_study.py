"""Train ConvMixer-64/d (p = 4) for a small and a large kernel, a shallow and a deep model, three seeds
each, and store the effective receptive field of every trained model and of its initial weights
(notebook 07, "Receptive field, measured").

    export OMP_WAIT_POLICY=PASSIVE   # on a shared machine: see checkpoints/README.md
    python scripts/erf_study.py --data ../shared/data/cifar10-jpeg.zip

writes ``results/erf_study.json``: the budget, machine, date, load average before and after, total
wall seconds and every run (k, d, seed, validation accuracy, and for the trained model and its
initial weights the ERF map of the centre position, its half-gradient side and own-patch share),
rewritten after every run. 100 images of every class are held out of CIFAR-10's training split for
validation (``convmixer.data.splits.hold_out``, seed 0); the models train on the budget's subset of
the other 49,000, every model is evaluated on all 1,000 validation images, and the ERF is averaged
over the first 64 of them. The test split is never read. ``--epochs`` and ``--train-subset`` change
the budget for quick tries, not for the stored results.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from study_cli import study_main, study_parser

from convmixer.data.sources import ImageDataset
from convmixer.studies.erf import (
    BUDGET,
    DEPTHS,
    ERF_IMAGES,
    KERNEL_SIZES,
    SEEDS,
    VALIDATION_PER_CLASS,
    format_table,
    run_cell,
    summarise,
    write_results,
)
from convmixer.studies.records import run_planned
from convmixer.train import TrainProfile

DEFAULT_OUT = Path(__file__).resolve().parents[1] / "results" / "erf_study.json"


def build_parser() -> argparse.ArgumentParser:
    parser = study_parser(__doc__.split("\n\n")[0], DEFAULT_OUT, SEEDS, VALIDATION_PER_CLASS)
    parser.add_argument("--kernel-sizes", type=int, nargs="+", default=list(KERNEL_SIZES))
    parser.add_argument("--depths", type=int, nargs="+", default=list(DEPTHS))
    parser.add_argument("--erf-images", type=int, default=ERF_IMAGES, help="validation images the ERF averages over")
    return parser


def study(args: argparse.Namespace, budget: TrainProfile, train: ImageDataset, validation: ImageDataset,
          notes: dict[str, Any]) -> list:
    """Train every run the command line asks for, store them after each, print the summary."""
    notes["erf_images"] = min(args.erf_images, len(validation))
    runs = run_planned(
        [(k, d, seed) for d in args.depths for k in args.kernel_sizes for seed in args.seeds],
        lambda k, d, seed: run_cell(budget, k, d, seed, train, validation, erf_images=args.erf_images),
        lambda runs: write_results(args.out, budget, runs, notes),
        notes,
        lambda run: (f"k{run.kernel_size} d{run.depth} seed {run.seed}: validation accuracy "
                     f"{100 * run.validation_accuracy:.2f}%, half-gradient side {run.trained.side} px trained / "
                     f"{run.untrained.side} px untrained, in {run.wall_seconds:.0f} s"),
    )
    print(format_table(summarise(runs)))
    return runs


def main(argv: list[str] | None = None) -> int:
    return study_main(build_parser(), BUDGET, argv, study)


if __name__ == "__main__":
    sys.exit(main())
