"""Time to accuracy: accuracy against wall-clock minutes of a whole training run.

    python benchmarks/time_to_accuracy.py ours --profile cpu --seed 1   # our fit(), the cpu profile
    python benchmarks/time_to_accuracy.py timm --profile quick          # timm's ConvMixer, plain loop
    python benchmarks/time_to_accuracy.py --figure                      # docs/img/time_to_accuracy.png
    python benchmarks/time_to_accuracy.py ours --archived full-size     # an archived recipe against cpu's
    python benchmarks/time_to_accuracy.py ours --seed 1 --set lr=0.02 --tag lr-0.02   # a candidate recipe

What is timed: from the first training step to the end of the last evaluation -- training, an
evaluation after every epoch (one view of each image) and the final model's evaluation on the test
split (10,000 images) with the profile's test-time augmentation (``fit`` evaluates that way). With
a profile that holds a validation split out (``validation_per_class``, e.g. ``cpu``), the epochs
are evaluated on it and the test set is read once, at the end; the timm contender then trains on
the same images and is judged the same way. What is not timed: decoding CIFAR-10 (both contenders
start from the same decoded uint8 tensors in memory).

Contenders, one per process (some settings of ours, like host-memory reuse, are process-wide):

- ``ours``: :func:`convmixer.train.fit` with the profile, exactly as a user runs it;
- ``timm``: ``timm.models.convmixer.ConvMixer`` of the same ``h, d, k, p`` in a plain PyTorch
  loop -- float32, NCHW, ``torch.optim.AdamW``, cross-entropy, the same one-cycle schedule, batch
  size, epochs and on-device crop + flip augmentation, none of the recipe's other tricks
  (whitened stem, alternating flip, progressive resizing, ...) -- the reference a reader would
  write from timm's model; its final model is scored with the same test-time augmentation as ours
  (and with one view, also stored), so the comparison separates the engine and recipe from the
  evaluation.

Each run writes ``benchmarks/results/time_to_accuracy-<contender>-<profile>[-seed<n>].json`` (a
:mod:`convmixer.records` file): the curve (epoch, minutes, accuracy and the split it was measured
on), the final test accuracy, the profile, the machine (with its load average before and after)
and the date. The runs of a recipe the profile does not train -- an earlier one, or a candidate
that was not adopted -- are kept in ``results/archive/`` with a tag in their names
(``time_to_accuracy-ours-cpu-full-size-seed0.json``), and ``--archived TAG`` sets them against the
current recipe's seeds on the last epoch's validation accuracy: the test accuracy never chooses a
recipe. A candidate is run straight into the archive: ``--set KEY=VALUE`` changes fields of the
profile (values as Python literals, checked like a stored profile) and ``--tag`` names its files.
"""

from __future__ import annotations

import argparse
import ast
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import torch
from roofline import matmul_peak
from torch import nn

from convmixer.data.augment import AugmentConfig
from convmixer.data.sources import ImageDataset, load_cifar10
from convmixer.machine import machine_info, utc_timestamp
from convmixer.records import read_record_file, write_record_file
from convmixer.studies.stats import Comparison, Group, compare, mean_half_width, seed_noise
from convmixer.train import EpochRecord, evaluate, fit, get_profile, one_cycle_schedule
from convmixer.train.acceleration import Acceleration
from convmixer.train.engine import training_split
from convmixer.train.export import export_model
from convmixer.train.loader import BatchLoader
from convmixer.train.profiles import TrainProfile
from convmixer.viz.images import render_figure
from convmixer.viz.style import new_figure

