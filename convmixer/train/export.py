"""Ship a finished run and read it back: the exported model (``checkpoints/convmixer_cpu.pt``,
written by :func:`export_model`) and the JSON record beside it (profile, per-epoch history, test
accuracy, machine, date, command).

The training notebook's "stored" mode uses :func:`load_stored_run` to show a full run without
training one.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from convmixer._util import atomic_write_text
from convmixer.analysis.cost import count_parameters
from convmixer.machine import machine_info, utc_timestamp
from convmixer.model import ConvMixer
from convmixer.train.checkpoint import load_model, save_checkpoint
from convmixer.train.distributed import state_digest
from convmixer.train.evaluate import Evaluation
from convmixer.train.profiles import TrainProfile
from convmixer.train.run import EpochRecord


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
    records = [dataclasses.asdict(record) for record in history]
    summary = {
        "dataset": dataset,
        "test_accuracy": round(evaluation.accuracy, 6),
        "test_images": int(evaluation.confusion.sum()),
    }
    weights = {
        name: (tensor.detach().float() if tensor.is_floating_point() else tensor.detach()).cpu().contiguous()
        for name, tensor in model.state_dict().items()
    }
    config = dataclasses.asdict(model.config())
    save_checkpoint(
        path,
        {"model_config": config, "model": weights, "profile": profile.to_dict(),
         "metrics": {"history": records, **summary}},
    )
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
    record_path = atomic_write_text(path.with_suffix(".json"), json.dumps(record, indent=1) + "\n")
    return path, record_path


@dataclass(frozen=True)
class StoredRun:
    """A shipped run: the trained ``model`` (eval mode, CPU), the ``profile`` it was trained
    with, its per-epoch ``history`` and the whole JSON ``record``.

    The record's optional ``notes`` say on which split the per-epoch numbers were measured
    (``per_epoch_split``, e.g. ``"validation"``) and on how many images
    (``per_epoch_images``); a record without them was evaluated on the whole test split after
    every epoch.
    """

    model: ConvMixer
    profile: TrainProfile
    history: list[EpochRecord]
    record: dict[str, Any]

    @property
    def per_epoch_split(self) -> str:
        """The split the history's per-epoch loss and accuracy were measured on."""
        return str(self.record.get("notes", {}).get("per_epoch_split", "test"))

    @property
    def per_epoch_images(self) -> int:
        """How many images each per-epoch evaluation used."""
        return int(self.record.get("notes", {}).get("per_epoch_images", self.record["test_images"]))


def load_stored_run(path: str | os.PathLike) -> StoredRun:
    """Read the exported model at ``path`` (``.pt``) and its record (the ``.json`` beside it).

    Raises:
        ValueError: the record is missing or unreadable, or its ``file_sha256`` is not the
            model file's (the two do not belong together);
            :class:`~convmixer.train.checkpoint.CheckpointError` for an unreadable model file.
    """
    path = Path(path)
    record_path = path.with_suffix(".json")
    try:
        record = json.loads(record_path.read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise ValueError(f"cannot read the run record {record_path} that belongs to {path}: {error}") from None
    model = load_model(path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if record.get("file_sha256", digest) != digest:
        raise ValueError(
            f"{record_path} describes another file (SHA-256 {record['file_sha256'][:12]}..., "
            f"{path.name} has {digest[:12]}...); ship the two together"
        )
    profile = TrainProfile.from_dict(record["profile"])
    history = [EpochRecord(**epoch) for epoch in record["history"]]
    return StoredRun(model, profile, history, record)
