"""Training and inference speed of a ConvMixer: ours against timm's and labml-nn's.

    python benchmarks/speed.py              # full run (results/cpu.json: 191 s of warm-up and timing on a 2-core Zen 5)
    python benchmarks/speed.py --quick      # 3 repeats instead of 7, one warm-up step
    python benchmarks/speed.py --ablation   # timm, ours and ours with each speed-up taken away
    python benchmarks/speed.py --same-process   # every contender inside this one process
    python benchmarks/speed.py --recipe cpu --batch 256   # the cpu profile's ConvMixer-128/8 k5 p4

Contenders (by default the ``gpu`` profile's ConvMixer-256/8: h=256, d=8, k=5, p=2, 32x32 images,
batch 128; ``--recipe cpu``: the ``cpu`` profile's ConvMixer-128/8, k=5, p=4 and its
hyper-parameters), all starting from the same weights (copied across with :mod:`interop`) and
training on the same batch:

- ``timm``: ``timm.models.convmixer.ConvMixer`` in a plain float32 loop (NCHW, AdamW);
- ``labml``: labml-nn's ``ConvMixer`` built from its parts, the same loop;
- ``ours``: our ``ConvMixer`` exactly as :func:`convmixer.train.fit` trains it: the engine's
  :func:`convmixer.train.build_training` (the optimizer of :func:`~convmixer.train.build_optimizer`:
  fused AdamW stepping on one thread; the one-cycle schedule; the step of
  :func:`~convmixer.train.make_train_step`: cross-entropy, gradient clipping) with the ``gpu``
  profile's (the official recipe's) hyper-parameters, and the device's :class:`Acceleration`, as
  ``fit`` uses it (channels-last and host-memory reuse; on a CPU in float32, grid-major where the
  grid is small, not compiled; on a GPU compiled, with bfloat16 autocast); ``--compile`` /
  ``--no-compile`` change only compilation;
- ``timm-reuse``: timm's plain loop in a process that reuses freed host memory like ours, to show
  how much of the gap is that one process setting.

Isolation: some settings are process-wide (the C allocator, thread pools, compiled kernels), so by
default each contender lives in its own worker process, started by this script and driven by it
over a pipe; only one of them runs at any time. ``--same-process`` runs them all in this process
instead (then the allocator setting made for ``ours`` applies to everyone).

Timing: warm-up steps (which include compilation) are excluded; every repeat times each
contender once, in an order that rotates between repeats, so machine noise hits all alike; the
median over repeats is reported, with the minimum and the process CPU time per step. A training
step is zero-grad, forward, loss, backward, optimizer step; inference is a forward pass in eval
mode under ``torch.inference_mode``. Memory is the peak resident set size of the worker during
steady-state steps (Linux VmHWM, reset after warm-up) and its size before the model was built.

Results: ``benchmarks/results/<profile>.json`` and ``.csv`` (profile ``cpu`` or ``gpu``, with
``-cpu-recipe``, ``-ablation``, the ``--only`` names, ``-same-process``, ``-quick`` appended as
asked), with a description of the machine.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import os
import re
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch
import torch.nn.functional as F
from interop import from_timm_state_dict, to_labml_state_dict, to_timm_state_dict
from torch import nn

from convmixer.machine import machine_info, utc_timestamp
from convmixer.model import ConvMixer
from convmixer.records import write_record_file
from convmixer.train import GPU as RECIPE
from convmixer.train import build_model, build_training, get_profile
from convmixer.train.acceleration import Acceleration, reuse_freed_host_memory

RESULTS = Path(__file__).resolve().parent / "results"
CONFIG = RECIPE.model_config()  # ConvMixer-256/8, k5, p2; use_recipe("cpu") changes both
MAIN = ["timm", "labml", "ours", "timm-reuse"]
ABLATION = ["ours-plain", "ours-eager", "ours-no-reuse", "ours-plain-optimizer", "ours-no-grid-major",
            "ours-fp32-products"]


def use_recipe(name: str) -> None:
    """Benchmark the model and hyper-parameters of the ``gpu`` (default) or ``cpu`` profile."""
    global RECIPE, CONFIG
    RECIPE = get_profile(name).replace(stem_init="random")  # the weights come from reference_weights
    CONFIG = RECIPE.model_config()


# --- the contenders ------------------------------------------------------------------------------


@dataclass
class Batch:
    images: torch.Tensor
    labels: torch.Tensor


def make_batch(batch_size: int, device: torch.device) -> Batch:
    generator = torch.Generator().manual_seed(1)
    images = torch.randn(batch_size, CONFIG.in_channels, CONFIG.image_size, CONFIG.image_size, generator=generator)
    labels = torch.randint(0, CONFIG.num_classes, (batch_size,), generator=generator)
    return Batch(images.to(device), labels.to(device))


@dataclass
class Contender:
    """One way of running ConvMixer-256/8: a training step and an inference pass on one batch."""

    name: str
    description: str
    model: nn.Module  # the plain module (for the same-weights check)
    train_step: Callable[[], None]
    infer: Callable[[], torch.Tensor]

    def run(self, phase: str) -> Callable[[], object]:
        return self.train_step if phase == "train" else self.infer


def reference_weights() -> dict[str, torch.Tensor]:
    """The weights every contender starts from: a seeded timm initialisation, in our names."""
    torch.manual_seed(0)
    return from_timm_state_dict(timm_model().state_dict())


def timm_model() -> nn.Module:
    from timm.models.convmixer import ConvMixer as TimmConvMixer

    return TimmConvMixer(
        CONFIG.dim, CONFIG.depth, kernel_size=CONFIG.kernel_size, patch_size=CONFIG.patch_size,
        num_classes=CONFIG.num_classes,
    )


def labml_model() -> nn.Module:
    from labml_nn.conv_mixer import ClassificationHead, ConvMixerLayer, PatchEmbeddings
    from labml_nn.conv_mixer import ConvMixer as LabmlConvMixer

    return LabmlConvMixer(
        ConvMixerLayer(CONFIG.dim, CONFIG.kernel_size), CONFIG.depth,
        PatchEmbeddings(CONFIG.dim, CONFIG.patch_size, CONFIG.in_channels),
        ClassificationHead(CONFIG.dim, CONFIG.num_classes),
    )


def plain_loop(name: str, description: str, model: nn.Module, batch: Batch) -> Contender:
    """What people write without thinking about speed: float32, NCHW, default AdamW."""
    optimizer = torch.optim.AdamW(model.parameters(), lr=RECIPE.lr, weight_decay=RECIPE.weight_decay)

    def train_step() -> None:
        optimizer.zero_grad()
        F.cross_entropy(model(batch.images), batch.labels).backward()
        optimizer.step()

    def infer() -> torch.Tensor:
        with torch.inference_mode():
            return model(batch.images)

    return Contender(name, description, model, train_step, infer)


def engine(name: str, model: ConvMixer, batch: Batch, acceleration: Acceleration) -> Contender:
    """Our model trained by the engine's own parts, as :func:`convmixer.train.fit` trains it."""
    device = batch.images.device
    training = build_training(RECIPE, device, acceleration, steps_per_epoch=10_000, model=model)

    def train_step() -> None:
        training.step(batch.images, batch.labels)

    def infer() -> torch.Tensor:
        with torch.inference_mode(), acceleration.autocast(device):
            return training.runner(acceleration.prepare_input(batch.images))

    settings = ["channels-last" if acceleration.channels_last else "NCHW"]
    settings.append(f"{str(acceleration.amp_dtype).replace('torch.', '')} autocast" if acceleration.amp_dtype else "fp32")
    settings.append("compiled" if acceleration.compile else "eager")
    settings.append("host-memory reuse" if acceleration.reuse_host_memory else "default malloc")
    if acceleration.grid_major:
        products = f", {str(acceleration.product_dtype).replace('torch.', '')} products" if acceleration.product_dtype else ""
        settings.append(f"grid-major where it pays{products}")
    settings.append(
        ("fused" if acceleration.fused_optimizer else "for-loop")
        + (" 1-thread AdamW" if acceleration.single_thread_optimizer else " AdamW")
    )
    return Contender(name, f"ours, training engine ({', '.join(settings)})", model, train_step, infer)


