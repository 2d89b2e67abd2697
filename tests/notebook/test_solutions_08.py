"""Notebook 08's exercise: the judge accepts the solution and turns typical wrong answers away with a
sentence that says what is wrong (the solution's own run: test_exercises.py)."""

import torch

from convmixer.notebook.exercises import EXERCISES


def outside(kernels: torch.Tensor, centre: int, power: int = 1) -> torch.Tensor:
    magnitude = kernels.abs() ** power
    low, high = max(centre - 1, 0), centre + 2
    return 1 - magnitude[:, low:high, low:high].sum(dim=(1, 2)) / magnitude.sum(dim=(1, 2))


def test_outside_share_rejects_squared_weights_a_wrong_even_centre_and_a_wrong_shape():
    judge = EXERCISES["08-outside-share"].judge
    assert judge(lambda w: outside(w, (w.shape[-1] - 1) // 2)) is None
    assert "squared weights" in judge(lambda w: outside(w, (w.shape[-1] - 1) // 2, power=2))
    assert "centre tap of an even kernel" in judge(lambda w: outside(w, w.shape[-1] // 2))
    assert "one share per kernel" in judge(lambda w: outside(w, (w.shape[-1] - 1) // 2).mean())
