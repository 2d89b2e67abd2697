"""What the documentation may quote, and where each number comes from.

``quotes()`` is the registry: for every owned document, the exact strings that quote a number, each
formatted here from the results file (or the package object) it comes from. ``stray_numbers()`` is
the scanner: every number-bearing token of a document's prose (for notebooks, their markdown cells)
must lie inside a registered quote, be a definitional constant derived from the package
(``derived_constants()``), or match the short ``ALLOWLIST``. ``tests/test_documented_numbers.py``
asserts both, so a changed result cannot leave stale prose behind.

Not scanned: fenced code blocks, inline code spans, display math (``$$...$$``), link targets, and
the two tables other tests prove are rendered from their files (the ablation table and the seed
table of ``benchmarks/README.md``). Single-digit integers are not scanned either (list and section
numbers, exponents, small counts and architecture settings such as k = 5); every number with a
decimal point or two or more digits is.
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import itertools
import json
import math
import re
import statistics
import tomllib
from datetime import datetime
from pathlib import Path

from support import REPO

import convmixer
from convmixer.analysis.cost import convmixer_parameters
from convmixer.studies import erf, kernel_depth, patch, skip
from convmixer.studies.stats import (
    Z_975,
    Group,
    binomial_standard_error,
    compare,
    mean_half_width,
    seed_noise,
)
from convmixer.train import CPU, PROFILES, get_profile
from convmixer.train.profiles import CPU_DECEMBER_6, CPU_DECEMBER_7, CPU_DECEMBER_7_EVENING

BENCH = REPO / "benchmarks" / "results"
RESULTS = REPO / "results"

DOCUMENTS = (
    "README.md",
    "benchmarks/README.md",
    "checkpoints/README.md",
    "docs/studies.md",
    "notebooks/01_depthwise_convolution.ipynb",
    "notebooks/02_pointwise_convolution.ipynb",
    "notebooks/03_patch_embeddings.ipynb",
    "notebooks/04_convmixer_model.ipynb",
    "notebooks/05_train_cifar10.ipynb",
    "notebooks/06_visualize_kernels_and_activations.ipynb",
    "notebooks/07_kernel_size_and_depth.ipynb",
    "notebooks/08_kernel_size_on_good_models.ipynb",
    "notebooks/09_patch_size_trained.ipynb",
)

# Numbers that are not results: outside numbers with their named source, the project's goals,
# citations, dates and references. Each entry: (document or "*", regex of the text, why).
ALLOWLIST: tuple[tuple[str, str, str], ...] = (
    # outside, sourced
    ("README.md", r"about 92\.5 %|0\.9260 test accuracy|about 43 s per epoch on one RTX 2080 Ti|\"more than 94%\"",
     "outside, sourced: the README of locuslab/convmixer-cifar10, named in the sentence"),
    ("docs/studies.md", r"arXiv 2201\.09792", "outside, sourced: the paper's arXiv identifier"),
    ("*", r"(Trockman & Kolter|Krizhevsky|Zhou et al\.|Northcutt et al\.|Guo et al\.|Hendrycks & Gimpel|Luo et al\.),? \d{4}",
     "citation years"),
    # the project's goals (targets, not measurements)
    ("*", r"at least 85 %|short of 85 %|within 20 minutes|1\.5x over timm|1\.5× over timm|the goal is 50 %|and 50 % of the peak"
          r"|[Tt]he goal of 50 %|50 % of the matrix-multiply peak|short of 50 %|the goal's 85 %"
          r"|88 % in 30 minutes|within 30 minutes|first run above 85 %|worth the goal.s 85 %|not 20",
     "the project's goals, stated as targets"),
    # dates and references
    ("*", r"\d{1,2}(-\d{1,2})? December 2026|\d{1,2} November 2026|2026-\d\d-\d\d \d\d:\d\d UTC|2026-\d\d-\d\d|\d\d:\d\d UTC",
     "dates of runs (provenance, not measurements)"),
    ("*", r"issue \d+", "issue numbers"),
    ("*", r"95 % (interval|error bar|band)s?|error bars: 95 % intervals|the 95 % interval",
     "the confidence level of convmixer.studies.stats (the package's one rule)"),
    ("README.md", r"127\.0\.0\.1", "the loopback address"),
    ("*", r"notebooks? \d\d(–\d\d)?|\b0\d–0\d\b|\| 0\d \||\b0[1-9]\b", "notebook numbers"),
    ("*", r"sections? \d+(–\d+)?", "section numbers"),
)


# --- formatting -----------------------------------------------------------------------------------

def pct(fraction: float, digits: int = 2) -> str:
    return f"{100 * fraction:.{digits}f} %"


def load(path: Path) -> dict:
    return json.loads(path.read_text())


@functools.cache
def seeds() -> list[dict]:
    return [load(p) for p in sorted(BENCH.glob("time_to_accuracy-ours-cpu-seed*.json"))]


@functools.cache
def shipped() -> dict:
    return load(REPO / "checkpoints" / "convmixer_cpu.json")


DECEMBER_6 = "2026-12-06"  # the tag of the cpu recipe of 6 December in results/archive/, replaced on 7 December
DECEMBER_7 = "2026-12-07"  # the tag of the cpu recipe of 7 December (afternoon), replaced that evening
DECEMBER_7_EVENING = "2026-12-07-evening"  # the cpu recipe of that evening (lr 0.02, 20 epochs), replaced late that night
FIRST_SEEDS = (0, 1, 2)  # the seeds each decision of 7 December afternoon before the last was made on
LATE_SEEDS = (3, 4)  # the seeds both recipes added for the last, side by side on one machine


@functools.cache
def december_6_seeds(seeds: tuple[int, ...] | None = None) -> list[dict]:
    """The seeds of the cpu recipe of 6 December (0-2 on the Zen 3 container, 3-4 on the Zen 4), or
    only ``seeds``."""
    from support import load_script

    return load_script("time_to_accuracy", folder="benchmarks").stored_runs("ours", "cpu", DECEMBER_6, seeds)


@functools.cache
def december_7_seeds(seeds: tuple[int, ...] | None = None) -> list[dict]:
    """The seeds of the cpu recipe of 7 December (all five on the Zen 4 container), or only ``seeds``."""
    from support import load_script

    return load_script("time_to_accuracy", folder="benchmarks").stored_runs("ours", "cpu", DECEMBER_7, seeds)


@functools.cache
def december_7_evening_seeds(seeds: tuple[int, ...] | None = None) -> list[dict]:
    """The seeds of the cpu recipe of the evening of 7 December (1-3, the Zen 4 container), or only ``seeds``."""
    from support import load_script

    return load_script("time_to_accuracy", folder="benchmarks").stored_runs("ours", "cpu", DECEMBER_7_EVENING, seeds)


@functools.cache
def december_7_evening_shipped() -> dict:
    """The record of the checkpoint shipped in the evening of 7 December: seed 1 of that recipe."""
    return load(BENCH / "archive" / f"convmixer_cpu-{DECEMBER_7_EVENING}.json")


@functools.cache
def december_7_shipped() -> dict:
    """The record of the checkpoint shipped on the evening of 7 December: seed 0 of its recipe."""
    return load(BENCH / "archive" / f"convmixer_cpu-{DECEMBER_7}.json")


@functools.cache
def december_6_shipped() -> dict:
    """The record of the checkpoint shipped until 7 December: seed 0 of the recipe of 6 December."""
    return load(BENCH / "archive" / f"convmixer_cpu-{DECEMBER_6}.json")


def speed(name: str) -> dict[tuple[str, str], dict]:
    return {(r["phase"], r["contender"]): r for r in load(BENCH / name)["rows"]}


def span(values, digits: int = 1, dash: str = "–", suffix: str = "") -> str:
    lo, hi = min(values), max(values)
    return f"{lo:.{digits}f}{dash}{hi:.{digits}f}{suffix}"


# --- what each document quotes --------------------------------------------------------------------

def seed_quotes(runs: list[dict] | None = None) -> tuple[list[str], list[float], list[float]]:
    """The mean over seeds with its interval, the seed SD and the distance to the goal; and the
    seeds' test accuracies (%) and minutes (of the cpu recipe's seeds unless ``runs``)."""
    runs = seeds() if runs is None else runs
    acc = [100 * s["final_test_accuracy"] for s in runs]
    mean = sum(acc) / len(acc)
    minutes = [s["minutes"] for s in runs]
    return [
        f"{mean:.2f} ± {mean_half_width(acc):.2f} %",
        f"SD {statistics.stdev(acc):.2f} points",
        f"{85 - mean:.1f} points short",
    ], acc, minutes


def zen5_speedup() -> float:
    """How much faster the Zen 5 container trained the same model: median seconds per training
    image of the 2 December run's epochs (all at 32 x 32, 50,000 images) against seed 0's full-size
    epochs (45,000 images) of 6 December."""
    old = load(BENCH / "archive" / "time_to_accuracy-ours-cpu.json")
    minutes = [c["minutes"] for c in old["curve"]]
    old_epochs = [60 * (b - a) for a, b in itertools.pairwise(minutes)]
    record = december_6_shipped()
    new_epochs = [h["seconds"] for h in record["history"][record["profile"]["progressive_epochs"]:]]
    train_images = 50_000 - 10 * record["profile"]["validation_per_class"]
    return (statistics.median(new_epochs) / train_images) / (statistics.median(old_epochs) / 50_000)


def kernel_depth_study():
    runs, notes = kernel_depth.read_results(RESULTS / "kernel_depth_sweep.json")
    summary = kernel_depth.cells(runs)
    noise = seed_noise(summary)
    return runs, notes, summary, kernel_depth.kernel_comparisons(summary, noise), kernel_depth.depth_comparisons(summary, noise)


def skip_study():
    runs, notes = skip.read_results(RESULTS / "skip_study.json")
    summary = skip.summarise(runs)
    return notes, summary, skip.comparisons(summary), seed_noise([s.group for s in summary])


def erf_study():
    runs, notes = erf.read_results(RESULTS / "erf_study.json")
    summary = erf.summarise(runs)
    return notes, summary, erf.comparisons(summary)


def by_label(comparisons, start: str):
    (found,) = [c for c in comparisons if c.label.startswith(start)]
    return found


def pm(value: float, half: float, digits: int = 1, sign: bool = False) -> str:
    return f"{value:{'+' if sign else ''}.{digits}f} ± {half:.{digits}f}"


def speed_pair_quotes() -> list[str]:
    """The README's Zen 5 speed table and its prose: two runs of speed.py."""
    runs = [speed("cpu-run1.json"), speed("cpu.json")]

    def ratios(phase, contender):
        return [r[(phase, contender)]["ours_speedup"] for r in runs]

    row = {p: [span(ratios(p, c), 2, suffix="×") for c in ("timm", "labml", "timm-reuse")] for p in ("train", "infer")}
    plain = lambda p: ratios(p, "timm") + ratios(p, "labml")
    return [
        f"| training | {' | '.join(row['train'])} |",
        f"| inference | {' | '.join(row['infer'])} |",
        f"**{span(plain('train'), 1, suffix='×')}**",
        f"**{span(plain('infer'), 1, suffix='×')}**",
        f"still {max(ratios('train', 'timm-reuse')):.1f}× slower in training and {max(ratios('infer', 'timm-reuse')):.1f}× in inference",
        f"two runs of {load(BENCH / 'cpu.json')['settings']['repeats']} repeats",
    ]


def roofline_share_256() -> list[float]:
    """Share of the Zen 5 peak that ConvMixer-256/8 p2's training step reached: in the two speed
    runs (images/s x GFLOP per training image) and in the roofline run."""
    old = load(BENCH / "archive" / "roofline-cpu-2026-12-02.json")
    (model,) = [m for m in old["models"] if m["model"].startswith("ConvMixer-256/8")]
    per_image = model["training_gflop_per_image"]
    rates = [speed(f)[("train", "ours")]["images_per_s"] * per_image for f in ("cpu-run1.json", "cpu.json")]
    return rates, [r / old["peak_gflops"] for r in rates] + [model["share_of_peak"]], old, per_image


def step_breakdown() -> dict:
    """The breakdown of 6 December (Zen 3), before the engine ran the cpu model grid-major."""
    return load(BENCH / "archive" / "step_breakdown-cpu-2026-12-06.json")


def breakdown_rows() -> tuple[list[str], dict[str, float]]:
    b = step_breakdown()
    step = b["step_ms"]["engine (fit's CPU settings)"]
    parts = b["block_part_ms"]
    depth = get_profile("cpu").model_overrides["depth"]
    counts = {"depthwise conv": 1, "pointwise conv": 1, "GELU": 2, "BatchNorm": 2, "residual add": 1}
    total = {name: parts[name] * n * depth for name, n in counts.items()}
    share = {name: round(100 * t / step) for name, t in total.items()}
    k = get_profile("cpu").model_overrides.get("kernel_size", convmixer.CONFIGS["convmixer_128_4"].kernel_size)
    rows = [
        (f"| depth-wise {k} × {k} convolution | {parts['depthwise conv']:.1f} (of which the weight gradient alone: "
        f"{parts['depthwise conv, weight gradient only']:.1f}) | {total['depthwise conv']:.0f} | {share['depthwise conv']} % |"),
        f"| point-wise 1 × 1 convolution | {parts['pointwise conv']:.1f} | {total['pointwise conv']:.0f} | {share['pointwise conv']} % |",
        f"| GELU (two per block) | {parts['GELU']:.1f} | {total['GELU']:.0f} | {share['GELU']} % |",
        f"| BatchNorm (two per block) | {parts['BatchNorm']:.1f} | {total['BatchNorm']:.0f} | {share['BatchNorm']} % |",
        f"| residual add | {parts['residual add']:.1f} | {total['residual add']:.0f} | {share['residual add']} % |",
        f"share of the {step:.0f} ms step",
        f"add up to {b['blocks_sum_ms']:.0f} of the {step:.0f} ms step",
    ]
    return rows, share


