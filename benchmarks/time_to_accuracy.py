"""Time to accuracy: test accuracy against wall-clock minutes of a whole training run.

    python benchmarks/time_to_accuracy.py ours --profile cpu     # our fit(), the cpu profile
    python benchmarks/time_to_accuracy.py timm --profile cpu     # timm's ConvMixer, plain loop
    python benchmarks/time_to_accuracy.py --figure               # every stored run: docs/img/time_to_accuracy.png

What is timed: from the first training step to the end of the last evaluation -- training and
the evaluation on the test split (10,000 images) after every epoch: one view of each image, and
for ``ours`` the final model with the profile's test-time augmentation (``fit`` evaluates that
way). What is not: decoding CIFAR-10 (both contenders start from the same decoded uint8 tensors
in memory).

Contenders, one per process (some settings of ours, like host-memory reuse, are process-wide):

- ``ours``: :func:`convmixer.train.fit` with the profile, exactly as a user runs it;
- ``timm``: ``timm.models.convmixer.ConvMixer`` of the same ``h, d, k, p`` in a plain PyTorch
  loop -- float32, NCHW, ``torch.optim.AdamW``, cross-entropy, the same one-cycle schedule, batch
  size, epochs and on-device crop + flip augmentation, no other tricks -- the reference a reader
  would write from timm's model.

Each run writes ``benchmarks/results/time_to_accuracy-<contender>-<profile>.json`` (a
:mod:`convmixer.records` file): the curve
(epoch, minutes, test accuracy), the final accuracy, the profile, the machine (with its load
average before and after) and the date. The test split is evaluated once per epoch to draw the
curve; that evaluation reads the test set but chooses nothing (the recipe was chosen on a
validation split, see ``benchmarks/README.md``).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch
from torch import nn

from convmixer.data.sources import ImageDataset, load_cifar10
from convmixer.machine import machine_info, utc_timestamp
from convmixer.records import read_record_file, write_record_file
from convmixer.train import EpochRecord, evaluate, fit, get_profile, one_cycle_schedule
from convmixer.train.export import export_model
from convmixer.train.loader import BatchLoader
from convmixer.train.profiles import TrainProfile
from convmixer.viz.images import render_figure
from convmixer.viz.style import new_figure

RESULTS = Path(__file__).resolve().parent / "results"
RECORD_FORMAT = "convmixer time to accuracy"  # each results file, a convmixer.records file
RECORD_VERSION = 1
FIGURE = Path(__file__).resolve().parents[1] / "docs" / "img" / "time_to_accuracy.png"


class Clock:
    """Wall-clock and process CPU minutes since it was made. On a machine shared with other work
    the wall clock stretches; the CPU time of the process stretches much less."""

    def __init__(self) -> None:
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def read(self) -> dict[str, float]:
        return {"minutes": (time.perf_counter() - self.wall) / 60, "cpu_minutes": (time.process_time() - self.cpu) / 60}


def run_ours(profile: TrainProfile, train: ImageDataset, test: ImageDataset, export: Path | None) -> list[dict]:
    """fit() as a user calls it; one curve point per epoch (minutes since the first step). With
    ``export``, the trained model is shipped there (:func:`convmixer.train.export.export_model`)."""
    clock = Clock()
    curve: list[dict] = []

    def on_epoch(record: EpochRecord) -> None:
        curve.append({"epoch": record.epoch, **clock.read(), "test_accuracy": record.eval_accuracy})  # fit(test=test)

    result = fit(profile, train=train, test=test, device="cpu", progress=False, callback=on_epoch, verbose=True)
    curve[-1].update(**clock.read(), test_accuracy=result.evaluation.accuracy)
    if export is not None:
        export_model(
            result.model, export, profile=profile, history=result.history, evaluation=result.evaluation,
            dataset=train.label, command=" ".join(["python", *sys.argv]),
            wall_seconds=60 * curve[-1]["minutes"],
        )
    return curve


def run_timm(profile: TrainProfile, train: ImageDataset, test: ImageDataset, export: Path | None) -> list[dict]:
    """timm's ConvMixer of the profile's shape in a plain loop with the profile's budget."""
    from timm.models.convmixer import ConvMixer as TimmConvMixer

    if export is not None:
        raise ValueError("--export ships our model; the timm reference is not shipped")

    train = train.subset(profile.train_subset, profile.seed)  # as fit() takes them
    test = test.subset(profile.test_subset, profile.seed)
    config = profile.model_config()
    torch.manual_seed(profile.seed)
    model = TimmConvMixer(config.dim, config.depth, kernel_size=config.kernel_size,
                          patch_size=config.patch_size, num_classes=config.num_classes)
    loader = BatchLoader(train, profile.batch_size, profile.augment, profile.seed, torch.device("cpu"))
    optimizer = torch.optim.AdamW(model.parameters(), lr=profile.lr, weight_decay=profile.weight_decay)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, one_cycle_schedule(profile.epochs, len(loader)))
    loss_fn = nn.CrossEntropyLoss()
    clock = Clock()
    curve: list[dict] = []
    for epoch in range(profile.epochs):
        model.train()
        for images, labels in loader.batches(epoch, 0):
            optimizer.zero_grad()
            loss_fn(model(images), labels).backward()
            nn.utils.clip_grad_norm_(model.parameters(), profile.grad_clip)
            optimizer.step()
            schedule.step()
        accuracy = evaluate(model, test).accuracy
        curve.append({"epoch": epoch + 1, **clock.read(), "test_accuracy": accuracy})
        print(f"timm epoch {epoch + 1}: test accuracy {100 * accuracy:.2f}% at {curve[-1]['minutes']:.1f} min", flush=True)
    return curve


