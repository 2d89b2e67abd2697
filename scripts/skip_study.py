"""Train ConvMixer-64/8 with its skip connection in each of four places, three seeds each, and store
what they reach on a held-out validation split (notebook 04, "The skip question, answered by training").

    export OMP_WAIT_POLICY=PASSIVE   # on a shared machine: see checkpoints/README.md
    python scripts/skip_study.py --data ../shared/data/cifar10-jpeg.zip

writes ``results/skip_study.json``: the budget, machine, date, load average before and after, total
wall seconds and every run (variant, seed, per-epoch history, final validation accuracy,
parameters), rewritten after every run. 500 images of every class are held out of CIFAR-10's
training split for validation (``convmixer.validation.hold_out``, seed 0); the models train on the
other 45,000 (the budget's subset of them) and the test split is never read. ``--epochs`` and
``--train-subset`` change the budget for quick tries, not for the stored results.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from convmixer.data import load_cifar10
from convmixer.machine import machine_info, utc_timestamp
from convmixer.skip_study import VARIANTS, run_variant, summarise, verdicts, write_results
from convmixer.train import get_profile
from convmixer.validation import hold_out

DEFAULT_OUT = Path(__file__).resolve().parents[1] / "results" / "skip_study.json"

# ConvMixer-64/8 (k = 5, p = 4: an 8x8 patch grid), deep enough for the skips to matter, trained on
# a fixed 7,500 of the 45,000 training images (per seed) for 4 epochs: 30,000 images seen, as
# many as the kernel-size study's one pass. The rest is the `short` profile (notebook 05's panel):
# batch 100, AdamW at lr 0.01 with the one-cycle schedule, crop + flip, PyTorch's initialisation.
# Measured before the study: one run ~53 s on the shared 2-core machine, 12 runs ~11 minutes.
BUDGET = get_profile("short").replace(
    name="skip-study",
    model_overrides={"dim": 64, "depth": 8, "kernel_size": 5, "patch_size": 4},
    train_subset=7_500,
    epochs=4,
    test_subset=None,
)
VALIDATION_PER_CLASS = 500


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", help="CIFAR-10 source (default: $CONVMIXER_DATA)")
    parser.add_argument("--out", default=str(DEFAULT_OUT), help="the JSON file to write")
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=VARIANTS)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--per-class", type=int, default=VALIDATION_PER_CLASS, help="validation images per class")
    parser.add_argument("--epochs", type=int, help="change the budget's epochs (quick tries only)")
    parser.add_argument("--train-subset", type=int, help="change the budget's training images (quick tries only)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    budget = BUDGET
    if args.epochs is not None:
        budget = budget.replace(epochs=args.epochs)
    if args.train_subset is not None:
        budget = budget.replace(train_subset=args.train_subset)
    try:
        data = load_cifar10("train", args.data)
        train, validation = hold_out(data, per_class=args.per_class, seed=0)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    notes = {
        "dataset": "CIFAR-10 (JPEG copy)" if "jpeg" in data.source.lower() else "CIFAR-10",
        "data": data.source,
        "split": {"train": len(train), "validation": len(validation), "validation_per_class": args.per_class,
                  "hold_out_seed": 0},
        "variants": args.variants,
        "seeds": args.seeds,
        "machine": machine_info(),
        "date": utc_timestamp(),
        "load_average": {"before": [round(x, 2) for x in os.getloadavg()]},
    }
    started, runs = time.perf_counter(), []
    planned = [(variant, seed) for variant in args.variants for seed in args.seeds]
    for number, (variant, seed) in enumerate(planned, start=1):
        run = run_variant(budget, variant, seed, train, validation)
        runs.append(run)
        notes["total_wall_seconds"] = round(time.perf_counter() - started, 1)
        write_results(args.out, budget, runs, notes)
        print(f"[{number}/{len(planned)}] {variant} seed {seed}: validation accuracy "
              f"{100 * run.validation_accuracy:.2f}% in {run.wall_seconds:.0f} s", flush=True)
    notes["load_average"]["after"] = [round(x, 2) for x in os.getloadavg()]
    write_results(args.out, budget, runs, notes)
    summaries = summarise(runs)
    for summary in summaries:
        print(summary.describe())
    if "depthwise" in args.variants:
        print("\n".join(verdicts(summaries)))
    print(f"wrote {args.out}; {len(runs)} runs in {notes['total_wall_seconds'] / 60:.1f} minutes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
