"""Train the kernel-size x depth grid of notebook 07 under one fixed budget and store the results.

    export OMP_WAIT_POLICY=PASSIVE   # on a shared machine: see checkpoints/README.md
    python scripts/kernel_depth_sweep.py --data ../shared/data/cifar10-jpeg.zip            # everything
    python scripts/kernel_depth_sweep.py --data ../shared/data/cifar10-jpeg.zip --resume   # the missing runs
    python scripts/kernel_depth_sweep.py --retime                                          # throughput only

writes ``results/kernel_depth_sweep.csv`` (one row per run) and ``.json`` (budget, machine, date,
load average around every run). The budget is the ``study`` profile (``convmixer.sweep.SWEEP_BUDGET``); ``--epochs`` and
``--train-subset`` change it (for a quick try, not for the stored results). Results are rewritten
after every run, so an interrupted sweep keeps what it finished and ``--resume`` continues it.
Throughput is timed apart from training and is only meaningful on a quiet machine: ``--retime``
measures it again for the stored runs (no training) and records the load average while it did.
"""

from __future__ import annotations

import argparse
import datetime
import os
import sys
import time
from pathlib import Path

from convmixer.data import load_cifar10
from convmixer.sweep import DEPTHS, KERNEL_SIZES, SWEEP_BUDGET, plan, read_results, retime, run_one, write_results
from convmixer.train import with_kernel_depth

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
    parser.add_argument("--resume", action="store_true", help="keep the stored runs, train the missing ones")
    parser.add_argument("--retime", action="store_true", help="only measure the stored runs' throughput again")
    parser.add_argument("--timing-steps", type=int, default=5, help="timed training steps per model")
    return parser


def load_average() -> float:
    return round(os.getloadavg()[0], 2)


def retime_stored(args: argparse.Namespace, budget) -> int:
    runs, meta = read_results(args.out)
    if meta["budget"] != budget.to_dict():
        print("error: the stored runs were trained with a different budget", file=sys.stderr)
        return 2
    before = load_average()
    runs = retime(runs, budget, args.timing_steps)
    meta["timing"] = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                      "steps": args.timing_steps, "load_before": before, "load_after": load_average()}
    # "date" stays the training date; the timing has its own.
    notes = {key: value for key, value in meta.items() if key not in ("machine", "budget", "runs", "total_wall_seconds")}
    write_results(runs, args.out, budget, notes)
    for run in runs:
        print(f"{run.label} seed {run.seed}: {run.train_images_per_second:.0f} img/s")
    print(f"load average {before} before, {meta['timing']['load_after']} after")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    budget = SWEEP_BUDGET
    if args.epochs is not None:
        budget = budget.replace(epochs=args.epochs)
    if args.train_subset is not None:
        budget = budget.replace(train_subset=args.train_subset)
    try:
        if args.retime:
            return retime_stored(args, budget)
        planned = plan(args.kernels, args.depths, tuple(args.repeat), args.seeds)
        done, notes = [], {"load_average": [], "sweep_wall_seconds": 0.0}
        if args.resume and Path(args.out).with_suffix(".csv").is_file():
            done, meta = read_results(args.out)
            if meta["budget"] != budget.to_dict():
                raise ValueError(f"{args.out}.json was written with a different budget; remove it or drop --resume")
            notes = {key: meta[key] for key in ("load_average", "sweep_wall_seconds", "data", "dataset") if key in meta}
        train = load_cifar10("train", args.data)
        test = load_cifar10("test", args.data)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    notes["data"] = train.source
    notes["dataset"] = train.label
    finished = {(r.kernel_size, r.depth, r.seed) for r in done}
    todo = [key for key in planned if key not in finished]
    started = time.perf_counter()
    previous = notes["sweep_wall_seconds"]
    for number, (k, d, seed) in enumerate(todo, start=1):
        before = load_average()
        run = run_one(with_kernel_depth(budget, k, d, seed), train, test, timing_steps=args.timing_steps)
        done.append(run)
        notes["load_average"].append({"run": f"{run.label} seed {seed}", "before": before, "after": load_average()})
        notes["sweep_wall_seconds"] = round(previous + time.perf_counter() - started, 1)
        write_results(done, args.out, budget, notes)
        print(
            f"[{number}/{len(todo)}] {run.label} seed {seed}: test acc {100 * run.test_accuracy:.2f}%  "
            f"{run.parameters:,} params  {run.flops / 1e6:.2f} MFLOPs  {run.train_images_per_second:.0f} img/s  "
            f"trained in {run.train_seconds:.0f} s, {run.wall_seconds:.0f} s in all  (load {before})",
            flush=True,
        )
    print(f"wrote {args.out}.csv and .json; {len(todo)} runs in {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