CONTENDERS = {"ours": run_ours, "timm": run_timm}


def run(contender: str, profile_name: str, data: str | None, export: Path | None) -> Path:
    profile = get_profile(profile_name)
    train, test = load_cifar10("train", data), load_cifar10("test", data)
    before = machine_info()
    curve = CONTENDERS[contender](profile, train, test, export)
    record = {
        "contender": contender,
        "profile": profile.to_dict(),
        "dataset": train.label,
        "curve": curve,
        "final_test_accuracy": curve[-1]["test_accuracy"],
        "minutes": curve[-1]["minutes"],
        "cpu_minutes": curve[-1]["cpu_minutes"],
        "date": utc_timestamp(),
        "machine": before,
        "load_average_after": machine_info()["load_average"],
    }
    path = RESULTS / f"time_to_accuracy-{contender}-{profile.name}.json"
    write_record_file(path, RECORD_FORMAT, RECORD_VERSION, record)
    print(f"{contender}: {100 * record['final_test_accuracy']:.2f}% in {record['minutes']:.1f} min -> {path}")
    return path


def draw_figure(target: float) -> Path:
    """Accuracy against minutes for every stored run, one line per contender and profile."""
    fig = new_figure(6.4, 3.8, layout="constrained")
    ax = fig.add_subplot()
    for path in sorted(RESULTS.glob("time_to_accuracy-*.json")):
        record = read_record_file(path, RECORD_FORMAT, RECORD_VERSION, made_by="benchmarks/time_to_accuracy.py")
        minutes = [0.0] + [point["minutes"] for point in record["curve"]]
        accuracy = [10.0] + [100 * point["test_accuracy"] for point in record["curve"]]
        who = {"ours": "ours: fit()", "timm": "timm ConvMixer, plain loop"}[record["contender"]]
        profile = record["profile"]
        tta = profile.get("tta", "none") if record["contender"] == "ours" else "none"
        tta_text = f", last point {tta} test-time augmentation" if tta != "none" else ""
        line, = ax.plot(minutes, accuracy, marker="o", markersize=3, linestyle="-" if record["contender"] == "ours" else "--",
                        label=f"{who}, {profile['name']} ({profile['epochs']} epochs): {accuracy[-1]:.1f}%{tta_text}")
        if tta != "none":
            ax.plot(minutes[-1], accuracy[-1], marker="*", markersize=10, color=line.get_color())
    ax.axhline(100 * target, color="0.5", linestyle="--", linewidth=0.8, label=f"{100 * target:.0f}% target")
    ax.set_xlabel("wall-clock minutes on 2 CPU cores (training + test evaluation after each epoch)")
    ax.set_ylabel("test accuracy (%), CIFAR-10 (JPEG copy)")
    ax.set_ylim(10, 100)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    FIGURE.write_bytes(render_figure(fig, "png", 110))
    return FIGURE


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("contender", nargs="?", choices=sorted(CONTENDERS))
    parser.add_argument("--profile", default="cpu")
    parser.add_argument("--data", help="CIFAR-10 source (default: $CONVMIXER_DATA)")
    parser.add_argument("--figure", action="store_true", help="draw every stored curve")
    parser.add_argument("--export", type=Path, help="ship our trained model here (.pt + .json record)")
    args = parser.parse_args(argv)
    if args.figure:
        print(draw_figure(0.85))
        return 0
    if args.contender is None:
        parser.error("name a contender (ours or timm) or pass --figure")
    run(args.contender, args.profile, args.data, args.export)
    return 0


if __name__ == "__main__":
    sys.exit(main())