def roofline_zen3() -> dict:
    """The roofline of 6 December (Zen 3), before the engine ran the cpu model grid-major."""
    return load(BENCH / "archive" / "roofline-cpu-2026-12-06.json")


def roofline_now() -> dict:
    return load(BENCH / "roofline-cpu.json")


ZEN4_BF16_ROOFLINE = "archive/roofline-cpu-2026-12-07-zen4-bf16.json"  # after the bfloat16 products


def roofline_zen4_bf16() -> dict:
    return load(BENCH / ZEN4_BF16_ROOFLINE)


def roofline_zen4_fp32() -> dict:
    """The roofline of the Zen 4 container before grid-major's products ran in bfloat16."""
    return load(BENCH / "archive" / "roofline-cpu-2026-12-07-zen4-fp32.json")


# The session of 7 December on the Zen 3 container (03:11-03:54 UTC): the cpu model after grid-major
ZEN3_SPEED = "archive/cpu-cpu-recipe-2026-12-07-zen3.json"
ZEN3_ROOFLINE = "archive/roofline-cpu-2026-12-07.json"
ZEN3_BREAKDOWN = "archive/step_breakdown-cpu-2026-12-07.json"


def amp() -> dict[str, str]:
    text = (BENCH / "amp_check-cpu.txt").read_text()
    out = {}
    for kind in ("bfloat16", "float16"):
        line = next(l for l in text.splitlines() if l.startswith(kind + " "))
        out[kind] = line
    out["float32"] = next(l for l in text.splitlines() if l.startswith("float32 "))
    return out


def amp_numbers() -> dict[str, str]:
    lines = amp()
    num = lambda pattern, line: re.search(pattern, lines[line]).group(1)
    return {
        "bf16_loss": num(r"relative difference ([\d.e-]+)", "bfloat16"),
        "fp16_loss": num(r"relative difference ([\d.e-]+)", "float16"),
        "bf16_grad": num(r"gradient relative error ([\d.]+)", "bfloat16"),
        "fp16_grad": num(r"gradient relative error ([\d.]+)", "float16"),
        "bf16_cos": num(r"cosine ([\d.]+)", "bfloat16"),
        "fp16_cos": num(r"cosine ([\d.]+)", "float16"),
        "bf16_s": num(r"([\d.]+) s \(", "bfloat16"),
        "fp16_s": num(r"([\d.]+) s \(", "float16"),
        "fp32_s": num(r"([\d.]+) s\s*$", "float32"),
        "bf16_x": num(r"\((\d+)x float32\)", "bfloat16"),
        "fp16_x": num(r"\((\d+)x float32\)", "float16"),
    }


def profile_step() -> dict:
    text = (BENCH / "profile_step-cpu.txt").read_text()
    phases = {}
    for line in text.splitlines():
        m = re.match(r"(data|forward|backward|optimizer|total)\s+(\d+)\s+(\d+)%\s+(\d+)\s+(\d+)%\s+([\d.]+)", line)
        if m:
            phases[m.group(1)] = m.groups()[1:]
    faults = re.search(r"page faults\s+(\d+)\s+(\d+)", text).groups()
    kernel = re.search(r"kernel CPU ms\s+(\d+)\s+(\d+)", text).groups()
    warm = dict(re.findall(r"warm-up (before|after): (\d+) s", text))
    after = text.split("--- after")[1].split("median ms per phase")[0]
    shares = {}
    for line in after.splitlines():
        m = re.match(r"\s*(aten::convolution_backward|## Call CompiledFxGraph|aten::mkldnn_convolution)\S*\s.*?\s([\d.]+)%", line)
        if m:
            shares[m.group(1)] = shares.get(m.group(1), 0.0) + float(m.group(2))
    return {"phases": phases, "faults": faults, "kernel": kernel, "warm": warm, "shares": shares}


def speed_table_row(row: dict, *columns: str) -> str:
    return f"| {row['phase']} | {row['contender']:<10} | " + " | ".join(columns) + " |"


def ms(x: float) -> str:
    return f"{x:.0f}"


def kernel_size_study_quotes() -> list[str]:
    """The kernel-size study on good models (results/kernel_size_study.json, notebook 08): that every
    model passed the 80 % the question is asked at."""
    path = RESULTS / "kernel_size_study.json"
    if not path.exists():
        return []
    runs, _ = erf.read_results(path)
    return ["above 80 %"] if all(r.validation_accuracy >= 0.80 for r in runs) else []


def patch_study_quotes() -> list[str]:
    """Notebook 09's prose numbers, each from the patch-size study's file or the profile registry:
    a patch's numbers at every p, every p's epochs under the same minutes, and two released ImageNet
    models' accuracies with their sources (convmixer.notebook.published)."""
    from convmixer.notebook.published import IMAGENET, MMPRETRAIN_TABLE, OFFICIAL_README

    released = {m.config: m for m in IMAGENET}
    fine, coarse = released["convmixer_1536_20"], released["convmixer_1024_20"]
    assert (fine.top1_source, coarse.top1_source) == (OFFICIAL_README, MMPRETRAIN_TABLE)
    config = patch.BUDGET.model_config()
    _, notes = patch.read_results(RESULTS / "patch_study.json")
    epochs = notes["minutes_budget_epochs"]
    return [f"$3 \\cdot {p}^2 = {config.in_channels * p * p}$" for p in patch.PATCH_SIZES] + [
        f"stem's $h = {config.dim}$",
        f"keeps only its {config.dim} strongest directions",
        f"$p = 2$ affords only {epochs['2']} epochs",
        f"above the {notes['training_minutes']:g} minutes",
        f"Between $p = 4$ ({epochs['4']} epochs) and $p = 8$ ({epochs['8']} epochs)",
        f"with $p = {convmixer.CONFIGS[fine.config].patch_size}$ scores {fine.top1:.2f} % top-1 (the README of "
        f"[{OFFICIAL_README.repository}]",
        f"with $p = {convmixer.CONFIGS[coarse.config].patch_size}$ scores {coarse.top1:.2f} % (the table in "
        f"`{MMPRETRAIN_TABLE.path}` of [{MMPRETRAIN_TABLE.repository}]",
    ]


def patch_readme_quotes() -> list[str]:
    """README's sentences on the patch-size study, rendered from results/patch_study.json: the means
    per budget and p with their 95 % half-widths, the minutes the same-minutes runs took, p = 2's
    epochs, and the one test reading."""
    runs, notes = patch.read_results(RESULTS / "patch_study.json")
    by = {(s.budget, s.patch_size): s for s in patch.summarise(runs)}
    cell = lambda kind, p: f"p = {p} {pm(by[kind, p].mean, by[kind, p].half_width, 2)} %"
    test = notes["test"]
    spent = sorted(by["minutes", p].train_minutes for p in patch.PATCH_SIZES)
    return [", ".join(cell(kind, p) for p in patch.PATCH_SIZES) for kind in patch.BUDGETS] + [
        f"the runs took {spent[0]:.1f} to {spent[-1]:.1f} minutes on average per p",
        f"p = 2 ({notes['minutes_budget_epochs']['2']} epochs)",
        f"p = {test['patch_size']}, scored {100 * test['accuracy']:.2f} % on the test split",
    ]


def kernel_size_study():
    """The kernel-size study on good models: runs, notes, summaries by k, and every comparison by label."""
    runs, notes = erf.read_results(RESULTS / "kernel_size_study.json")
    summary = erf.summarise(runs)
    found = erf.comparisons(summary) + erf.training_comparisons(summary)
    return runs, notes, {s.kernel_size: s for s in summary}, {c.label: c for c in found}


def kernel_size_readme_quotes() -> list[str]:
    """README's sentences on the kernel-size study (rendered from the file the same way)."""
    if not (RESULTS / "kernel_size_study.json").exists():
        return []
    _, _, by_k, found = kernel_size_study()
    accuracy = found["validation accuracy: k9 d8 vs k3 d8"]
    if accuracy.separable:
        better, worse = (9, 3) if accuracy.difference > 0 else (3, 9)
        verdict = f"k = {better} beat k = {worse} by {pm(abs(accuracy.difference), accuracy.half_width)} points"
    else:
        verdict = f"cannot be told apart ({pm(accuracy.difference, accuracy.half_width, sign=True)} points"
    a3, a9 = by_k[3].accuracy, by_k[9].accuracy
    return [
        f"k = 3 reached {pm(100 * a3.mean, 100 * a3.half_width, 2)} %, k = 9 {pm(100 * a9.mean, 100 * a9.half_width, 2)} %",
        verdict,
        *(f"from {by_k[k].untrained.side.mean:.1f} to {by_k[k].trained.side.mean:.1f} px (k = {k})" for k in (3, 9)),
    ]


def readme_quotes() -> list[str]:
    peaks = [s["machine"]["matmul_peak_gflops"] for s in seeds()]
    runs, notes, summary, kcomp, dcomp = kernel_depth_study()
    means = [c.mean for c in summary]
    skip_notes, skip_summary, skip_comp, skip_noise = skip_study()
    erf_notes, erf_summary, erf_comp = erf_study()
    erf_cell = {(s.kernel_size, s.depth): s for s in erf_summary}
    _rates, shares, old_roof, per_image = roofline_share_256()
    zen3 = speed("cpu-zen3-2026-12-06-quick.json")
    _, share = breakdown_rows()
    b = step_breakdown()
    a = amp_numbers()
    budget = skip_notes["budget"]
    grid = {(r["kernel_size"], r["patch_size"], r["image_size"]): r for r in load(BENCH / "grid_major-cpu.json")["steps"]}
    bf16 = speed(BF16_SPEED)
    quotes = (kernel_size_study_quotes() + kernel_size_readme_quotes() + patch_readme_quotes()
              + cpu_model_speed_quotes()[0] + cpu_recipe_quotes()[1] + lr_decision_quotes()[1]
              + epochs_decision_quotes()[1] + engine_change_quotes()[1]) + [
        "step **{:.2f}× faster** than the same engine".format(bf16[("train", "ours-fp32-products")]["ours_speedup"]),
        "`fit`'s step was then {:.2f}× timm's loop, {:.2f}× labml-nn's and **{:.2f}× timm's given the same memory".format(
            *(bf16[("train", who)]["ours_speedup"] for who in ("timm", "labml", "timm-reuse"))),
        f"{grid[5, 4, 32]['speedup']:.2f}× faster at 32 × 32 and {grid[5, 4, 24]['speedup']:.2f}× at 24 × 24",
        "matrix-multiply peak " + ", ".join(f"{p:.1f}" for p in peaks) + " GFLOP/s",
        (f"({pct(shipped()['test_accuracy'])}, {shipped()['fit_wall_seconds'] / 60:.1f} min; "
        f"{(REPO / 'checkpoints' / 'convmixer_cpu.pt').stat().st_size / 1e6:.2f} MB"),
        "the first {progressive_epochs} of its {epochs} epochs on images scaled to {progressive_size} × {progressive_size}".format(
            **dataclasses.asdict(CPU_DECEMBER_6)),
        f"the BatchNorm biases at {CPU_DECEMBER_6.norm_bias_lr_scale:.0f}× the",
        *("{} in {:.1f} minutes".format(pct(r["final_test_accuracy"]), r["minutes"])
          for r in (load(BENCH / f"time_to_accuracy-{who}-quick.json") for who in ("ours", "timm"))),
        f"from {len(kernel_depth_study()[0])} real training runs",
        # kernel size x depth
        f"{len(runs)} runs in {notes['total_wall_seconds'] / 60:.0f} minutes",
        f"between {min(means):.1f} % and {max(means):.1f} %",
        f"d = 4 beat d = 2 by {pm(abs(by_label(dcomp, 'd = 4').difference), by_label(dcomp, 'd = 4').half_width)} points",
        f"trailed d = 4 by {pm(abs(by_label(dcomp, 'd = 8').difference), by_label(dcomp, 'd = 8').half_width)} points",
        f"d = 2 ({pm(by_label(kcomp, 'k = 9 vs k = 3 at d = 2').difference, by_label(kcomp, 'k = 9 vs k = 3 at d = 2').half_width, sign=True)} points)",
        f"d = 4 ({pm(by_label(kcomp, 'k = 9 vs k = 3 at d = 4').difference, by_label(kcomp, 'k = 9 vs k = 3 at d = 4').half_width, sign=True)} points)",
        f"k = 9 scored {pm(abs(by_label(kcomp, 'k = 9 vs k = 3 at d = 8').difference), by_label(kcomp, 'k = 9 vs k = 3 at d = 8').half_width)} points below k = 3",
        f"scored {notes['test']['mean']:.1f} ± {notes['test']['half_width']:.1f} % on the test split",
        # skip placement
        (f"on {budget['train_subset']:,} training images for {budget['epochs']} epochs "
        f"({budget['train_subset'] * budget['epochs']:,} images seen)"),
        f"{skip_notes['split']['validation']:,} held-out validation images",
        f"{skip_noise.std:.2f} points; 2 December",
        f"{skip_notes['total_wall_seconds'] / 60:.1f} minutes for all {len(skip_summary) * len(skip_notes['seeds'])} runs",
        # ERF
        f"can both see {erf_cell[(9, 2)].receptive_field} pixels",
        f"of side {pm(erf_cell[(9, 2)].untrained.side.mean, erf_cell[(9, 2)].untrained.side.half_width)} px",
        (f"{pm(erf_cell[(3, 8)].untrained.side.mean, erf_cell[(3, 8)].untrained.side.half_width)} px "
        f"({pm(by_label(erf_comp, 'half-gradient side, untrained: k9 d2 vs k3 d8').difference, by_label(erf_comp, 'half-gradient side, untrained: k9 d2 vs k3 d8').half_width)} px apart"),
        f"`scripts/erf_study.py`, {erf_notes['total_wall_seconds'] / 60:.1f} minutes",
        # speed, Zen 5
        *speed_pair_quotes(),
        f"removes {int(profile_step()['faults'][0]) / 1e6:.1f} million page faults",
        f"peak measured {old_roof['peak_gflops']:.1f} GFLOP/s",
        f"reached {100 * min(shares):.0f}–{100 * max(shares):.0f} % of it",
        f"({per_image:.2f} GFLOP per training image",
        f"and {100 * old_roof['models'][0]['share_of_peak']:.0f} % for the `cpu` profile's",
        # speed, Zen 3
        f"training {zen3[('train', 'timm')]['ours_speedup']:.2f}× timm and {zen3[('train', 'labml')]['ours_speedup']:.2f}× labml-nn",
        f"**only {zen3[('train', 'timm-reuse')]['ours_speedup']:.2f}× timm",
        (f"inference {zen3[('infer', 'timm')]['ours_speedup']:.2f}×, {zen3[('infer', 'labml')]['ours_speedup']:.2f}× "
        f"and {zen3[('infer', 'timm-reuse')]['ours_speedup']:.2f}×"),
        f"runs at {100 * roofline_zen3()['models'][0]['share_of_peak']:.0f} % of that machine's {roofline_zen3()['peak_gflops']:.1f} GFLOP/s",
        f"share ({share['depthwise conv']} %)",
        f"({share['pointwise conv']} %, whose",
        f"runs at {100 * b['matmul']['pointwise_gflops'] / b['matmul']['square_2048_gflops']:.0f} % of the peak",
        f"GELU ({share['GELU']} %)",
        f"were {a['bf16_x']}× and {a['fp16_x']}× slower",
        # configurations and the package
        *config_rows(),
        f"{cpu_plain_parameters() / 1e3:.0f} k parameters",
        *version_quotes()[:3],
        f"Python ≥ {tomllib.loads((REPO / 'pyproject.toml').read_text())['project']['requires-python'].removeprefix('>=')}",
    ]
    quotes += skip_quotes(skip_summary, skip_comp)
    return quotes