def ours_acceleration(device: torch.device | str, compile: bool | None) -> Acceleration:
    """How ``ours`` runs: as :func:`convmixer.train.fit` does on ``device``, compiled or not as
    ``compile`` says (``None``: the device's default)."""
    fast = Acceleration.for_device(device)
    return fast if compile is None else dataclasses.replace(fast, compile=compile)


def build_contender(name: str, batch: Batch, compile: bool | None) -> Contender:
    """The contender called ``name``, starting from :func:`reference_weights`; ``compile``: see
    :func:`ours_acceleration`."""
    device = batch.images.device
    weights = reference_weights()
    fast = ours_acceleration(device, compile)

    def ours() -> ConvMixer:
        model = build_model(RECIPE, device)
        model.load_state_dict(weights)
        return model

    def theirs(model: nn.Module, convert: Callable) -> nn.Module:
        model.load_state_dict(convert(weights))
        return model.to(device)

    if name == "timm":
        return plain_loop(name, "timm ConvMixer, plain loop (fp32, NCHW, AdamW)", theirs(timm_model(), to_timm_state_dict), batch)
    if name == "timm-reuse":
        reuse_freed_host_memory()
        return plain_loop(
            name, "timm ConvMixer, plain loop, in a process with host-memory reuse", theirs(timm_model(), to_timm_state_dict), batch
        )
    if name == "labml":
        return plain_loop(name, "labml-nn ConvMixer, plain loop (fp32, NCHW, AdamW)", theirs(labml_model(), to_labml_state_dict), batch)
    if name == "ours":
        return engine(name, ours(), batch, fast)
    # ablation: ours with one speed-up taken away
    if name == "ours-plain":
        return plain_loop(name, "ours, plain loop (fp32, NCHW, AdamW)", ours(), batch)
    if name == "ours-eager":
        return engine(name, ours(), batch, dataclasses.replace(fast, compile=False))
    if name == "ours-no-reuse":
        return engine(name, ours(), batch, dataclasses.replace(fast, reuse_host_memory=False))
    if name == "ours-plain-optimizer":
        return engine(name, ours(), batch, dataclasses.replace(fast, fused_optimizer=False, single_thread_optimizer=False))
    if name == "ours-fp32-products":
        return engine(name, ours(), batch, dataclasses.replace(fast, product_dtype=None))
    if name == "ours-no-grid-major":
        return engine(name, ours(), batch, dataclasses.replace(fast, grid_major=False))
    raise ValueError(f"unknown contender {name!r}; known: {', '.join(MAIN + ABLATION)}")


