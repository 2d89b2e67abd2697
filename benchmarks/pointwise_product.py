"""The grid-major point-wise convolution: ``addmm`` against the engine's ``pointwise_product``.

    python benchmarks/pointwise_product.py        # ~1 minute on 2 idle cores

Times the whole training step as ``fit`` runs it grid-major (:func:`convmixer.train.build_training`,
the ``cpu`` profile's ConvMixer-128/8 at batch 256, at 32 x 32 and at the 24 x 24 of the first
epochs of its recipe of 6 December) two ways in alternating rounds: with the point-wise convolution as one ``addmm`` of the
``(h, B n)`` matrix, forward and backward (what the engine did first), and with
:func:`convmixer.train.grid_major.pointwise_product` (forward as one ``mm`` with the bias added in
place, backward as two ``mm``). Each round is the median of a few steps, in
milliseconds. Writes ``results/pointwise_product-cpu.json``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from unittest import mock

import torch
from step_breakdown import median_ms

from convmixer.machine import machine_info, utc_timestamp
from convmixer.records import write_record_file
from convmixer.train import build_training, get_profile, grid_major
from convmixer.train.acceleration import Acceleration

OUT = Path(__file__).resolve().parent / "results" / "pointwise_product-cpu.json"
BATCH, ROUNDS, REPEATS = 256, 4, 7


def addmm_product(z: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """The point-wise convolution as the engine first computed it: one ``addmm``, autograd's backward."""
    flat = torch.addmm(bias.view(-1, 1), weight.reshape(weight.shape[0], -1), z.view(z.shape[0], -1))
    return flat.view(-1, *z.shape[1:])


def rounds(image_size: int) -> dict[str, list[float]]:
    """Milliseconds per step, one median per round, for each way."""
    profile = get_profile("cpu").replace(stem_init="random")
    training = build_training(profile, "cpu", Acceleration.for_device("cpu"), steps_per_epoch=1000)
    images, labels = torch.randn(BATCH, 3, image_size, image_size), torch.randint(0, 10, (BATCH,))
    ways = {"addmm": addmm_product, "pointwise_product": grid_major.pointwise_product}
    times: dict[str, list[float]] = {name: [] for name in ways}
    for _ in range(ROUNDS):
        for name, product in ways.items():
            with mock.patch.object(grid_major, "pointwise_product", product):
                times[name].append(median_ms(lambda: training.step(images, labels), REPEATS, warmup=2))
    return times


def main() -> int:
    steps = []
    for size in (32, 24):
        times = rounds(size)
        steps.append({"image_size": size, **{f"{name}_ms": t for name, t in times.items()},
                      "speedup_of_best": min(times["addmm"]) / min(times["pointwise_product"])})
        print(f"{size} x {size}: addmm {[round(t) for t in times['addmm']]} ms, pointwise_product "
              f"{[round(t) for t in times['pointwise_product']]} ms ({steps[-1]['speedup_of_best']:.2f}x best to best)")
    record = {"batch_size": BATCH, "rounds": ROUNDS, "repeats": REPEATS, "threads": torch.get_num_threads(),
              "steps": steps, "date": utc_timestamp(), "machine": machine_info()}
    write_record_file(OUT, "convmixer point-wise product", 1, record)
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
