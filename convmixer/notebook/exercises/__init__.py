"""The notebooks' exercises, kept out of the notebooks: what each check compares the reader's
answer with, its hint, and its solution. A check cell in a notebook is then only
``check("04-mixer-block", MyMixerBlock)``: nothing under the blank gives the answer away.

Each notebook's exercises live in their own module (``nb01`` ... ``nb09``), which registers them
with :func:`exercise` when this package is imported. An exercise has

- a ``hint`` (printed when the answer is missing or wrong),
- a ``solution`` (markdown with fenced Python code that runs on its own, imports included; shown
  only by ``solution(name)``) and ``answer``, the name the solution's code (and the reader's
  cell) defines: ``tests/notebook/test_exercises.py`` runs every solution and checks
  ``answer`` with the same check the reader gets,
- and either ``expected`` (a function of no arguments returning the right value: numbers and
  tensors are compared within ``atol``/``rtol``, anything else with ``==``) or ``judge`` (a
  function of the reader's answer -- e.g. a module class or a function they wrote -- that returns
  ``None`` when it is right and otherwise one sentence saying what went wrong, e.g. "the output
  keeps the input's spatial size, but its channels were not mixed: did you use groups=channels?").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable


@dataclass(frozen=True)
class Exercise:
    """One exercise: see the module's docstring."""

    name: str
    hint: str
    solution: str
    answer: str
    expected: Callable[[], Any] | None = None
    judge: Callable[[Any], str | None] | None = None
    atol: float = 1e-5
    rtol: float = 1e-4

    def __post_init__(self) -> None:
        if (self.expected is None) == (self.judge is None):
            raise ValueError(f"exercise {self.name!r} needs exactly one of expected and judge")


EXERCISES: dict[str, Exercise] = {}


def exercise(name: str, hint: str, solution: str, answer: str, *, expected: Callable[[], Any] | None = None,
             judge: Callable[[Any], str | None] | None = None, atol: float = 1e-5, rtol: float = 1e-4) -> None:
    """Register an exercise (each notebook module calls this for each of its exercises)."""
    if name in EXERCISES:
        raise ValueError(f"exercise {name!r} is registered twice")
    EXERCISES[name] = Exercise(name, hint, solution, answer, expected, judge, atol, rtol)


def get_exercise(name: str) -> Exercise:
    """The exercise called ``name``; a clear ``ValueError`` lists the known ones."""
    try:
        return EXERCISES[name]
    except KeyError:
        raise ValueError(f"no exercise called {name!r}; known: {', '.join(sorted(EXERCISES)) or 'none'}") from None


# Importing the notebook modules registers their exercises.
from convmixer.notebook.exercises import nb01, nb02, nb03, nb04, nb05, nb06, nb07, nb08, nb09  # noqa: E402,F401
