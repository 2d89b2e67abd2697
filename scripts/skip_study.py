"""Train ConvMixer-64/8 with its skip connection in each of four places, three seeds each, and store
what they reach on a held-out validation split (notebook 04, "The skip question, answered by training").

    export OMP_WAIT_POLICY=PASSIVE   # on a shared machine: see checkpoints/README.md
    python scripts/skip_study.py --data ../shared/data/cifar10-jpeg.zip

writes ``results/skip_study.json``: the budget, machine, date, load average before and after, total
wall seconds and every run (variant, seed, per-epoch history, final validation accuracy,
parameters), rewritten after every run. 500 images of every class are held out of CIFAR-10's
training split for validation (``convmixer.data.splits.hold_out``, seed 0); the models train on the
other 45,000 (the budget's subset of them) and the test split is never read. ``--epochs`` and
``--train-subset`` change the budget for quick tries, not for the stored results.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from study_cli import study_main, study_parser

from convmixer.data.sources import ImageDataset
from convmixer.layers import RESIDUALS
from convmixer.studies.records import run_planned
from convmixer.studies.skip import run_variant, summarise, verdicts, write_results
from convmixer.train import TrainProfile, get_profile

DEFAULT_OUT = Path(__file__).resolve().parents[1] / "results" / "skip_study.json"

# The study's budget: the `skip-study` profile (convmixer.train.profiles.SKIP_STUDY).
BUDGET = get_profile("skip-study")
VALIDATION_PER_CLASS = 500


def build_parser() -> argparse.ArgumentParser:
    parser = study_parser(__doc__.split("\n\n")[0], DEFAULT_OUT, (0, 1, 2), VALIDATION_PER_CLASS)
    parser.add_argument("--variants", nargs="+", default=list(RESIDUALS), choices=RESIDUALS)
    return parser


def study(args: argparse.Namespace, budget: TrainProfile, train: ImageDataset, validation: ImageDataset,
          notes: dict[str, Any]) -> list:
    """Train every run the command line asks for, store them after each, print the summary."""
    notes["variants"] = args.variants
    runs = run_planned(
        [(variant, seed) for variant in args.variants for seed in args.seeds],
        lambda variant, seed: run_variant(budget, variant, seed, train, validation),
        lambda runs: write_results(args.out, budget, runs, notes),
        notes,
        lambda run: (f"{run.variant} seed {run.seed}: validation accuracy {100 * run.validation_accuracy:.2f}% "
                     f"in {run.wall_seconds:.0f} s"),
    )
    summaries = summarise(runs)
    for summary in summaries:
        print(summary.describe())
    if "depthwise" in args.variants:
        print("\n".join(verdicts(summaries)))
    return runs


def main(argv: list[str] | None = None) -> int:
    return study_main(build_parser(), BUDGET, argv, study)


if __name__ == "__main__":
    sys.exit(main())
