"""How the training engine runs a model fast on a device: memory format, precision, compilation.

The choices live in one small object so that the trainer and the benchmarks run a model the same
way. None of them changes the function the network computes (up to floating-point rounding).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import ContextManager

import torch
from torch import nn


@dataclass(frozen=True)
class Acceleration:
    """Run-time settings for a ConvMixer on one device.

    - ``channels_last``: store activations as ``(B, H, W, C)`` in memory; depth-wise and 1x1
      convolutions read contiguous channel vectors, which oneDNN (CPU) and cuDNN (GPU) prefer.
    - ``amp_dtype``: run convolutions and matrix products under ``torch.autocast`` in this dtype
      (``torch.bfloat16`` or ``torch.float16``), or ``None`` for plain float32.
    - ``compile``: wrap the model in ``torch.compile``.
    """

    channels_last: bool = True
    amp_dtype: torch.dtype | None = None
    compile: bool = False

    @classmethod
    def for_device(cls, device: torch.device | str) -> "Acceleration":
        """The defaults the trainer uses on ``device``."""
        device = torch.device(device)
        if device.type == "cuda":
            return cls(channels_last=True, amp_dtype=torch.bfloat16, compile=True)
        return cls(channels_last=True, amp_dtype=None, compile=False)

    def prepare_model(self, model: nn.Module) -> nn.Module:
        """Convert ``model`` in place to the memory format, and return it (compiled if asked)."""
        if self.channels_last:
            model.to(memory_format=torch.channels_last)
        return torch.compile(model) if self.compile else model

    def prepare_input(self, images: torch.Tensor) -> torch.Tensor:
        """Lay out a batch ``(B, C, H, W)`` in the model's memory format."""
        if self.channels_last:
            return images.contiguous(memory_format=torch.channels_last)
        return images

    def autocast(self, device: torch.device | str) -> ContextManager:
        """The mixed-precision context for a forward pass on ``device`` (a no-op for float32)."""
        if self.amp_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type=torch.device(device).type, dtype=self.amp_dtype)
