"""Helpers the notebooks share: show the package's own source, show a figure as an image, and
exercises that check an answer, give a hint, and reveal a solution on request.

An exercise is a function the reader fills in (or a value they compute); ``check`` compares it
with the expected result and prints one line -- "correct" or a hint -- instead of a traceback.
Solutions live in :mod:`convmixer.notebook.solutions` (keyed by exercise name) and are shown only when
asked: ``solution("01-box-filter")``.
"""

from __future__ import annotations

import inspect
from typing import Any

import torch
from IPython.display import Code, Image, Markdown
from matplotlib.figure import Figure

from convmixer.notebook.exercises import EXERCISES, get_exercise
from convmixer.notebook.solutions import SOLUTIONS
from convmixer.viz.images import render_figure


def show_source(*objects: Any) -> Code:
    """The package's code for ``objects`` (functions, classes, methods), read from its source
    files: what the notebook shows is what runs, never a copy."""
    return Code("\n\n".join(inspect.getsource(obj) for obj in objects), language="python")


def show_figure(fig: Figure, photo: bool = False, dpi: int = 100) -> Image:
    """A figure as an image to display: JPEG for photographs (several times smaller than PNG),
    PNG for plots and line art."""
    return Image(render_figure(fig, "jpeg" if photo else "png", dpi))


_MISSING: Any = object()


def check(name: str, answer: Any, expected: Any = _MISSING, hint: str | None = None, *, atol: float = 1e-5,
          rtol: float = 1e-4) -> None:
    """Check the reader's ``answer`` to exercise ``name`` and print one line.

    A registered exercise (:mod:`convmixer.notebook.exercises`) knows what is right: ``check(name,
    answer)``, and the notebook shows nothing that gives the answer away. (Passing ``expected`` and
    ``hint`` checks against them instead.) Tensors are compared with ``torch.testing.assert_close``
    (dtype-insensitive, the given tolerances), numbers with the same tolerances, anything else with
    ``==``; an exercise with a ``judge`` hands the answer to it, and its sentence says what went
    wrong. ``answer`` may be a callable of no arguments (it is called; not for judged exercises,
    whose answers are often classes or functions). A placeholder (``...`` / ``None``, or a function
    raising ``NotImplementedError``) prints "not answered yet" with the hint; a wrong one "not yet"
    with the hint. Returns nothing, so that a cell ending with a check shows only that line.
    """
    judge = None
    if expected is _MISSING:
        registered = get_exercise(name)
        hint, judge, atol, rtol = registered.hint, registered.judge, registered.atol, registered.rtol
        expected = None if judge is not None else registered.expected()
    if judge is None and callable(answer) and not isinstance(answer, torch.Tensor):
        try:
            answer = answer()
        except NotImplementedError:
            answer = None
    if answer is None or answer is Ellipsis:
        print(f"[{name}] not answered yet. Hint: {hint}")
        return
    if judge is not None:
        try:
            verdict = judge(answer)
        except NotImplementedError:
            print(f"[{name}] not answered yet. Hint: {hint}")
            return
        except Exception as error:  # the reader's code failed: say how, in one line
            verdict = f"your code raised {type(error).__name__}: {error}"
        print(f"[{name}] correct." if verdict is None else f"[{name}] not yet: {verdict} Hint: {hint}")
        return
    try:
        if isinstance(expected, torch.Tensor) or isinstance(answer, torch.Tensor):
            torch.testing.assert_close(
                torch.as_tensor(answer).double(), torch.as_tensor(expected).double(), atol=atol, rtol=rtol
            )
        elif isinstance(expected, (int, float)) and not isinstance(expected, bool):
            if not abs(float(answer) - float(expected)) <= atol + rtol * abs(float(expected)):
                raise AssertionError
        elif answer != expected:
            raise AssertionError
    except (AssertionError, TypeError, ValueError, RuntimeError):
        print(f"[{name}] not yet. Hint: {hint}")
        return
    print(f"[{name}] correct.")


def solution(name: str) -> Markdown:
    """The solution of exercise ``name``, to display when the reader asks for it."""
    if name in EXERCISES:
        return Markdown(EXERCISES[name].solution)
    try:
        return Markdown(SOLUTIONS[name])
    except KeyError:
        known = sorted(set(SOLUTIONS) | set(EXERCISES))
        raise ValueError(f"no solution called {name!r}; known: {', '.join(known) or 'none'}") from None
