"""Notebook 07's exercises (registered with :func:`convmixer.notebook.exercises.exercise`).

Three make the reader write code -- the pooled seed-to-seed spread, the 95 % interval of a
difference of two means, and an effective receptive field -- judged against the package's
``convmixer.studies.stats`` and ``convmixer.analysis.fields`` on inputs the reader does not see;
two are numbers from the notebook's formulas.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from convmixer.notebook.exercises import exercise



def _close(a: Any, b: float) -> bool:
    try:
        return math.isclose(float(a), b, rel_tol=1e-6, abs_tol=1e-6)
    except (TypeError, ValueError):
        return False


_GROUPS = ([60.1, 61.3, 60.6], [63.9, 64.4, 63.2], [62.0, 62.9, 61.1, 62.4], [64.0, 63.1])


def judge_pooled_std(function: Any) -> str | None:
    import numpy as np

    from convmixer.studies.stats import Group, seed_noise

    groups = [list(g) for g in _GROUPS]
    answer = function(groups)
    expected = seed_noise([Group(f"g{i}", tuple(g)) for i, g in enumerate(groups)]).std
    if _close(answer, expected):
        return None
    everything = [v for g in groups for v in g]
    if _close(answer, float(np.std(everything, ddof=1))) or _close(answer, float(np.std(everything))):
        return ("you took the spread of all runs together: that mixes the differences *between* cells into "
                "the noise; take each run's distance from its own cell's mean.")
    n_total = len(everything)
    squares = sum(float(np.sum((np.array(g) - np.mean(g)) ** 2)) for g in groups)
    if _close(answer, math.sqrt(squares / n_total)):
        return ("you divided by the number of runs: each cell's mean used up one degree of freedom, "
                "so divide by the sum of (n_i - 1).")
    if _close(answer, float(np.mean([np.std(g, ddof=1) for g in groups]))):
        return "you averaged the cells' standard deviations: pool the squared deviations, then take one square root."
    if _close(answer, squares / sum(len(g) - 1 for g in groups)):
        return "that is the pooled variance: take its square root."
    return f"your function gives {answer} for cells {groups}, not the pooled standard deviation."


def judge_difference_half_width(function: Any) -> str | None:
    from convmixer.studies.stats import t_quantile

    cases = [(3, 3, 0.84, 24), (1, 1, 1.2, 10), (3, 5, 2.0, 30)]
    for n_a, n_b, s, dof in cases:
        answer = function(n_a, n_b, s, dof)
        expected = t_quantile(dof) * s * math.sqrt(1 / n_a + 1 / n_b)
        if _close(answer, expected):
            continue
        if _close(answer, 1.96 * s * math.sqrt(1 / n_a + 1 / n_b)):
            return (f"you used 1.96 for {dof} degrees of freedom: s is itself estimated, so take Student's t "
                    "(t_quantile(dof)), which is larger.")
        if _close(answer, s * math.sqrt(1 / n_a + 1 / n_b)):
            return "that is the standard error of the difference: multiply it by Student's t for dof degrees of freedom."
        if _close(answer, t_quantile(dof) * s * (1 / math.sqrt(n_a) + 1 / math.sqrt(n_b))):
            return "you added the two standard errors: independent errors add in quadrature (their variances add)."
        if _close(answer, t_quantile(dof) * s * math.sqrt(2 / (n_a + n_b))) or _close(answer, t_quantile(dof) * s / math.sqrt(n_a + n_b)):
            return "each mean has its own standard error s / sqrt(n): the difference's is s sqrt(1/n_a + 1/n_b)."
        return f"for n_a = {n_a}, n_b = {n_b}, s = {s}, {dof} degrees of freedom your function gives {answer}, not the 95 % half-width."
    return None


def judge_effective_receptive_field(function: Any) -> str | None:
    from convmixer import ConvMixer
    from convmixer.analysis.fields import effective_receptive_field
    from convmixer.model import ConvMixerConfig

    torch.manual_seed(0)
    model = ConvMixer(ConvMixerConfig(dim=8, depth=2, kernel_size=3, patch_size=4))
    model.train()  # the reader's function must switch to eval mode itself
    images = torch.randn(3, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    expected = effective_receptive_field(model, images)
    model.train()
    answer = function(model, images)
    if not isinstance(answer, torch.Tensor) or tuple(answer.shape) != (32, 32):
        shape = tuple(answer.shape) if isinstance(answer, torch.Tensor) else type(answer).__name__
        return f"your function returned {shape}: return one (H, W) = (32, 32) map, summed over colour channels and averaged over images."
    answer = answer.detach().float()
    share = expected / expected.sum()
    if torch.allclose(answer, expected, rtol=1e-4, atol=1e-7) or torch.allclose(answer / answer.sum(), share, rtol=1e-4, atol=1e-8):
        return None
    if (answer < 0).any():
        return "your map has negative entries: take the gradient's magnitude (.abs()) before summing."
    with torch.enable_grad():
        model.train()
        x = images.clone().requires_grad_(True)
        z = model.stem(x)
        for block in model.blocks:
            z = block(z)
        (gradient,) = torch.autograd.grad(z[:, :, 4, 4].sum(), x)
    model.eval()
    in_train = gradient.abs().sum(dim=1).mean(dim=0)
    if torch.allclose(answer / answer.sum(), in_train / in_train.sum(), rtol=1e-4, atol=1e-8):
        return "your map was measured in training mode, where BatchNorm mixes the images: call model.eval() first."
    return ("your map differs from the gradient of the centre position's output (grid position (4, 4), all "
            "channels summed) with respect to the input pixels: take its magnitude, sum over colour channels, "
            "average over images.")


exercise(
    "07-pooled-std",
    hint="pool the squared deviations of every cell's runs from their own cell's mean, and divide by the degrees of freedom they leave",
    solution="""Each run's deviation from its own cell's mean, pooled over the cells; every cell's
