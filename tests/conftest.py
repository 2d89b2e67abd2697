"""pytest fixtures over the helpers in ``support.py``, and the session's matplotlib backend.

pytest imports this file before any test module, so selecting the non-interactive Agg backend
here covers every test (no per-module ``matplotlib.use`` before the imports). It is selected with
``matplotlib.use`` rather than by setting ``MPLBACKEND``: an environment variable would reach the
Jupyter kernels that nbval and the browser test start, and replace their inline backend.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Iterator

import matplotlib
import pytest
from support import TinyFolder, make_tiny_folder, single_thread

matplotlib.use("Agg")


@pytest.fixture
def single_threaded() -> Iterator[None]:
    """:func:`single_thread` for the duration of a test."""
    with single_thread():
        yield


@pytest.fixture(scope="session")
def tiny_folder(tmp_path_factory: pytest.TempPathFactory) -> TinyFolder:
    """10 classes x (6 train + 2 test) PNG images, as a directory and as a zip."""
    return make_tiny_folder(tmp_path_factory.mktemp("tiny_folder"))


@pytest.fixture(scope="session")
def trainable_folder(tmp_path_factory: pytest.TempPathFactory) -> TinyFolder:
    """10 classes x (24 train + 4 test) learnable PNG images, for command-line training runs."""
    return make_tiny_folder(tmp_path_factory.mktemp("trainable_folder"), 24, 4)


@pytest.fixture
def fresh_copy(tmp_path: Path):
    """Copy a folder tree into this test's temporary directory (to damage it safely)."""

    def copy(source: Path) -> Path:
        target = tmp_path / source.name
        shutil.copytree(source, target)
        return target

    return copy
