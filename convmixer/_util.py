"""Small pieces the package shares: argument checks, an eval-mode context, a thread-count
context and atomic file writes. Private: the public modules re-export what readers need."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path
from typing import Callable, Iterator

import torch
from torch import nn


def check_positive_int(name: str, value: object) -> int:
    """Return ``value`` if it is an integer >= 1, else raise one clear ``ValueError``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    return value


def check_int_in_range(name: str, value: object, low: int, high: int) -> int:
    """Return ``value`` if it is an integer in ``[low, high]``, else raise one clear ``ValueError``."""
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{name} must be an integer between {low} and {high}, got {value!r}")
    return value


@contextlib.contextmanager
def eval_mode(model: nn.Module) -> Iterator[nn.Module]:
    """Run the body with ``model`` in eval mode and without gradients; restore its mode after."""
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            yield model
    finally:
        model.train(was_training)


@contextlib.contextmanager
def torch_threads(count: int) -> Iterator[None]:
    """Run the body with ``torch.set_num_threads(count)``; restore the previous count after."""
    before = torch.get_num_threads()
    torch.set_num_threads(check_positive_int("count", count))
    try:
        yield
    finally:
        torch.set_num_threads(before)


def atomic_write(path: str | os.PathLike, write: Callable[[object], None], binary: bool = True) -> Path:
    """Write a file so that it is either complete or absent: ``write(file)`` fills a temporary
    file in the same folder, which is flushed, synced and renamed over ``path``. A failure
    leaves whatever was at ``path`` before untouched. The file gets the permissions of the one it
    replaces, or those a plain ``open`` would give a new file (not the temporary file's 0600).
    Returns ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = _file_mode(path)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb" if binary else "w") as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
    return path


def _file_mode(path: Path) -> int:
    """The permission bits of ``path``, or ``0o666`` less the umask when it does not exist."""
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """:func:`atomic_write` for a text file."""
    return atomic_write(path, lambda file: file.write(text), binary=False)
