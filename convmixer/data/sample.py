"""Real pictures that ship with the package, for illustrations that must work offline.

- ``cifar10_sample()``: 300 CIFAR-10 test images (30 per class), taken from the JPEG copy of
  CIFAR-10 (``cifar10-jpeg/test/<class>/0000-0029.jpg``) and stored decoded in
  ``convmixer/assets/cifar10_sample.npz``.
- ``photo()``: a larger photograph (Grace Hopper, 512x600), the sample image that matplotlib ships.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

import matplotlib.cbook
import numpy as np
import torch
from PIL import Image


@dataclass(frozen=True)
class ImageSample:
    """Images ``(N, 3, H, W)`` uint8, integer labels ``(N,)``, class names and source files."""

    images: torch.Tensor
    labels: torch.Tensor
    classes: tuple[str, ...]
    files: tuple[str, ...]


def cifar10_sample() -> ImageSample:
    """The bundled 300-image CIFAR-10 sample (30 test images per class, shuffled)."""
    with resources.files("convmixer").joinpath("assets/cifar10_sample.npz").open("rb") as f:
        data = np.load(f)
        images = torch.from_numpy(data["images"]).permute(0, 3, 1, 2).contiguous()
        return ImageSample(
            images=images,
            labels=torch.from_numpy(data["labels"]),
            classes=tuple(str(c) for c in data["classes"]),
            files=tuple(str(f) for f in data["files"]),
        )


def photo() -> torch.Tensor:
    """Matplotlib's sample photograph of Grace Hopper as a ``(3, 600, 512)`` uint8 tensor."""
    with matplotlib.cbook.get_sample_data("grace_hopper.jpg") as f:
        image = np.array(Image.open(f).convert("RGB"))
    return torch.from_numpy(image).permute(2, 0, 1).contiguous()
