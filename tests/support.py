"""Test helpers shared by several modules: tiny generated datasets (never the real data), a tiny
model and training profile, subprocess environments, what a widget panel shows, and the headless
Chromium of the browser tests.

Import them with ``from support import ...``; pytest fixtures built on them live in ``conftest.py``
(a test module cannot import from ``conftest``: there are two, and the first one loaded wins)."""

from __future__ import annotations

import functools
import html
import importlib.util
import os
import re
import socket
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import ContextManager, NoReturn

import ipywidgets as widgets
import pytest
import torch
from PIL import Image

from convmixer._util import torch_threads
from convmixer.data.augment import AugmentConfig
from convmixer.data.sources import CIFAR10_CLASSES, ImageDataset, load_cifar10
from convmixer.model import ConvMixer, ConvMixerConfig
from convmixer.train import SMOKE

REPO = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class TinyFolder:
    """A generated image folder (``root/tiny/{train,test}/<class>/NNNN.png``), its zip, and the
    images written, in the order the loader must return them (by class, then file name)."""

    directory: Path
    zip: Path
    train: torch.Tensor
    test: torch.Tensor
    train_labels: torch.Tensor
    test_labels: torch.Tensor


def synthetic_images(labels: torch.Tensor, seed: int) -> torch.Tensor:
    """uint8 ``(N, 3, 32, 32)`` images a small network can learn: each class has its own colour
    and stripe direction, plus noise."""
    generator = torch.Generator().manual_seed(seed)
    colors = torch.rand(len(CIFAR10_CLASSES), 3, 1, 1, generator=torch.Generator().manual_seed(123))
    grid = torch.arange(32.0)
    images = []
    for label in labels.tolist():
        angle = label * torch.pi / len(CIFAR10_CLASSES)
        stripes = torch.sin((grid.view(-1, 1) * torch.cos(torch.tensor(angle)) + grid * torch.sin(torch.tensor(angle))) / 2)
        image = 0.5 * colors[label] + 0.25 * (1 + stripes) * colors[(label + 3) % 10]
        image = image + 0.15 * torch.rand(3, 32, 32, generator=generator)
        images.append((image.clamp(0, 1) * 255).round().to(torch.uint8))
    return torch.stack(images)


def synthetic(per_class: int, seed: int, split: str = "test") -> ImageDataset:
    """An in-memory dataset of :func:`synthetic_images`, ``per_class`` images per class, named
    as the ``split`` it stands for."""
    labels = torch.arange(len(CIFAR10_CLASSES)).repeat_interleave(per_class)
    return ImageDataset(synthetic_images(labels, seed), labels, CIFAR10_CLASSES, "synthetic", split)


# The smoke profile made small enough to train in a second on a CPU core, on datasets passed in,
# without the cpu recipe's tricks.
TINY = SMOKE.replace(
    name="tiny",
    model_overrides={"dim": 16, "depth": 2, "patch_size": 4},
    batch_size=20,
    augment=AugmentConfig(crop_padding=2, flip=True),
    train_subset=None,
    test_subset=None,
    # the tricks each have their own tests (tests/train/test_recipe_tricks.py)
    progressive_size=None,
    progressive_epochs=0,
    dirac_depthwise=False,
    norm_bias_lr_scale=1.0,
)


def tiny_model(
    seed: int = 0, depth: int = 2, *, dim: int = 16, kernel_size: int = 5, patch_size: int = 4,
    activation: str = "gelu", varied_norms: bool = False,
) -> ConvMixer:
    """ConvMixer-``dim``/``depth`` (default 16/2, k = 5, p = 4), initialised after
    ``torch.manual_seed(seed)``, in training mode. ``varied_norms``: every BatchNorm gets running
    statistics and a scale and shift other than the initial ones, so that eval mode matters."""
    torch.manual_seed(seed)
    model = ConvMixer(ConvMixerConfig(dim, depth, kernel_size, patch_size, activation=activation))
    if varied_norms:
        with torch.no_grad():
            for module in model.modules():
                if isinstance(module, torch.nn.BatchNorm2d):
                    module.running_mean.uniform_(-0.5, 0.5)
                    module.running_var.uniform_(0.5, 2.0)
                    module.weight.uniform_(0.5, 1.5)
                    module.bias.uniform_(-0.5, 0.5)
    return model


def single_thread() -> ContextManager[None]:
    """Run torch on one thread inside the block: on shared cores two OpenMP threads can be
    several times slower than one, and the result does not depend on the count."""
    return torch_threads(1)


