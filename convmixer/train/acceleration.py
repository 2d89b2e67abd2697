"""How the training engine runs a model fast on a device: memory format, precision, compilation,
host memory and the optimizer.

The choices live in one small object so that the trainer and the benchmarks run a model the same
way. None of them changes the function the network computes (up to floating-point rounding).

What each choice buys for ConvMixer-256/8 (k5, p2, 32x32, batch 128) on the 2-core AMD EPYC
development machine is measured by ``benchmarks/speed.py`` and written up in
``benchmarks/README.md``. In short, on that CPU: reusing freed host memory is the biggest win;
channels-last, a fused single-threaded optimizer step and ``torch.compile`` add smaller gains
(compile mostly for inference); bfloat16 and float16 autocast hold accuracy but are 17x and 78x
*slower* (the CPU, a Zen 3, has AVX2 but no AVX-512 BF16/FP16 or AMX). On a Zen 5 with AVX-512
BF16, bfloat16 autocast trained the ``cpu`` profile's model no faster than float32: autocast
runs the model's own convolutions, not grid-major's products. So autocast stays off on the CPU,
and where the CPU has bfloat16 instructions (AVX-512 BF16 or AMX) only grid-major's matrix
products run in bfloat16 (``product_dtype``), summing in float32 inside: on a Zen 4 container
the ``cpu`` profile's step ran 1.34x faster that way (``benchmarks/README.md``, "bfloat16
products").
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import platform
from dataclasses import dataclass
from typing import Any, ContextManager

import torch
from torch import nn

from convmixer._util import torch_threads
from convmixer.model import ConvMixer
from convmixer.train.grid_major import GridMajorConvMixer

AMP_DTYPES = (torch.bfloat16, torch.float16)

# glibc mallopt() parameters (malloc.h) and the values we set.
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_MMAP_THRESHOLD = 1 << 30  # blocks below 1 GiB come from the heap, where they can be reused
_TRIM_THRESHOLD = (1 << 31) - 1  # never give the top of the heap back to the OS

_FUSED_ADAMW_DEVICES = ("cpu", "cuda")


def reuse_freed_host_memory() -> bool:
    """Make glibc's ``malloc`` keep freed memory for reuse instead of returning it to the OS.

    PyTorch takes every CPU tensor from ``malloc``. One ConvMixer-256/8 activation at batch 128
    is ``128 * 256 * 16 * 16 * 4`` bytes = 32 MiB, at or above glibc's largest automatic mmap
    threshold, so by default each one is ``mmap``-ed, page-faulted in (the kernel zeroes 8192
    pages) and unmapped again when freed: measured here, 1.6 million page faults and about a
    third of the CPU time of a timm training step, spent in the kernel. With the thresholds
    raised the next step reuses the same memory. The price: the process keeps its peak heap
    (peak resident memory ~35% higher for that step).

    Process-wide and not undone. Returns ``False`` (and changes nothing) where the C library is
    not glibc.
    """
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    return bool(libc.mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD)) and bool(
        libc.mallopt(_M_TRIM_THRESHOLD, _TRIM_THRESHOLD)
    )


def fast_bfloat16_products() -> bool:
    """Whether this CPU multiplies bfloat16 matrices in hardware (AVX-512 BF16 or AMX), so that
    rounding a product's inputs to bfloat16 makes it faster; without them it is much slower."""
    return torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported()


def _on_cpu(module: nn.Module) -> bool:
    parameter = next(module.parameters(), None)
    return parameter is None or parameter.device.type == "cpu"


