"""The command line every study script shares (``kernel_depth_sweep.py``, ``skip_study.py``,
``erf_study.py``): the common options, the budget they may change for quick tries, and a ``main``
that turns an unreadable input into one line on stderr. The studies themselves live in
:mod:`convmixer.studies`; this file is only their command line."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, Callable, Sequence

from convmixer.data.sources import ImageDataset
from convmixer.studies.records import held_out_split
from convmixer.train import TrainProfile


def study_parser(description: str, out: Path, seeds: Sequence[int], per_class: int) -> argparse.ArgumentParser:
    """The options every study script has: ``--data``, ``--out``, ``--seeds``, ``--per-class``
    (validation images per class) and, for quick tries only, ``--epochs`` and ``--train-subset``
    (see :func:`budget_from_args`). A script adds its own."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--data", help="CIFAR-10 source (default: $CONVMIXER_DATA)")
    parser.add_argument("--out", default=str(out), help="the JSON file to write")
    parser.add_argument("--seeds", type=int, nargs="+", default=list(seeds))
    parser.add_argument("--per-class", type=int, default=per_class, help="validation images per class")
    parser.add_argument("--epochs", type=int, help="change the budget's epochs (quick tries only)")
    parser.add_argument("--train-subset", type=int, help="change the budget's training images (quick tries only)")
    return parser


def budget_from_args(budget: TrainProfile, args: argparse.Namespace) -> TrainProfile:
    """``budget`` with the ``--epochs`` and ``--train-subset`` a command line gave, if any."""
    changes = {"epochs": args.epochs, "train_subset": args.train_subset}
    return budget.replace(**{name: value for name, value in changes.items() if value is not None})


def start_study(args: argparse.Namespace, budget: TrainProfile) -> tuple[TrainProfile, ImageDataset, ImageDataset, dict[str, Any]]:
    """What a study script needs from its command line (:func:`study_parser`): the budget with
    the line's changes, the training and validation images and the notes (:func:`held_out_split`)
    with the seeds. Data that cannot be read is one ``ValueError``."""
    train, validation, notes = held_out_split(args.data, args.per_class)
    return budget_from_args(budget, args), train, validation, {**notes, "seeds": args.seeds}


def study_main(parser: argparse.ArgumentParser, budget: TrainProfile, argv: Sequence[str] | None,
               study: Callable[[argparse.Namespace, TrainProfile, ImageDataset, ImageDataset, dict[str, Any]], list]) -> int:
    """A study script's ``main``: parse ``argv``, :func:`start_study`, then ``study(args, budget,
    train, validation, notes)``, which trains, stores and prints and returns its runs. A
    ``ValueError`` (data that cannot be read, a stored file that does not fit) is one line on
    stderr and exit status 2."""
    args = parser.parse_args(argv)
    try:
        budget, train, validation, notes = start_study(args, budget)
        runs = study(args, budget, train, validation, notes)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"wrote {args.out}; {len(runs)} runs in {notes['total_wall_seconds'] / 60:.1f} minutes")
    return 0
