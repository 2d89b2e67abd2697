"""Where the time of one training step goes: data, forward, backward, optimizer.

    python benchmarks/profile_step.py           # phase times, before vs after
    python benchmarks/profile_step.py --ops     # also the top operators of one step of each

The step is the training engine's own (:func:`convmixer.train.build_training`, as
:func:`convmixer.train.fit` builds it, with the ``gpu`` profile's hyper-parameters and
augmentation), for ConvMixer-256/8 (k5, p2, batch 128), cut into phases by its ``on_phase`` hook
and timed, with the page faults and kernel CPU time of the step:

1. ``data``: one batch from the engine's :class:`~convmixer.train.BatchLoader` (augment and
   normalise a uint8 batch on the device);
2. ``forward``: lay the batch out for the model, zero the gradients, forward under autocast,
   cross-entropy;
3. ``backward``: ``loss.backward()``;
4. ``optimizer``: gradient clipping, AdamW step, learning-rate schedule.

Two set-ups, each in its own worker process (some settings are process-wide), timed in turns:

- ``before``: our model the plain way: NCHW, float32, eager, glibc's default ``malloc``
  behaviour, for-loop AdamW on all threads;
- ``after``: the engine's fast CPU settings: :class:`Acceleration` (channels-last, compiled,
  host-memory reuse), fused AdamW stepping on one thread.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import resource
import statistics
import subprocess
import sys
import time
from typing import Callable

import torch

from convmixer.data.sources import CIFAR10_CLASSES, ImageDataset
from convmixer.train import GPU as RECIPE
from convmixer.train import BatchLoader, build_training
from convmixer.train.acceleration import Acceleration

CONFIG = RECIPE.model_config()
BATCH = 128
PHASES = ("data", "forward", "backward", "optimizer")
KERNEL = ("page_faults", "system_s")
SETUPS = {
    "before": Acceleration(
        channels_last=False, reuse_host_memory=False, fused_optimizer=False, single_thread_optimizer=False
    ),
    "after": dataclasses.replace(Acceleration.for_device("cpu"), compile=True),
}


def make_phased_step(acceleration: Acceleration) -> Callable[[], dict[str, float]]:
    """A training step that returns the seconds each phase took, and its page faults and
    kernel (system) CPU seconds. Every step trains on the same augmented batch."""
    device = torch.device("cpu")
    source = torch.Generator().manual_seed(1)
    size = CONFIG.image_size
    images = torch.randint(0, 256, (BATCH, 3, size, size), dtype=torch.uint8, generator=source)
    labels = torch.randint(0, CONFIG.num_classes, (BATCH,), generator=source)
    loader = BatchLoader(ImageDataset(images, labels, CIFAR10_CLASSES, "random"), BATCH, RECIPE.augment, 0, device)
    marks: list[float] = []
    training = build_training(
        RECIPE, device, acceleration, steps_per_epoch=10_000, on_phase=lambda phase: marks.append(time.perf_counter())
    )

    def step() -> dict[str, float]:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        marks[:] = [time.perf_counter()]
        batch = next(loader.batches(epoch=0))
        marks.append(time.perf_counter())
        training.step(*batch)
        after = resource.getrusage(resource.RUSAGE_SELF)
        times = {phase: marks[i + 1] - marks[i] for i, phase in enumerate(PHASES)}
        kernel = {"page_faults": after.ru_minflt - usage.ru_minflt, "system_s": after.ru_stime - usage.ru_stime}
        return {**times, **kernel}

    return step


def serve(setup: str) -> int:
    """Worker: build the set-up, then for each line on stdin run one step (or profile one)."""
    replies, sys.stdout = sys.stdout, sys.stderr
    step = make_phased_step(SETUPS[setup])
    for line in sys.stdin:
        if line.strip() == "ops":
            with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as profiler:
                step()
            print(f"\n--- {setup}: top operators of one step")
            print(profiler.key_averages().table(sort_by="self_cpu_time_total", row_limit=12, max_name_column_width=50))
            sys.stdout.flush()
            reply: object = None
        else:
            reply = step()
        replies.write(json.dumps(reply) + "\n")
        replies.flush()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5, help="timed steps per set-up (default 5)")
    parser.add_argument("--ops", action="store_true", help="print the top operators of one step of each set-up")
    parser.add_argument("--serve", choices=sorted(SETUPS), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        return serve(args.serve)
    if args.repeats < 1:
        parser.error("--repeats must be >= 1")
    workers = {
        name: subprocess.Popen([sys.executable, __file__, "--serve", name], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        for name in SETUPS
    }

    def ask(name: str, request: str = "step") -> dict[str, float]:
        workers[name].stdin.write(request + "\n")
        workers[name].stdin.flush()
        line = workers[name].stdout.readline()
        if not line:
            raise SystemExit(f"worker {name} died; see its error above")
        return json.loads(line)

    try:
        for name in SETUPS:
            started = time.perf_counter()
            ask(name), ask(name)
            print(f"warm-up {name}: {time.perf_counter() - started:.0f} s", flush=True)
        times: dict[str, dict[str, list[float]]] = {name: {p: [] for p in PHASES + KERNEL} for name in SETUPS}
        for repeat in range(args.repeats):
            for name in list(SETUPS) if repeat % 2 == 0 else list(reversed(SETUPS)):
                for phase, seconds in ask(name).items():
                    times[name][phase].append(seconds)
        if args.ops:
            for name in SETUPS:
                ask(name, "ops")
    finally:
        for worker in workers.values():
            worker.stdin.close()
            worker.wait()

    medians = {name: {p: statistics.median(v) for p, v in t.items()} for name, t in times.items()}
    totals = {name: sum(m[p] for p in PHASES) for name, m in medians.items()}
    print(f"\nmedian ms per phase over {args.repeats} steps (ConvMixer-256/8, batch 128, {torch.get_num_threads()} threads)")
    print(f"{'phase':<10}" + "".join(f"{name:>10}{'share':>7}" for name in SETUPS) + f"{'after/before':>14}")
    for phase in PHASES + ("total",):
        value = {name: totals[name] if phase == "total" else medians[name][phase] for name in SETUPS}
        cells = "".join(f"{1000 * value[name]:>10.0f}{100 * value[name] / totals[name]:>6.0f}%" for name in SETUPS)
        print(f"{phase:<10}{cells}{value['after'] / value['before']:>14.2f}")
    print("\nper step (median)" + "".join(f"{name:>12}" for name in SETUPS))
    print("page faults      " + "".join(f"{medians[name]['page_faults']:>12.0f}" for name in SETUPS))
    print("kernel CPU ms    " + "".join(f"{1000 * medians[name]['system_s']:>12.0f}" for name in SETUPS))
    return 0


if __name__ == "__main__":
    sys.exit(main())
