"""Where the cpu profile's training step goes, part by part, and the ceiling its shapes allow.

    python benchmarks/step_breakdown.py        # ~2 minutes on 2 idle cores

The ``cpu`` profile's ConvMixer-128/8 (k5, p4) at batch 256 works on ``(256, 128, 8, 8)``
activations: every part of a block sees 2.1 million numbers (8 MiB) per pass. This script times,
with the engine's CPU settings (channels-last float32, 2 threads):

- the whole step (:func:`convmixer.train.build_training`, as ``fit`` runs it: grid-major, and
  once without grid-major);
- each part of a block, forward + backward (``torch.autograd.grad``), on that shape: the
  depth-wise convolution (and its weight gradient alone), the point-wise convolution, GELU,
  BatchNorm, the residual add; times 8 blocks they account for most of the step. Timed twice: as
  oneDNN runs them on the channels-last ``(B, h, H', W')`` map, and as the engine runs them
  grid-major on the ``(h, B, n)`` array (:mod:`convmixer.train.grid_major`);
- the point-wise convolution's own matrix product, ``(16384 x 128) @ (128 x 128)``, against the
  square ``2048 x 2048`` product ``benchmarks/roofline.py`` calls the machine's peak: how much of
  that peak this model's shapes can reach at all;
- the alternatives tried on the whole step: ``torch.compile`` (inductor) and the point-wise
  convolution computed as ``F.linear`` on the channels-last view.

Median of repeated timings, in milliseconds. Writes ``results/step_breakdown-cpu.json`` (format
version 2; version 1, without the grid-major parts, is the 6 December run in ``results/archive/``).
"""

from __future__ import annotations

import dataclasses
import statistics
import sys
import time
from pathlib import Path
from typing import Callable

import torch
import torch.nn.functional as F

from convmixer import layers
from convmixer.machine import machine_info, utc_timestamp
from convmixer.records import write_record_file
from convmixer.train import build_training, get_profile
from convmixer.train.acceleration import Acceleration
from convmixer.train.grid_major import grid_major_depthwise, pointwise_product

OUT = Path(__file__).resolve().parent / "results" / "step_breakdown-cpu.json"
PROFILE = get_profile("cpu").replace(stem_init="random")


def median_ms(run: Callable[[], object], repeats: int = 20, warmup: int = 3) -> float:
    for _ in range(warmup):
        run()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return 1000 * statistics.median(times)


def whole_step(acceleration: Acceleration, repeats: int = 12) -> float:
    batch = PROFILE.batch_size
    training = build_training(PROFILE, "cpu", acceleration, steps_per_epoch=1000)
    images, labels = torch.randn(batch, 3, 32, 32), torch.randint(0, 10, (batch,))
    return median_ms(lambda: training.step(images, labels), repeats, warmup=3)


def linear_pointwise(self: layers.PointwiseConv2d, x: torch.Tensor) -> torch.Tensor:
    """The point-wise convolution as a matrix product over the channels-last view."""
    return F.linear(x.permute(0, 2, 3, 1), self.weight.flatten(1), self.bias).permute(0, 3, 1, 2)


def time_parts(x: torch.Tensor, g: torch.Tensor, depthwise: Callable, pointwise: Callable, norm: Callable,
               depthwise_weights: tuple, pointwise_weights: tuple, norm_weights: tuple) -> dict[str, float]:
    """Forward + backward (``torch.autograd.grad`` of the output against ``g``) of each part of a
    block on the activations ``x``, given as functions of ``x`` with the weights they train."""

    def both(part: Callable, inputs: tuple) -> Callable[[], object]:
        return lambda: torch.autograd.grad(part(x), inputs, g)

    return {
        "depthwise conv": median_ms(both(depthwise, (x, *depthwise_weights))),
        "depthwise conv, weight gradient only": median_ms(
            lambda: torch.autograd.grad(depthwise(x.detach()), (depthwise_weights[0],), g)
        ),
        "pointwise conv": median_ms(both(pointwise, (x, *pointwise_weights))),
        "GELU": median_ms(both(F.gelu, (x,))),
        "BatchNorm": median_ms(both(norm, (x, *norm_weights))),
        "residual add": median_ms(lambda: torch.autograd.grad(x + x.detach(), (x,), g)),
    }


def parts() -> dict[str, float]:
    """The parts as oneDNN runs them on the channels-last ``(B, h, H', W')`` map."""
    config = PROFILE.model_config()
    grid = config.image_size // config.patch_size
    shape = (PROFILE.batch_size, config.dim, grid, grid)
    x = torch.randn(shape).contiguous(memory_format=torch.channels_last).requires_grad_()
    g = torch.randn(shape).contiguous(memory_format=torch.channels_last)
    depthwise = layers.DepthwiseConv2d(config.dim, config.kernel_size).to(memory_format=torch.channels_last)
    pointwise = layers.PointwiseConv2d(config.dim).to(memory_format=torch.channels_last)
    norm = torch.nn.BatchNorm2d(config.dim)
    return time_parts(x, g, depthwise, pointwise, norm, (depthwise.weight, depthwise.bias),
                      (pointwise.weight, pointwise.bias), (norm.weight, norm.bias))


