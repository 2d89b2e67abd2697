"""Draw the README's figures of notebooks 06 and 07 from the shipped checkpoint and sweep results.

    python scripts/readme_figures.py

- ``docs/img/depthwise_kernels.png``: the depth-wise kernels of every block of
  ``checkpoints/convmixer_cpu.pt`` next to the kernels its training started from, and their spread per
  block (notebook 06, section 2);
- ``docs/img/kernel_size_depth.png``: accuracy against kernel size per depth, against FLOPs and
  against throughput, three seeds per cell, from ``results/kernel_depth_sweep.json`` (notebook 07,
  section 4);
- ``docs/img/skip_study.png``: the four placements of the skip connection trained with three seeds,
  from ``results/skip_study.json`` (notebook 04, section 3).

The figures are the notebooks' own (``convmixer.viz``), drawn with the same arguments.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from convmixer.analysis.inspection import depthwise_kernels
from convmixer.studies.kernel_depth import describe_sweep, read_results
from convmixer.studies.skip import read_results as read_skip_study
from convmixer.train import TrainProfile, build_model
from convmixer.train.checkpoint import load_checkpoint, load_model
from convmixer.viz.inspection import kernel_comparison_figure
from convmixer.viz.kernel_depth import sweep_figure
from convmixer.viz.skip import skip_study_figure

ROOT = Path(__file__).resolve().parents[1]
DPI = 90


def kernels_figure(checkpoint: Path, out: Path) -> None:
    model = load_model(checkpoint)
    config = model.config
    # the depth-wise kernels training started from (fit's build_model: seeded, Dirac where the
    # profile says; the stem's whitening, which needs the training images, does not touch them)
    profile = TrainProfile.from_dict(load_checkpoint(checkpoint)["profile"])
    untrained = build_model(profile.replace(stem_init="random"))
    title = (
        f"ConvMixer-{config.dim}/{config.depth} (k = {config.kernel_size}, p = {config.patch_size}) "
        "trained on CIFAR-10 (JPEG copy): depth-wise kernels, first 10 channels of every block"
    )
    fig = kernel_comparison_figure(
        depthwise_kernels(model), depthwise_kernels(untrained), channels=range(10), title=title
    )
    fig.savefig(out, dpi=DPI, bbox_inches="tight")


def sweep_results_figure(results: Path, out: Path) -> None:
    runs, meta = read_results(results)
    title = f"{meta['dataset']}, {describe_sweep(meta)} ({meta['machine']['cpu_count']}-core CPU, {meta['date'][:10]})"
    sweep_figure(runs, "accuracy", title=title).savefig(out, dpi=DPI, bbox_inches="tight")


def skip_figure(results: Path, out: Path) -> None:
    runs, meta = read_skip_study(results)
    title = (f"ConvMixer-64/8, p = 4, {meta['dataset']}: where the skip goes, "
             f"{meta['budget']['train_subset']:,} images x {meta['budget']['epochs']} epochs, {meta['date'][:10]}")
    skip_study_figure(runs, title=title).savefig(out, dpi=DPI, bbox_inches="tight")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkpoint", default=str(ROOT / "checkpoints" / "convmixer_cpu.pt"))
    parser.add_argument("--results", default=str(ROOT / "results" / "kernel_depth_sweep.json"))
    parser.add_argument("--skip-results", default=str(ROOT / "results" / "skip_study.json"))
    parser.add_argument("--out", default=str(ROOT / "docs" / "img"))
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    try:
        kernels_figure(Path(args.checkpoint), out / "depthwise_kernels.png")
        sweep_results_figure(Path(args.results), out / "kernel_size_depth.png")
        skip_figure(Path(args.skip_results), out / "skip_study.png")
    except ValueError as error:  # a missing checkpoint or results file: one sentence
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"wrote depthwise_kernels.png, kernel_size_depth.png and skip_study.png in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
