"""What the trained studies (``scripts/kernel_depth_sweep.py``, ``scripts/skip_study.py``,
``scripts/erf_study.py``) share: the training images with a validation split held out of them,
the notes that say where and when a study ran, and one results file per study (a
:mod:`convmixer.records` file: ``format``/``version`` at the top, the notes, the budget and the
runs, each run's per-epoch history as :class:`~convmixer.train.EpochRecord` s), written
atomically and read back with one clear error."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence, TypeVar

from convmixer.data.sources import ImageDataset, load_cifar10
from convmixer.data.splits import VALIDATION_SEED, hold_out
from convmixer.machine import machine_info, utc_timestamp
from convmixer.records import from_record, read_record_file, to_record, write_record_file
from convmixer.train import TrainProfile

Run = TypeVar("Run")


@dataclass(frozen=True)
class StudyFormat:
    """What a study's results file is, as :mod:`convmixer.records` stores it: its ``kind`` (the
    file's ``"format"``), ``version``, and the ``script`` that makes it (named when it is missing)."""

    kind: str
    version: int
    script: str


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


def held_out_split(source: str | None, per_class: int) -> tuple[ImageDataset, ImageDataset, dict[str, Any]]:
    """CIFAR-10's training split from ``source`` (``None``: ``$CONVMIXER_DATA``) cut into
    ``(train, validation)`` with ``per_class`` images of every class held out, and the notes a
    study stores with its runs: dataset, split, machine, date and the load average before."""
    data = load_cifar10("train", source)
    train, validation = hold_out(data, per_class=per_class, seed=VALIDATION_SEED)
    notes = {
        "dataset": data.label,
        "data": data.source,
        "split": {"train": len(train), "validation": len(validation), "validation_per_class": per_class,
                  "hold_out_seed": VALIDATION_SEED},
        "machine": machine_info(),
        "date": utc_timestamp(),
        "load_average": {"before": load_average()},
    }
    return train, validation, notes


def stored_runs(path: str | os.PathLike, read: Callable[[str | os.PathLike], tuple[list[Run], dict[str, Any]]],
                budget: TrainProfile, notes: dict[str, Any]) -> list[Run]:
    """The runs a study already stored at ``path`` (read with ``read``), so that it resumes where
    it stopped: none when there is no file; else the file's notes join ``notes`` (this start's
    load average and seeds kept) and its runs are returned. A file made with another budget is a
    ``ValueError``: a study never overwrites results it cannot extend."""
    if not Path(path).exists():
        return []
    runs, stored = read(path)
    if TrainProfile.from_dict(stored.pop("budget")) != budget:
        raise ValueError(f"{path} holds runs of another budget; write to another file (--out) or move it away")
    seeds = sorted({*stored.get("seeds", ()), *notes.get("seeds", ())})
    notes.update({**stored, "load_average": notes["load_average"], "seeds": seeds})
    return runs


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


def write_study(path: str | os.PathLike, study: StudyFormat, budget: TrainProfile, runs: Sequence[Any],
                notes: dict[str, Any], number_rows_on_one_line: bool = False) -> Path:
    """Store a study as a record file of ``study``'s kind and version (:mod:`convmixer.records`),
    atomically: ``notes``, the budget as a profile dict and every run (a record dataclass); with
    ``number_rows_on_one_line`` every list of numbers takes one line."""
    payload = {**notes, "budget": budget.to_dict(), "runs": to_record(list(runs))}
    return write_record_file(path, study.kind, study.version, payload, number_rows_on_one_line)


def read_study(path: str | os.PathLike, run_type: type[Run], study: StudyFormat) -> tuple[list[Run], dict[str, Any]]:
    """The runs of a file :func:`write_study` wrote (each a ``run_type``) and everything else in
    it. A missing file names the ``study``'s script; an unreadable one, another kind or version
    or a run that does not fit ``run_type`` is one ``ValueError`` either way."""
    record = read_record_file(path, study.kind, study.version, made_by=study.script)
    try:
        runs = [from_record(run_type, run) for run in record.pop("runs")]
    except (KeyError, ValueError) as error:
        raise ValueError(f"{path} is not a complete {study.kind} file ({type(error).__name__}: {error})") from None
    return runs, record