RESULTS = Path(__file__).resolve().parent / "results"
RECORD_FORMAT = "convmixer time to accuracy"  # each results file, a convmixer.records file
RECORD_VERSION = 2  # 2: each curve point names its split ("accuracy", "split"); timm scored with the profile's TTA
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
        curve.append({"epoch": record.epoch, **clock.read(), "accuracy": record.eval_accuracy, "split": record.eval_split})

    result = fit(profile, train=train, test=test, device="cpu", progress=False, callback=on_epoch, verbose=True)
    curve.append({"epoch": profile.epochs, **clock.read(), "accuracy": result.evaluation.accuracy, "split": "test"})
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

    train, curve_split = training_split(profile, train)  # the images fit() trains and draws its curve on
    test = test.subset(profile.test_subset, profile.seed)
    curve_split = curve_split or test
    config = profile.model_config()
    torch.manual_seed(profile.seed)
    model = TimmConvMixer(config.dim, config.depth, kernel_size=config.kernel_size,
                          patch_size=config.patch_size, num_classes=config.num_classes)
    plain = AugmentConfig(crop_padding=profile.augment.crop_padding, flip=profile.augment.flip)
    loader = BatchLoader(train, profile.batch_size, plain, profile.seed, torch.device("cpu"))
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
        accuracy = evaluate(model, curve_split).accuracy
        curve.append({"epoch": epoch + 1, **clock.read(), "accuracy": accuracy, "split": curve_split.split})
        print(f"timm epoch {epoch + 1}: {curve_split.split} accuracy {100 * accuracy:.2f}% at {curve[-1]['minutes']:.1f} min",
              flush=True)
    final = evaluate(model, test, tta=profile.tta).accuracy  # scored as fit scores ours
    curve.append({"epoch": profile.epochs, **clock.read(), "accuracy": final, "split": "test"})
    curve[-1]["one_view_accuracy"] = evaluate(model, test).accuracy  # not timed: after the clock was read
    return curve


CONTENDERS = {"ours": run_ours, "timm": run_timm}


def changed_profile(profile: TrainProfile, settings: Sequence[str]) -> TrainProfile:
    """``profile`` with the fields named in ``settings`` (``"lr=0.02"``, ``"epochs=22"``) set to
    their values, read as Python literals and checked as a stored profile is
    (:meth:`TrainProfile.from_dict`).

    Raises:
        ValueError: a setting is not ``KEY=VALUE``, names no field, or its value does not fit.
    """
    values = profile.to_dict()
    for setting in settings:
        key, equals, text = setting.partition("=")
        if not equals or key not in values:
            raise ValueError(f"--set {setting!r}: expected KEY=VALUE with KEY one of the profile's fields "
                             f"({', '.join(values)})")
        try:
            values[key] = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            values[key] = text  # a bare word, e.g. tta=none
    return TrainProfile.from_dict(values)


def run(contender: str, profile_name: str, data: str | None, export: Path | None, seed: int | None = None,
        settings: Sequence[str] = (), tag: str | None = None) -> Path:
    """Train ``contender`` with the profile (its ``seed``, its fields changed by ``settings``) and
    store the run: as the profile's own, or with ``tag`` as an archived candidate (:func:`stored_runs`)."""
    profile = changed_profile(get_profile(profile_name), settings)
    profile = profile if seed is None else profile.replace(seed=seed)
    train, test = load_cifar10("train", data), load_cifar10("test", data)
    before = machine_info()
    before["matmul_peak_gflops"] = round(max(matmul_peak((2048,)).values()), 1)  # so minutes compare across machines
    curve = CONTENDERS[contender](profile, train, test, export)
    record = {
        "contender": contender,
        "profile": profile.to_dict(),
        "dataset": train.label,
        "curve": curve,
        "final_test_accuracy": curve[-1]["accuracy"],
        "minutes": curve[-1]["minutes"],
        "cpu_minutes": curve[-1]["cpu_minutes"],
        "date": utc_timestamp(),
        "machine": before,
        "load_average_after": machine_info()["load_average"],
    }
    if contender == "ours":  # how fit() multiplied on this machine (grid-major's products)
        record["product_dtype"] = str(Acceleration.for_device("cpu").product_dtype or torch.float32).removeprefix("torch.")
    folder, stem = (RESULTS, profile.name) if tag is None else (RESULTS / "archive", f"{profile.name}-{tag}")
    path = folder / f"time_to_accuracy-{contender}-{stem}{'' if seed is None else f'-seed{seed}'}.json"
    write_record_file(path, RECORD_FORMAT, RECORD_VERSION, record)
    print(f"{contender}: {100 * record['final_test_accuracy']:.2f}% in {record['minutes']:.1f} min -> {path}")
    return path