# --- running a contender here or in a worker process ---------------------------------------------


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def resident_mib(field: str = "VmHWM") -> float:
    """This process's peak (``VmHWM``) or current (``VmRSS``) resident set size, in MiB."""
    status = Path("/proc/self/status").read_text()
    return int(re.search(rf"{field}:\s+(\d+)", status).group(1)) / 1024


class Local:
    """A contender in this process."""

    def __init__(self, name: str, batch: Batch, compile: bool) -> None:
        self.device = batch.images.device
        self.baseline_mib = resident_mib("VmRSS") if Path("/proc/self/status").exists() else None
        self.contender = build_contender(name, batch, compile)
        self.description = self.contender.description

    def logits(self, images: torch.Tensor) -> torch.Tensor:
        model = self.contender.model
        model.eval()
        with torch.no_grad():
            out = model(images.to(self.device)).float().cpu()
        model.train()
        return out

    def steps(self, phase: str, count: int) -> dict[str, float]:
        """Run ``count`` steps of ``phase``; seconds per step (wall and process CPU)."""
        self.contender.model.train(phase == "train")
        run = self.contender.run(phase)
        synchronize(self.device)
        wall, cpu = time.perf_counter(), time.process_time()
        for _ in range(count):
            run()
        synchronize(self.device)
        return {"wall": (time.perf_counter() - wall) / count, "cpu": (time.process_time() - cpu) / count}

    def memory(self, phase: str, count: int) -> dict[str, float | None]:
        """Peak memory (MiB) over ``count`` steps of ``phase`` after the warm-up."""
        self.contender.model.train(phase == "train")
        run = self.contender.run(phase)
        if self.device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(self.device)
            for _ in range(count):
                run()
            return {"peak_mib": torch.cuda.max_memory_allocated(self.device) / 2**20, "baseline_mib": None}
        Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM
        for _ in range(count):
            run()
        return {"peak_mib": resident_mib("VmHWM"), "baseline_mib": self.baseline_mib}


