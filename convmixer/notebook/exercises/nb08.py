'''Notebook 08's exercises (registered with :func:`convmixer.notebook.exercises.exercise`).'''

from __future__ import annotations

from collections.abc import Callable

import torch

from convmixer.notebook.exercises import exercise


def _outside_share(kernels: torch.Tensor) -> torch.Tensor:
    centre = (kernels.shape[-1] - 1) // 2
    magnitude = kernels.abs()
    inside = magnitude[:, max(centre - 1, 0): centre + 2, max(centre - 1, 0): centre + 2].sum(dim=(1, 2))
    return 1 - inside / magnitude.sum(dim=(1, 2))


def judge_outside_share(answer: Callable[[torch.Tensor], torch.Tensor]) -> str | None:
    generator = torch.Generator().manual_seed(8)
    for k in (9, 5, 4, 3):
        kernels = torch.randn(6, k, k, generator=generator)
        got, right = torch.as_tensor(answer(kernels)).double(), _outside_share(kernels).double()
        if got.shape != right.shape:
            return f"for six {k} x {k} kernels you returned shape {tuple(got.shape)}: one share per kernel, shape (6,)."
        if torch.allclose(got, right, atol=1e-5):
            continue
        squared = kernels.pow(2)
        centre = (k - 1) // 2
        window = (slice(None), slice(max(centre - 1, 0), centre + 2), slice(max(centre - 1, 0), centre + 2))
        if torch.allclose(got, (1 - squared[window].sum(dim=(1, 2)) / squared.sum(dim=(1, 2))).double(), atol=1e-5):
            return f"for k = {k} you measured squared weights; the share here is of the absolute weights |w|."
        if k == 4:
            return ("for k = 4 the window is off: the centre tap of an even kernel is index (k - 1) // 2 = 1 "
                    "(the extra row and column come after it), so the 3 x 3 window is rows and columns 0..2.")
        return f"for k = {k} your shares differ: sum |w| outside the central 3 x 3 taps, divided by the kernel's sum of |w|."
    return None


exercise(
    "08-outside-share",
    hint="take |w|; the centre tap is index (k - 1) // 2 on each axis; sum the 3 x 3 window around it and divide by the whole kernel's sum.",
    solution="""Per kernel: one minus the share of $|w|$ inside the central $3 \\times 3$ taps (for $k = 3$ that
is everything, so the share is 0; for even $k$ the centre is tap $(k - 1) // 2$, as in notebook 01).

```python
import torch

def outside_share(kernels):
    centre = (kernels.shape[-1] - 1) // 2
    low, high = max(centre - 1, 0), centre + 2
    magnitude = kernels.abs()
    inside = magnitude[:, low:high, low:high].sum(dim=(1, 2))
    return 1 - inside / magnitude.sum(dim=(1, 2))
```""",
    answer="outside_share",
    judge=judge_outside_share,
)