def draw_figure(target: float) -> Path:
    """Accuracy against minutes for every stored run: one line per run through its per-epoch
    points (validation, or test for profiles without a validation split), and a star at its final
    test accuracy (with the profile's test-time augmentation, for both contenders)."""
    fig = new_figure(7.5, 5.2, layout="constrained")
    ax = fig.add_subplot()
    for path in sorted(RESULTS.glob("time_to_accuracy-*.json")):
        record = read_record_file(path, RECORD_FORMAT, RECORD_VERSION, made_by="benchmarks/time_to_accuracy.py")
        *epochs, final = record["curve"]
        profile = record["profile"]
        who = {"ours": "ours: fit()", "timm": "timm ConvMixer, plain loop"}[record["contender"]]
        split = epochs[0]["split"]
        line, = ax.plot([0.0] + [p["minutes"] for p in epochs], [10.0] + [100 * p["accuracy"] for p in epochs],
                        marker="o", markersize=3, linestyle="-" if record["contender"] == "ours" else "--",
                        label=f"{who}, {profile['name']} seed {profile['seed']}: {split} curve, "
                              f"test {100 * final['accuracy']:.1f}% ({profile['tta']} TTA)")
        ax.plot(final["minutes"], 100 * final["accuracy"], marker="*", markersize=11, color=line.get_color())
    ax.axhline(100 * target, color="0.5", linestyle=":", linewidth=0.8)
    ax.text(0.01, 100 * target + 0.4, f"{100 * target:.0f} % target", color="0.4", fontsize=8, transform=ax.get_yaxis_transform())
    ax.set_xlabel("wall-clock minutes on 2 CPU cores (training and every evaluation)")
    ax.set_ylabel("accuracy (%), CIFAR-10 (JPEG copy)")
    ax.set_ylim(40, 92)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), fontsize=7.5, frameon=False)
    FIGURE.write_bytes(render_figure(fig, "png", 110))
    return FIGURE


def stored_runs(contender: str, profile_name: str, archived: str | None = None,
                seeds: Sequence[int] | None = None) -> list[dict]:
    """Every stored seed of ``contender`` with ``profile_name``, by seed: the current recipe's files
    ``time_to_accuracy-<contender>-<profile>-seed<n>.json``, or with ``archived`` the runs of a
    recipe the profile does not train (an earlier one, or a candidate that was not adopted), kept as
    ``archive/time_to_accuracy-<contender>-<profile>-<archived>-seed<n>.json``; only the ``seeds``
    named, if any (e.g. the seeds a decision was made on, before more were run)."""
    folder, stem = (RESULTS, profile_name) if archived is None else (RESULTS / "archive", f"{profile_name}-{archived}")
    paths = sorted(folder.glob(f"time_to_accuracy-{contender}-{stem}-seed*.json"))
    records = [read_record_file(path, RECORD_FORMAT, RECORD_VERSION, made_by="benchmarks/time_to_accuracy.py")
               for path in paths]
    if seeds is not None:
        records = [r for r in records if r["profile"]["seed"] in seeds]
    if not records:
        raise ValueError(f"no stored runs of {contender} with profile {stem}"
                         + ("" if seeds is None else f" and seeds {', '.join(map(str, seeds))}"))
    return records


def last_validation_accuracy(record: dict) -> float:
    """The last epoch's one-view accuracy (%) on the held-out validation images: what a recipe is
    chosen by (its test accuracy is read once and never used for a choice)."""
    *epochs, _final = record["curve"]
    if epochs[-1]["split"] != "validation":
        raise ValueError(f"profile {record['profile']['name']} drew its curve on the {epochs[-1]['split']} split, "
                         "so its runs cannot choose a recipe")
    return 100 * epochs[-1]["accuracy"]


def recipe_comparison(contender: str, profile_name: str, archived: str, against: str | None = None,
                      seeds: Sequence[int] | None = None) -> Comparison:
    """The ``archived`` recipe of ``profile_name`` against its current one (or against the archived
    recipe ``against``), seeds against seeds (only ``seeds``, if named), on the last epoch's
    validation accuracy by the package's one rule (:func:`convmixer.studies.stats.compare`, the seed
    spread pooled over both recipes)."""
    other, base = (Group(label, tuple(last_validation_accuracy(r) for r in stored_runs(contender, profile_name, tag, seeds)))
                   for label, tag in ((f"{profile_name} {archived}", archived),
                                      (profile_name if against is None else f"{profile_name} {against}", against)))
    noise = seed_noise([other, base])
    if noise is None:
        raise ValueError("comparing two recipes needs two or more seeds of one of them")
    return compare([other], [base], noise, f"{other.label} vs {base.label}")