def skip_quotes(summary, comparisons) -> list[str]:
    by = {s.label.split(" (")[0]: s for s in summary}

    def est(label):
        s = by[label]
        return f"{s.mean:.1f} ± {s.half_width:.1f} %"

    comp = {c.label.split(" vs ")[0]: c for c in comparisons}
    return [
        f"({est('around the whole block')})",
        f"({est('two skips')})",
        f"({est('around depth-wise')})",
        (f"by {pm(comp['around the whole block'].difference, comp['around the whole block'].half_width)} and "
        f"{pm(comp['two skips'].difference, comp['two skips'].half_width)} points"),
        f"no skip reached {est('no skip')}, {pm(abs(comp['no skip'].difference), comp['no skip'].half_width)} points below",
    ]


def config_rows() -> list[str]:
    """The README's table of named configurations, row by row (parameters from the closed form)."""
    rows = []
    for name, c in convmixer.CONFIGS.items():
        data = "ImageNet" if c.num_classes == 1000 else "CIFAR-10"
        params = convmixer_parameters(c) / 1e6
        count = f"{params:.1f}" if params >= 1 else f"{params:.2f}"
        rows.append(f"| `{name}` | {c.dim} | {c.depth} | {c.kernel_size} | {c.patch_size} | {c.image_size}² {data} | {count} M |")
    return rows


def cpu_plain_parameters() -> int:
    """Parameters of the `cpu-plain` profile's model (its configuration with the overrides)."""
    profile = get_profile("cpu-plain")
    config = convmixer.CONFIGS[profile.model]
    return convmixer_parameters(dataclasses.replace(config, **profile.model_overrides))


def sci(x: float) -> str:
    """``9.3e-9``: one decimal, no zero-padded exponent."""
    exponent = math.floor(math.log10(abs(x)))
    return f"{x / 10 ** exponent:.1f}e{exponent}"


ENGINE = "engine (fit's CPU settings)"
SPEED_FILES = ("cpu-zen3-2026-12-06-quick.json", "cpu-run1.json", "cpu.json", "cpu-zen3.json", "cpu-zen3-run1.json",
               "cpu-ablation-quick.json", "cpu-ours-ours-eager-ours-plain-optimizer.json")


def ratio(r: dict, bold: bool) -> str:
    text = f"{r['ours_speedup']:.2f}x"
    return f"**{text}**" if bold and r["contender"] in ("timm", "labml") else text


def load_pair(name: str) -> str:
    m = load(BENCH / name)["machine"]
    return f"{m['load_average_before'][0]:.1f} → {m['load_average_after'][0]:.1f}"


def jsonl() -> list[dict]:
    return [json.loads(line) for line in (BENCH / "recipe_ablation.jsonl").read_text().splitlines() if line.strip()]


def version_quotes() -> list[str]:
    """The library versions of the speed runs, as their machine records give them."""
    m = load(BENCH / "cpu.json")["machine"]
    python = ".".join(m["python"].split(".")[:2])
    return [f"torch {m['torch'].split('+')[0]}", f"timm {m['timm']}", f"labml-nn {m['labml-nn']}", f"{m['libc']}, Python {python}"]


def recipe_ablation_quotes() -> list[str]:
    """The prose around the ablation table: its wall time, and which variants lack a seed."""
    from convmixer.studies.recipe import read_results

    runs, _ = read_results(RESULTS / "recipe_ablation.json")
    data = load(RESULTS / "recipe_ablation.json")
    seeds_of = {v: {r.seed for r in runs if r.variant == v} for v in data["variants"]}
    missing = [v for v in data["variants"] if seeds_of[v] != set(data["seeds"])]
    quotes = [f"container, {data['total_wall_seconds'] / 60:.0f} minutes of wall time in all"]
    if missing:
        quotes.append("**Incomplete:** the second seed of " + ", ".join(f"`{v}`" for v in missing) + " did not finish")
    return quotes


def cpu_model_speed_quotes() -> tuple[list[str], list[str]]:
    """The cpu profile's model against timm and labml-nn: README's sentence, from the current speed
    run and roofline, and benchmarks/README's section on the Zen 3 session of 7 December after
    grid-major, from its archived files."""
    now, full, quick = speed("cpu-cpu-recipe.json"), speed(ZEN3_SPEED), speed("cpu-cpu-recipe-quick.json")
    before = speed("cpu-cpu-recipe-quick-grid-major-inference.json")
    ablation = speed("cpu-cpu-recipe-ablation-quick.json")
    x = lambda runs, phase, who: f"{runs[(phase, who)]['ours_speedup']:.2f}"
    infer = span([now[("infer", c)]["ours_speedup"] for c in ("timm", "labml", "timm-reuse")], 2, "–", "×")
    first_point = breakdown_parts(ZEN4_CONV.format("step_breakdown-cpu"))["pointwise conv"]
    readme = [
        f"trains **{x(now, 'train', 'timm-reuse')}× faster than timm's loop given the same memory setting**",
        f"({x(now, 'train', 'timm')}× timm, {x(now, 'train', 'labml')}× labml-nn)",
        f"infers at {infer} their speed",
        f"({100 * roofline_zen4_fp32()['models'][0]['share_of_peak']:.0f} % on the Zen 4, `archive/roofline-cpu-2026-12-07-zen4-fp32.json`)",
        f"{load(BENCH / 'cpu-cpu-recipe.json')['settings']['repeats']} repeats) `fit`'s engine",
        f"engine trained {x(full, 'train', 'timm-reuse')}× faster than timm's loop given the same memory setting",
        f"point-wise product {first_point[1] / first_point[0]:.1f}× slower than oneDNN's",
        (f"{load(BENCH / ZEN4_CONV.format('cpu-cpu-recipe'))['settings']['repeats']} repeats before the change had "
         f"given {x(speed(ZEN4_CONV.format('cpu-cpu-recipe')), 'train', 'timm-reuse')}×"),
    ]
    roof = load(BENCH / ZEN3_ROOFLINE)
    cpu_model, big = roof["models"]
    share = f"{100 * cpu_model['share_of_peak']:.0f} %"
    settings = load(BENCH / ZEN3_SPEED)["settings"]
    bench = [speed_table_row(r, f"{r['images_per_s']:.1f}", ms(r["ms_per_step_median"]), ms(r["ms_per_step_min"]), ratio(r, True))
             for r in full.values()]
    bench += [
        f"{settings['repeats']} repeats (`results/{ZEN3_SPEED}`",
        f"load {load_pair(ZEN3_SPEED)}",
        f"is {x(full, 'train', 'timm')}x timm's plain loop, {x(full, 'train', 'labml')}x labml-nn's, and "
        f"**{x(full, 'train', 'timm-reuse')}x timm's given the same memory setting**",
        f"inference: {x(full, 'infer', 'timm')}x, {x(full, 'infer', 'labml')}x and {x(full, 'infer', 'timm-reuse')}x",
        f"without grid-major the step is {x(ablation, 'train', 'ours-no-grid-major')}x slower",
        f"our model in a plain NCHW loop {x(ablation, 'train', 'ours-plain')}x slower",
        f"host-memory reuse {x(ablation, 'train', 'ours-no-reuse')}x and the fused optimizer step "
        f"{x(ablation, 'train', 'ours-plain-optimizer')}x",
        f"came out {x(ablation, 'train', 'ours-eager')}x slower",
        f"inference was {x(before, 'infer', 'timm-reuse')}x timm's given the same setting ({x(before, 'infer', 'timm')}x timm)",
        f"measured {x(quick, 'infer', 'timm-reuse')}x",
        (f"peak {roof['peak_gflops']:.1f} GFLOP/s; the `cpu` profile's step trained {cpu_model['images_per_second']:.0f} "
         f"images/s, {cpu_model['gflops']:.1f} GFLOP/s, **{share} of that peak**, ConvMixer-256/8 p2 "
         f"{100 * big['share_of_peak']:.0f} %"),
        (f"({100 * roofline_zen3()['models'][0]['share_of_peak']:.0f} % on 6 December, when the machine's peak measured "
         f"{roofline_zen3()['peak_gflops']:.1f} GFLOP/s"),
    ]
    parts = load(BENCH / ZEN3_BREAKDOWN)
    one, grid, steps = parts["block_part_ms"], parts["grid_major_part_ms"], parts["step_ms"]
    point_share = 100 * grid["pointwise conv"] * get_profile("cpu").model_config().depth / steps[ENGINE]
    bench += [
        f"depth-wise convolution cheaper ({grid['depthwise conv']:.1f} against {one['depthwise conv']:.1f} ms)",
        f"point-wise convolution dearer ({grid['pointwise conv']:.1f} against {one['pointwise conv']:.1f} ms)",
        f"the largest share of the step ({point_share:.0f} %)",
        f"channels-last layout {grid['pointwise conv'] / one['pointwise conv']:.1f}x faster",
        f"the whole step measured {steps[ENGINE]:.0f} and {steps[ENGINE + ', again']:.0f} ms",
    ]
    return readme, bench


def recipe_full_quotes() -> list[str]:
    """benchmarks/README's whole-recipe ablation (results/recipe_full.json): the seeds, the
    verdict, the crop's curve around the end of the small epochs, and the runs' wall minutes."""
    from convmixer.studies.recipe import read_results, summarise

    runs, notes = read_results(RESULTS / "recipe_full.json")
    results = {r.variant: r for r in summarise(runs)}
    crop = results["progressive-crop"].versus_baseline
    at = lambda variant, epoch: 100 * sum(r.history[epoch - 1].eval_accuracy for r in runs if r.variant == variant) / sum(
        r.variant == variant for r in runs)
    small = CPU_DECEMBER_6.progressive_epochs  # the recipe this ablation trained
    wall = [r.wall_seconds / 60 for r in runs]
    return [
        f"--seeds {' '.join(str(s) for s in notes['seeds'])}",
        f"{crop.difference:+.2f} ± {crop.half_width:.2f} points: {'larger than' if crop.separable else 'within'} the noise",
        f"the crop-trained models scored {at('progressive-crop', small):.1f} % against {at('baseline', small):.1f} %",
        f"one full-size epoch later {at('progressive-crop', small + 1):.1f} % against {at('baseline', small + 1):.1f} %",
        f"took {min(wall):.1f} to {max(wall):.1f} minutes of wall time",
        "seeds of 6 December took {:.1f} to {:.1f} (the time".format(
            *(f(r["minutes"] for r in december_6_seeds(FIRST_SEEDS)) for f in (min, max))),
        f"{notes['total_wall_seconds'] / 60:.0f} minutes in all",
    ]


ZEN4_CONV = "archive/{}-2026-12-07-zen4-conv.json"  # the first Zen 4 runs, before the mm forward pass
ZEN4_MM_BREAKDOWN = "archive/step_breakdown-cpu-2026-12-07-zen4-mm.json"  # after it, before batch_norm_rows


def breakdown_parts(name: str) -> dict[str, tuple[float, float]]:
    """Each part of one block in a step-breakdown file: (oneDNN, grid-major) ms."""
    record = load(BENCH / name)
    return {part: (ms, record["grid_major_part_ms"][part]) for part, ms in record["block_part_ms"].items()}


