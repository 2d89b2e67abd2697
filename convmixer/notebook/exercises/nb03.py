"""Notebook 03's exercises (registered with :func:`convmixer.notebook.exercises.exercise`)."""

from __future__ import annotations

import torch

from convmixer.notebook.exercises import exercise
from convmixer.patches import grid_to_tokens, patchify


def _same_rows_up_to_order(answer: torch.Tensor, want: torch.Tensor) -> bool:
    """Whether the rows of ``answer`` are those of ``want`` in some order (per image)."""
    return all(
        torch.equal(torch.sort(a, dim=0).values, torch.sort(w, dim=0).values)
        for a, w in zip(answer, want)
    )


def _same_numbers_per_row(answer: torch.Tensor, want: torch.Tensor) -> bool:
    """Whether each row of ``answer`` holds the numbers of the same row of ``want``, in some order."""
    return torch.equal(torch.sort(answer, dim=-1).values, torch.sort(want, dim=-1).values)


def _judge_patchify(my_patchify) -> str | None:
    """The reader's patchify with reshape/permute, against convmixer.patches.patchify (F.unfold)."""
    images = torch.randn(2, 3, 8, 12, generator=torch.Generator().manual_seed(7))  # H != W
    want = patchify(images, 4)
    answer = my_patchify(images, 4)
    shape = tuple(getattr(answer, "shape", ()))
    if shape != tuple(want.shape):
        return (f"your output has shape {shape}, the reference {tuple(want.shape)}: (B, N, c p^2), with "
                "N = (H/p)(W/p) patches of c p^2 numbers.")
    answer = torch.as_tensor(answer)
    if torch.equal(answer, want):
        return None
    if _same_numbers_per_row(answer, want):
        return ("each patch holds the right numbers in the wrong order: unfold's order is channel first, "
                "then row, then column, so permute to (B, H/p, W/p, c, p, p) before the last reshape.")
    if _same_rows_up_to_order(answer, want):
        return "your patches are right but numbered in the wrong order: number them row by row across the grid."
    return ("your rows mix pixels of different patches: reshape to (B, c, H/p, p, W/p, p) and permute the "
            "two grid axes to the front before you flatten, since reshape alone keeps the memory order.")


def _judge_to_sequence(to_sequence) -> str | None:
    grid = torch.randn(2, 5, 3, 4, generator=torch.Generator().manual_seed(8))  # h = 5, N = 12
    want = grid_to_tokens(grid)
    answer = to_sequence(grid)
    shape = tuple(getattr(answer, "shape", ()))
    if shape != tuple(want.shape):
        return f"your output has shape {shape}, the reference {tuple(want.shape)}: (B, N, h)."
    answer = torch.as_tensor(answer)
    if torch.equal(answer, want):
        return None
    if torch.equal(answer, grid.reshape(2, 12, 5)):
        return ("token 0 holds the first h positions of channel 0, not the h channels of position 0: "
                "reshape keeps the memory order, so permute the channel axis last before you reshape.")
    return "token n must hold the h channels of grid position n, positions numbered row by row."


exercise(
    "03-patchify",
    hint="split each spatial axis into (grid position, position inside the patch) with one reshape, bring the grid axes to the front, then flatten",
    solution="""Split each spatial axis into (which patch, where inside it), bring the two "which
patch" axes to the front, then flatten each patch channel first, row, column, as `unfold` does:

```python
def my_patchify(images, p):
    b, c, h, w = images.shape
    grid = images.reshape(b, c, h // p, p, w // p, p)
    return grid.permute(0, 2, 4, 1, 3, 5).reshape(b, (h // p) * (w // p), c * p * p)
```""",
    answer="my_patchify",
    judge=_judge_patchify,
)

exercise(
    "03-grid-to-sequence",
    hint="reshape keeps the memory order, so put the channel axis last (permute) before you reshape",
    solution="""Put the channel axis last first, so that the $h$ channels of each position are
neighbours in the new order, then merge the two grid axes:

```python
def to_sequence(grid):
    batch, h, rows, cols = grid.shape
    return grid.permute(0, 2, 3, 1).reshape(batch, rows * cols, h)
```

`permute` only changes the view; `reshape` then copies the numbers into the new order (the
permuted tensor is not contiguous). Reshaping *before* moving the channels is the mistake of
section 5.""",
    answer="to_sequence",
    judge=_judge_to_sequence,
)

exercise(
    "03-tokens",
    hint="count the patches along each side first; a patch holds p x p pixels of c_in channels each",
    solution="""$224 / 14 = 16$ patches per side, $16^2 = 256$ tokens; each patch holds
$c_{in} p^2 = 3 \\cdot 14^2 = 588$ numbers:

```python
tokens_and_length = ((224 // 14) ** 2, 3 * 14 * 14)   # (256, 588)
```""",
    answer="tokens_and_length",
    expected=lambda: ((224 // 14) ** 2, 3 * 14 * 14),
)

exercise(
    "03-overlapping-patches",
    hint="count the positions of a 4-pixel window moved in steps of 2 along one side, then square",
    solution="""A 4-pixel window moved in steps of 2 over 32 pixels fits
$(32 - 4) / 2 + 1 = 15$ positions per side, $15^2 = 225$ patches:

```python
overlapping_patches = ((32 - 4) // 2 + 1) ** 2   # 225
```

Why `unpatchify` cannot undo it: with a stride smaller than the kernel a pixel belongs to several
patches, so `unfold`'s columns repeat it, and `fold` *adds* the copies back together instead of
restoring the image (an inner pixel comes back 4 times as bright). Only kernel = stride cuts the
image into tokens that share no pixel.""",
    answer="overlapping_patches",
    expected=lambda: ((32 - 4) // 2 + 1) ** 2,
)