@dataclass(frozen=True)
class Acceleration:
    """Run-time settings for a ConvMixer on one device.

    - ``channels_last``: store activations as ``(B, H, W, C)`` in memory; depth-wise and 1x1
      convolutions read contiguous channel vectors, which oneDNN (CPU) and cuDNN (GPU) prefer.
    - ``amp_dtype``: run convolutions and matrix products under ``torch.autocast`` in this dtype
      (``torch.bfloat16`` or ``torch.float16``), or ``None`` for plain float32.
    - ``compile``: wrap the model in ``torch.compile`` (inductor; on CPU it needs a C++
      compiler, and the first step of a run pays about a minute of compilation on 2 cores).
    - ``reuse_host_memory``: for a model on the CPU, :func:`reuse_freed_host_memory` (glibc).
    - ``fused_optimizer``: AdamW as one fused kernel per parameter where PyTorch has one
      (:meth:`optimizer_options`).
    - ``grid_major``: run a :class:`~convmixer.model.ConvMixer` with its feature maps stored
      channel by channel as ``(h, B, n)`` arrays, all of it matrix products, where the grid is
      small next to the kernel (:mod:`convmixer.train.grid_major`).
    - ``product_dtype``: grid-major's depth-wise and point-wise products take their inputs rounded
      to this dtype (``torch.bfloat16``), sum in float32 inside and round their results to it, as
      ``torch.autocast`` runs CUDA's products; everything else (BatchNorm, GELU, the bias, the
      loss, the optimizer and the weights) stays float32. ``None``: float32 throughout.
    - ``single_thread_optimizer``: on the CPU, run the optimizer step and gradient clipping on one
      thread. Their ~70 small per-parameter kernels are too small to share, and on a busy machine
      each waited for the other OpenMP thread: ``benchmarks/profile_step.py`` measured clipping,
      AdamW and schedule at 653 ms per step for the for-loop AdamW on two threads and 64 ms for the
      fused one on one thread (``benchmarks/README.md``).
    """

    channels_last: bool = True
    amp_dtype: torch.dtype | None = None
    compile: bool = False
    reuse_host_memory: bool = True
    fused_optimizer: bool = True
    grid_major: bool = True
    single_thread_optimizer: bool = True
    product_dtype: torch.dtype | None = None

    def __post_init__(self) -> None:
        if self.product_dtype not in (None, torch.bfloat16):
            raise ValueError(f"product_dtype must be None (float32) or torch.bfloat16, got {self.product_dtype!r}")
        if self.amp_dtype is not None and self.amp_dtype not in AMP_DTYPES:
            raise ValueError(
                f"amp_dtype must be None (float32), torch.bfloat16 or torch.float16, got {self.amp_dtype!r}"
            )

    @classmethod
    def for_device(cls, device: torch.device | str) -> Acceleration:
        """The defaults the trainer uses on ``device``.

        CUDA: channels-last, bfloat16 autocast, compiled, cuDNN's own depth-wise convolution.
        CPU: channels-last in float32, grid-major where it pays, its products in bfloat16 where the
        CPU has bfloat16 instructions (:func:`fast_bfloat16_products`), not compiled: compilation
        pays for itself only over many steps (a full training run, where the trainer's
        ``--compile`` switches it on), and costs tests and notebooks a minute.
        """
        device = torch.device(device)
        if device.type == "cuda":
            return cls(channels_last=True, amp_dtype=torch.bfloat16, compile=True, grid_major=False)
        product_dtype = torch.bfloat16 if fast_bfloat16_products() else None
        return cls(channels_last=True, amp_dtype=None, compile=False, product_dtype=product_dtype)

    def prepare_model(self, model: nn.Module) -> nn.Module:
        """Convert ``model`` in place to the memory format, and return what runs it: the model or
        a :class:`~convmixer.train.grid_major.GridMajorConvMixer` around it, compiled if asked.

        For a model on the CPU this also applies :func:`reuse_freed_host_memory` (process-wide)
        when ``reuse_host_memory`` is set. The compiled wrapper shares its parameters with
        ``model``; save and load checkpoints through ``model`` itself (the wrapper's state-dict
        keys carry an ``_orig_mod.`` prefix).
        """
        if self.reuse_host_memory and _on_cpu(model):
            reuse_freed_host_memory()
        if self.channels_last:
            model.to(memory_format=torch.channels_last)
        runner = (GridMajorConvMixer(model, self.product_dtype) if self.grid_major and isinstance(model, ConvMixer)
                  else model)
        return torch.compile(runner) if self.compile else runner

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

    def optimizer_options(self, device: torch.device | str) -> dict[str, Any]:
        """Keyword arguments that make ``torch.optim.AdamW`` fast on ``device``.

        ``{"fused": True}`` if ``fused_optimizer`` is set and a fused AdamW kernel exists for
        ``device``: one kernel per parameter instead of a dozen element-wise operations, same
        update rule. :func:`convmixer.train.build_optimizer` is the one place that uses it.
        """
        fused = self.fused_optimizer and torch.device(device).type in _FUSED_ADAMW_DEVICES
        return {"fused": True} if fused else {}

    def optimizer_threads(self, device: torch.device | str) -> ContextManager:
        """The thread context for the small per-parameter kernels around the optimizer step
        (gradient clipping): one thread on the CPU if ``single_thread_optimizer``, else a no-op."""
        if self.single_thread_optimizer and torch.device(device).type == "cpu":
            return torch_threads(1)
        return contextlib.nullcontext()

    def prepare_optimizer(self, optimizer: torch.optim.Optimizer) -> torch.optim.Optimizer:
        """Return ``optimizer``, set to step on one CPU thread if ``single_thread_optimizer``.

        Uses the optimizer's step hooks (``torch.get_num_threads()`` is 1 inside ``step()`` and
        restored after it); only for parameters on the CPU. Calling it twice changes nothing.
        """
        parameters = [p for group in optimizer.param_groups for p in group["params"]]
        on_cpu = all(p.device.type == "cpu" for p in parameters)
        if not (self.single_thread_optimizer and on_cpu) or getattr(optimizer, "_single_threaded", False):
            return optimizer
        saved: list[int] = []

        def before_step(*_: Any) -> None:
            saved.append(torch.get_num_threads())
            torch.set_num_threads(1)

        def after_step(*_: Any) -> None:
            torch.set_num_threads(saved.pop())

        optimizer.register_step_pre_hook(before_step)
        optimizer.register_step_post_hook(after_step)
        optimizer._single_threaded = True  # type: ignore[attr-defined]
        return optimizer