class Worker:
    """A contender in its own Python process, driven over a pipe (one JSON line per message)."""

    def __init__(self, name: str, args: argparse.Namespace) -> None:
        command = [sys.executable, __file__, "--worker", name, "--batch", str(args.batch), "--device", args.device,
                   "--recipe", args.recipe]
        command += [] if args.compile is None else ["--compile" if args.compile else "--no-compile"]
        command += ["--threads", str(args.threads)] if args.threads else []
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.description = self.call({"do": "describe"})

    def call(self, message: dict) -> object:
        self.process.stdin.write(json.dumps(message) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"benchmark worker died (exit status {self.process.wait()}); see its error above")
        return json.loads(line)

    def logits(self, images: torch.Tensor) -> torch.Tensor:
        return torch.tensor(self.call({"do": "logits", "images": images.tolist()}))

    def steps(self, phase: str, count: int) -> dict[str, float]:
        return self.call({"do": "steps", "phase": phase, "count": count})

    def memory(self, phase: str, count: int) -> dict[str, float | None]:
        return self.call({"do": "memory", "phase": phase, "count": count})

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait()


def serve(name: str, args: argparse.Namespace) -> int:
    """Worker side of :class:`Worker`: build one contender, answer requests until stdin closes."""
    replies = sys.stdout
    sys.stdout = sys.stderr  # anything else printed must not garble the replies
    local = Local(name, make_batch(args.batch, torch.device(args.device)), args.compile)
    for line in sys.stdin:
        message = json.loads(line)
        if message["do"] == "describe":
            reply: object = local.description
        elif message["do"] == "logits":
            reply = local.logits(torch.tensor(message["images"])).tolist()
        elif message["do"] == "steps":
            reply = local.steps(message["phase"], message["count"])
        else:
            reply = local.memory(message["phase"], message["count"])
        replies.write(json.dumps(reply) + "\n")
        replies.flush()
    return 0


# --- the measurement -----------------------------------------------------------------------------


def same_function(runners: dict[str, Local | Worker]) -> float:
    """Largest |difference| between the eval-mode float32 logits of the contenders' models."""
    images = torch.randn(8, CONFIG.in_channels, CONFIG.image_size, CONFIG.image_size, generator=torch.Generator().manual_seed(2))
    outputs = [runner.logits(images) for runner in runners.values()]
    return max(float((out - outputs[0]).abs().max()) for out in outputs)


def time_phase(runners: dict[str, Local | Worker], phase: str, warmup: int, repeats: int, steps: int) -> dict[str, dict]:
    """Warm every contender up, then time them interleaved, rotating the order each repeat."""
    timings: dict[str, dict] = {}
    for name, runner in runners.items():
        started = time.perf_counter()
        runner.steps(phase, warmup)
        timings[name] = {"wall": [], "cpu": [], "warmup_s": time.perf_counter() - started}
        print(f"  {phase}: warm-up of {name} took {timings[name]['warmup_s']:.0f} s", flush=True)
    names = list(runners)
    for repeat in range(repeats):
        shift = repeat % len(names)
        for name in names[shift:] + names[:shift]:
            result = runners[name].steps(phase, steps)
            timings[name]["wall"].append(result["wall"])
            timings[name]["cpu"].append(result["cpu"])
        print(f"  {phase}: repeat {repeat + 1}/{repeats}", flush=True)
    return timings


def summarise(timings: dict[str, dict], batch_size: int) -> dict[str, dict[str, float]]:
    summary = {}
    for name, t in timings.items():
        median = statistics.median(t["wall"])
        summary[name] = {
            "images_per_s": batch_size / median,
            "ms_per_step_median": 1000 * median,
            "ms_per_step_min": 1000 * min(t["wall"]),
            "cpu_ms_per_step_median": 1000 * statistics.median(t["cpu"]),
            "warmup_s": t["warmup_s"],
            "wall_s": t["wall"],
        }
    return summary


