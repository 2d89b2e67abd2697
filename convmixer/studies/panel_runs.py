"""Runs a reader trains from notebook 07's panel: one ``(k, d, seed)`` under a short, stated
budget, kept in a JSON file so that they survive a kernel restart.

The budget is :func:`convmixer.train.panel_budget`, the one notebook 05's kernel x depth panel
uses too: ``"short"``, or ``"smoke"`` when the environment variable ``CONVMIXER_PROFILE`` says so
(the test command: seconds per run).
:func:`convmixer.train.with_kernel_depth` turns it into one run.

A :class:`StudyRun` records the model, the seed, the budget (its name, a digest of all its
settings, and the numbers of images it really used), the accuracy on the split it was judged on
(``eval_split``, as ``fit``'s records name it: notebook 07 holds a validation split out of the
training set) and the time taken. :class:`RunStore` keeps them in one :mod:`convmixer.records` file
(default ``~/.cache/convmixer/study_runs.json``, or ``$CONVMIXER_STUDY_RUNS``), rewritten
atomically after each run: a crash mid-write leaves the previous file whole.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from convmixer.analysis.cost import count_parameters
from convmixer.data.sources import ImageDataset, default_cache_dir
from convmixer.records import from_record, read_record_file, to_record, write_record_file
from convmixer.train import EpochRecord, FitResult, TrainProfile, fit, with_kernel_depth

PROFILE_ENV = "CONVMIXER_PROFILE"
STORE_ENV = "CONVMIXER_STUDY_RUNS"
STORE_FORMAT = "convmixer study runs"
STORE_VERSION = 2  # 2: eval_images / eval_accuracy / eval_split (were test_images / test_accuracy / evaluated_on)

Trainer = Callable[..., FitResult]


def budget_digest(budget: TrainProfile) -> str:
    """Twelve hex digits of the SHA-256 of every setting of ``budget``: runs are compared only
    with runs of the same digest."""
    text = json.dumps(budget.to_dict(), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def describe_budget(
    budget: TrainProfile, train_images: int | None = None, test_images: int | None = None, eval_split: str = "test",
) -> str:
    """The budget in words, e.g. ``short budget: ConvMixer-64/d, p = 4, 5,000 images × 4 epochs,
    tested on 1,000`` (with ``eval_split="validation"``: ``..., checked on 1,000 validation
    images``). ``train_images`` / ``test_images``: the numbers really used, when a dataset is
    smaller than the budget's subsets."""
    config = budget.model_config()
    train_images = train_images or budget.train_subset
    test_images = test_images or budget.test_subset
    train_text = f"{train_images:,} images" if train_images else "all training images"
    if eval_split == "test":
        test_text = "tested on " + (f"{test_images:,}" if test_images else "the full test split")
    else:
        test_text = f"checked on {f'{test_images:,}' if test_images else 'all'} {eval_split} images"
    return (
        f"{budget.name} budget: ConvMixer-{config.dim}/d, p = {config.patch_size}, "
        f"{train_text} × {budget.epochs} epochs, {test_text}"
    )


@dataclass(frozen=True)
class StudyRun:
    """One run of the panel: model ``(k, d, h, p)``, seed, budget, result."""

    kernel_size: int
    depth: int
    seed: int
    dim: int
    patch_size: int
    budget: str  # the profile's name, e.g. "short"
    budget_digest: str  # budget_digest() of the profile
    train_images: int
    epochs: int
    eval_split: str  # the split it was judged on: "test", or "validation" (held out of training)
    eval_images: int  # images of that split
    eval_accuracy: float  # a fraction, on those images
    parameters: int
    seconds: float
    data: str  # where the images came from
    finished: str  # ISO 8601, UTC

    @property
    def label(self) -> str:
        return f"k{self.kernel_size} d{self.depth} seed {self.seed}"


def default_store_path() -> Path:
    """``$CONVMIXER_STUDY_RUNS``, else ``study_runs.json`` in the package's cache folder
    (:func:`convmixer.data.sources.default_cache_dir`)."""
    if os.environ.get(STORE_ENV):
        return Path(os.environ[STORE_ENV]).expanduser()
    return default_cache_dir() / "study_runs.json"


class RunStore:
    """A JSON file holding :class:`StudyRun` records, in the order they finished."""

    def __init__(self, path: str | os.PathLike | None = None) -> None:
        self.path = Path(path).expanduser() if path is not None else default_store_path()

    def load(self) -> list[StudyRun]:
        """Every stored run (none when the file does not exist yet). A file that is not a
        study-runs file of this version is a ``ValueError`` naming it."""
        if not self.path.exists():
            return []
        try:
            content = read_record_file(self.path, STORE_FORMAT, STORE_VERSION)
            return [from_record(StudyRun, row) for row in content["runs"]]
        except (ValueError, KeyError, TypeError) as error:
            raise ValueError(f"{error}; move or delete {self.path} to start a new one") from None

    def save(self, runs: Sequence[StudyRun]) -> Path:
        """Replace the file's content with ``runs``, atomically."""
        return write_record_file(self.path, STORE_FORMAT, STORE_VERSION, {"runs": to_record(list(runs))})

    def add(self, run: StudyRun) -> list[StudyRun]:
        """Append ``run`` to the stored runs; returns them all."""
        runs = self.load() + [run]
        self.save(runs)
        return runs


def same_budget(runs: Sequence[StudyRun], budget: TrainProfile, eval_split: str | None = None) -> list[StudyRun]:
    """The runs trained under exactly ``budget`` (same digest) and, if given, judged on the
    ``eval_split`` split."""
    digest = budget_digest(budget)
    return [run for run in runs if run.budget_digest == digest and eval_split in (None, run.eval_split)]


def train_study_run(
    budget: TrainProfile,
    kernel_size: int,
    depth: int,
    seed: int,
    train: ImageDataset,
    test: ImageDataset,
    train_fn: Trainer = fit,
    on_epoch: Callable[[EpochRecord], None] | None = None,
) -> StudyRun:
    """Train ConvMixer-h/d with kernel ``k`` under ``budget`` with ``seed`` (which also draws the
    budget's training and test subsets) through ``train_fn`` (:func:`convmixer.train.fit`), and
    record it. ``test`` is the split it is judged on (its ``split``, e.g. ``"validation"`` for one
    held out of the training set, names it in the records). ``on_epoch`` is called with each
    epoch's record."""
    profile = with_kernel_depth(budget, kernel_size, depth, seed)
    config = profile.model_config()
    started = time.perf_counter()
    result = train_fn(profile, train=train, test=test, progress=False, callback=on_epoch)
    return StudyRun(
        kernel_size=kernel_size,
        depth=depth,
        seed=seed,
        dim=config.dim,
        patch_size=config.patch_size,
        budget=budget.name,
        budget_digest=budget_digest(budget),
        train_images=min(len(train), profile.train_subset or len(train)),
        epochs=profile.epochs,
        eval_split=result.history[-1].eval_split,
        eval_images=int(result.evaluation.confusion.sum()),
        eval_accuracy=float(result.evaluation.accuracy),
        parameters=count_parameters(result.model),
        seconds=round(time.perf_counter() - started, 1),
        data=train.source,
        finished=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    )