def zen4_step_quotes() -> list[str]:
    """benchmarks/README's section on the step measured on the Zen 4 container (7 December, later):
    the breakdown before and after the point-wise forward pass became one ``mm``, the speed runs
    and the roofline; and the quick pair of the time-to-accuracy section."""
    now, first, zen3 = speed("cpu-cpu-recipe.json"), speed(ZEN4_CONV.format("cpu-cpu-recipe")), speed(ZEN3_SPEED)
    x = lambda runs, phase, who: f"{runs[(phase, who)]['ours_speedup']:.2f}x"
    speed_run = load(BENCH / "cpu-cpu-recipe.json")
    machine = speed_run["machine"]
    family, model = machine["cpu_family_model"].split(" / ")
    roof = roofline_zen4_fp32()
    cpu_model, big = roof["models"]
    depth = get_profile("cpu").model_config().depth
    zen3_parts = load(BENCH / ZEN3_BREAKDOWN)
    before_record, after_record = load(BENCH / ZEN4_CONV.format("step_breakdown-cpu")), load(BENCH / ZEN4_MM_BREAKDOWN)
    before, after = breakdown_parts(ZEN4_CONV.format("step_breakdown-cpu")), breakdown_parts(ZEN4_MM_BREAKDOWN)
    minutes_apart = round((datetime.fromisoformat(after_record["date"])
                           - datetime.fromisoformat(before_record["date"])).total_seconds() / 60)
    steps, first_steps = after_record["step_ms"], before_record["step_ms"]
    ours, timm = (load(BENCH / f"time_to_accuracy-{who}-quick.json") for who in ("ours", "timm"))
    quotes = [speed_table_row(r, f"{r['images_per_s']:.1f}", ms(r["ms_per_step_median"]), ms(r["ms_per_step_min"]), ratio(r, True))
              for r in now.values()]
    quotes += [
        f"family {family} model {model} (Zen 4, AVX-512), 2 threads — each script alone",
        f"(`python benchmarks/step_breakdown.py`, {before_record['date'][11:16]} UTC",
        f"{before['pointwise conv'][1]:.1f} ms a block against {before['pointwise conv'][0]:.1f} ms",
        (f"({before['pointwise conv'][1] / before['pointwise conv'][0]:.1f}x; on the Zen 3 it was "
         f"{zen3_parts['grid_major_part_ms']['pointwise conv'] / zen3_parts['block_part_ms']['pointwise conv']:.1f}x)"),
        f"the largest share of the step ({100 * before['pointwise conv'][1] * depth / first_steps[ENGINE]:.0f} %)",
        f"The same script after the change ({after_record['date'][11:16]} UTC)",
        f"took {after['pointwise conv'][1]:.1f} ms against oneDNN's {after['pointwise conv'][0]:.1f} ms",
        (f"{steps[ENGINE]:.0f} and {steps[ENGINE + ', again']:.0f} ms in two runs against "
         f"{steps['engine without grid-major']:.0f} ms without grid-major"),
        f"moved from {before['pointwise conv'][0]:.1f} to {after['pointwise conv'][0]:.1f} ms between the two runs {minutes_apart} minutes apart",
        f"`torch.compile` ({steps['engine + torch.compile']:.0f} ms)",
        f"`F.linear` ({steps['engine, point-wise as F.linear']:.0f} ms)",
        f"--repeats {speed_run['settings']['repeats']}`, `results/cpu-cpu-recipe.json`, "
        f"{machine['date_utc'][11:16]} UTC, load {load_pair('cpu-cpu-recipe.json')})",
        f"{x(now, 'train', 'timm')} timm's plain loop, {x(now, 'train', 'labml')} labml-nn's, and **{x(now, 'train', 'timm-reuse')} timm's",
        f"(on the Zen 3: {x(zen3, 'train', 'timm-reuse')})",
        f"{load(BENCH / ZEN4_CONV.format('cpu-cpu-recipe'))['settings']['repeats']} repeats had given {x(first, 'train', 'timm-reuse')}",
        (f"timm's plain loop alone moved from {ms(first[('train', 'timm')]['ms_per_step_median'])} to "
         f"{ms(now[('train', 'timm')]['ms_per_step_median'])} ms a step"),
        f"In inference: {x(now, 'infer', 'timm')}, {x(now, 'infer', 'labml')} and {x(now, 'infer', 'timm-reuse')}",
        f"(`python benchmarks/roofline.py`, `results/archive/roofline-cpu-2026-12-07-zen4-fp32.json`, {roof['date'][11:16]} UTC",
        (f"peak {roof['peak_gflops']:.1f} GFLOP/s; the `cpu` profile's step trained {cpu_model['images_per_second']:.0f} "
         f"images/s, {cpu_model['gflops']:.1f} GFLOP/s, **{100 * cpu_model['share_of_peak']:.0f} % of that peak**, "
         f"ConvMixer-256/8 p2 {100 * big['share_of_peak']:.0f} %"),
        # the quick pair
        f"Our `fit` reached {pct(ours['final_test_accuracy'])} in {ours['minutes']:.1f} minutes",
        (f"timm's loop {pct(timm['final_test_accuracy'])} in {timm['minutes']:.1f} minutes "
         f"({pct(timm['curve'][-1]['one_view_accuracy'])} with one view)"),
        (f"ours was {100 * (ours['final_test_accuracy'] - timm['final_test_accuracy']):.1f} points higher in "
         f"{ours['minutes'] / timm['minutes']:.2f} of the time"),
        "binomial 95 % interval of that difference on the {:,} test images is ±{:.1f} points".format(
            10_000, 100 * Z_975 * math.hypot(*(binomial_standard_error(r["final_test_accuracy"], 10_000) for r in (ours, timm)))),
    ]
    return quotes


def full_size_quotes() -> list[str]:
    """benchmarks/README's candidate cpu recipe with every epoch at full size (not adopted): its
    verdict against the recipe's seeds on the validation split, the means, the runs over the
    limit, its test accuracies and the budget to try next."""
    from support import load_script

    script = load_script("time_to_accuracy", folder="benchmarks")
    comparison = script.recipe_comparison("ours", "cpu", "full-size", against=DECEMBER_6, seeds=FIRST_SEEDS)
    candidate = script.stored_runs("ours", "cpu", "full-size")
    recipe = december_6_seeds(FIRST_SEEDS)
    means = [statistics.mean(map(script.last_validation_accuracy, runs)) for runs in (candidate, recipe)]
    slow = [r["minutes"] for r in candidate if r["minutes"] > 20]
    words = {1: "one", 2: "two", 3: "all three"}
    return [
        f"**{comparison.difference:+.1f} ± {comparison.half_width:.1f} points: "
        f"{'larger than' if comparison.separable else 'within'} the noise**",
        f"mean {means[0]:.2f} against {means[1]:.2f} %",
        f"and {words[len(slow)]} of its runs took {max(slow):.1f} minutes",
        seed_quotes(candidate)[0][0],
        f"on the Zen 3 container: {seed_quotes(recipe)[0][0]}",
        "family {} model {} (Zen 4, AVX-512), 2 threads,".format(*candidate[0]["machine"]["cpu_family_model"].split(" / ")),
    ]


BF16_SPEED = "cpu-cpu-recipe-timm-labml-ours-timm-reuse-ours-fp32-products.json"  # bfloat16 products, 7 December


def bf16_products_quotes() -> list[str]:
    """benchmarks/README's section on grid-major's bfloat16 products: the speed table of the run
    with and without them and its ratios."""
    runs = speed(BF16_SPEED)
    record = load(BENCH / BF16_SPEED)
    x = lambda phase, who: f"{runs[(phase, who)]['ours_speedup']:.2f}x"
    quotes = [speed_table_row(r, f"{r['images_per_s']:.1f}", ms(r["ms_per_step_median"]), ms(r["ms_per_step_min"]),
                              ratio(r, True))
              for r in runs.values()]
    return quotes + [
        f"--recipe cpu --batch {record['settings']['batch']} --repeats {record['settings']['repeats']} --only timm labml ours timm-reuse ours-fp32-products`",
        f"container, {record['machine']['date_utc'][11:16]} UTC, load {load_pair(BF16_SPEED)};",
        f"**{x('train', 'ours-fp32-products')}** faster than the same engine with float32",
        f"{x('train', 'timm')} timm's plain loop, {x('train', 'labml')} labml-nn's and **{x('train', 'timm-reuse')} timm's given",
        f"their {x('infer', 'ours-fp32-products')} is this",
        *bf16_roofline_quotes(),
    ]


def bf16_roofline_quotes() -> list[str]:
    """The roofline after grid-major's products ran in bfloat16, and before (float32 products)."""
    roof, before = roofline_zen4_bf16(), roofline_zen4_fp32()
    cpu_model, big = roof["models"]
    return [
        f"`results/{ZEN4_BF16_ROOFLINE}`, {roof['date'][11:16]} UTC): float32 matrix-multiply peak",
        (f"{roof['peak_gflops']:.1f} GFLOP/s; the `cpu` profile's step trained {cpu_model['images_per_second']:.0f} images/s, "
         f"{cpu_model['gflops']:.1f} GFLOP/s, **{100 * cpu_model['share_of_peak']:.0f} % of that peak**"),
        f"({100 * before['models'][0]['share_of_peak']:.0f} % with float32 products in the run above; one run each)",
        f"grid-major (its 16 × 16 grid is too large), {100 * big['share_of_peak']:.0f} %",
    ]


def cpu_recipe_quotes() -> tuple[list[str], list[str]]:
    """The cpu recipe of 7 December (20 full-size epochs on bfloat16 products) against the recipe
    of 6 December, both archived since: the first look (three seeds a side, not adopted), the
    pre-registered decision (five seeds a side), the new recipe's seeds against the goal; for
    benchmarks/README, then for README (with the cpu-long run and the roofline after bfloat16
    products)."""
    from support import load_script

    script = load_script("time_to_accuracy", folder="benchmarks")
    first = script.recipe_comparison("ours", "cpu", DECEMBER_6, DECEMBER_7, FIRST_SEEDS)  # old minus new
    final = script.recipe_comparison("ours", "cpu", DECEMBER_6, DECEMBER_7)
    late = script.recipe_comparison("ours", "cpu", DECEMBER_6, DECEMBER_7, LATE_SEEDS)
    recipe, old = december_7_seeds(), december_6_seeds()
    first_runs, old_first = december_7_seeds(FIRST_SEEDS), december_6_seeds(FIRST_SEEDS)
    validation = lambda runs: statistics.mean(map(script.last_validation_accuracy, runs))
    test = lambda runs: statistics.mean(100 * r["final_test_accuracy"] for r in runs)
    verdict = lambda c: f"{-c.difference:+.1f} ± {c.half_width:.1f} points"
    fixed, _acc, minutes = seed_quotes(recipe)
    long_run, = script.stored_runs("ours", "cpu-long")
    return [
        f"for {recipe[0]['profile']['epochs']} epochs",
        f"**{verdict(first)} on validation: {'larger than' if first.separable else 'within'} the noise**",
        f"(mean {validation(first_runs):.2f} against {validation(old_first):.2f} %)",
        f"lay {first.half_width + first.difference:.3f} points above zero",
        seed_quotes(first_runs)[0][0],
        f"{test(first_runs) - test(old_first):.2f} points above the recipe's own (on the Zen 3 container), {85 - test(first_runs):.2f} points short",
        f"**{verdict(final)} on validation: {'larger than' if final.separable else 'within'} the noise**",
        f"(mean {validation(recipe):.2f} against {validation(old):.2f} %)",
        f"every run within {max(minutes):.1f} minutes",
        f"**{fixed[0]}**", f"seed SD {fixed[1].removeprefix('SD ')}", f"the mean is {fixed[2]}",
        f"**{verdict(late)}: {'larger than' if late.separable else 'within'} the noise**",
        "old recipe's seeds 3 and 4 took {} minutes, the new recipe's {}".format(
            *(" and ".join(f"{r['minutes']:.1f}" for r in runs)
              for runs in (december_6_seeds(LATE_SEEDS), december_7_seeds(LATE_SEEDS)))),
        f"scored {test(recipe) - test(old):.2f} points higher on the test set",
        "a 2-core AMD EPYC container, family {} model {}, Zen 4".format(*recipe[0]["machine"]["cpu_family_model"].split(" / ")),
    ], [
        f"whose five seeds scored {seed_quotes(old)[0][0]} on the test set",
        f"and its own five scored {fixed[0]}",
        f"{verdict(first)}: within the noise",
        f"{verdict(final)}: {'larger than' if final.separable else 'within'} the noise",
        "profile, the `cpu` recipe for {} epochs, reached {} in {:.1f} minutes".format(
            long_run["profile"]["epochs"], pct(long_run["final_test_accuracy"]), long_run["minutes"]),
        f"{88 - 100 * long_run['final_test_accuracy']:.1f} points short of 88 %",
        f"it ran at {100 * roofline_zen4_bf16()['models'][0]['share_of_peak']:.0f} % of the container's float32 matrix-multiply peak",
    ]


def lr_pilot_quotes() -> list[str]:
    """benchmarks/README's pilot of a larger peak learning rate: its learning rate against the
    recipe's, its validation accuracy against the recipe's same seed, the comparison against all the
    recipe's seeds and the spread it rests on, its minutes and its test accuracy (all against the
    recipe of 7 December, which it was run beside)."""
    from support import load_script

    script = load_script("time_to_accuracy", folder="benchmarks")
    pilot, = script.stored_runs("ours", "cpu", "lr-pilot")
    seed = pilot["profile"]["seed"]
    paired, = december_7_seeds((seed,))
    comparison = script.recipe_comparison("ours", "cpu", "lr-pilot", DECEMBER_7)
    validation = [script.last_validation_accuracy(r) for r in december_7_seeds()]
    return [
        f"peak learning rate of {pilot['profile']['lr']} instead of {CPU_DECEMBER_7.lr}, seed {seed}",
        (f"Its last epoch scored {script.last_validation_accuracy(pilot):.2f} % on validation against "
         f"{script.last_validation_accuracy(paired):.2f} % for the"),
        f"{comparison.difference:+.1f} ± {comparison.half_width:.1f} points, an",
        f"(SD {statistics.stdev(validation):.2f} points over its five seeds)",
        f"It took {pilot['minutes']:.1f} minutes; its test accuracy, read once and used for nothing:",
        pct(pilot["final_test_accuracy"]),
    ]


def compare_on_test(new: list[dict], old: list[dict]):
    """New minus old recipe on the test set, by the package's one rule: what the prose reports beside
    a decision made on validation (the test set chooses nothing)."""
    groups = [Group(label, tuple(100 * r["final_test_accuracy"] for r in runs)) for label, runs in (("new", new), ("old", old))]
    return compare(groups[:1], groups[1:], seed_noise(groups), "new minus old on test")