def run_info(device: torch.device) -> dict[str, object]:
    """What the numbers depend on: :func:`~convmixer.machine.machine_info`, the date, the device
    and the versions of the other contenders' libraries."""
    import importlib.metadata as metadata

    info: dict[str, object] = {"date_utc": utc_timestamp(), **machine_info(), "device": str(device)}
    info["gpu"] = torch.cuda.get_device_name(device) if device.type == "cuda" else None
    for package in ("timm", "labml-nn"):
        try:
            info[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            info[package] = None
    return info


def table_rows(results: dict, memory: dict, descriptions: dict) -> list[dict[str, object]]:
    """One row per (phase, contender); ``ours_speedup`` = ours' images/s over this row's."""
    rows = []
    for phase in ("train", "infer"):
        ours = results[phase].get("ours")
        for name, s in results[phase].items():
            row: dict[str, object] = {"phase": phase, "contender": name}
            row.update({k: round(v, 2) for k, v in s.items() if k != "wall_s"})
            row["ours_speedup"] = round(ours["images_per_s"] / s["images_per_s"], 2) if ours else None
            mem = memory.get(name, {}).get(phase, {})
            row["peak_mib"] = round(mem["peak_mib"]) if mem.get("peak_mib") else None
            row["baseline_mib"] = round(mem["baseline_mib"]) if mem.get("baseline_mib") else None
            row["description"] = descriptions[name]
            rows.append(row)
    return rows


def print_table(rows: list[dict[str, object]]) -> None:
    header = (
        f"{'phase':<6} {'contender':<21} {'img/s':>7} {'ms/step':>8} {'min ms':>7} {'cpu ms':>7} "
        f"{'ours x':>7} {'peak MiB':>9} {'base MiB':>9}"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        peak = row["peak_mib"] if row["peak_mib"] is not None else "-"
        base = row["baseline_mib"] if row["baseline_mib"] is not None else "-"
        print(
            f"{row['phase']:<6} {row['contender']:<21} {row['images_per_s']:>7.1f} {row['ms_per_step_median']:>8.0f} "
            f"{row['ms_per_step_min']:>7.0f} {row['cpu_ms_per_step_median']:>7.0f} {row['ours_speedup']:>6.2f}x "
            f"{peak:>9} {base:>9}"
        )
    print()
    for row in rows:
        if row["phase"] == "train":
            print(f"  {row['contender']:<21} {row['description']}")


def write_results(args: argparse.Namespace, profile: str, info: dict, settings: dict, rows: list, results: dict) -> Path:
    args.out.mkdir(parents=True, exist_ok=True)
    raw = {phase: {n: s["wall_s"] for n, s in results[phase].items()} for phase in ("train", "infer")}
    document = {"machine": info, "settings": settings, "rows": rows, "wall_seconds_per_repeat": raw}
    write_record_file(args.out / f"{profile}.json", "convmixer speed benchmark", 1, document)
    extra = {"date_utc": info["date_utc"], "cpu": info["cpu"], "torch_threads": info["torch_threads"]}
    with open(args.out / f"{profile}.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]) + list(extra))
        writer.writeheader()
        for row in rows:
            writer.writerow({**row, **extra})
    return args.out / f"{profile}.json"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 repeats instead of 7, one warm-up step")
    parser.add_argument("--ablation", action="store_true", help="timm, ours, and ours with each speed-up taken away")
    parser.add_argument("--same-process", action="store_true", help="run every contender in this process")
    parser.add_argument("--only", nargs="+", metavar="NAME", help=f"contenders to run (known: {', '.join(MAIN + ABLATION)})")
    parser.add_argument("--repeats", type=int, help="timed repeats per contender (default 7, quick 3)")
    parser.add_argument("--steps", type=int, default=1, help="steps per timed repeat (default 1)")
    parser.add_argument("--batch", type=int, default=128, help="batch size (default 128)")
    parser.add_argument("--recipe", choices=("gpu", "cpu"), default="gpu",
                        help="whose model and hyper-parameters: the gpu profile's ConvMixer-256/8 k5 p2 "
                             "(default) or the cpu profile's ConvMixer-128/8 k5 p4")
    parser.add_argument("--threads", type=int, help="torch.set_num_threads (default: PyTorch's choice)")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--compile", action=argparse.BooleanOptionalAction,
                        help="torch.compile ours (default: as fit does: on a GPU, not on a CPU)")
    parser.add_argument("--no-memory", dest="memory", action="store_false", help="skip the peak-memory measurement")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder for the CSV and JSON results")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    for name in ("steps", "batch"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be >= 1")
    args.repeats = args.repeats if args.repeats is not None else (3 if args.quick else 7)
    if args.repeats < 1:
        parser.error("--repeats must be >= 1")
    unknown = sorted(set(args.only or []) - set(MAIN + ABLATION))
    if unknown:
        parser.error(f"unknown contender(s) {', '.join(unknown)}; known: {', '.join(MAIN + ABLATION)}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    use_recipe(args.recipe)
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.worker:
        return serve(args.worker, args)
    device = torch.device(args.device)
    profile = ("gpu" if device.type == "cuda" else "cpu") + ("-cpu-recipe" if args.recipe == "cpu" else "")
    profile += "-ablation" if args.ablation and not args.only else ""
    profile += "".join(f"-{name}" for name in args.only or [])
    profile += ("-same-process" if args.same_process else "") + ("-quick" if args.quick else "")
    names = args.only or (["timm", "ours"] + ABLATION if args.ablation else MAIN)
    info = run_info(device)
    info["load_average_before"] = os.getloadavg()
    print(
        f"ConvMixer-{CONFIG.dim}/{CONFIG.depth} k{CONFIG.kernel_size} p{CONFIG.patch_size}, batch {args.batch}, "
        f"{info['cpu']} ({info['cpu_count']} cores, {info['torch_threads']} threads), {device}, "
        f"{'one process' if args.same_process else 'one worker process per contender'}",
        flush=True,
    )
    batch = make_batch(args.batch, device) if args.same_process else None
    runners: dict[str, Local | Worker] = {}
    try:
        for name in names:
            runners[name] = Local(name, batch, args.compile) if args.same_process else Worker(name, args)
        difference = same_function(runners)
        print(f"  same weights: eval-mode fp32 logits differ by at most {difference:.1e}", flush=True)
        if difference > 1e-3:
            raise SystemExit("the contenders do not compute the same function; not timing them")
        warmup = 1 if args.quick else 2
        started = time.perf_counter()
        results = {
            phase: summarise(time_phase(runners, phase, warmup, args.repeats, args.steps), args.batch)
            for phase in ("train", "infer")
        }
        info["timing_seconds"] = round(time.perf_counter() - started)
        info["load_average_after"] = os.getloadavg()
        memory: dict[str, dict] = {}
        if args.memory and not args.same_process:
            for name, runner in runners.items():
                memory[name] = {phase: runner.memory(phase, 2) for phase in ("train", "infer")}
    finally:
        for runner in runners.values():
            if isinstance(runner, Worker):
                runner.close()
    rows = table_rows(results, memory, {name: runner.description for name, runner in runners.items()})
    print()
    print_table(rows)
    settings = {
        "config": dataclasses.asdict(CONFIG), "batch": args.batch, "repeats": args.repeats, "steps": args.steps,
        "warmup": warmup, "isolation": "same process" if args.same_process else "worker processes",
        "recipe": {"profile": RECIPE.name, "lr": RECIPE.lr, "weight_decay": RECIPE.weight_decay, "grad_clip": RECIPE.grad_clip,
                   "label_smoothing": RECIPE.label_smoothing},
        "compile": ours_acceleration(args.device, args.compile).compile,
        "max_abs_logit_difference": difference, "command": " ".join(["python benchmarks/speed.py"] + (argv or sys.argv[1:])),
    }
    path = write_results(args, profile, info, settings, rows, results)
    print(f"\nwrote {path} and {path.with_suffix('.csv').name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
