"""How close does fit's training step come to what this CPU can compute? A roofline check.

    python benchmarks/roofline.py            # ~1 minute on 2 cores

The ceiling is the fp32 matrix-multiply peak of this machine, measured: the best of several
``torch.mm`` of two ``n x n`` float32 matrices (``2 n^3`` FLOPs each) with all PyTorch threads.
A ConvMixer training step costs about three forward passes (the backward pass computes a gradient
for the activations and one for the weights, each about as costly as the forward), so

    training FLOPs per image ~ 3 * F,   F = forward FLOPs of one image (torch.utils.flop_counter),

and a step that trains ``r`` images per second computes ``3 F r`` FLOP/s. The step's rate is
measured with :func:`convmixer.studies.kernel_depth.measure_throughput` (fit's own model, optimizer and step,
augmentation and data loading excluded), for the ``cpu`` profile's ConvMixer-128/8 p4 and for the
official ConvMixer-256/8 p2 at batch 128. Writes ``results/roofline-cpu.json``.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import torch

from convmixer.analysis.cost import meta_forward_flops
from convmixer.machine import machine_info, utc_timestamp
from convmixer.records import write_record_file
from convmixer.studies.kernel_depth import measure_throughput
from convmixer.train import get_profile

OUT = Path(__file__).resolve().parent / "results" / "roofline-cpu.json"
SIZES = (512, 1024, 2048)
REPEATS = 5


def matmul_peak(sizes: tuple[int, ...] = SIZES, repeats: int = REPEATS) -> dict[int, float]:
    """The best fp32 ``torch.mm`` rate in GFLOP/s for each matrix side ``n``."""
    rates = {}
    for n in sizes:
        a, b = torch.randn(n, n), torch.randn(n, n)
        torch.mm(a, b)  # warm-up: thread pool, caches
        best = min(_seconds(lambda: torch.mm(a, b)) for _ in range(repeats))
        rates[n] = 2 * n**3 / best / 1e9
    return rates


def _seconds(work) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def main() -> int:
    load_before = [round(x, 2) for x in os.getloadavg()]
    peak = matmul_peak()
    ceiling = max(peak.values())
    rows = []
    cpu = get_profile("cpu")
    for name, profile in (
        ("cpu profile: ConvMixer-128/8 p4, batch 256", cpu),
        ("ConvMixer-256/8 p2, batch 128", cpu.replace(name="official-256-8", model="convmixer_256_8",
                                                      model_overrides={}, batch_size=128, stem_init="random")),
    ):
        forward = meta_forward_flops(profile.model_config())
        rate = measure_throughput(profile, steps=5)
        achieved = 3 * forward * rate / 1e9
        rows.append({"model": name, "forward_gflop_per_image": forward / 1e9,
                     "training_gflop_per_image": 3 * forward / 1e9, "images_per_second": rate,
                     "gflops": achieved, "share_of_peak": achieved / ceiling})
    record = {"date": utc_timestamp(), "machine": machine_info(), "load_average_before": load_before,
              "load_average_after": [round(x, 2) for x in os.getloadavg()],
              "matmul_gflops": {str(n): r for n, r in peak.items()}, "peak_gflops": ceiling, "models": rows}
    write_record_file(OUT, "convmixer roofline", 1, record)
    print(f"fp32 matmul peak: {ceiling:.1f} GFLOP/s ({', '.join(f'n={n}: {r:.1f}' for n, r in peak.items())})")
    for row in rows:
        print(f"{row['model']}: {row['training_gflop_per_image']:.3f} GFLOP per training image, "
              f"{row['images_per_second']:.0f} img/s -> {row['gflops']:.1f} GFLOP/s = "
              f"{100 * row['share_of_peak']:.0f} % of the matmul peak")
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
