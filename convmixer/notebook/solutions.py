"""Solutions of the notebooks' exercises, shown only when a reader asks: ``solution(name)`` in
:mod:`convmixer.notebook`. Keyed ``"NN-short-name"`` (NN: the notebook's number); values are
markdown with code in fenced blocks."""

SOLUTIONS: dict[str, str] = {}

# --- 01 · 02 · 03: their exercises live in convmixer/notebook/exercises/nb01.py, nb02.py, nb03.py.

# --- 06: its exercises live in convmixer/notebook/exercises/nb06.py.

# --- 05: its exercises live in convmixer/notebook/exercises/nb05.py.

# --- 04 · 07: their exercises live in convmixer/notebook/exercises/nb04.py, nb07.py.