WIDTH_PILOT = "width-160-pilot"  # a one-run pilot of 8 December: the cpu recipe at width 160, fewer epochs


def width_pilot_quotes() -> list[str]:
    """benchmarks/README's pilot of a wider model in about the same minutes: its width and epochs
    against the recipe's, its validation accuracy against the recipe's same seed and against all
    three seeds, its minutes and its test accuracy."""
    from support import load_script

    script = load_script("time_to_accuracy", folder="benchmarks")
    pilot, = script.stored_runs("ours", "cpu", WIDTH_PILOT)
    seed = pilot["profile"]["seed"]
    paired, = (r for r in seeds() if r["profile"]["seed"] == seed)
    comparison = script.recipe_comparison("ours", "cpu", WIDTH_PILOT)  # pilot minus the recipe
    width = pilot["profile"]["model_overrides"]["dim"]
    return [
        f"ConvMixer-{width}/8 (k = 5, p = 4) for {pilot['profile']['epochs']} epochs instead of ConvMixer-"
        f"{CPU.model_config().dim}/8 for {CPU.epochs}",
        f"seed {seed}",
        (f"Its last epoch scored {script.last_validation_accuracy(pilot):.2f} % on validation against "
         f"{script.last_validation_accuracy(paired):.2f} % for the"),
        f"{comparison.difference:+.1f} ± {comparison.half_width:.1f} points",
        f"It took {pilot['minutes']:.1f} minutes",
        pct(pilot["final_test_accuracy"]),
    ]


def lr_decision_quotes() -> tuple[list[str], list[str]]:
    """The pre-registered decision that made the peak learning rate 0.02: the recipe of 7 December
    against the new recipe on the seeds it was made on (old minus new, so the sign is flipped), both
    sides' means on validation and test, the new recipe's seeds against the goal; for
    benchmarks/README, then for README."""
    from support import load_script

    script = load_script("time_to_accuracy", folder="benchmarks")
    recipe = december_7_evening_seeds()
    chosen = tuple(r["profile"]["seed"] for r in recipe)
    decision = script.recipe_comparison("ours", "cpu", DECEMBER_7, DECEMBER_7_EVENING, chosen)  # old minus new
    old = december_7_seeds(chosen)
    validation = lambda runs: statistics.mean(map(script.last_validation_accuracy, runs))
    test = lambda runs: statistics.mean(100 * r["final_test_accuracy"] for r in runs)
    tested = compare_on_test(recipe, old)
    fixed, acc, minutes = seed_quotes(recipe)
    verdict = f"{-decision.difference:+.1f} ± {decision.half_width:.1f} points"
    return [
        f"at twice the peak learning rate, {CPU_DECEMBER_7_EVENING.lr}",
        "| mean of {} |".format(len(recipe)),
        f"**{fixed[0]}**", f"seed SD {fixed[1].removeprefix('SD ')}", f"the mean is {fixed[2]}",
        f"every run within {max(minutes):.1f} minutes",
        f"--archived {DECEMBER_7} --against {DECEMBER_7_EVENING} --seeds {' '.join(map(str, chosen))}`",
        f"**{verdict} on validation: {'larger than' if decision.separable else 'within'} the noise**",
        f"(mean {validation(recipe):.2f} against {validation(old):.2f} %)",
        f"lower end lies {abs(decision.difference) - decision.half_width:.2f} points above zero",
        f"the slowest run took {max(minutes):.1f} minutes",
        f"{test(recipe):.2f} against {test(old):.2f} %",
        f"({tested.difference:+.1f} ± {tested.half_width:.1f} points, {'larger than' if tested.separable else 'within'} the noise)",
    ], [
        f"{verdict} on validation",
        f"{test(recipe):.2f} against {test(old):.2f} %",
    ]


def epochs_decision_quotes() -> tuple[list[str], list[str]]:
    """The pre-registered decision that made the cpu recipe 24 epochs long: the recipe of the evening
    of 7 December against it on the same seeds (old minus new, so the sign is flipped) on validation,
    both sides' test means, the minutes, the seed that ships; for benchmarks/README, then README."""
    from support import load_script

    script = load_script("time_to_accuracy", folder="benchmarks")
    recipe, old = seeds(), december_7_evening_seeds()
    chosen = tuple(r["profile"]["seed"] for r in recipe)
    decision = script.recipe_comparison("ours", "cpu", DECEMBER_7_EVENING, seeds=chosen)  # old minus new
    validation = lambda runs: statistics.mean(map(script.last_validation_accuracy, runs))
    test = lambda runs: statistics.mean(100 * r["final_test_accuracy"] for r in runs)
    tested = compare_on_test(recipe, old)
    fixed, acc, minutes = seed_quotes()
    verdict = f"{-decision.difference:+.1f} ± {decision.half_width:.1f} points"
    best = max(recipe, key=script.last_validation_accuracy)
    # what the last four epochs added on validation (a curve ends with the final test evaluation)
    moves = [100 * (r["curve"][-2]["accuracy"] - r["curve"][-6]["accuracy"]) for r in recipe]
    return [
        f"for {CPU.epochs} epochs instead of {CPU_DECEMBER_7_EVENING.epochs}",
        f"**{fixed[0]}**", f"seed SD {fixed[1].removeprefix('SD ')}", f"the mean is {fixed[2]}",
        f"every run within {max(minutes):.1f} minutes",
        f"--archived {DECEMBER_7_EVENING} --seeds {' '.join(map(str, chosen))}`",
        f"**{verdict} on validation: {'larger than' if decision.separable else 'within'} the noise**",
        f"(mean {validation(recipe):.2f} against {validation(old):.2f} %)",
        f"{test(recipe):.2f} against {test(old):.2f} %",
        f"({tested.difference:+.1f} ± {tested.half_width:.1f} points, {'larger than' if tested.separable else 'within'} the noise)",
        "took " + ", ".join(f"{r['minutes']:.1f}" for r in recipe) + " minutes against " + ", ".join(
            f"{r['minutes']:.1f}" for r in old),
        f"seed {best['profile']['seed']} ({script.last_validation_accuracy(best):.2f} % on validation)",
        "moved by " + ", ".join(f"{m:+.1f}" for m in moves[:-1]) + f" and {moves[-1]:+.1f} points",
    ], [
        f"**{fixed[0]}**",
        f"seed {fixed[1]})",
        "test accuracy " + ", ".join(f"{x:.2f} %" for x in acc),
        "in " + ", ".join(f"{m:.1f}" for m in minutes) + " minutes of wall time",
        fixed[2],
        f"{verdict} on validation",
        f"{test(recipe):.2f} against {test(old):.2f} %",
    ]


ENGINE_SPEED = "cpu-cpu-recipe-timm-labml-ours-timm-reuse.json"  # after batch_norm_rows, 7 December late evening
PREREG_BREAKDOWN = "archive/step_breakdown-cpu-2026-12-07-prereg.json"  # the run the 24-epoch rule quoted
BEFORE_NORM, BEFORE_TAPS, BEFORE_BOTH = ("engine, BatchNorm by the module", "engine, taps gathered and strided",
                                         "engine before both changes")


