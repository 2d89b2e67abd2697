"""CIFAR-10 as two in-memory uint8 tensors, from whichever copy of the dataset is at hand.

Sources, all giving the same result (``images`` uint8 ``(N, 3, 32, 32)``, ``labels`` int64 ``(N,)``,
CIFAR-10's class order):

1. torchvision's ``CIFAR10`` files (``cifar-10-batches-py/``), found on disk or downloaded;
2. an image-folder copy, as a directory or a ``.zip``, laid out as
   ``<root>/{train,test}/<class>/<image>.jpg`` (``.jpeg`` and ``.png`` work too), e.g. the JPEG
   copy ``cifar10-jpeg.zip`` whose class folders are named after CIFAR-10's classes.

:func:`load_cifar10` picks the source (argument, then the ``CONVMIXER_DATA`` environment
variable, then torchvision's files in the cache directory, then a torchvision download).
Decoding 60,000 small images takes seconds, so an image folder is decoded once and the arrays
are cached (``~/.cache/convmixer`` or ``CONVMIXER_CACHE``); the cache is checked against a
SHA-256 digest on every load and rebuilt when it is damaged or the source changed.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import io
import json
import os
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import torch
from PIL import Image

from convmixer._util import atomic_write, atomic_write_text

CIFAR10_CLASSES: tuple[str, ...] = (
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)
IMAGE_SIZE = 32
SPLIT_SIZES = {"train": 50_000, "test": 10_000}
DATA_ENV = "CONVMIXER_DATA"
CACHE_ENV = "CONVMIXER_CACHE"
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")
TORCHVISION_FOLDER = "cifar-10-batches-py"
LAYOUT = "<root>/{train,test}/<class>/<image>.jpg"

Split = Literal["train", "test"]


@dataclass(frozen=True)
class ImageDataset:
    """A labelled set of images held in memory.

    ``images``: uint8 ``(N, 3, H, W)``; ``labels``: int64 ``(N,)`` indexing ``classes``;
    ``source``: where the images came from (for messages and notebooks); ``split``: which split
    they are, as results measured on them are named (``"train"``, ``"test"``, or ``"validation"``
    for images held out of the training split by :func:`convmixer.data.splits.hold_out`).
    """

    images: torch.Tensor
    labels: torch.Tensor
    classes: tuple[str, ...]
    source: str
    split: str = "test"

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def label(self) -> str:
        """How results on these images are named: ``"CIFAR-10 (JPEG copy)"`` for the JPEG
        re-encoding (lossy, so its accuracies are not the original dataset's), else ``"CIFAR-10"``."""
        return "CIFAR-10 (JPEG copy)" if "jpeg" in self.source.lower() else "CIFAR-10"

    def subset(self, size: int | None, seed: int = 0) -> "ImageDataset":
        """``size`` images drawn at random without replacement (a fixed draw for each ``seed``),
        or ``self`` when ``size`` is ``None`` or covers the whole set."""
        if size is None or size >= len(self):
            return self
        if size < 1:
            raise ValueError(f"subset size must be >= 1, got {size}")
        generator = torch.Generator().manual_seed(seed)
        index = torch.randperm(len(self), generator=generator)[:size].sort().values
        return ImageDataset(self.images[index], self.labels[index], self.classes, self.source, self.split)


def default_cache_dir() -> Path:
    """``$CONVMIXER_CACHE``, else ``$XDG_CACHE_HOME/convmixer``, else ``~/.cache/convmixer``."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "convmixer"


def load_cifar10(
    split: Split = "train",
    source: str | os.PathLike | None = None,
    cache_dir: str | os.PathLike | None = None,
    download: bool = True,
) -> ImageDataset:
    """Load one split of CIFAR-10 as uint8 ``(N, 3, 32, 32)`` images and int64 labels.

    Args:
        split: ``"train"`` (50,000 images) or ``"test"`` (10,000).
        source: a directory holding torchvision's ``cifar-10-batches-py/`` (or that folder
            itself), an image-folder directory or ``.zip`` laid out as
            ``<root>/{train,test}/<class>/<image>.jpg``, or ``"torchvision"`` for torchvision's
            files in ``cache_dir`` (downloaded if missing). ``None``: ``$CONVMIXER_DATA`` if set,
            else torchvision's files in ``cache_dir``, else a download.
        cache_dir: where downloads and decoded image folders are kept (default
            :func:`default_cache_dir`).
        download: allow torchvision to download the dataset when no copy is found.

    Raises:
        ValueError: no source could be used (the message lists what was tried and how to
            supply one), or the source's layout is wrong (it names the missing class folder,
            wrongly sized image, or empty split).
    """
    if split not in SPLIT_SIZES:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    return dataclasses.replace(_load_split(split, source, cache_dir, download), split=split)


def _load_split(split: Split, source: str | os.PathLike | None, cache_dir: str | os.PathLike | None,
                download: bool) -> ImageDataset:
    cache = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    if source is None and os.environ.get(DATA_ENV):
        source = os.environ[DATA_ENV]
    if source is not None and str(source) != "torchvision":
        return _load_path(Path(source).expanduser(), split, cache)

    tried = []
    if (cache / TORCHVISION_FOLDER).is_dir():
        return _load_torchvision(cache, split)
    tried.append(f"torchvision's files in {cache / TORCHVISION_FOLDER} (not there)")
    if download:
        try:
            return _download_torchvision(cache, split)
        except (OSError, RuntimeError) as error:  # no network (URLError), broken download
            tried.append(f"a download with torchvision into {cache} (failed: {error})")
    else:
        tried.append("a download (not allowed: download=False)")
    raise ValueError(
        "no CIFAR-10 data found; tried "
        + "; ".join(tried)
        + f". Supply a copy with source=PATH (CLI: --data PATH) or the {DATA_ENV} environment "
        f"variable: a folder holding torchvision's {TORCHVISION_FOLDER}/, or an image-folder "
        f"directory or .zip laid out as {LAYOUT} (such as cifar10-jpeg.zip)"
    )


def _load_path(path: Path, split: Split, cache: Path) -> ImageDataset:
    if not path.exists():
        raise ValueError(f"CIFAR-10 source {path} does not exist")
    if path.is_dir() and path.name == TORCHVISION_FOLDER:
        return _load_torchvision(path.parent, split)
    if path.is_dir() and (path / TORCHVISION_FOLDER).is_dir():
        return _load_torchvision(path, split)
    if path.is_dir() or zipfile.is_zipfile(path):
        return _load_image_folder(path, split, cache)
    raise ValueError(
        f"CIFAR-10 source {path} is neither a directory nor a .zip archive; expected "
        f"torchvision's {TORCHVISION_FOLDER}/ or an image folder laid out as {LAYOUT}"
    )


# --- torchvision's pickled batches -------------------------------------------------------------


def _load_torchvision(root: Path, split: Split) -> ImageDataset:
    from torchvision.datasets import CIFAR10

    try:
        dataset = CIFAR10(str(root), train=split == "train", download=False)
    except RuntimeError as error:  # "Dataset not found or corrupted."
        raise ValueError(
            f"torchvision's CIFAR-10 files in {root / TORCHVISION_FOLDER} are incomplete or "
            f"corrupted ({error}); delete the folder to download them again"
        ) from None
    return _from_torchvision(dataset, root)


def _download_torchvision(root: Path, split: Split) -> ImageDataset:
    from torchvision.datasets import CIFAR10

    root.mkdir(parents=True, exist_ok=True)
    dataset = CIFAR10(str(root), train=split == "train", download=True)
    return _from_torchvision(dataset, root)


def _from_torchvision(dataset, root: Path) -> ImageDataset:
    images = torch.from_numpy(dataset.data).permute(0, 3, 1, 2).contiguous()
    labels = torch.tensor(dataset.targets, dtype=torch.int64)
    return ImageDataset(images, labels, tuple(dataset.classes), f"torchvision CIFAR10 ({root})")


# --- image folders (directory or zip) ----------------------------------------------------------


class _Tree:
    """Read-only view of the files of a directory or a zip archive, by POSIX relative path."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._zip: zipfile.ZipFile | None = None

    @property
    def zip(self) -> zipfile.ZipFile | None:
        """The open archive (opened on first use: listing a big zip takes a while), or ``None``
        for a directory."""
        if self._zip is None and not self.path.is_dir():
            self._zip = zipfile.ZipFile(self.path)
        return self._zip

    @functools.cached_property
    def files(self) -> list[tuple[str, int]]:
        """(relative path, size in bytes) of every file, sorted by path."""
        if self.zip is not None:
            found = [(i.filename, i.file_size) for i in self.zip.infolist() if not i.is_dir()]
        else:
            found = [
                (Path(d, n).relative_to(self.path).as_posix(), Path(d, n).stat().st_size)
                for d, _, names in os.walk(self.path)
                for n in names
            ]
        return sorted(found)

    def read(self, name: str) -> bytes:
        if self.zip is not None:
            return self.zip.read(name)
        return (self.path / name).read_bytes()

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()


