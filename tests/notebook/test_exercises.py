"""Every registered exercise (convmixer.notebook.exercises): its solution's code runs on its own and
passes the very check the reader gets, and an unanswered cell gets the hint, not an error."""

from __future__ import annotations

import re

import pytest

from convmixer.notebook import check
from convmixer.notebook.exercises import EXERCISES, Exercise, exercise


def solution_namespace(item: Exercise) -> dict:
    blocks = re.findall(r"```python\n(.*?)```", item.solution, re.S)
    assert blocks, f"{item.name}'s solution has no Python code"
    namespace: dict = {}
    exec("\n".join(blocks), namespace)  # noqa: S102 - the package's own solution text
    assert item.answer in namespace, f"{item.name}'s solution does not define {item.answer}"
    return namespace


@pytest.mark.parametrize("name", sorted(EXERCISES))
def test_every_solution_passes_its_own_check(name, capsys):
    item = EXERCISES[name]
    check(name, solution_namespace(item)[item.answer])
    assert capsys.readouterr().out.strip() == f"[{name}] correct."


@pytest.mark.parametrize("name", sorted(EXERCISES))
def test_an_unanswered_exercise_prints_its_hint(name, capsys):
    check(name, ...)
    assert capsys.readouterr().out.strip() == f"[{name}] not answered yet. Hint: {EXERCISES[name].hint}"


def test_an_exercise_needs_one_way_to_be_judged_and_a_unique_name():
    with pytest.raises(ValueError, match="needs exactly one of expected and judge"):
        Exercise("00-x", "hint", "solution", "x")
    name = next(iter(EXERCISES), None)
    if name is not None:
        with pytest.raises(ValueError, match="registered twice"):
            exercise(name, "hint", "solution", "x", expected=lambda: 1)
