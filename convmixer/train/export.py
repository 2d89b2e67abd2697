"""Ship a finished run and read it back: the exported model (``checkpoints/convmixer_cpu.pt``,
written by :func:`export_model`) and the JSON record beside it (profile, per-epoch history, test
accuracy, machine, date, command), a :mod:`convmixer.records` file of kind :data:`RECORD_FORMAT`.

The training notebook's "stored" mode uses :func:`load_stored_run` to show a full run without
training one.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from convmixer.analysis.cost import count_parameters
from convmixer.machine import machine_info, utc_timestamp
from convmixer.model import ConvMixer
from convmixer.records import from_record, read_record_file, to_record, write_record_file
from convmixer.train.checkpoint import load_model, save_model
from convmixer.train.distributed import state_digest
from convmixer.train.evaluate import Evaluation
from convmixer.train.profiles import TrainProfile
from convmixer.train.run import EpochRecord

RECORD_FORMAT = "convmixer exported run"  # the .json beside an exported model (convmixer.records)
RECORD_VERSION = 1


def export_model(
    model: ConvMixer,
    path: str | os.PathLike,
    *,
    profile: TrainProfile,
    history: Sequence[EpochRecord],
    evaluation: Evaluation,
    dataset: str,
    command: str,
    wall_seconds: float,
    notes: dict[str, Any] | None = None,
) -> tuple[Path, Path]:
    """Ship a finished run: the model alone as ``path`` (``.pt``) and its record beside it (``.json``).

    The ``.pt`` file is a checkpoint without training state: float32 weights (contiguous, on the
    CPU), the model config, the profile and ``metrics`` (per-epoch history, dataset, test accuracy
    and image count); :func:`load_model` reads it and resuming refuses it. The ``.json`` record
    says what it is and where it came from: test accuracy, loss and per-class accuracy on
    ``dataset`` (a label such as ``"CIFAR-10 (JPEG copy)"``), config, parameter count, profile,
    history, ``wall_seconds`` of training (``fit``) and the training seconds inside it,
    :func:`~convmixer.machine.machine_info`, date, the ``command`` that made it, the weights'
    digest (:func:`~convmixer.train.distributed.state_digest`), the file's SHA-256 and any ``notes``.
    Returns the two paths.
    """
    path = Path(path)
    records = to_record(list(history))
    summary = {
        "dataset": dataset,
        "test_accuracy": round(evaluation.accuracy, 6),
        "test_images": int(evaluation.confusion.sum()),
    }
    config = to_record(model.config)
    save_model(path, model, profile=profile.to_dict(), metrics={"history": records, **summary})
    per_class = [round(accuracy, 4) for accuracy in evaluation.per_class_accuracy.tolist()]
    record = {
        "name": path.stem,
        **summary,
        "test_loss": round(evaluation.loss, 6),
        "per_class_accuracy": dict(zip(evaluation.classes, per_class)),
        "model_config": config,
        "parameters": count_parameters(model),
        "profile": profile.to_dict(),
        "epochs": len(records),
        "fit_wall_seconds": round(wall_seconds, 1),
        "train_seconds": round(sum(record["seconds"] for record in records), 1),
        "history": records,
        "machine": machine_info(),
        "date": utc_timestamp(),
        "command": command,
        "weights_digest": state_digest(model),
        "file_sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "notes": notes or {},
    }
    record_path = write_record_file(path.with_suffix(".json"), RECORD_FORMAT, RECORD_VERSION, record)
    return path, record_path


@dataclass(frozen=True)
class StoredRun:
    """A shipped run: the trained ``model`` (eval mode, CPU), the ``profile`` it was trained
    with, its per-epoch ``history`` (each :class:`EpochRecord` names the split and the number of
    images it was evaluated on) and the whole JSON ``record`` (without its format and version)."""

    model: ConvMixer
    profile: TrainProfile
    history: list[EpochRecord]
    record: dict[str, Any]


def load_stored_run(path: str | os.PathLike) -> StoredRun:
    """Read the exported model at ``path`` (``.pt``) and its record (the ``.json`` beside it).

    Raises:
        ValueError: the record is missing or unreadable, or its ``file_sha256`` is not the
            model file's (the two do not belong together);
            :class:`~convmixer.train.checkpoint.CheckpointError` for an unreadable model file.
    """
    path = Path(path)
    record_path = path.with_suffix(".json")
    record = read_record_file(record_path, RECORD_FORMAT, RECORD_VERSION, made_by=f"export_model (it belongs to {path})")
    model = load_model(path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if record.get("file_sha256", digest) != digest:
        raise ValueError(
            f"{record_path} describes another file (SHA-256 {record['file_sha256'][:12]}..., "
            f"{path.name} has {digest[:12]}...); ship the two together"
        )
    try:
        profile = TrainProfile.from_dict(record["profile"])
        history = [from_record(EpochRecord, epoch) for epoch in record["history"]]
    except (KeyError, ValueError) as error:
        raise ValueError(f"{record_path} is not a complete run record ({type(error).__name__}: {error})") from None
    return StoredRun(model, profile, history, record)