def grid_major_parts() -> dict[str, float]:
    """The same parts as the engine runs them grid-major (:mod:`convmixer.train.grid_major`), on
    the ``(h, B, n)`` array of the same activations."""
    config = PROFILE.model_config()
    grid = config.image_size // config.patch_size
    shape = (config.dim, PROFILE.batch_size, grid * grid)
    z = torch.randn(shape).requires_grad_()
    g = torch.randn(shape)
    depthwise = layers.DepthwiseConv2d(config.dim, config.kernel_size)
    pointwise = layers.PointwiseConv2d(config.dim)
    norm = torch.nn.BatchNorm2d(config.dim)

    def conv(x: torch.Tensor) -> torch.Tensor:
        return grid_major_depthwise(x, depthwise.weight, depthwise.bias, grid, grid)

    def point(x: torch.Tensor) -> torch.Tensor:
        return pointwise_product(x, pointwise.weight, pointwise.bias)

    def batch_norm(x: torch.Tensor) -> torch.Tensor:
        return norm(x.reshape(1, config.dim, -1, 1)).view(shape)

    return time_parts(z, g, conv, point, batch_norm, (depthwise.weight, depthwise.bias),
                      (pointwise.weight, pointwise.bias), (norm.weight, norm.bias))


PER_BLOCK = {"depthwise conv": 1, "pointwise conv": 1, "GELU": 2, "BatchNorm": 2, "residual add": 1}


def blocks_sum(per_block: dict[str, float], depth: int) -> float:
    """What ``depth`` blocks' parts add up to (:data:`PER_BLOCK`: one depth-wise and one point-wise
    convolution, two GELUs, two BatchNorms and one residual add per block)."""
    return depth * sum(per_block[name] * count for name, count in PER_BLOCK.items())


def format_table(record: dict) -> str:
    """A Markdown table of a version-2 record: each part of a block (forward + backward) as oneDNN
    runs it and grid-major, times its count in ``depth`` blocks, as a share of the step that runs
    it that way (without grid-major, and as ``fit`` runs it)."""
    depth = get_profile(record["profile"]).model_config().depth
    steps = record["step_ms"]
    onednn_step, grid_step = steps["engine without grid-major"], steps["engine (fit's CPU settings)"]
    lines = [f"| part of one block ({depth} blocks) | oneDNN, ms | share of the {onednn_step:.0f} ms step without grid-major "
             f"| grid-major, ms | share of the {grid_step:.0f} ms step |",
             "|---|---:|---:|---:|---:|"]
    for name, count in PER_BLOCK.items():
        one, grid = record["block_part_ms"][name], record["grid_major_part_ms"][name]
        times = f" (x{count})" if count > 1 else ""
        lines.append(f"| {name}{times} | {one:.1f} | {100 * one * count * depth / onednn_step:.0f} % "
                     f"| {grid:.1f} | {100 * grid * count * depth / grid_step:.0f} % |")
    lines.append(f"| all parts of {depth} blocks | {record['blocks_sum_ms']:.0f} | "
                 f"{100 * record['blocks_sum_ms'] / onednn_step:.0f} % | {record['grid_major_blocks_sum_ms']:.0f} | "
                 f"{100 * record['grid_major_blocks_sum_ms'] / grid_step:.0f} % |")
    return "\n".join(lines)


def matmul_rates() -> dict[str, float]:
    config = PROFILE.model_config()
    rows = PROFILE.batch_size * (config.image_size // config.patch_size) ** 2
    a, w = torch.randn(rows, config.dim), torch.randn(config.dim, config.dim)
    square = torch.randn(2048, 2048)
    pointwise_ms = median_ms(lambda: a @ w, 30)
    square_ms = median_ms(lambda: square @ square, 10)
    return {
        "pointwise_shape": f"({rows} x {config.dim}) @ ({config.dim} x {config.dim})",
        "pointwise_gflops": 2 * rows * config.dim**2 / pointwise_ms / 1e6,
        "square_2048_gflops": 2 * 2048**3 / square_ms / 1e6,
    }


def main() -> int:
    cpu = Acceleration.for_device("cpu")
    step = {"engine (fit's CPU settings)": whole_step(cpu)}
    step["engine + torch.compile"] = whole_step(dataclasses.replace(cpu, compile=True))
    original = layers.PointwiseConv2d.forward
    layers.PointwiseConv2d.forward = linear_pointwise
    try:
        step["engine, point-wise as F.linear"] = whole_step(cpu)
    finally:
        layers.PointwiseConv2d.forward = original
    step["engine (fit's CPU settings), again"] = whole_step(cpu)
    step["engine without grid-major"] = whole_step(dataclasses.replace(cpu, grid_major=False))
    block, grid_major = parts(), grid_major_parts()
    rates = matmul_rates()
    depth = PROFILE.model_config().depth
    record = {
        "profile": "cpu", "batch_size": PROFILE.batch_size, "threads": torch.get_num_threads(),
        "step_ms": step, "block_part_ms": block, "blocks_sum_ms": blocks_sum(block, depth),
        "grid_major_part_ms": grid_major, "grid_major_blocks_sum_ms": blocks_sum(grid_major, depth),
        "matmul": rates, "date": utc_timestamp(), "machine": machine_info(),
    }
    write_record_file(OUT, "convmixer step breakdown", 2, record)
    for name, ms in step.items():
        print(f"step, {name:<40} {ms:8.1f} ms")
    print(f"{'one block, forward + backward':<38} {'oneDNN':>8} {'grid-major':>11}")
    for name, ms in block.items():
        print(f"{name:<38} {ms:8.1f} {grid_major[name]:11.1f} ms")
    whole = step["engine (fit's CPU settings)"]
    print(f"{depth} blocks' parts together: {record['blocks_sum_ms']:.0f} ms oneDNN (step without grid-major "
          f"{step['engine without grid-major']:.0f} ms), {record['grid_major_blocks_sum_ms']:.0f} ms grid-major "
          f"(fit's step {whole:.0f} ms)")
    print(f"point-wise matmul {rates['pointwise_shape']}: {rates['pointwise_gflops']:.0f} GFLOP/s; "
          f"2048 x 2048: {rates['square_2048_gflops']:.0f} GFLOP/s")
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
