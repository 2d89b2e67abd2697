"""environment.yml (conda users) lists exactly the dependencies of pyproject.toml."""

import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def test_environment_yml_agrees_with_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    expected = set(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        expected |= set(extra)

    environment = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in environment["dependencies"] if isinstance(d, dict))
    listed = {line for line in pip_section if not line.startswith("-e")}

    assert listed == expected, (
        f"only in pyproject.toml: {sorted(expected - listed)}; "
        f"only in environment.yml: {sorted(listed - expected)}"
    )
