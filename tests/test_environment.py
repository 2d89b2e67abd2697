"""environment.yml (conda users) lists exactly the dependencies and the Python of pyproject.toml.

pyproject.toml requires Python 3.11, so ``tomllib`` is always in the standard library here."""

import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def conda_dependencies() -> list:
    return yaml.safe_load((ROOT / "environment.yml").read_text())["dependencies"]


def test_environment_yml_agrees_with_pyproject():
    expected = set(project()["dependencies"])
    for extra in project()["optional-dependencies"].values():
        expected |= set(extra)

    pip_section = next(d["pip"] for d in conda_dependencies() if isinstance(d, dict))
    listed = {line for line in pip_section if not line.startswith("-e")}

    assert listed == expected, (
        f"only in pyproject.toml: {sorted(expected - listed)}; "
        f"only in environment.yml: {sorted(listed - expected)}"
    )


def test_environment_yml_pins_the_python_that_pyproject_requires():
    required = project()["requires-python"]
    pins = [d for d in conda_dependencies() if isinstance(d, str) and d.startswith("python")]
    assert pins == [f"python{required}"]
