"""Train the kernel-size x depth grid of notebook 07 under one fixed budget and store the results.

    python scripts/kernel_depth_sweep.py --data ../shared/data/cifar10-jpeg.zip

writes ``results/kernel_depth_sweep.csv`` (one row per run) and ``.json`` (budget, machine, date,
load average around every run). The budget is ``convmixer.sweep.SWEEP_BUDGET``; ``--epochs`` and
``--train-subset`` change it (for a quick try, not for the stored results). Results are rewritten
after every run, so an interrupted sweep keeps what it finished. Throughput is only comparable
between runs when nothing else loads the CPU: the JSON records the load average so a reader can
check.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from convmixer.data import load_cifar10
from convmixer.sweep import DEPTHS, KERNEL_SIZES, SWEEP_BUDGET, plan, run_one, sweep_profile, write_results

DEFAULT_OUT = Path(__file__).resolve().parents[1] / "results" / "kernel_depth_sweep"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", help="CIFAR-10 source (default: $CONVMIXER_DATA)")
    parser.add_argument("--out", default=str(DEFAULT_OUT), help="results path without suffix")
    parser.add_argument("--kernels", type=int, nargs="+", default=list(KERNEL_SIZES))
    parser.add_argument("--depths", type=int, nargs="+", default=list(DEPTHS))
    parser.add_argument("--repeat", type=int, nargs=2, default=[5, 4], metavar=("K", "D"),
                        help="configuration trained again with the other seeds")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, help="change the budget's epochs (quick tries only)")
    parser.add_argument("--train-subset", type=int, help="change the budget's training images")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    budget = SWEEP_BUDGET
    if args.epochs is not None:
        budget = budget.replace(epochs=args.epochs)
    if args.train_subset is not None:
        budget = budget.replace(train_subset=args.train_subset)
    try:
        runs_planned = plan(args.kernels, args.depths, tuple(args.repeat), args.seeds)
        train = load_cifar10("train", args.data)
        test = load_cifar10("test", args.data)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    notes = {"data": train.source, "dataset": "CIFAR-10 (JPEG copy)" if "jpeg" in train.source.lower()
             else "CIFAR-10", "load_average": []}
    done = []
    started = time.perf_counter()
    for number, (k, d, seed) in enumerate(runs_planned, start=1):
        before = os.getloadavg()[0]
        run = run_one(sweep_profile(budget, k, d, seed), train, test)
        done.append(run)
        notes["load_average"].append({"run": run.label + f" seed {seed}", "before": round(before, 2),
                                      "after": round(os.getloadavg()[0], 2)})
        notes["sweep_wall_seconds"] = round(time.perf_counter() - started, 1)
        write_results(done, args.out, budget, notes)
        print(
            f"[{number}/{len(runs_planned)}] {run.label} seed {seed}: test acc {100 * run.test_accuracy:.2f}%  "
            f"{run.parameters:,} params  {run.flops / 1e6:.2f} MFLOPs  "
            f"{run.train_images_per_second:.0f} img/s  {run.wall_seconds:.0f} s  (load {before:.1f})",
            flush=True,
        )
    print(f"wrote {args.out}.csv and .json in {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