def engine_change_quotes() -> tuple[list[str], list[str]]:
    """batch_norm_rows and the tap selector: the two alternating-rounds runs of step_breakdown (the
    first written before the script's labels lost their dates), BatchNorm's part alone, the second
    run's compile variant, the speed run against timm and labml-nn and the roofline after it; for
    benchmarks/README, then README."""
    from support import load_script

    script = load_script("step_breakdown", folder="benchmarks")
    config = get_profile("cpu").model_config()
    rows = get_profile("cpu").batch_size * (config.image_size // config.patch_size) ** 2
    names = (PREREG_BREAKDOWN, "step_breakdown-cpu.json")
    runs = [load(BENCH / name) for name in names]
    step = lambda run, *starts: next(ms for name, ms in run["step_ms"].items() if name.startswith(starts))
    before = [step(r, BEFORE_BOTH, "engine as on 7 December") for r in runs]
    ratios = [b / step(r, ENGINE) for r, b in zip(runs, before)]
    table = [f"| {r['date'][11:16]} UTC (`results/{name}`) | {step(r, ENGINE):.1f} | {step(r, BEFORE_NORM):.1f} | "
             f"{step(r, BEFORE_TAPS):.1f} | {b:.1f} | **{x:.2f}x** |" for name, r, b, x in zip(names, runs, before, ratios)]
    norm = [f"{r['grid_major_part_ms']['BatchNorm']:.1f} against {r['grid_major_batch_norm_module_ms']:.1f} ms" for r in runs]
    speeds, record, roof = speed(ENGINE_SPEED), load(BENCH / ENGINE_SPEED), roofline_now()
    x = lambda phase, who: f"{speeds[(phase, who)]['ours_speedup']:.2f}"
    cpu_model = roof["models"][0]
    bench = table + [speed_table_row(r, f"{r['images_per_s']:.1f}", ms(r["ms_per_step_median"]), ms(r["ms_per_step_min"]),
                                     ratio(r, True)) for r in speeds.values()] + [
        f"model's rows of {rows:,} numbers",
        f"the median of {script.ROUNDS * script.STEPS_PER_ROUND} steps each",
        "its 2048 × 2048 product ran at {:.0f} against {:.0f} GFLOP/s".format(
            *(r["matmul"]["square_2048_gflops"] for r in runs[::-1])),
        f"on the rows: {norm[0]} in the first run, {norm[1]} in the second",
        f"stayed slower ({runs[1]['step_ms']['engine + torch.compile']:.0f} ms)",
        f"--repeats {record['settings']['repeats']} --only timm labml ours timm-reuse`",
        f"{record['machine']['date_utc'][11:16]} UTC, load {load_pair(ENGINE_SPEED)})",
        f"{x('train', 'timm')}x timm's plain loop, {x('train', 'labml')}x labml-nn's and **{x('train', 'timm-reuse')}x timm's given",
        f"({speed(BF16_SPEED)[('train', 'timm-reuse')]['ours_speedup']:.2f}x in the run before the change",
        f"`results/roofline-cpu.json`, {roof['date'][11:16]} UTC): float32",
        (f"peak {roof['peak_gflops']:.1f} GFLOP/s; the `cpu` profile's step trained {cpu_model['images_per_second']:.0f} "
         f"images/s, {cpu_model['gflops']:.1f} GFLOP/s, **{100 * cpu_model['share_of_peak']:.0f} % of that peak** "
         f"({100 * roofline_zen4_bf16()['models'][0]['share_of_peak']:.0f} % after the bfloat16 products"),
    ]
    readme = [
        "step **{:.2f}× and {:.2f}× faster** in two runs".format(*ratios),
        "`fit`'s step is {}× timm's loop, {}× labml-nn's and **{}× timm's given the same memory setting**".format(
            *(x("train", who) for who in ("timm", "labml", "timm-reuse"))),
        f"runs at **{100 * cpu_model['share_of_peak']:.0f} %** of the container's",
    ]
    return bench, readme


CPU_LONG_22 = "22-epochs"  # the tag of the first cpu-long run (recipe of 7 December, float32 products)


def cpu_long_quotes() -> list[str]:
    """benchmarks/README's paragraphs on the cpu-long profile: its run on the cpu recipe (accuracy
    and minutes, the gap to 88 %, against the recipe's seeds, what its last epochs added on
    validation); then the first run, of the recipe of 7 December for 22 epochs (the same, against
    the full-size candidate's seeds), and the patch-size study's lead of p = 2 at equal epochs."""
    from support import load_script

    script = load_script("time_to_accuracy", folder="benchmarks")
    runs, _notes = patch.read_results(RESULTS / "patch_study.json")
    by = {(s.budget, s.patch_size): s.mean for s in patch.summarise(runs)}
    (now,), (first,) = script.stored_runs("ours", "cpu-long"), script.stored_runs("ours", "cpu-long", CPU_LONG_22)
    candidate = script.stored_runs("ours", "cpu", "full-size")
    quotes = []
    for run, against in ((now, december_7_evening_seeds()), (first, candidate)):
        base = [100 * r["final_test_accuracy"] for r in against]
        accuracy = 100 * run["final_test_accuracy"]
        *epochs, _ = run["curve"]
        short = run["profile"]["epochs"] - 4
        quotes += [
            f"{accuracy:.2f} % in {run['minutes']:.1f} minutes: within 30 minutes, {88 - accuracy:.1f} points short of 88 %",
            f"{accuracy - statistics.mean(base):+.1f} points against the",
            f"({statistics.mean(base):.2f} %; one run against three",
            f"SD of {statistics.stdev(base):.2f} points",
            f"added {100 * (epochs[-1]['accuracy'] - epochs[short - 1]['accuracy']):.1f} points",
        ]
    validation = lambda runs: statistics.mean(map(script.last_validation_accuracy, runs))
    return quotes + [
        f"led p = 4 by {by[patch.EPOCHS_BUDGET, 2] - by[patch.EPOCHS_BUDGET, 4]:.1f} points at equal epochs",
        f"{validation([now]):.2f} % against the recipe's {validation(december_7_evening_seeds()):.2f} %",
        f"in {now['minutes']:.1f} minutes, not 20",
        f"at a peak learning rate of\n{first['profile']['lr']}) for {first['profile']['epochs']} epochs instead of "
        f"{candidate[0]['profile']['epochs']}",
        f"for {now['profile']['epochs']} epochs instead of {CPU_DECEMBER_7_EVENING.epochs}",
    ]


def pointwise_product_quotes(name: str) -> list[str]:
    """benchmarks/README's point-wise product paragraphs (the Zen 3 run in archive/, the Zen 4 run
    after the forward pass became one ``mm``): per image size, the best step each way, their ratio
    and in how many rounds the engine's way was faster."""
    record = load(BENCH / name)
    quotes = []
    for step in record["steps"]:
        old, new = step["addmm_ms"], step["pointwise_product_ms"]
        faster = sum(a > b for a, b in zip(old, new))
        size = step["image_size"]
        quotes.append(f"at {size} × {size} the best step took {min(new):.0f} against {min(old):.0f} ms "
                      f"({step['speedup_of_best']:.2f}x), and `pointwise_product` was faster in {faster} of the "
                      f"{record['rounds']} rounds")
    quotes.append(f"{record['repeats']} steps a round, {record['date'][11:16]} UTC, load {record['machine']['load_average'][0]}")
    return quotes


def benchmarks_quotes() -> list[str]:
    quotes = (version_quotes() + recipe_ablation_quotes() + cpu_model_speed_quotes()[1] + recipe_full_quotes()
              + pointwise_product_quotes("archive/pointwise_product-cpu-2026-12-07-zen3.json")
              + pointwise_product_quotes("pointwise_product-cpu.json") + full_size_quotes() + zen4_step_quotes()
              + bf16_products_quotes() + cpu_long_quotes() + cpu_recipe_quotes()[0] + lr_pilot_quotes()
              + lr_decision_quotes()[0] + epochs_decision_quotes()[0] + engine_change_quotes()[0]
              + width_pilot_quotes())
    diffs = [load(BENCH / f)["settings"]["max_abs_logit_difference"] for f in SPEED_FILES]
    quotes.append(f"(largest difference in the runs below: {sci(max(diffs))})")
    base = [r["baseline_mib"] for f in SPEED_FILES for r in load(BENCH / f)["rows"] if r.get("baseline_mib")]
    quotes.append(f"({min(base)}-{max(base)} MiB in the runs below")
    family = load(BENCH / "cpu-zen3-2026-12-06-quick.json")["machine"]["cpu_family_model"].split(" / ")
    quotes.append(f"family {family[0]} model {family[1]}, Zen 3")
    # Zen 3, 6 December
    zen3 = speed("cpu-zen3-2026-12-06-quick.json")
    for r in zen3.values():
        quotes.append(speed_table_row(r, f"{r['images_per_s']:.1f}", ms(r["ms_per_step_median"]), ms(r["ms_per_step_min"]), ratio(r, True)))
    quotes.append(f"({load(BENCH / 'cpu-zen3-2026-12-06-quick.json')['settings']['repeats']} repeats; `results/cpu-zen3-2026-12-06-quick.json`)")
    quotes.append(f"p2 {span([zen3[('train', c)]['ours_speedup'] for c in ('timm', 'labml')], 1, '-', 'x')} as fast")
    quotes.append(f"timm's loop is only {zen3[('train', 'timm-reuse')]['ours_speedup']:.2f}x slower**")
    run1, run2 = speed("cpu-run1.json"), speed("cpu.json")
    quotes.append(f"less than the {min(run1[('train', 'timm-reuse')]['ours_speedup'], run2[('train', 'timm-reuse')]['ours_speedup']):.2f}x measured on the Zen 5")
    roof = roofline_zen3()
    cpu_model, big = roof["models"]
    quotes += [
        f"measured {roof['peak_gflops']:.1f} GFLOP/s ({max(map(int, roof['matmul_gflops']))} x {max(map(int, roof['matmul_gflops']))})",
        f"p4 at {cpu_model['images_per_second']:.0f} images/s, {cpu_model['gflops']:.1f} GFLOP/s, **{100 * cpu_model['share_of_peak']:.0f} % of that peak**",
        f"at {100 * big['share_of_peak']:.0f} %.",
    ]
    rows, _share = breakdown_rows()
    quotes += rows
    b = step_breakdown()
    quotes += [
        f"runs at {b['matmul']['pointwise_gflops']:.0f} GFLOP/s, {100 * b['matmul']['pointwise_gflops'] / b['matmul']['square_2048_gflops']:.0f} % of the square product's {b['matmul']['square_2048_gflops']:.0f} GFLOP/s",
        f"holds it at {100 * cpu_model['share_of_peak']:.0f} %",
        f"({b['step_ms']['engine + torch.compile']:.0f} against {b['step_ms'][ENGINE]:.0f} ms",
        f"convolution ({b['step_ms']['engine, point-wise as F.linear']:.0f} ms)",
    ]
    k = convmixer.CONFIGS[get_profile("cpu").model].kernel_size
    quotes.append(f"({k * k} multiply-adds per output)")
    # Zen 5, 2 December
    for (phase, contender), r1 in run1.items():
        r2 = run2[(phase, contender)]
        speedup = "1.00x" if contender == "ours" else (
            f"**{r1['ours_speedup']:.2f}x / {r2['ours_speedup']:.2f}x**" if contender in ("timm", "labml")
            else f"{r1['ours_speedup']:.2f}x / {r2['ours_speedup']:.2f}x")
        quotes.append(speed_table_row(r1, f"{r1['images_per_s']:.1f} / {r2['images_per_s']:.1f}",
                                      f"{ms(r1['ms_per_step_min'])} / {ms(r2['ms_per_step_min'])}", speedup, str(r1["peak_mib"])))
    quotes += [f"12:33 UTC, load average {load_pair('cpu-run1.json')}", f"12:39 UTC, {load_pair('cpu.json')}",
               f"logits: {sci(load(BENCH / 'cpu.json')['settings']['max_abs_logit_difference'])}"]
    plain = lambda p: [r[(p, c)]["ours_speedup"] for r in (run1, run2) for c in ("timm", "labml")]
    quotes += [f"**{span(plain('train'), 1, 'x to ', 'x')}**", f"inference **{span(plain('infer'), 1, 'x to ', 'x')}**",
               (f"still **{max(r[('train', 'timm-reuse')]['ours_speedup'] for r in (run1, run2)):.1f}x** slower in training and "
               f"{max(r[('infer', 'timm-reuse')]['ours_speedup'] for r in (run1, run2)):.1f}x in")]
    nov = speed("cpu-zen3.json"), speed("cpu-zen3-run1.json")
    quotes.append(f"within {span([n[('train', 'timm-reuse')]['ours_speedup'] for n in nov], 1, '-', 'x')}")
    rates, shares, old_roof, per_image = roofline_share_256()
    ips = [r[("train", "ours")]["images_per_s"] for r in (run1, run2)]
    quotes.append(f"At {span(ips, 0, '-')} images/s and {per_image:.3f} GFLOP per training image, `fit` runs at "
                  f"{span(rates, 0, '-')} GFLOP/s, {span([100 * s for s in shares[:2]], 0, '-')} % of the")
    quotes.append(f"({old_roof['peak_gflops']:.1f} GFLOP/s, `roofline.py`")
    # Zen 3, 29 November
    nov_files = ("cpu-zen3.json", "cpu-zen3-run1.json", "cpu-ablation-quick.json", "cpu-ours-ours-eager-ours-plain-optimizer.json")
    loads = [v for f in nov_files for v in (load(BENCH / f)["machine"]["load_average_before"][0], load(BENCH / f)["machine"]["load_average_after"][0])]
    quotes.append(f"between {min(loads):.1f} and {max(loads):.1f} before and after")
    quotes.append(f"load average {load_pair('cpu-zen3.json')}, `ours` compiled")
    for r in nov[0].values():
        quotes.append(speed_table_row(r, f"{r['images_per_s']:.1f}", ms(r["ms_per_step_median"]), ms(r["ms_per_step_min"]),
                                      ratio(r, True), str(r["peak_mib"])))
    quotes.append(f"load average {load_pair('cpu-zen3-run1.json')})")
    for phase in ("train", "infer"):
        r = nov[1]
        quotes.append(f"| {phase} | **{r[(phase, 'timm')]['ours_speedup']:.2f}x** | **{r[(phase, 'labml')]['ours_speedup']:.2f}x** | "
                      f"{r[(phase, 'timm-reuse')]['ours_speedup']:.2f}x | {r[(phase, 'ours')]['images_per_s']:.1f} |")
    nplain = lambda p: [n[(p, c)]["ours_speedup"] for n in nov for c in ("timm", "labml")]
    quotes += [f"**{span(nplain('train'), 1, 'x to ', 'x')}**", f"inference **{span(nplain('infer'), 1, 'x to ', 'x')}**",
               f"comes within {span([n[('train', 'timm-reuse')]['ours_speedup'] for n in nov], 1, '-', 'x')} of ours"]
    ps = profile_step()
    quotes.append(f"took {ps['warm']['after']} s for the compiled set-up against {ps['warm']['before']} s")
    abl = speed("cpu-ablation-quick.json")
    labels = {"timm": "timm (plain loop)", "ours-plain": "ours-plain: our model in timm's plain loop", "ours": "ours (engine)",
              "ours-eager": "ours-eager: not compiled", "ours-no-reuse": "ours-no-reuse: glibc's default `malloc`",
              "ours-plain-optimizer": "ours-plain-optimizer: for-loop AdamW on 2 threads"}
    for c, label in labels.items():
        t, i = abl[("train", c)], abl[("infer", c)]
        quotes.append(f"| {label} | {t['images_per_s']:.1f} | {t['ours_speedup']:.2f}x | {i['images_per_s']:.1f} | {i['ours_speedup']:.2f}x |")
    quotes.append(f"3 repeats, load {load_pair('cpu-ablation-quick.json').replace(' → ', ' → ')}")
    few = speed("cpu-ours-ours-eager-ours-plain-optimizer.json")
    quotes.append(f"load {load_pair('cpu-ours-ours-eager-ours-plain-optimizer.json')}): compiled {few[('train', 'ours')]['images_per_s']:.1f} img/s "
                  f"vs eager {few[('train', 'ours-eager')]['images_per_s']:.1f} ({few[('train', 'ours-eager')]['ours_speedup']:.2f}x), "
                  f"fused one-thread AdamW vs for-loop {few[('train', 'ours-plain-optimizer')]['ours_speedup']:.2f}x")
    reuse = [n[("train", "timm-reuse")]["images_per_s"] / n[("train", "timm")]["images_per_s"] for n in nov]
    quotes.append(f"`timm`: {span(reuse, 1, '-', 'x')} in the runs")
    quotes.append(f"still {abl[('train', 'ours-no-reuse')]['ours_speedup']:.2f}x for ours")
    small = [r[("train", c)]["ours_speedup"] for r in (abl, few) for c in ("ours-eager", "ours-plain-optimizer")]
    quotes.append(f"by at most {100 * max(abs(x - 1) for x in small):.0f} % either way")
    quotes.append(f"helps inference ({span([abl[('infer', 'ours-eager')]['ours_speedup'], few[('infer', 'ours-eager')]['ours_speedup']], 2, '-', 'x')})")
    # profile_step
    names = {"data": "data (augment + layout)", "forward": "forward + loss", "backward": "backward",
             "optimizer": "optimizer (clip + AdamW + schedule)"}
    for key, label in names.items():
        before, bshare, after, ashare, rel = ps["phases"][key]
        quotes.append(f"| {label} | {before} | {bshare}% | {after} | {ashare}% | {rel} |")
    before, _, after, _, rel = ps["phases"]["total"]
    quotes.append(f"| **total** | **{before}** | | **{after}** | | **{rel}** |")
    quotes.append(f"| page faults per step | {int(ps['faults'][0]):,} | | {ps['faults'][1]} | | |")
    quotes.append(f"| kernel (system) CPU per step | {ps['kernel'][0]} ms | | {ps['kernel'][1]} ms | | |")
    header = re.search(r"(\d{4}-\d\d-\d\d \d\d:\d\d)-\d\d:\d\d UTC.*load average ([\d.]+) -> ([\d.]+)",
                       (BENCH / "profile_step-cpu.txt").read_text())
    quotes.append(f"{header.group(1)} UTC, load {header.group(2)} → {header.group(3)}")
    settings = load(BENCH / "cpu-zen3.json")["settings"]
    cfg = settings["config"]
    grid = cfg["image_size"] // cfg["patch_size"]
    mib = settings["batch"] * cfg["dim"] * grid * grid * 4 / 2**20
    quotes.append(f"{settings['batch']}·{cfg['dim']}·{grid}·{grid}·4 B = {mib:.0f} MiB")
    quotes.append(f"zeroes {int(mib * 2**20 / 4096)} pages")
    quotes.append(f"{int(ps['faults'][0]) / 1e6:.1f} million page faults and {int(ps['kernel'][0]) / 1000:.1f} s of kernel")
    quotes.append(f"{ps['faults'][1]} page faults, {ps['kernel'][1]} ms of")
    zen3_nov = nov[0]
    quotes.append(f"(timm's loop: {zen3_nov[('train', 'timm')]['peak_mib'] / 1024:.1f} → {zen3_nov[('train', 'timm-reuse')]['peak_mib'] / 1024:.1f} GiB")
    quotes.append(f"reuse buffers: {zen3_nov[('train', 'ours')]['peak_mib'] / 1024:.1f} GiB)")
    sh = ps["shares"]
    quotes += [f"`convolution_backward` {sh['aten::convolution_backward']:.0f}% of", f"forward convolutions {sh['aten::mkldnn_convolution']:.0f}%",
               f"residual ({sh['## Call CompiledFxGraph']:.0f}%)", f"data augmentation ({ps['phases']['data'][3]}% of the step",
               f"from {ps['phases']['optimizer'][0]} ms to {ps['phases']['optimizer'][2]} ms"]
    # time to accuracy
    fixed, _acc, _minutes = seed_quotes(december_6_seeds())
    quotes += [f"Mean **{fixed[0]}** (95 % interval over the five seeds; seed SD {fixed[1].removeprefix('SD ')}",
               f"the mean is {fixed[2]}"]
    history = december_6_shipped()["history"]
    profile = CPU_DECEMBER_6
    small_epochs = [h["seconds"] for h in history[:profile.progressive_epochs]]
    full_epochs = [h["seconds"] for h in history[profile.progressive_epochs:]]
    quotes += [f"full-size epochs took {span(full_epochs, 0, '-')} s and its {profile.progressive_size} × {profile.progressive_size} ones {span(small_epochs, 0, '-')} s",
               f"about {zen5_speedup():.1f}× faster, which",
               f"scored only {100 * history[profile.progressive_epochs - 1]['eval_accuracy']:.1f} % on the validation",
               f"{100 * history[profile.progressive_epochs]['eval_accuracy']:.1f} % after the first of them, {100 * history[-1]['eval_accuracy']:.1f} % at the end"]
    arch = {n: load(BENCH / "archive" / f"time_to_accuracy-{n}.json") for n in ("ours-cpu", "ours-quick", "timm-quick")}
    quotes.append(f"`cpu` ({arch['ours-cpu']['profile']['epochs'] if 'profile' in arch['ours-cpu'] else len(arch['ours-cpu']['curve'])} epochs) "
                  f"{pct(arch['ours-cpu']['final_test_accuracy'])} in {arch['ours-cpu']['minutes']:.1f} minutes, `quick` "
                  f"({len(arch['ours-quick']['curve'])} epochs) {pct(arch['ours-quick']['final_test_accuracy'])} in "
                  f"{arch['ours-quick']['minutes']:.1f} minutes")
    quotes.append(f"budget {pct(arch['timm-quick']['final_test_accuracy'])} in {arch['timm-quick']['minutes']:.1f} minutes")
    # the retired script
    lines = jsonl()
    base, whiten = lines[1]["acc"], lines[0]["acc"]
    se = binomial_standard_error((base + whiten) / 2, 5000)
    gain = 100 * (whiten - base)
    quotes += [f"| {pct(base)} |", f"| **{pct(whiten)}** |", f"near {100 * (base + whiten) / 2:.0f} % is about {100 * se:.2f} points",
               f"the {gain:.1f}-point gain is about {gain / (100 * se * math.sqrt(2)):.1f} standard errors",
               "load " + re.search(r"load (\d+-\d+)", lines[0]["note"]).group(1).replace("-", "–")]
    ema = [l for l in lines if isinstance(l["acc"], dict)]
    args = [l["args"] if isinstance(l["args"], dict) else ast.literal_eval(l["args"]) for l in ema]
    quotes.append(f"(decay {args[0]['ema']})")
    # rows: whitened (ls 0) and ls 0.1, seeds 0 / 1
    by = {}
    for a, l in zip(args, ema):
        by.setdefault(a["ls"], []).append(l)
    ls = next(x for x in by if x > 0)
    views = ("tta0", "tta1", "tta2")
    for label, key, field in (("whitened stem (the `quick` recipe)", 0.0, "acc"), ("... its EMA (decay 0.99)", 0.0, "acc_ema"),
                              (f"+ label smoothing {ls}", ls, "acc"), ("... its EMA (decay 0.99)", ls, "acc_ema")):
        cells = [f"{100 * by[key][0][field][v]:.2f} / {100 * by[key][1][field][v]:.2f} %" for v in views]
        quotes.append(f"| {label} | " + " | ".join(cells) + " |")
    runs = [l["acc"] for l in ema]
    flip_gain = [100 * (r["tta1"] - r["tta0"]) for r in runs]
    six_gain = [100 * (r["tta2"] - r["tta1"]) for r in runs]
    quotes += [f"flip TTA added {span(flip_gain, 1, '-')} points over plain", f"6 views another {span(six_gain, 1, '-')}\npoints over flip".replace("\n", " ")]
    mean = lambda key, field, v: statistics.mean(100 * l[field][v] for l in by[key])
    quotes.append(f"**Label smoothing {ls}**: {mean(ls, 'acc', 'tta0') - mean(0.0, 'acc', 'tta0'):+.2f} points plain, "
                  f"{mean(ls, 'acc', 'tta2') - mean(0.0, 'acc', 'tta2'):+.2f} with 6 views")
    seed_gap = [abs(100 * (by[key][0][field]["tta0"] - by[key][1][field]["tta0"])) for key in by for field in ("acc", "acc_ema")]
    quotes.append(f"differ by {span(seed_gap, 1, '-')} points in plain evaluation")
    ema_gain = [100 * (l["acc_ema"][v] - l["acc"][v]) for l in ema for v in views]
    quotes.append(f"(differences {min(ema_gain):.1f} to {max(ema_gain):+.1f})")
    steps = args[0]["epochs"] * (50_000 - 10 * get_profile("cpu").validation_per_class) / args[0]["bs"]
    quotes.append(f"({args[0]['ema']}, about the last {1 / (1 - args[0]['ema']):.0f} of {round(steps, -2):.0f} steps)")
    # TTA variants
    tta = load(BENCH / "tta_variants.json")
    package = next(v for v in tta["variants"] if v["views"].startswith("flip-shift (the package's)"))
    for v in tta["variants"]:
        if v is package:
            quotes.append(f"| **{pct(v['accuracy'])}** | -- |")
            continue
        diff, margin = 100 * (v["accuracy"] - package["accuracy"]), 100 * v["margin"]
        text = f"{diff:+.2f} ± {margin:.2f}"
        quotes.append(f"| {pct(v['accuracy'])} | {v['gained']} / {v['lost']}, " + (f"**{text}** |" if abs(diff) > margin else f"{text} |"))
    one = next(v for v in tta["variants"] if v["views"] == "none")
    flip = next(v for v in tta["variants"] if v["views"] == "flip")
    quotes.append(f"{100 * (package['accuracy'] - one['accuracy']):+.1f} points over one view and {100 * (package['accuracy'] - flip['accuracy']):+.1f} over flip")
    # amp
    a = amp_numbers()
    quotes += [f"loss within {a['bf16_loss'].replace('e-05', 'e-5')} (bfloat16) and {a['fp16_loss'].replace('e-05', 'e-5')} (float16)",
               f"gradients within {100 * float(a['bf16_grad']):.1f}% and {100 * float(a['fp16_grad']):.1f}% (cosine similarity {a['bf16_cos']} and {a['fp16_cos']})",
               f"**{a['bf16_s']} s in bfloat16 and {a['fp16_s']} s in float16 against {a['fp32_s']} s in float32** ({a['bf16_x']}x and {a['fp16_x']}x)"]
    return quotes


def checkpoints_quotes() -> list[str]:
    record, old, before_it = shipped(), december_6_shipped(), december_7_shipped()
    evening = december_7_evening_shipped()
    p, q = record["profile"], old["profile"]
    shipped_run, = (s for s in seeds() if s["profile"]["seed"] == p["seed"])  # the benchmark run that shipped
    history = record["history"]
    middle = len(history) // 2
    before, after = shipped_run["machine"]["load_average"], shipped_run["load_average_after"]
    family = record["machine"]["cpu_family_model"].split(" / ")
    tolerance = float(re.search(r"TOLERANCE = ([\d.]+)", (REPO / "tests" / "train" / "test_checkpoint_accuracy.py").read_text()).group(1))
    return [
        f"{record['parameters']:,} parameters",
        (f"{p['epochs']} epochs, batch {p['batch_size']}, AdamW (lr {p['lr']} peak, weight decay {p['weight_decay']}), "
         f"one-cycle schedule, gradient clipping {p['grad_clip']}, random crop (pad {p['augment']['crop_padding']})"),
        f"trained on the {50_000 - 10 * p['validation_per_class']:,} training images left after holding {p['validation_per_class']} of every class out",
        f"**{pct(record['test_accuracy'])}** on the {record['test_images']:,} test images",
        f"(test loss {record['test_loss']:.3f})",
        (f"({10 * p['validation_per_class']:,} held-out images, one view) {pct(history[middle - 1]['eval_accuracy'])} after the "
         f"{middle}th, {pct(history[-1]['eval_accuracy'])} after the {len(history)}th"),
        f"{record['fit_wall_seconds'] / 60:.1f} min for `fit`",
        f"{shipped_run['cpu_minutes']:.1f} CPU-minutes",
        f"family {family[0]} model {family[1]}",
        f"peak {shipped_run['machine']['matmul_peak_gflops']:.1f} GFLOP/s measured before the run",
        "load average " + " / ".join(f"{x:.1f}" for x in before) + " before, " + " / ".join(f"{x:.1f}" for x in after) + " after",
        f"one of the {({3: 'three', 4: 'four', 5: 'five'})[len(seeds())]} seeds",
        f"first {q['progressive_epochs']} of {q['epochs']} epochs on images scaled to {q['progressive_size']} × {q['progressive_size']}",
        f"at {q['norm_bias_lr_scale']:.0f}× the learning rate",
        f"{pct(old['test_accuracy'])} in {old['fit_wall_seconds'] / 60:.1f} minutes",
        f"at a peak learning rate of {before_it['profile']['lr']};\n{pct(before_it['test_accuracy'])} in {before_it['fit_wall_seconds'] / 60:.1f} minutes",
        f"seed {p['seed']}; trained", f"--seed {p['seed']} --export",
        (f"seed {evening['profile']['seed']} of the recipe of that evening ({evening['profile']['epochs']} epochs; "
         f"{pct(evening['test_accuracy'])} in {evening['fit_wall_seconds'] / 60:.1f} minutes)"),
        f"the file is {(REPO / 'checkpoints' / 'convmixer_cpu.pt').stat().st_size / 1e6:.2f} MB",
        f"within {100 * tolerance:.1f} percentage points",
        f"reproduces {pct(record['test_accuracy'])} exactly",
    ]


def studies_quotes() -> list[str]:
    runs, notes, summary, _, _ = kernel_depth_study()
    erf_notes = load(RESULTS / "erf_study.json")
    eb = erf_notes["budget"]
    skip_notes = load(RESULTS / "skip_study.json")
    sb = skip_notes["budget"]
    seen = sb["train_subset"] * sb["epochs"]
    sweep_seen = notes["split"]["train"] * notes["budget"]["epochs"]
    return [
        f"{len(summary)} cells × {len(notes['seeds'])} seeds = {len(runs)} runs, about {notes['total_wall_seconds'] / 60:.0f} minutes",
        f"{eb['train_subset']:,} training images × {eb['epochs']} epochs, batch {eb['batch_size']}",
        f"{erf_notes['split']['validation_per_class']} images of\nevery class".replace("\n", " "),
        f"the first {erf_notes['erf_images']} of them",
        f"{sb['train_subset']:,}-image subset for {sb['epochs']} epochs ({seen:,} images seen: {100 * seen / sweep_seen:.0f} % of the {sweep_seen:,}",
        f"{skip_notes['split']['validation']:,} held-out images ({skip_notes['split']['validation_per_class']} per class)",
        f"checkpoints every {patch.CHECKPOINT_STEPS} steps",
    ]


def notebook_quotes() -> dict[str, list[str]]:
    import inspect

    import torch

    from convmixer.analysis.cost import count_parameters
    from convmixer.data.sample import photo
    from convmixer.filters import make_filter
    from convmixer.studies.stats import Z_975
    from convmixer.widgets.convolution import DepthwiseFilterExplorer

    max_k = inspect.signature(DepthwiseFilterExplorer).parameters["max_kernel_size"].default
    full9 = count_parameters(torch.nn.Conv2d(256, 256, 9))
    edge = make_filter("edge", 5)
    _, height, width = photo().shape
    return {
        "notebooks/01_depthwise_convolution.ipynb": [
            f"would hold {full9 / 1e6:.1f} M parameters",
            f"ConvMixer-256/8 ({convmixer_parameters(convmixer.CONFIGS['convmixer_256_8']) / 1e6:.1f} M)",
            f"${edge.max().item():.2f}$ at the centre, ${edge.min().item():.2f}$ elsewhere",
            f"${height} \\times {width}$",
            f"kernel size (1 to {max_k}, odd",
            f"at $k = {max_k}$",
            f"for every $k$ from 1 to {max_k},",
        ],
        "notebooks/05_train_cifar10.ipynb": [
            f"\\ln 10 \\approx {math.log(10):.2f}",
            f"$\\pm {Z_975:.2f}$",
            f"\\pm {Z_975:.2f}\\sqrt{{a(1-a)/n}}",
        ],
        "notebooks/02_pointwise_convolution.ipynb": [],
        "notebooks/03_patch_embeddings.ipynb": patch_embedding_quotes(),
        "notebooks/04_convmixer_model.ipynb": convmixer_model_quotes(),
        "notebooks/06_visualize_kernels_and_activations.ipynb": [],
        "notebooks/07_kernel_size_and_depth.ipynb": kernel_depth_notebook_quotes() + kernel_size_study_quotes(),
        "notebooks/08_kernel_size_on_good_models.ipynb": kernel_size_study_quotes(),
        "notebooks/09_patch_size_trained.ipynb": patch_study_quotes(),
    }


def tex_set(values) -> str:
    """``\\{3, 5, 7, 9\\}`` as the notebooks' LaTeX writes a set."""
    return "\\{" + ", ".join(str(v) for v in sorted(values)) + "\\}"


def patch_embedding_quotes() -> list[str]:
    """Notebook 03: the patch grids of the named configurations, the car's patch matrix and what a
    patch size that does not divide the image leaves out, each from the package."""
    from convmixer.data.sample import cifar10_sample
    from convmixer.patches import num_tokens, patch_grid

    cifar, paper = convmixer.CONFIGS["convmixer_256_8"], convmixer.CONFIGS["convmixer_1024_20"]
    imagenet = [c for c in convmixer.CONFIGS.values() if c.num_classes == 1000]
    (size,) = {c.image_size for c in imagenet}
    small, large = sorted({c.patch_size for c in imagenet})
    channels, side, _ = cifar10_sample().images[0].shape
    grid = lambda p, s=side: patch_grid(s, s, p)[0]
    car_p, stride = 4, 7  # the notebook's settings: the car in p = 4 patches, a stride-7 convolution
    kept = side // stride * stride
    return [
        (f"uses $p = {cifar.patch_size}$ on CIFAR-10 (a ${grid(cifar.patch_size)} \\times {grid(cifar.patch_size)}$ grid) "
         f"and $p = {small}$ or ${large}$ on ${size} \\times {size}$ ImageNet images "
         f"(${grid(small, size)} \\times {grid(small, size)}$ and ${grid(large, size)} \\times {grid(large, size)}$ grids)"),
        f"$p = {car_p}$: {num_tokens(side, side, car_p)} patches, each a row of ${channels} \\cdot {car_p}^2 = {channels * car_p ** 2}$ numbers",
        f"with the CIFAR-10 model's $h = {cifar.dim}$ and $p = {cifar.patch_size}$",
        f"$p = {car_p}$, $N = {num_tokens(side, side, car_p)}$ tokens",
        f"fits {side // stride} patches per side and silently ignores the last ${side} - {kept} = {side - kept}$ rows and columns",
        f"($p = {small}$ and ${large}$ tile it",
        f"ConvMixer-{paper.dim}/{paper.depth} uses $p = {paper.patch_size}$ on ${paper.image_size} \\times {paper.image_size}$ images",
    ]


def exercise_skip_minutes(variants: int = 2, epochs_factor: int = 3) -> tuple[int, float]:
    """Notebook 04's exercise 7 (``--variants`` two placements, three times the epochs, the
    script's default seeds): its epochs, and its minutes estimated from the stored study's wall
    time per run-epoch."""
    notes = load(RESULTS / "skip_study.json")
    epochs = notes["budget"]["epochs"]
    study_run_epochs = len(notes["variants"]) * len(notes["seeds"]) * epochs
    run_epochs = variants * len(notes["seeds"]) * epochs_factor * epochs
    return epochs_factor * epochs, notes["total_wall_seconds"] * run_epochs / study_run_epochs / 60


def convmixer_model_quotes() -> list[str]:
    """Notebook 04: BatchNorm's momentum, the skip study's model, the receptive fields of
    ConvMixer-256/8, the paper's widths and patch sizes, and exercise 7's time."""
    from torch import nn

    from convmixer.analysis.fields import receptive_field

    cifar = convmixer.CONFIGS["convmixer_256_8"]
    study = get_profile("skip-study").model_config()
    imagenet = {name: c for name, c in convmixer.CONFIGS.items() if c.num_classes == 1000}
    widths = [c.dim for c in imagenet.values()]
    c1024, c768 = imagenet["convmixer_1024_20"], imagenet["convmixer_768_32"]
    rf = lambda blocks: receptive_field(cifar.kernel_size, cifar.patch_size, blocks)
    epochs, minutes = exercise_skip_minutes()
    return [
        f"each call also moves the *running* statistics (momentum {nn.BatchNorm2d(1).momentum})",
        f"through the {study.depth} blocks of a seeded, untrained ConvMixer-{study.dim}/{study.depth} (the model trained below)",
        f"at widths of {min(widths)}–{max(widths)}",
        f"After 4 blocks one position sees ${rf(4)} \\times {rf(4)}$ pixels",
        f"after **2** blocks ({rf(2)} px)",
        (f"ConvMixer-{c1024.dim}/{c1024.depth} ($p = {c1024.patch_size}$) has more parameters than "
         f"ConvMixer-{c768.dim}/{c768.depth} ($p = {c768.patch_size}$)"),
        f"--epochs {epochs} --out my_skip.json` (about {minutes:.0f} minutes on two cores)",
    ]


def uniform_variance_denominator(k: int = 3) -> int:
    """The 12 of ``sigma^2 = d (k^2 - 1) / 12``: ``k^2 - 1`` over the variance of a uniform
    kernel's offsets ``0 .. k - 1`` (the same for every ``k``)."""
    offsets = list(range(k))
    return round((k * k - 1) / statistics.pvariance(offsets))


def kernel_depth_notebook_quotes() -> list[str]:
    """Notebook 07: the grid of the sweep and its split, the degrees of freedom and Student's t,
    the machine and budget, the Gaussian guide of the ERF section and the ERF study's images."""
    from convmixer.analysis.fields import receptive_field
    from convmixer.notebook.published import IMAGENET
    from convmixer.studies.stats import t_quantile

    runs, notes, summary, _, _ = kernel_depth_study()
    noise = seed_noise(summary)
    (n,) = {c.n for c in summary}
    seeds = notes["seeds"]
    tested = notes["test"]["test_accuracies"]
    config = budget_model(notes["budget"])
    grid = config.image_size // config.patch_size
    erf_notes = load(RESULTS / "erf_study.json")
    erf_patch = erf_notes["budget"]["model_overrides"]["patch_size"]
    erf_cells = {(s.kernel_size, s.depth) for s in erf_study()[1]}
    (small_k, big_k), (small_d, big_d) = (sorted({k for k, _ in erf_cells}), sorted({d for _, d in erf_cells}))
    field = receptive_field(big_k, erf_patch, small_d)
    assert field == receptive_field(small_k, erf_patch, big_d), "the pair shares a theoretical field"
    den = uniform_variance_denominator()
    sigma = lambda k, d: math.sqrt(d * (k * k - 1) / den)
    paper = convmixer.CONFIGS["convmixer_1536_20"]
    paper_grid = paper.image_size // paper.patch_size
    released = [convmixer.CONFIGS[m.config].kernel_size for m in IMAGENET]
    return [
        (f"$k \\in {tex_set({r.kernel_size for r in runs})}$ and depth $d \\in {tex_set({r.depth for r in runs})}$ "
         f"under one fixed budget"),
        f"$p = {config.patch_size}$ (an ${grid} \\times {grid}$ grid)",
        f"{notes['split']['validation_per_class']} images of every class were held out",
        f"Seeds {', '.join(map(str, seeds[:-1]))} and {seeds[-1]} for every configuration",
        f"(here ${len(summary)} \\times {n - 1} = {noise.dof}$)",
        f"about {t_quantile(noise.dof):.0f} with our {noise.dof}, but {t_quantile(n - 1):.2f} if $s$ came from one cell",
        f"($t = {t_quantile(len(tested) - 1):.2f}$ for {len(tested) - 1} degrees of freedom)",
        f"the speed on a {notes['machine']['cpu_count']}-core CPU, and how each shape does after {notes['budget']['epochs']} epochs",
        f"On a {notes['machine']['cpu_count']}-core CPU these small models",
        f"($k = {max(released)}$ and ${min(released)}$)",
        f"{paper.image_size} px in {paper.patch_size}-px patches is a ${paper_grid} \\times {paper_grid}$ grid",
        f"$\\sigma = \\sqrt{{d\\,(k^2 - 1)/{den}}}$",
        (f"So $k = {big_k}, d = {small_d}$ and $k = {small_k}, d = {big_d}$ share a theoretical field of {field} pixels "
         f"but have $\\sigma \\approx {sigma(big_k, small_d):.1f}$ against ${sigma(small_k, big_d):.1f}$ positions"),
        (f"$k \\in {tex_set({k for k, _ in erf_cells})} \\times d \\in {tex_set({d for _, d in erf_cells})}$"),
        (f"accuracies on {erf_notes['split']['validation']:,} held-out validation images, "
         f"ERFs over {erf_notes['erf_images']} of them"),
        f"White: the centre position's own ${erf_patch} \\times {erf_patch}$ patch",
    ]


def budget_model(budget: dict) -> convmixer.ConvMixerConfig:
    """The model a results file's budget trains."""
    from convmixer.train import TrainProfile

    return TrainProfile.from_dict(budget).model_config()


@functools.cache
def quotes() -> dict[str, list[str]]:
    return {
        "README.md": readme_quotes(),
        "benchmarks/README.md": benchmarks_quotes(),
        "checkpoints/README.md": checkpoints_quotes(),
        "docs/studies.md": studies_quotes(),
        **notebook_quotes(),
    }


# --- definitional constants, derived from the package ---------------------------------------------

def derived_constants() -> set[str]:
    """Numbers that define the set-up rather than measure it, each read from the package: every
    profile's epochs, batch, subsets and image sizes; every named configuration's h, d, k, p, input
    size and grid; CIFAR-10's split sizes and what a validation split leaves; the bundled sample's
    size; the whitened stem's image count; the number of classes' chance level."""
    from convmixer.data.sample import cifar10_sample
    from convmixer.train.engine import WHITENING_IMAGES

    values: set[int] = {50_000, 10_000, WHITENING_IMAGES, len(cifar10_sample().labels)}
    floats: set[float] = set()
    for profile in PROFILES.values():
        config = convmixer.CONFIGS[profile.model]
        for field in ("epochs", "batch_size", "train_subset", "test_subset", "progressive_size", "progressive_epochs"):
            value = getattr(profile, field)
            if value:
                values.add(value)
        if profile.validation_per_class:
            values |= {profile.validation_per_class, 10 * profile.validation_per_class, 50_000 - 10 * profile.validation_per_class}
        for value in profile.model_overrides.values():
            values.add(value)
        values.add(config.kernel_size ** 2)
        floats |= {profile.lr, profile.weight_decay, profile.grad_clip, profile.label_smoothing}
    from convmixer.studies.recipe import VARIANTS
    base = get_profile("cpu-plain")
    for _, make in VARIANTS.values():
        variant = make(base)
        floats |= {variant.label_smoothing, variant.norm_momentum}
        values.add(variant.lookahead_every)
    for config in convmixer.CONFIGS.values():
        values |= {config.dim, config.depth, config.kernel_size, config.patch_size, config.image_size,
                   config.image_size // config.patch_size, config.num_classes}
    out = set()
    for v in values:
        out |= {str(v), f"{v:,}"}
    out |= {str(f) for f in floats if f}
    num_classes = convmixer.CONFIGS["convmixer_256_8"].num_classes
    out |= {f"{1 / num_classes:.1f}", f"{1 - 1 / num_classes:.1f}"}
    return out


# --- the scanner ----------------------------------------------------------------------------------

NUMBER = re.compile(r"(?<![\w.])\d+(?:,\d{3})*(?:\.\d+)?(?:e-?\d+)?")


def normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def document_text(name: str) -> str:
    """A document's prose: the markdown file, or a notebook's markdown cells (blank line apart)."""
    path = REPO / name
    if path.suffix == ".ipynb":
        cells = json.loads(path.read_text())["cells"]
        return "\n\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    return path.read_text()


def code_literals(name: str) -> set[str]:
    """The numbers a notebook's code cells and its exercises' module write (the settings its prose
    describes), commas and underscores dropped."""
    path = REPO / name
    if path.suffix != ".ipynb":
        return set()
    cells = json.loads(path.read_text())["cells"]
    code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    exercises = REPO / "convmixer" / "notebook" / "exercises" / f"nb{path.name[:2]}.py"
    if exercises.exists():
        code += exercises.read_text()
    return {m.replace("_", "") for m in re.findall(r"(?<![\w.])\d[\d_]*(?:\.\d+)?", code)}


def proven_tables() -> list[str]:
    """Tables other tests prove are rendered from their files."""
    from support import load_script

    from convmixer.studies.recipe import format_table, read_results, summarise

    runs, _ = read_results(RESULTS / "recipe_ablation.json")
    full, _ = read_results(RESULTS / "recipe_full.json")
    grid = load_script("grid_major", folder="benchmarks")
    return [format_table(summarise(runs)), format_table(summarise(full)), *(load_script("time_to_accuracy", folder="benchmarks").seed_table("ours", "cpu", tag)
              for tag in (None, "full-size", DECEMBER_6, DECEMBER_7, DECEMBER_7_EVENING)),
            *(load_script("time_to_accuracy", folder="benchmarks").seed_table("ours", "cpu-long", tag) for tag in (None, CPU_LONG_22)),
            grid.format_table(load(BENCH / "grid_major-cpu.json")["steps"]),
            *(load_script("step_breakdown", folder="benchmarks").format_table(load(BENCH / name))
              for name in ("step_breakdown-cpu.json", ZEN4_MM_BREAKDOWN, ZEN3_BREAKDOWN, ZEN4_CONV.format("step_breakdown-cpu")))]


def drop_tables(text: str, headers: list[str]) -> str:
    """``text`` without the markdown tables that start with one of ``headers`` (whether or not
    they are up to date: the tests of those tables say so)."""
    out, skipping = [], False
    for line in text.splitlines():
        if line.strip() in headers:
            skipping = True
        elif skipping and not line.startswith("|"):
            skipping = False
        if not skipping:
            out.append(line)
    return "\n".join(out)


def excluded_spans(text: str, patterns: list[str]) -> list[tuple[int, int]]:
    spans = []
    for pattern in patterns:
        spans += [m.span() for m in re.finditer(pattern, text, flags=re.DOTALL)]
    return spans


def missing_quotes(name: str, text: str | None = None) -> list[str]:
    """The registered quotes of ``name`` that its text (or ``text``) does not contain."""
    body = normalise(document_text(name) if text is None else text)
    return [q for q in quotes()[name] if normalise(q) not in body]


def stray_numbers(name: str, registered: list[str], text: str | None = None) -> list[str]:
    """The number tokens of ``name``'s prose (or of ``text`` read as that document) that no
    registered quote, derived constant or allowlist entry accounts for, each with some context."""
    text = document_text(name) if text is None else text
    text = drop_tables(text, [table.splitlines()[0] for table in proven_tables()])
    text = normalise(text)
    structural = [r"```.*?```", r"`[^`]*`", r"\$\$.*?\$\$", r"\]\([^)]*\)", r"<[^>]+>"]
    literal = [re.escape(normalise(q)) for q in registered]
    allowed = [pattern for doc, pattern, _ in ALLOWLIST if doc in ("*", name)]
    spans = excluded_spans(text, structural) + excluded_spans(text, literal) + excluded_spans(text, allowed)
    constants = derived_constants() | code_literals(name)
    stray = []
    for m in NUMBER.finditer(text):
        token = m.group()
        if any(a <= m.start() < b for a, b in spans):
            continue
        if re.fullmatch(r"\d", token) or token in constants or token.replace(",", "") in constants:
            continue
        stray.append(f"{token!r} in ...{text[max(0, m.start() - 50):m.end() + 30]}...")
    return stray
