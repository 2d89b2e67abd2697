"""Where the cpu profile's training step goes, part by part, and the ceiling its shapes allow.

    python benchmarks/step_breakdown.py        # ~2 minutes on 2 idle cores

The ``cpu`` profile's ConvMixer-128/8 (k5, p4) at batch 256 works on ``(256, 128, 8, 8)``
activations: every part of a block sees 2.1 million numbers (8 MiB) per pass. This script times,
with the engine's CPU settings (channels-last float32, 2 threads):

- the whole step (:func:`convmixer.train.build_training`, as ``fit`` runs it: grid-major, and
  once without grid-major), and, in alternating rounds on one model, against grid-major as it ran
  before the late evening of 7 December: BatchNorm by the module on the ``(1, h, B n, 1)`` view,
  the tap matrices gathered by index and the weight gradient summed from strided views, and both;
- each part of a block, forward + backward (``torch.autograd.grad``), on that shape: the
  depth-wise convolution (and its weight gradient alone), the point-wise convolution, GELU,
  BatchNorm, the residual add; times 8 blocks they account for most of the step. Timed twice: as
  oneDNN runs them on the channels-last ``(B, h, H', W')`` map, and as the engine runs them
  grid-major on the ``(h, B, n)`` array (:mod:`convmixer.train.grid_major`);
- the point-wise convolution's own matrix product, ``(16384 x 128) @ (128 x 128)``, against the
  square ``2048 x 2048`` product ``benchmarks/roofline.py`` calls the machine's peak: how much of
  that peak this model's shapes can reach at all;
- ``torch.compile`` (inductor) on the whole step, an alternative tried. (Until 7 December the
  script also timed the point-wise convolution as ``F.linear`` on the channels-last view; grid-major
  never calls that layer's forward pass in training, so the variant measured nothing and was dropped.)

Median of repeated timings, in milliseconds. Writes ``results/step_breakdown-cpu.json`` (format
version 2; version 1, without the grid-major parts, is the 6 December run in ``results/archive/``;
the earlier version-2 runs are archived there too).
"""

from __future__ import annotations

import contextlib
import dataclasses
import statistics
import sys
import time
from pathlib import Path
from typing import Callable, ContextManager, Iterator
from unittest import mock

import torch
import torch.nn.functional as F

from convmixer import layers
from convmixer.machine import machine_info, utc_timestamp
from convmixer.records import write_record_file
from convmixer.train import build_training, get_profile
from convmixer.train import grid_major as engine_grid_major
from convmixer.train.acceleration import Acceleration
from convmixer.train.grid_major import batch_norm_rows, grid_major_depthwise, pointwise_product

ENGINE = "engine (fit's CPU settings)"
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


ROUNDS, STEPS_PER_ROUND = 6, 3  # alternating rounds: every variant's median is over 18 timed steps


def interleaved_steps(acceleration: Acceleration, variants: dict[str, Callable[[], ContextManager]],
                      rounds: int = ROUNDS, per_round: int = STEPS_PER_ROUND) -> dict[str, float]:
    """The whole step under each of ``variants`` (a context that patches the engine), timed in
    alternating rounds on one model so that the machine's drift falls on all alike: median ms."""
    batch = PROFILE.batch_size
    training = build_training(PROFILE, "cpu", acceleration, steps_per_epoch=1000)
    images, labels = torch.randn(batch, 3, 32, 32), torch.randint(0, 10, (batch,))
    times: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(rounds):
        for name, variant in variants.items():
            with variant():
                training.step(images, labels)  # the first step after a switch is not timed
                for _ in range(per_round):
                    started = time.perf_counter()
                    training.step(images, labels)
                    times[name].append(time.perf_counter() - started)
    return {name: 1000 * statistics.median(t) for name, t in times.items()}


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
        return batch_norm_rows(norm, x.view(config.dim, -1)).view(shape)

    return time_parts(z, g, conv, point, batch_norm, (depthwise.weight, depthwise.bias),
                      (pointwise.weight, pointwise.bias), (norm.weight, norm.bias))