def panel_controls(panel: object) -> dict[str, widgets.Widget]:
    """A notebook panel's controls by their ``cm-`` class, from every row of controls."""
    rows = [child for child in panel.panel.children if isinstance(child, widgets.HBox)]
    return {name: w for row in rows for w in row.children for name in w._dom_classes if name.startswith("cm-")}


def readout_text(panel: object) -> str:
    """A panel's readout as a reader sees it: tags removed, entities (``&times;``) decoded."""
    return html.unescape(re.sub(r"<[^>]+>", "", panel.readout.value))


def write_split(root: Path, split: str, per_class: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    labels = torch.arange(len(CIFAR10_CLASSES)).repeat_interleave(per_class)
    images = synthetic_images(labels, seed)
    for i, (image, label) in enumerate(zip(images, labels.tolist())):
        folder = root / split / CIFAR10_CLASSES[label]
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(image.permute(1, 2, 0).numpy()).save(folder / f"{i % per_class:04d}.png")
    return images, labels


def zip_tree(directory: Path, archive: Path, top: str) -> Path:
    """Zip ``directory`` with every entry under the folder ``top/`` (like cifar10-jpeg.zip)."""
    with zipfile.ZipFile(archive, "w") as out:
        for file in sorted(directory.rglob("*")):
            if file.is_file():
                out.write(file, f"{top}/{file.relative_to(directory).as_posix()}")
    return archive


def make_tiny_folder(base: Path, train_per_class: int = 6, test_per_class: int = 2) -> TinyFolder:
    directory = base / "tiny"
    train, train_labels = write_split(directory, "train", train_per_class, seed=1)
    test, test_labels = write_split(directory, "test", test_per_class, seed=2)
    archive = zip_tree(directory, base / "tiny.zip", "tiny")
    return TinyFolder(directory, archive, train, test, train_labels, test_labels)


def real_cifar_zip() -> Path | None:
    """The real CIFAR-10 JPEG zip named by ``CONVMIXER_DATA`` (the Makefile sets it), if any."""
    value = os.environ.get("CONVMIXER_DATA", "")
    path = Path(value) if value else None
    return path if path is not None and path.is_file() else None


@functools.cache
def cifar10_at_hand() -> bool:
    """Whether CIFAR-10 can be loaded here without a download (``CONVMIXER_DATA`` or torchvision's
    files in the cache): what decides whether a widget's Train button can train."""
    try:
        load_cifar10("test", download=False)
    except ValueError:
        return False
    return True


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def subprocess_env(**extra: str) -> dict[str, str]:
    """The environment for a training subprocess: one thread (deterministic, and kind to shared
    cores), no dataset from the outer environment, the repository importable."""
    env = {k: v for k, v in os.environ.items() if k != "CONVMIXER_DATA"}
    env.update(OMP_NUM_THREADS="1", PYTHONPATH=str(REPO), **extra)
    return env


def load_script(name: str, folder: str = "scripts") -> ModuleType:
    """The module ``<folder>/<name>.py`` (``scripts/`` or ``benchmarks/``), loaded fresh (neither
    folder is a package)."""
    path = Path(__file__).resolve().parents[1] / folder / f"{name}.py"
    if str(path.parent) not in sys.path:  # a script imports its siblings (scripts/study_cli.py), as when run
        sys.path.append(str(path.parent))
    spec = importlib.util.spec_from_file_location(f"{name}_{folder}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def small_model(kernel_size: int = 3, seed: int = 0) -> ConvMixer:
    """ConvMixer-8/2 with non-trivial BatchNorm statistics (so eval mode matters): the model the
    inspection tests look inside."""
    return tiny_model(seed, dim=8, kernel_size=kernel_size, varied_norms=True)


def as_input(images: torch.Tensor) -> torch.Tensor:
    """uint8 images as the model's input, scaled to [-1, 1]."""
    return images.float() / 127.5 - 1


# --- headless Chromium (tests/browser, tests/site) ------------------------------------------------

CHROMIUM = Path("/usr/bin/chromium")
# Playwright cannot download its own browser here, so it drives Debian's. These flags keep it
# headless, without the sandbox (we run as root in a container) and quiet on the network (no
# background fetches, component updates or sync; the tests only talk to 127.0.0.1).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def unavailable(reason: str) -> NoReturn:
    """Skip with ``reason`` -- or fail under CI, where the browser tests must run."""
    if in_ci():
        pytest.fail(f"{reason} (CI is set, so the browser tests must run)", pytrace=False)
    pytest.skip(reason)