mean uses up one degree of freedom:

```python
import math


def pooled_std(cells):
    squares = sum(sum((a - sum(c) / len(c)) ** 2 for a in c) for c in cells)
    dof = sum(len(c) - 1 for c in cells)
    return math.sqrt(squares / dof)


answer = pooled_std
```

`convmixer.studies.stats.seed_noise` computes the same (and leaves out cells trained once).""",
    answer="pooled_std",
    judge=judge_pooled_std,
)

exercise(
    "07-difference-interval",
    hint="the standard errors of two independent means combine like the sides of a right triangle; the 95 % multiplier is Student's t for the pooled degrees of freedom",
    solution="""The standard errors $s/\\sqrt{n_a}$ and $s/\\sqrt{n_b}$ add in quadrature (the variances
of independent means add), and Student's $t$ for the degrees of freedom of $s$ turns the standard
error into a 95 % half-width:

```python
import math

from convmixer.studies.stats import t_quantile


def difference_half_width(n_a, n_b, s, dof):
    return t_quantile(dof) * s * math.sqrt(1 / n_a + 1 / n_b)


answer = difference_half_width
```

With one run per cell the standard deviation of the difference alone is $\\sqrt{2}\\,s$.""",
    answer="difference_half_width",
    judge=judge_difference_half_width,
)

exercise(
    "07-erf",
    hint="in eval mode, ask autograd how much the centre grid position's output (summed over channels) moves with each input pixel, and keep magnitudes",
    solution="""One forward and one backward pass: in eval mode the images do not interact, so the
gradient of the sum over images is each image's own gradient.

```python
import torch


def erf(model, images):
    model.eval()
    x = images.detach().clone().requires_grad_(True)
    z = model.stem(x)
    for block in model.blocks:
        z = block(z)
    row, col = z.shape[-2] // 2, z.shape[-1] // 2          # the centre of the grid
    (gradient,) = torch.autograd.grad(z[:, :, row, col].sum(), x)
    return gradient.abs().sum(dim=1).mean(dim=0)           # (H, W)


answer = erf
```

`convmixer.analysis.fields.effective_receptive_field` is the same measurement (it can also stop
after fewer blocks, or follow another position).""",
    answer="erf",
    judge=judge_effective_receptive_field,
)


def _depthwise_parameters() -> int:
    h, k, d = 64, 9, 8
    return d * (h * k * k + h)


exercise(
    "07-depthwise-parameters",
    hint="each block has one 9 x 9 kernel per channel and one bias per channel; there are 8 blocks",
    solution="""Each of the 8 depth-wise convolutions holds one $9 \\times 9$ kernel and one bias per
channel:

```python
h, k, d = 64, 9, 8
answer = depthwise_parameters = d * (h * k * k + h)
# 41,984
```""",
    answer="depthwise_parameters",
    expected=_depthwise_parameters,
)


def _paper_receptive_field() -> int:
    from convmixer.analysis.fields import receptive_field
    from convmixer.model import get_config

    config = get_config("convmixer_1536_20")
    return receptive_field(config.kernel_size, config.patch_size, config.depth)


exercise(
    "07-paper-receptive-field",
    hint="RF = p (1 + d (k - 1)) pixels (notebook 01), with d = 20 blocks, k = 9, p = 7",
    solution="""$\\mathrm{RF} = p\\,(1 + d(k - 1)) = 7\\,(1 + 20 \\cdot 8)$: five times the 224-pixel image.

```python
answer = paper_receptive_field = 7 * (1 + 20 * (9 - 1))
# 1127
```""",
    answer="paper_receptive_field",
    expected=_paper_receptive_field,
)
