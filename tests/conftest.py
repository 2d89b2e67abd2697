"""pytest fixtures over the helpers in ``support.py``."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Iterator

import pytest

from support import TinyFolder, make_tiny_folder, single_thread


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
