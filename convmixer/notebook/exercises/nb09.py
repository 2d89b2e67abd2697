'''Notebook 09's exercises (registered with :func:`convmixer.notebook.exercises.exercise`).'''

from __future__ import annotations

from collections.abc import Callable

from convmixer.notebook.exercises import exercise

# (h, k, image side, p): the study's model at its three patch sizes, and shapes that tell mistakes apart
CASES = ((64, 5, 32, 2), (64, 5, 32, 4), (64, 5, 32, 8), (256, 9, 32, 2), (768, 7, 224, 7), (10, 3, 12, 3))


def _block_macs(h: int, k: int, image_size: int, p: int) -> int:
    return (image_size // p) ** 2 * (h * k * k + h * h)


def judge_block_macs(answer: Callable[[int, int, int, int], int]) -> str | None:
    for h, k, side, p in CASES:
        got, right = answer(h, k, side, p), _block_macs(h, k, side, p)
        if got == right:
            continue
        tokens = (side // p) ** 2
        if got == tokens * h * h:
            return f"for h = {h}, k = {k} you counted only the point-wise part: add the depth-wise h k^2 per position."
        if got == tokens * h * k * k:
            return f"for h = {h}, k = {k} you counted only the depth-wise part: add the point-wise h^2 per position."
        if got == tokens * (h * h * k * k + h * h):
            return ("a depth-wise convolution has one k x k kernel per channel (h k^2 weights), "
                    "not a dense h x h x k x k one.")
        if got == (side // p) * (h * k * k + h * h):
            return f"the grid has (H/p)^2 positions, not H/p: for a {side}-px image and p = {p}, {tokens}."
        if got == 2 * right:
            return "count multiply-adds (one per weight per position), not FLOPs (two per multiply-add)."
        return (f"for h = {h}, k = {k}, a {side}-px image and p = {p} you returned {got}: "
                f"positions (H/p)^2 times (h k^2 + h^2).")
    return None


exercise(
    "09-block-macs",
    hint="a block visits every grid position: (H/p)^2 of them; at each, the depth-wise conv costs h k^2 "
         "multiply-adds and the point-wise conv h^2.",
    solution="""The grid has $(H/p)^2$ positions; at each, the depth-wise convolution does $h k^2$
multiply-adds (one $k \\times k$ kernel per channel) and the point-wise one $h^2$ (an $h \\times h$
matrix). BatchNorm and GELU add a few operations per value, small beside these.

```python
def block_macs(h, k, image_size, p):
    positions = (image_size // p) ** 2
    return positions * (h * k * k + h * h)
```""",
    answer="block_macs",
    judge=judge_block_macs,
)
