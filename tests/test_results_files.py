"""Every committed results file is a versioned record file (convmixer.records) of a known kind,
and loads through the one reader."""

import json

import pytest
from support import REPO

from convmixer.records import read_record_file

KINDS = {
    "results/kernel_depth_sweep.json": "convmixer kernel-size x depth sweep",
    "results/skip_study.json": "convmixer skip study",
    "results/erf_study.json": "convmixer ERF study",
    "checkpoints/convmixer_cpu.json": "convmixer exported run",
    "benchmarks/results/roofline-cpu.json": "convmixer roofline",
    "benchmarks/results/tta_variants.json": "convmixer TTA variants",
}
FILES = sorted(str(p.relative_to(REPO)) for folder in ("results", "benchmarks/results", "checkpoints")
               for p in (REPO / folder).glob("*.json"))


def kind_of(name: str) -> str:
    if name.startswith("benchmarks/results/time_to_accuracy-"):
        return "convmixer time to accuracy"
    if name.startswith("benchmarks/results/cpu"):
        return "convmixer speed benchmark"
    return KINDS[name]


def test_the_list_covers_the_files():
    assert len(FILES) >= 14 and set(KINDS) <= set(FILES)


@pytest.mark.parametrize("name", FILES)
def test_every_results_file_loads_through_the_versioned_format(name):
    payload = read_record_file(REPO / name, kind_of(name), 1)
    assert payload and "format" not in payload and "version" not in payload
    assert json.loads((REPO / name).read_text())["version"] == 1
