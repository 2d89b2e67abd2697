"""Where a measured number comes from: one description of the machine, stored with every result
(training records, the kernel-size sweep, the speed benchmarks)."""

from __future__ import annotations

import datetime
import os
import platform
import re
from pathlib import Path
from typing import Any

import torch

# CPU features that decide how fast float32 / bfloat16 / float16 training can be.
CPU_FEATURES = ("avx2", "fma", "avx512f", "avx512_bf16", "avx512_fp16", "amx_bf16", "amx_tile")


def utc_timestamp() -> str:
    """The current time in UTC, to the second, ISO 8601 (``2026-11-29T19:12:13+00:00``)."""
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def _cpuinfo_field(text: str, name: str) -> str | None:
    found = re.search(rf"^{name}\s*:\s*(.+)$", text, re.M)
    return found.group(1).strip() if found else None


def machine_info() -> dict[str, Any]:
    """CPU model (with its family / model numbers, e.g. ``25 / 1`` for AMD Zen 3) and features, cores, torch's thread count, the OpenMP wait policy, GPU, library
    versions and the load average (1, 5, 15 minutes) at the moment of the call."""
    cpuinfo = Path("/proc/cpuinfo")
    text = cpuinfo.read_text() if cpuinfo.exists() else ""
    flags = set((_cpuinfo_field(text, "flags") or "").split())
    return {
        "cpu": _cpuinfo_field(text, "model name") or platform.processor() or platform.machine(),
        "cpu_family_model": " / ".join(filter(None, (_cpuinfo_field(text, "cpu family"), _cpuinfo_field(text, "model"))))
        or None,
        "cpu_count": os.cpu_count(),
        "cpu_features": [feature for feature in CPU_FEATURES if feature in flags],
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "torch_threads": torch.get_num_threads(),
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY"),
        "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "torch": torch.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "libc": " ".join(platform.libc_ver()).strip() or None,
        "load_average": [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None,
    }
