"""Where the grid-major ConvMixer (all matrix products) beats oneDNN's channels-last one.

    python benchmarks/grid_major.py        # ~5 minutes on 2 idle cores

For the ``cpu`` profile's ConvMixer-128/8 at batch 256 with kernel sizes ``k`` and grids ``n``
(image size / patch size), the whole training step as ``fit`` runs it
(:func:`convmixer.train.build_training`), timed both ways in alternation: with the engine's
CPU settings but ``grid_major=False`` (channels-last, oneDNN's depth-wise convolution), and run
grid-major (:class:`convmixer.train.grid_major.GridMajorConvMixer`, forced on for every case).
The grids are the ``cpu`` profile's (8 x 8; 6 x 6 in the 24 x 24 epochs of its recipe of 6 December), the patch-size
study's (16 x 16 for p = 2, 4 x 4 for p = 8) and the kernel study's k = 3 and k = 9. Median of
repeats, milliseconds; the speed-up is oneDNN's time over grid-major's. The rule
:func:`~convmixer.train.grid_major.grid_major_pays` is set from this file.

Writes ``results/grid_major-cpu.json``.
"""

from __future__ import annotations

import dataclasses
import functools
import sys
from pathlib import Path
from unittest import mock

import torch
from step_breakdown import median_ms

from convmixer.machine import machine_info, utc_timestamp
from convmixer.records import write_record_file
from convmixer.train import build_training, get_profile, grid_major
from convmixer.train.acceleration import Acceleration

OUT = Path(__file__).resolve().parent / "results" / "grid_major-cpu.json"
BATCH = 256
# (kernel size, patch size, image size): grid = image size / patch size
CASES = [(5, 4, 32), (5, 4, 24), (3, 4, 32), (3, 4, 24), (7, 4, 32), (9, 4, 32), (9, 4, 24),
         (5, 8, 32), (5, 2, 32), (9, 2, 32)]


def case(kernel_size: int, patch_size: int, image_size: int, rounds: int = 2, repeats: int = 5) -> dict[str, object]:
    cpu = get_profile("cpu")
    profile = cpu.replace(stem_init="random", model_overrides={**cpu.model_overrides, "kernel_size": kernel_size,
                                                               "patch_size": patch_size})
    images = torch.randn(BATCH, 3, image_size, image_size)
    labels = torch.randint(0, 10, (BATCH,))
    runs = {}
    for name, on in (("onednn", False), ("grid_major", True)):
        acceleration = dataclasses.replace(Acceleration.for_device("cpu"), grid_major=on)
        training = build_training(profile, "cpu", acceleration, steps_per_epoch=1000)
        runs[name] = functools.partial(training.step, images, labels)
    best: dict[str, float] = {}
    with mock.patch.object(grid_major, "grid_major_pays", lambda *_: True):
        for _ in range(rounds):
            for name, run in runs.items():
                best[name] = min(best.get(name, float("inf")), median_ms(run, repeats, warmup=2))
    grid = image_size // patch_size
    return {"kernel_size": kernel_size, "patch_size": patch_size, "image_size": image_size, "grid": grid,
            "positions_per_tap": grid * grid / kernel_size**2, "onednn_ms": best["onednn"],
            "grid_major_ms": best["grid_major"], "speedup": best["onednn"] / best["grid_major"]}


def format_table(steps: list[dict]) -> str:
    """The results as the markdown table of ``benchmarks/README.md``."""
    lines = ["| k | p | image | grid | n / k² | oneDNN, ms | grid-major, ms | speed-up | engine uses |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for r in steps:
        uses = "grid-major" if grid_major.grid_major_pays(r["kernel_size"], r["grid"], r["grid"]) else "oneDNN"
        lines.append(f"| {r['kernel_size']} | {r['patch_size']} | {r['image_size']} | {r['grid']} × {r['grid']} | "
                     f"{r['positions_per_tap']:.1f} | {r['onednn_ms']:.0f} | {r['grid_major_ms']:.0f} | "
                     f"{r['speedup']:.2f}× | {uses} |")
    return "\n".join(lines)


def main() -> int:
    rows = []
    for k, p, size in CASES:
        rows.append(case(k, p, size))
        r = rows[-1]
        print(f"k = {k}, p = {p}, {size} x {size} ({r['grid']} x {r['grid']} grid, n/k^2 = {r['positions_per_tap']:.1f}): "
              f"oneDNN {r['onednn_ms']:6.0f} ms, grid-major {r['grid_major_ms']:6.0f} ms ({r['speedup']:.2f}x)",
              flush=True)
    record = {"batch_size": BATCH, "threads": torch.get_num_threads(), "model": "cpu profile's ConvMixer-128/8",
              "steps": rows, "date": utc_timestamp(), "machine": machine_info()}
    write_record_file(OUT, "convmixer grid-major step", 1, record)
    print(format_table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
