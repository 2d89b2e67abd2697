"""Checkpoints: a training run's state, to continue it exactly, or a trained model, to use it.

A checkpoint is a plain dictionary saved with ``torch.save`` and read back with
``torch.load(weights_only=True)``: tensors, numbers, strings, lists and dicts only (no pickled
classes), so loading one never runs code from the file. Every file has

- ``format`` / ``version``: identify the file as a convmixer checkpoint;
- ``model_config``: the :class:`~convmixer.model.ConvMixerConfig` as a dict (rebuilds the model;
  files written before ``activation`` or ``residual`` existed load as GELU with the paper's skip);
- ``model``: the weights (``state_dict()``).

A *training* checkpoint (what :func:`convmixer.train.fit` writes after every epoch) also has the
state a run resumes from (:data:`TRAINING_KEYS`):

- ``profile``: the training profile as a dict (a run only resumes from its own profile);
- ``optimizer``, ``scheduler``, ``scaler``: their ``state_dict()``;
- ``rng``: random-number-generator states as uint8 tensors;
- ``epoch``, ``step``: where training stands (``step`` batches done within ``epoch``);
- ``metrics``: the per-epoch history so far and the running sums of the current epoch;
- ``lookahead``: the weights' running average, for profiles with ``lookahead_every``
  (:mod:`convmixer.train.lookahead`).

An *exported* model (:func:`convmixer.train.export.export_model`) keeps only the float32 weights,
the config, the profile and the results, at a third of the size: :func:`load_model` reads it,
resuming refuses it.

Files are written atomically (a temporary file in the same folder, then ``os.replace``): a run
killed while saving leaves the previous checkpoint intact.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

import torch
from torch import nn

from convmixer._util import atomic_write
from convmixer.model import ConvMixer, ConvMixerConfig
from convmixer.train.lookahead import Lookahead

FORMAT = "convmixer-checkpoint"
VERSION = 1
MODEL_KEYS = ("model_config", "model")
TRAINING_KEYS = ("profile", "optimizer", "scheduler", "scaler", "rng", "epoch", "step", "metrics")
CHECKPOINT_NAME = "checkpoint.pt"


class CheckpointError(ValueError):
    """A checkpoint file that cannot be used; the message names the file and the problem."""


def save_checkpoint(path: str | os.PathLike, state: dict[str, Any]) -> None:
    """Write ``state`` (plus the format tag) to ``path`` atomically."""
    atomic_write(path, lambda file: torch.save({"format": FORMAT, "version": VERSION, **state}, file))


def save_model(path: str | os.PathLike, model: ConvMixer, **extra: Any) -> None:
    """Write ``model`` alone to ``path`` atomically: its config and float32 weights (contiguous, on
    the CPU), plus ``extra`` entries (e.g. ``profile``); :func:`load_model` reads it back."""
    weights = {
        name: (tensor.detach().float() if tensor.is_floating_point() else tensor.detach()).cpu().contiguous()
        for name, tensor in model.state_dict().items()
    }
    save_checkpoint(path, {"model_config": dataclasses.asdict(model.config), "model": weights, **extra})


def load_checkpoint(
    path: str | os.PathLike, map_location: str | torch.device = "cpu", *, resumable: bool = False
) -> dict[str, Any]:
    """Read a checkpoint written by :func:`save_checkpoint` (a file or a run's output folder).

    With ``resumable``, the file must also hold the training state a run resumes from
    (:data:`TRAINING_KEYS`); an exported model does not.

    Raises:
        CheckpointError: the file is missing, truncated or corrupt, is not a convmixer
            checkpoint of this version, or lacks what was asked for.
    """
    path = checkpoint_path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as error:  # truncated zip archive, bad magic number, EOF, foreign objects...
        if "Unsupported global" in str(error):
            raise CheckpointError(
                f"checkpoint {path} holds Python objects other than tensors and plain data, which a "
                "weights-only load refuses to run; it was not written by this package"
            ) from None
        raise CheckpointError(
            f"checkpoint {path} is truncated or corrupt and cannot be read ({_first_line(error)})"
        ) from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a convmixer training checkpoint")
    if state.get("version") != VERSION:
        raise CheckpointError(
            f"checkpoint {path} has format version {state.get('version')!r}; this code reads version {VERSION}"
        )
    missing = [key for key in MODEL_KEYS if key not in state]
    if resumable and not missing and not state.get("optimizer"):
        raise CheckpointError(
            f"checkpoint {path} holds a trained model without its training state (optimizer, schedule, "
            "random generators), so the run cannot be resumed from it; start a fresh run in another folder"
        )
    missing += [key for key in TRAINING_KEYS if resumable and key not in state]
    if missing:
        raise CheckpointError(f"checkpoint {path} is incomplete: it lacks {', '.join(missing)}")
    return state


def _first_line(error: BaseException) -> str:
    """The error's first line if it is short, else its type: torch's messages run long."""
    lines = str(error).strip().splitlines()
    return lines[0] if lines and len(lines[0]) <= 120 else type(error).__name__


def checkpoint_path(path: str | os.PathLike) -> Path:
    """``path`` itself, or ``path/checkpoint.pt`` when ``path`` is a run's output folder."""
    path = Path(path)
    return path / CHECKPOINT_NAME if path.is_dir() else path


def model_from_checkpoint(state: dict[str, Any], path: str | os.PathLike = "checkpoint") -> ConvMixer:
    """Build the ConvMixer described by a loaded checkpoint and load its weights."""
    try:
        config = ConvMixerConfig(**state["model_config"])
        model = ConvMixer(config)
        model.load_state_dict(state["model"])
    except (TypeError, ValueError, RuntimeError) as error:
        raise CheckpointError(
            f"checkpoint {path} holds weights that do not fit its model config ({_first_line(error)})"
        ) from None
    return model


def load_model(path: str | os.PathLike, device: str | torch.device = "cpu") -> ConvMixer:
    """The trained ConvMixer stored in a checkpoint (a training checkpoint, its run folder, or an
    exported model), in eval mode on ``device``.

    >>> model = load_model("runs/cpu")            # doctest: +SKIP
    >>> model(images).argmax(1)                    # doctest: +SKIP
    """
    state = load_checkpoint(path)
    return model_from_checkpoint(state, checkpoint_path(path)).to(device).eval()


def training_state(
    *,
    config: ConvMixerConfig,
    profile: dict[str, Any],
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: torch.optim.lr_scheduler.LRScheduler,
    scaler: torch.amp.GradScaler,
    epoch: int,
    step: int,
    metrics: dict[str, Any],
    lookahead: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The dictionary :func:`save_checkpoint` writes, with the current RNG states (and the
    lookahead average's state, for profiles that have one)."""
    cuda = torch.cuda.get_rng_state_all() if torch.cuda.is_available() and torch.cuda.is_initialized() else []
    return {
        "model_config": dataclasses.asdict(config),
        "profile": profile,
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict(),
        "scaler": scaler.state_dict(),
        "rng": {"torch": torch.get_rng_state(), "cuda": cuda},
        "epoch": epoch,
        "step": step,
        "metrics": metrics,
        **({} if lookahead is None else {"lookahead": lookahead}),
    }


def restore_training_state(
    state: dict[str, Any],
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: torch.optim.lr_scheduler.LRScheduler,
    scaler: torch.amp.GradScaler,
    lookahead: Lookahead | None = None,
    path: str | os.PathLike = "checkpoint",
) -> None:
    """Load a checkpoint's model, optimizer, scheduler, scaler, RNG states and, with ``lookahead``
    (a :class:`~convmixer.train.lookahead.Lookahead`), its average in place."""
    try:
        if lookahead is not None:
            lookahead.load_state_dict(state["lookahead"])
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        scaler.load_state_dict(state["scaler"])
        torch.set_rng_state(state["rng"]["torch"])
        if state["rng"]["cuda"] and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state["rng"]["cuda"])
    except (KeyError, TypeError, ValueError, RuntimeError) as error:
        raise CheckpointError(
            f"checkpoint {path} does not match this model and optimizer ({_first_line(error)})"
        ) from None
