"""Train the cpu recipe with each of the fast CIFAR-10 trainers' tricks, and all of them together,
under a proxy budget with several seeds, and store what they reach on the held-out validation split
(``benchmarks/README.md``, "The cpu recipe, one trick at a time").

    export OMP_WAIT_POLICY=PASSIVE
    python scripts/recipe_ablation.py --data ../shared/data/cifar10-jpeg.zip

writes ``results/recipe_ablation.json`` after every run: the budget, machine, date, load average,
total wall seconds and every run. The split is the studies' (500 images of every class held out of
CIFAR-10's training split, ``convmixer.data.splits.hold_out``); the test split is never read.
Runs already in the file with the same budget are kept, so an interrupted ablation resumes where it
stopped (a file of another budget is refused, never overwritten). ``--epochs`` sets the proxy budget (default 4).
``--base cpu`` changes the whole ``cpu`` recipe of 6 December instead, at its own budget, and writes
``results/recipe_full.json``::

    python scripts/recipe_ablation.py --base cpu --variants baseline progressive-crop --seeds 0
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from study_cli import study_main, study_parser

from convmixer.data.sources import ImageDataset
from convmixer.studies.recipe import VARIANTS, format_table, read_results, run_variant, summarise, write_results
from convmixer.studies.records import run_planned, stored_runs
from convmixer.train import TrainProfile, get_profile
from convmixer.train.profiles import CPU_DECEMBER_6

DEFAULT_OUT = Path(__file__).resolve().parents[1] / "results" / "recipe_ablation.json"
PROXY_EPOCHS = 4
# The recipe the tricks were measured against: the plain cpu recipe with the whitened stem and the
# 6-view test-time augmentation it had then (and still has), trained on the 45,000 images.
BUDGET = get_profile("cpu-plain").replace(name="cpu-proxy", epochs=PROXY_EPOCHS, stem_init="whiten", tta="flip-shift")


# The bases a variant changes: the proxy above, or the whole cpu recipe at its own budget (the split
# comes from this script, as in the kernel-size study, so the profile keeps none of its own). The
# whole-recipe file was made on the cpu recipe of 6 December and its base stays that recipe; to
# ablate a later one, give it its own base and file (a file of another budget is refused).
CPU_FULL = CPU_DECEMBER_6.replace(name="cpu-full", validation_per_class=0)
OUTS = {"proxy": DEFAULT_OUT, "cpu": DEFAULT_OUT.with_name("recipe_full.json")}


def build_parser(base: str = "proxy") -> argparse.ArgumentParser:
    parser = study_parser(__doc__.split("\n\n")[0], OUTS[base], (0, 1), 500)
    parser.add_argument("--base", choices=list(OUTS), default="proxy",
                        help="proxy: the 4-epoch proxy of the plain recipe; cpu: the whole cpu recipe of 6 December (~20 min a run)")
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    return parser


def study(args: argparse.Namespace, budget: TrainProfile, train: ImageDataset, validation: ImageDataset,
          notes: dict[str, Any]) -> list:
    """Train what the command line asks for that the file does not hold yet, seed by seed."""
    done = stored_runs(args.out, read_results, budget, notes)
    have = {(r.variant, r.seed) for r in done}
    planned = [(v, s) for s in args.seeds for v in args.variants if (v, s) not in have]
    notes["variants"] = list(VARIANTS)
    runs = run_planned(
        planned,
        lambda variant, seed: run_variant(budget, variant, seed, train, validation),
        lambda runs: write_results(args.out, budget, runs, notes),
        notes,
        lambda run: f"{run.variant} seed {run.seed}: {100 * run.validation_accuracy:.2f}% in {run.wall_seconds:.0f} s",
        done,
    )
    print(format_table(summarise(runs)))
    return runs


def main(argv: list[str] | None = None) -> int:
    base = build_parser().parse_known_args(argv)[0].base
    return study_main(build_parser(base), BUDGET if base == "proxy" else CPU_FULL, argv, study)


if __name__ == "__main__":
    sys.exit(main())