def _split_listing(tree: _Tree, split: Split) -> tuple[str, dict[str, list[str]]]:
    """Find ``[prefix/]split/`` in the tree and group its image files by class folder."""
    images = [name for name, _ in tree.files if name.lower().endswith(IMAGE_SUFFIXES)]
    # The split folder is the top level or one folder down (e.g. ``cifar10-jpeg/train``).
    candidates = (f"{split}/", *sorted({n.split("/", 1)[0] + f"/{split}/" for n in images}))
    prefix = next((c for c in candidates if any(n.startswith(c) for n in images)), None)
    if prefix is None:
        raise ValueError(
            f"image folder {tree.path} has no images in '{split}/<class>/' (the {split} split "
            f"is missing or empty); expected the layout {LAYOUT}"
        )
    by_class: dict[str, list[str]] = {}
    for name in images:
        if name.startswith(prefix):
            parts = name[len(prefix) :].split("/")
            if len(parts) != 2:
                raise ValueError(
                    f"image folder {tree.path}: {name} is not directly inside a class folder; "
                    f"expected the layout {LAYOUT}"
                )
            by_class.setdefault(parts[0], []).append(name)
    return prefix.rstrip("/"), by_class


def _check_classes(tree: _Tree, split_dir: str, by_class: dict[str, list[str]]) -> None:
    missing = [c for c in CIFAR10_CLASSES if c not in by_class]
    unexpected = sorted(set(by_class) - set(CIFAR10_CLASSES))
    if missing:
        raise ValueError(
            f"image folder {tree.path}: {split_dir}/ has no images for class folder(s) "
            f"{', '.join(missing)}; CIFAR-10 needs one folder per class: {', '.join(CIFAR10_CLASSES)}"
        )
    if unexpected:
        raise ValueError(
            f"image folder {tree.path}: {split_dir}/ has unexpected class folder(s) "
            f"{', '.join(unexpected)}; CIFAR-10's classes are {', '.join(CIFAR10_CLASSES)}"
        )


