"""Notebook 09's exercise: the judge accepts the solution and turns typical wrong answers away with a
sentence that says what is wrong (the solution's own run: test_exercises.py)."""

from convmixer.notebook.exercises import EXERCISES


def test_block_macs_names_the_missing_part_a_dense_kernel_a_side_for_an_area_and_flops():
    judge = EXERCISES["09-block-macs"].judge
    assert judge(lambda h, k, s, p: (s // p) ** 2 * (h * k * k + h * h)) is None
    assert "only the point-wise part" in judge(lambda h, k, s, p: (s // p) ** 2 * h * h)
    assert "only the depth-wise part" in judge(lambda h, k, s, p: (s // p) ** 2 * h * k * k)
    assert "one k x k kernel per channel" in judge(lambda h, k, s, p: (s // p) ** 2 * (h * h * k * k + h * h))
    assert "(H/p)^2 positions, not H/p" in judge(lambda h, k, s, p: (s // p) * (h * k * k + h * h))
    assert "not FLOPs" in judge(lambda h, k, s, p: 2 * (s // p) ** 2 * (h * k * k + h * h))
    assert "you returned 1" in judge(lambda h, k, s, p: 1)
