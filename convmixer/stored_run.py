"""A finished training run read back from what ships with the package: the exported model
(``checkpoints/convmixer_cpu.pt``, see :func:`convmixer.checkpoint.export_model`) and the JSON
record beside it (profile, per-epoch history, test accuracy, machine, date, command).

The training notebook's "stored" mode uses it to show a full run without training one.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from convmixer.checkpoint import load_model
from convmixer.model import ConvMixer
from convmixer.train import EpochRecord, TrainProfile


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
            :class:`~convmixer.checkpoint.CheckpointError` for an unreadable model file.
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