def seed_table(contender: str, profile_name: str, archived: str | None = None) -> str:
    """A Markdown table of every stored seed of ``contender`` with ``profile_name``
    (:func:`stored_runs`): final test accuracy, the last per-epoch (validation) accuracy, wall and
    CPU minutes, load average before, the machine's matmul peak, the dtype of grid-major's products
    (runs from before bfloat16 products existed: float32); then, for more than one seed, the
    mean with its 95 % interval over seeds and the slowest run."""
    rows, accuracies, minutes = [], [], []
    for record in stored_runs(contender, profile_name, archived):
        *epochs, final = record["curve"]
        machine = record["machine"]
        accuracies.append(100 * record["final_test_accuracy"])
        minutes.append(record["minutes"])
        load = " / ".join(f"{x:.1f}" for x in machine["load_average"])
        rows.append(f"| {record['profile']['seed']} | **{accuracies[-1]:.2f} %** | {100 * epochs[-1]['accuracy']:.2f} % "
                    f"({epochs[-1]['split']}) | {record['minutes']:.1f} | {record['cpu_minutes']:.1f} | {load} | "
                    f"{machine.get('matmul_peak_gflops', '--')} | {record.get('product_dtype', 'float32')} |")
    half = mean_half_width(accuracies)
    spread = f" ± {half:.2f}" if half is not None else ""
    lines = ["| seed | test accuracy | last epoch, one view | wall min | CPU min | load before | matmul peak GFLOP/s | products |",
             "|---|---:|---:|---:|---:|---|---:|---|", *rows]
    if len(rows) > 1:
        lines.append(f"| mean of {len(rows)} | **{sum(accuracies) / len(accuracies):.2f}{spread} %** | | "
                     f"max {max(minutes):.1f} | | | | |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("contender", nargs="?", choices=sorted(CONTENDERS))
    parser.add_argument("--profile", default="cpu")
    parser.add_argument("--data", help="CIFAR-10 source (default: $CONVMIXER_DATA)")
    parser.add_argument("--figure", action="store_true", help="draw every stored curve")
    parser.add_argument("--table", action="store_true", help="the stored seeds of the contender and profile as a table")
    parser.add_argument("--archived", metavar="TAG", help="with --table: the archived runs of that tag; alone: "
                        "set them against the current recipe's on the validation split")
    parser.add_argument("--against", metavar="TAG", help="with --archived: set them against this archived recipe's runs instead")
    parser.add_argument("--seeds", type=int, nargs="+", metavar="N", help="with --archived: only these seeds of both recipes")
    parser.add_argument("--export", type=Path, help="ship our trained model here (.pt + .json record)")
    parser.add_argument("--seed", type=int, help="the profile's seed (the file's name says it)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="change a field of the profile (a candidate recipe; needs --tag)")
    parser.add_argument("--tag", help="store the run as an archived candidate with this tag (see --archived)")
    args = parser.parse_args(argv)
    if args.figure:
        print(draw_figure(0.85))
        return 0
    try:  # stored runs that are missing, or too few to compare, are one sentence, not a traceback
        if args.table:
            print(seed_table(args.contender or "ours", args.profile, args.archived))
            return 0
        if args.archived:
            print(recipe_comparison(args.contender or "ours", args.profile, args.archived, args.against, args.seeds).describe())
            return 0
    except ValueError as error:
        parser.error(str(error))
    if args.contender is None:
        parser.error("name a contender (ours or timm) or pass --figure")
    if args.set and not args.tag:
        parser.error("a run with --set is a candidate, not the profile's own run: name it with --tag")
    try:
        changed_profile(get_profile(args.profile), args.set)  # a bad setting fails before the data loads
    except ValueError as error:
        parser.error(str(error))
    run(args.contender, args.profile, args.data, args.export, args.seed, args.set, args.tag)
    return 0


if __name__ == "__main__":
    sys.exit(main())