def _fingerprint(tree: _Tree, split: Split) -> str:
    """Digest of what the decoded arrays depend on: the source's path, size and modification
    time and, for a directory, the name and size of every file in it."""
    stat = tree.path.stat()
    digest = hashlib.sha256(f"{tree.path.resolve()}|{split}|{stat.st_size}|{stat.st_mtime_ns}".encode())
    if tree.path.is_dir():
        for name, size in tree.files:
            digest.update(f"{name}|{size}\n".encode())
    return digest.hexdigest()


def _load_image_folder(path: Path, split: Split, cache: Path) -> ImageDataset:
    tree = _Tree(path)
    try:
        key = _fingerprint(tree, split)
        cache_file = cache / f"cifar10-{split}-{key[:16]}.pt"
        cached = _read_cache(cache_file)
        if cached is None:
            cached = _decode_split(tree, split)
            _write_cache(cache_file, cached)
    finally:
        tree.close()
    images, labels = cached
    return ImageDataset(images, labels, CIFAR10_CLASSES, f"image folder {path}")


def _decode_split(tree: _Tree, split: Split) -> tuple[torch.Tensor, torch.Tensor]:
    split_dir, by_class = _split_listing(tree, split)
    _check_classes(tree, split_dir, by_class)
    names = [name for cls in CIFAR10_CLASSES for name in sorted(by_class[cls])]
    labels = torch.tensor(
        [label for label, cls in enumerate(CIFAR10_CLASSES) for _ in by_class[cls]], dtype=torch.int64
    )
    images = np.empty((len(names), IMAGE_SIZE, IMAGE_SIZE, 3), dtype=np.uint8)
    contents = (tree.read(name) for name in names)  # read in order: zip access is not thread-safe
    with ThreadPoolExecutor(max_workers=os.cpu_count()) as pool:  # Pillow decodes without the GIL
        for i, pixels in enumerate(pool.map(_decode_image, names, contents, chunksize=256)):
            if isinstance(pixels, str):
                raise ValueError(f"image folder {tree.path}: {pixels}")
            images[i] = pixels
    return torch.from_numpy(images).permute(0, 3, 1, 2).contiguous(), labels


def _decode_image(name: str, content: bytes) -> np.ndarray | str:
    """``(32, 32, 3)`` uint8 RGB pixels, or a sentence saying what is wrong with the file."""
    try:
        with Image.open(io.BytesIO(content)) as image:
            pixels = np.asarray(image.convert("RGB"))
    except (OSError, ValueError) as error:
        return f"cannot decode {name} ({error})"
    if pixels.shape[:2] != (IMAGE_SIZE, IMAGE_SIZE):
        return (
            f"{name} is {pixels.shape[1]}x{pixels.shape[0]} pixels, "
            f"CIFAR-10 images are {IMAGE_SIZE}x{IMAGE_SIZE}"
        )
    return pixels


# --- the cache of decoded arrays ---------------------------------------------------------------


def _read_cache(path: Path) -> tuple[torch.Tensor, torch.Tensor] | None:
    """The cached arrays, or ``None`` when the cache is missing or fails its size/SHA-256 check."""
    meta_path = path.with_suffix(".json")
    try:
        meta = json.loads(meta_path.read_text())
        data = path.read_bytes()
    except (OSError, ValueError):
        return None
    if len(data) != meta.get("size") or hashlib.sha256(data).hexdigest() != meta.get("sha256"):
        return None
    try:
        arrays = torch.load(io.BytesIO(data), weights_only=True)
        return arrays["images"], arrays["labels"]
    except Exception:  # a digest collision with a broken file is not worth a traceback
        return None


def _write_cache(path: Path, arrays: tuple[torch.Tensor, torch.Tensor]) -> None:
    """Write the arrays and their digest atomically; a read-only cache dir only costs speed."""
    buffer = io.BytesIO()
    torch.save({"images": arrays[0], "labels": arrays[1]}, buffer)
    data = buffer.getvalue()
    meta = {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    try:
        atomic_write(path, lambda file: file.write(data))
        atomic_write_text(path.with_suffix(".json"), json.dumps(meta))
    except OSError:
        pass
