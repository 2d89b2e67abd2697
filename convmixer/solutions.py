"""Solutions of the notebooks' exercises, shown only when a reader asks: ``solution(name)`` in
:mod:`convmixer.notebook`. Keyed ``"NN-short-name"`` (NN: the notebook's number); values are
markdown with code in fenced blocks."""

SOLUTIONS: dict[str, str] = {}
