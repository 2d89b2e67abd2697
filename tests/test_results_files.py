"""Every committed results file is a versioned record file (convmixer.records) of a known kind,
and loads through the one reader."""

import json

import pytest
from support import REPO

from convmixer.records import read_record_file

KINDS = {
    "results/kernel_depth_sweep.json": ("convmixer kernel-size x depth sweep", 1),
    "results/skip_study.json": ("convmixer skip study", 1),
    "results/erf_study.json": ("convmixer ERF study", 1),
    "results/kernel_size_study.json": ("convmixer ERF study", 1),  # the ERF study's kernel-study plan
    "results/recipe_ablation.json": ("convmixer recipe ablation", 1),
    "results/recipe_full.json": ("convmixer recipe ablation", 1),  # the same script with --base cpu
    "benchmarks/results/pointwise_product-cpu.json": ("convmixer point-wise product", 1),
    "results/patch_study.json": ("convmixer patch-size study", 1),
    "checkpoints/convmixer_cpu.json": ("convmixer exported run", 1),
    # the record of the checkpoint shipped until 7 December (the cpu recipe of 6 December)
    "benchmarks/results/archive/convmixer_cpu-2026-12-06.json": ("convmixer exported run", 1),
    # the record of the checkpoint shipped on the afternoon of 7 December (the cpu recipe of 7 December)
    "benchmarks/results/archive/convmixer_cpu-2026-12-07.json": ("convmixer exported run", 1),
    # the record of the checkpoint shipped until late that evening (the cpu recipe of that evening)
    "benchmarks/results/archive/convmixer_cpu-2026-12-07-evening.json": ("convmixer exported run", 1),
    "benchmarks/results/roofline-cpu.json": ("convmixer roofline", 1),
    "benchmarks/results/step_breakdown-cpu.json": ("convmixer step breakdown", 2),
    "benchmarks/results/grid_major-cpu.json": ("convmixer grid-major step", 1),
    "benchmarks/results/tta_variants.json": ("convmixer TTA variants", 1),
}
FILES = sorted(str(p.relative_to(REPO)) for folder in ("results", "benchmarks/results", "benchmarks/results/archive", "checkpoints")
               for p in (REPO / folder).glob("*.json"))


def kind_of(name: str) -> tuple[str, int]:
    if name.startswith("benchmarks/results/archive/time_to_accuracy-ours-cpu-full-size-seed"):
        return "convmixer time to accuracy", 2  # a candidate cpu recipe, 7 December 2026, not adopted
    if name.startswith("benchmarks/results/archive/time_to_accuracy-ours-cpu-2026-12-06-seed"):
        return "convmixer time to accuracy", 2  # the cpu recipe of 6 December, replaced on 7 December
    if name.startswith("benchmarks/results/archive/time_to_accuracy-ours-cpu-2026-12-07-seed"):
        return "convmixer time to accuracy", 2  # the cpu recipe of 7 December, replaced that evening
    if name.startswith("benchmarks/results/archive/time_to_accuracy-ours-cpu-2026-12-07-evening-seed"):
        return "convmixer time to accuracy", 2  # the cpu recipe of that evening (lr 0.02), replaced late that night
    if name.startswith("benchmarks/results/archive/time_to_accuracy-ours-cpu-long-22-epochs-seed"):
        return "convmixer time to accuracy", 2  # cpu-long's first run: the recipe of 7 December, 22 epochs
    if name.startswith("benchmarks/results/archive/time_to_accuracy-ours-cpu-width-160-pilot-seed"):
        return "convmixer time to accuracy", 2  # a one-run pilot of 8 December (ConvMixer-160/8, 18 epochs)
    if name.startswith("benchmarks/results/archive/time_to_accuracy-ours-cpu-lr-pilot-seed"):
        return "convmixer time to accuracy", 2  # a one-run pilot of 7 December (peak learning rate 0.02)
    if name.startswith("benchmarks/results/archive/time_to_accuracy-"):
        return "convmixer time to accuracy", 1  # runs of the recipe before 6 December 2026
    if name.startswith("benchmarks/results/archive/roofline-"):
        return "convmixer roofline", 1
    if name.startswith("benchmarks/results/archive/step_breakdown-cpu-2026-12-06"):
        return "convmixer step breakdown", 1  # before the grid-major parts
    if name.startswith("benchmarks/results/archive/step_breakdown-"):
        return "convmixer step breakdown", 2
    if name.startswith("benchmarks/results/archive/pointwise_product-"):
        return "convmixer point-wise product", 1
    if name.startswith("benchmarks/results/archive/cpu"):
        return "convmixer speed benchmark", 1
    if name.startswith("benchmarks/results/time_to_accuracy-"):
        return "convmixer time to accuracy", 2
    if name.startswith("benchmarks/results/cpu"):
        return "convmixer speed benchmark", 1
    return KINDS[name]


def test_the_list_covers_the_files():
    assert set(KINDS) <= set(FILES)
    assert any(name.startswith("benchmarks/results/time_to_accuracy-ours-cpu-seed") for name in FILES)


@pytest.mark.parametrize("name", FILES)
def test_every_results_file_loads_through_the_versioned_format(name):
    kind, version = kind_of(name)
    payload = read_record_file(REPO / name, kind, version)
    assert payload and "format" not in payload and "version" not in payload
    assert json.loads((REPO / name).read_text())["version"] == version
