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

from convmixer.notebook.solutions import SOLUTIONS
from convmixer.viz.images import render_figure


def show_source(*objects: Any) -> Code:
    """The package's code for ``objects`` (functions, classes, methods), read from its source
    files: what the notebook shows is what runs, never a copy."""
    return Code("\n\n".join(inspect.getsource(obj) for obj in objects), language="python")


def show_figure(fig: Figure, photo: bool = False, dpi: int = 80) -> Image:
    """A figure as an image to display: JPEG for photographs (several times smaller than PNG),
    PNG for plots and line art."""
    return Image(render_figure(fig, "jpeg" if photo else "png", dpi))


def check(name: str, answer: Any, expected: Any, hint: str, *, atol: float = 1e-5, rtol: float = 1e-4) -> None:
    """Compare the reader's ``answer`` with ``expected`` and print one line.

    Tensors are compared with ``torch.testing.assert_close`` (shape, dtype-insensitive, the given
    tolerances), numbers with the same tolerances, anything else with ``==``. ``answer`` may be a
    callable of no arguments (it is called). A placeholder answer (``...`` / ``None``) prints
    "not answered yet" with the hint; a wrong one prints "not yet" with the hint. Returns nothing,
    so that a cell ending with a check shows only that line (a trailing ``;`` does not reliably
    hide a value under nbval).
    """
    if callable(answer) and not isinstance(answer, torch.Tensor):
        try:
            answer = answer()
        except NotImplementedError:
            answer = None
    if answer is None or answer is Ellipsis:
        print(f"[{name}] not answered yet. Hint: {hint}")
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
    try:
        return Markdown(SOLUTIONS[name])
    except KeyError:
        raise ValueError(f"no solution called {name!r}; known: {', '.join(sorted(SOLUTIONS)) or 'none'}") from None