def grid_major_module_norm_ms() -> float:
    """BatchNorm forward + backward on the same ``(h, B n)`` rows, as the module computes it on the
    ``(1, h, B n, 1)`` view: what grid-major ran before, against :func:`batch_norm_rows`."""
    config = PROFILE.model_config()
    rows = (config.dim, PROFILE.batch_size * (config.image_size // config.patch_size) ** 2)
    x, g, norm = torch.randn(rows).requires_grad_(), torch.randn(rows), torch.nn.BatchNorm2d(config.dim)
    return median_ms(lambda: torch.autograd.grad(norm(x.view(1, *rows, 1)), (x, norm.weight, norm.bias),
                                                 g.view(1, *rows, 1)))


def module_act_norm(stage: layers.ConvActNorm, y: torch.Tensor) -> torch.Tensor:
    """Grid-major's activation and BatchNorm as they ran before :func:`batch_norm_rows`: the module
    on the view."""
    return stage.norm(stage.act(y).reshape(1, y.shape[0], -1, 1)).view(y.shape)


def gathered_depthwise_matrices(weight: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """The matrices ``T[c]`` as they were built before the selector: the taps gathered by index."""
    channels, k = weight.shape[0], weight.shape[-1]
    taps = torch.cat([weight.reshape(channels, k * k), weight.new_zeros(channels, 1)], dim=1)
    return taps[:, engine_grid_major.tap_of_pair(k, height, width)]


def strided_tap_sums(pairs: torch.Tensor, kernel_size: int, height: int, width: int) -> torch.Tensor:
    """The weight gradient as it was summed before the selector: every tap one strided view of the
    zero-padded ``G``."""
    k, (before, after) = kernel_size, layers.same_padding(kernel_size)
    padded = F.pad(pairs.view(-1, height, width, height, width), (before, after, before, after))
    st = padded.stride()
    taps = padded.as_strided((padded.shape[0], k, k, height, width),
                             (st[0], st[3], st[4], st[1] + st[3], st[2] + st[4]))
    return taps.sum((3, 4)).unsqueeze(1)


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
    onednn_step, grid_step = steps["engine without grid-major"], steps[ENGINE]
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
    module_norm = lambda: mock.patch.object(engine_grid_major, "_act_norm", module_act_norm)
    old_taps = lambda: mock.patch.multiple(engine_grid_major, depthwise_matrices=gathered_depthwise_matrices,
                                           tap_sums=strided_tap_sums)

    @contextlib.contextmanager
    def before_both() -> Iterator[None]:
        with module_norm(), old_taps():
            yield

    step = interleaved_steps(cpu, {
        ENGINE: contextlib.nullcontext,
        "engine, BatchNorm by the module (before batch_norm_rows)": module_norm,
        "engine, taps gathered and strided (before tap_selector)": old_taps,
        "engine before both changes": before_both,
    })
    step["engine + torch.compile"] = whole_step(dataclasses.replace(cpu, compile=True))
    step["engine (fit's CPU settings), again"] = whole_step(cpu)
    step["engine without grid-major"] = whole_step(dataclasses.replace(cpu, grid_major=False))
    block, grid_major = parts(), grid_major_parts()
    rates = matmul_rates()
    depth = PROFILE.model_config().depth
    record = {
        "profile": "cpu", "batch_size": PROFILE.batch_size, "threads": torch.get_num_threads(),
        "step_ms": step, "block_part_ms": block, "blocks_sum_ms": blocks_sum(block, depth),
        "grid_major_part_ms": grid_major, "grid_major_blocks_sum_ms": blocks_sum(grid_major, depth),
        "grid_major_batch_norm_module_ms": grid_major_module_norm_ms(),
        "matmul": rates, "date": utc_timestamp(), "machine": machine_info(),
    }
    write_record_file(OUT, "convmixer step breakdown", 2, record)
    for name, ms in step.items():
        print(f"step, {name:<40} {ms:8.1f} ms")
    print(f"{'one block, forward + backward':<38} {'oneDNN':>8} {'grid-major':>11}")
    for name, ms in block.items():
        print(f"{name:<38} {ms:8.1f} {grid_major[name]:11.1f} ms")
    whole = step[ENGINE]
    print(f"{depth} blocks' parts together: {record['blocks_sum_ms']:.0f} ms oneDNN (step without grid-major "
          f"{step['engine without grid-major']:.0f} ms), {record['grid_major_blocks_sum_ms']:.0f} ms grid-major "
          f"(fit's step {whole:.0f} ms)")
    print(f"point-wise matmul {rates['pointwise_shape']}: {rates['pointwise_gflops']:.0f} GFLOP/s; "
          f"2048 x 2048: {rates['square_2048_gflops']:.0f} GFLOP/s")
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
