"""What the trained studies (``scripts/kernel_depth_sweep.py``, ``scripts/skip_study.py``,
``scripts/erf_study.py``) share: the training images with a validation split held out of them,
the notes that say where and when a study ran, a run's per-epoch history, and one JSON file per
study, written atomically and read back with one clear error."""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence, TypeVar

from convmixer._util import atomic_write_text
from convmixer.data.sources import ImageDataset, load_cifar10
from convmixer.machine import machine_info, utc_timestamp
from convmixer.train import EpochRecord, TrainProfile
from convmixer.data.splits import hold_out

Run = TypeVar("Run")
HOLD_OUT_SEED = 0


@dataclass(frozen=True)
class EpochPoint:
    """One epoch of one run: mean training loss, then loss and accuracy (a fraction) on the
    validation split, and the epoch's training seconds."""

    epoch: int
    train_loss: float
    validation_loss: float
    validation_accuracy: float
    seconds: float


def epoch_points(history: Sequence[EpochRecord]) -> tuple[EpochPoint, ...]:
    """``fit``'s per-epoch records as a study stores them (``fit`` evaluated on the validation split)."""
    return tuple(EpochPoint(r.epoch, r.train_loss, r.test_loss, r.test_accuracy, r.seconds) for r in history)


def check_whole_split(budget: TrainProfile, validation: ImageDataset) -> None:
    """A study judges every model on all of ``validation``: a ``ValueError`` when ``budget`` would
    check only part of it (its ``test_subset`` must be ``None``)."""
    if budget.test_subset is not None and budget.test_subset < len(validation):
        raise ValueError(
            f"the budget evaluates on {budget.test_subset} images; set test_subset=None to use all "
            f"{len(validation)} validation images"
        )


def load_average() -> list[float]:
    """The 1, 5 and 15 minute load averages, rounded: how busy the machine was."""
    return [round(x, 2) for x in os.getloadavg()]


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


def held_out_split(source: str | None, per_class: int) -> tuple[ImageDataset, ImageDataset, dict[str, Any]]:
    """CIFAR-10's training split from ``source`` (``None``: ``$CONVMIXER_DATA``) cut into
    ``(train, validation)`` with ``per_class`` images of every class held out, and the notes a
    study stores with its runs: dataset, split, machine, date and the load average before."""
    data = load_cifar10("train", source)
    train, validation = hold_out(data, per_class=per_class, seed=HOLD_OUT_SEED)
    notes = {
        "dataset": data.label,
        "data": data.source,
        "split": {"train": len(train), "validation": len(validation), "validation_per_class": per_class,
                  "hold_out_seed": HOLD_OUT_SEED},
        "machine": machine_info(),
        "date": utc_timestamp(),
        "load_average": {"before": load_average()},
    }
    return train, validation, notes


def run_planned(planned: Sequence[tuple], train_one: Callable[..., Run], save: Callable[[list[Run]], Any],
                notes: dict[str, Any], describe: Callable[[Run], str], done: Sequence[Run] = ()) -> list[Run]:
    """Train ``train_one(*key)`` for every key of ``planned`` in order, after the runs already
    ``done``, calling ``save(runs)`` after each (an interrupted study keeps what it finished) and
    printing ``describe(run)``; ``notes`` get the total wall seconds (added to any stored total)
    and the load average after the last run."""
    started, runs = time.perf_counter(), list(done)
    previous = notes.get("total_wall_seconds", 0.0) if done else 0.0
    notes["total_wall_seconds"] = previous
    for number, key in enumerate(planned, start=1):
        runs.append(train_one(*key))
        notes["total_wall_seconds"] = round(previous + time.perf_counter() - started, 1)
        save(runs)
        print(f"[{number}/{len(planned)}] {describe(runs[-1])}", flush=True)
    notes["load_average"]["after"] = load_average()
    save(runs)
    return runs


def write_study(path: str | os.PathLike, budget: TrainProfile, runs: Sequence[dict[str, Any]],
                notes: dict[str, Any], number_rows_on_one_line: bool = False) -> Path:
    """Store a study as JSON, atomically: ``notes``, the budget as a profile dict and every run
    (each a plain dict); with ``number_rows_on_one_line`` every list of numbers takes one line."""
    text = json.dumps({**notes, "budget": budget.to_dict(), "runs": list(runs)}, indent=1)
    if number_rows_on_one_line:
        text = re.sub(r"\[\n[-+.,\deE\s]*\]", lambda m: "[" + " ".join(m.group()[1:-1].split()) + "]", text)
    return atomic_write_text(path, text + "\n")


def read_study(path: str | os.PathLike, parse_run: Callable[[dict[str, Any]], Run], script: str,
               kind: str) -> tuple[list[Run], dict[str, Any]]:
    """The runs of a file :func:`write_study` wrote (each read by ``parse_run``) and everything
    else in it. A missing file names the ``script`` that makes it; an unreadable one says it is
    not a ``kind`` result file: one ``ValueError`` either way."""
    path = Path(path)
    try:
        record = json.loads(path.read_text())
        runs = [parse_run(run) for run in record.pop("runs")]
    except FileNotFoundError:
        raise ValueError(f"{path} does not exist; run {script} to make it") from None
    except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as error:
        raise ValueError(f"{path} is not {kind} result file ({type(error).__name__}: {error})") from None
    return runs, record
