"""Notebook 02's exercises (registered with :func:`convmixer.notebook.exercises.exercise`)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from convmixer.notebook.exercises import exercise


def _judge_pointwise(pointwise) -> str | None:
    """The reader's 1x1 convolution as a matrix multiply, against F.conv2d with a 1x1 kernel."""
    generator = torch.Generator().manual_seed(4)
    for c_in, c_out in ((3, 5), (4, 4)):
        x = torch.randn(2, c_in, 6, 7, generator=generator)
        weight = torch.randn(c_out, c_in, generator=generator)
        bias = torch.randn(c_out, generator=generator)
        want = F.conv2d(x, weight[:, :, None, None], bias)
        answer = pointwise(x, weight, bias)
        shape = tuple(getattr(answer, "shape", ()))
        if shape != tuple(want.shape):
            return (f"with {c_in} input and {c_out} output channels your output has shape {shape}, the "
                    f"reference {tuple(want.shape)}: the channel axis (dimension 1) must become c_out long.")
        answer = torch.as_tensor(answer).float()
        if torch.allclose(answer, want, atol=1e-4):
            continue
        if torch.allclose(answer, want - bias[:, None, None], atol=1e-4):
            return "your output is right up to the bias: add bias[o] to every pixel of output channel o."
        if c_in == c_out and torch.allclose(answer, F.conv2d(x, weight.T[:, :, None, None], bias), atol=1e-4):
            return ("your output used the transposed matrix: row o of weight holds the weights that output "
                    "channel o gives the input channels, y[:, i, j] = weight @ x[:, i, j] + bias.")
        return "your output differs from nn.Conv2d(kernel_size=1) with the same weight and bias."
    return None


def _judge_separable(separable) -> str | None:
    """The reader's depth-wise separable module: same size out, the right cost, both kinds of mixing."""
    h, k = 6, 5
    torch.manual_seed(5)
    module = separable(h, k)
    parameters = sum(p.numel() for p in module.parameters())
    want = h * k * k + h + h * h + h
    if parameters != want:
        return (f"your module holds {parameters:,} parameters, a depth-wise {k}x{k} layer and a point-wise one "
                f"{want:,} (h k^2 + h + h^2 + h): is the spatial layer really depth-wise (groups=h)?")
    x = torch.randn(1, h, 12, 12)
    with torch.no_grad():
        for parameter in module.parameters():
            parameter.copy_(torch.rand_like(parameter) + 0.1)  # positive: nothing cancels
        out = module(x)
        if tuple(out.shape) != tuple(x.shape):
            return f"your output has shape {tuple(out.shape)}, the input {tuple(x.shape)}: pad the depth-wise layer."
        nudged = x.clone()
        nudged[0, 0, 6, 6] += 1.0
        moved = (module(nudged) - out).abs()[0] > 1e-6
    channels = int(moved.any(dim=(1, 2)).sum())
    positions = int(moved.any(dim=0).sum())
    if channels != h:
        return f"nudging one input channel moved {channels} of {h} output channels: the point-wise layer must mix all."
    if positions != k * k:
        return (f"nudging one input pixel moved {positions} output positions, a {k}x{k} depth-wise layer "
                f"moves {k * k}: put the depth-wise layer (kernel k) before the point-wise one.")
    return None


def _judge_rotate(matrix) -> str | None:
    matrix = torch.as_tensor(matrix, dtype=torch.float32)
    if matrix.shape != (3, 3):
        return f"your matrix has shape {tuple(matrix.shape)}: it must be (3, 3), one row per output channel."
    image = torch.rand(1, 3, 5, 5, generator=torch.Generator().manual_seed(6))
    out = F.conv2d(image, matrix[:, :, None, None])
    if torch.allclose(out, image[:, [1, 2, 0]], atol=1e-5):
        return None
    if torch.allclose(out, image[:, [2, 0, 1]], atol=1e-5):
        return ("your matrix rotates the other way (new red = old blue): row o holds the weights that output "
                "channel o gives the inputs, so you wrote its transpose.")
    return "your matrix does not make new red = old green, new green = old blue, new blue = old red."


exercise(
    "02-pointwise-matmul",
    hint="a 1 x 1 convolution applies one (c_out x c_in) matrix to the channel vector of every pixel: put the channels where a matrix product reaches them",
    solution="""Channels last, one matrix multiply for all pixels at once, channels back:

```python
def pointwise(x, weight, bias):
    y = x.permute(0, 2, 3, 1) @ weight.T + bias   # (B, H, W, c_in) @ (c_in, c_out)
    return y.permute(0, 3, 1, 2)
```""",
    answer="pointwise",
    judge=_judge_pointwise,
)

exercise(
    "02-separable",
    hint="a depth-wise layer (one k x k kernel per channel, output the size of the input) followed by a point-wise one",
    solution="""A depth-wise $k \\times k$ layer (`groups=h`, padded to keep the size), then a
$1 \\times 1$ layer:

```python
from torch import nn


def separable(h, k):
    return nn.Sequential(nn.Conv2d(h, h, k, padding=k // 2, groups=h), nn.Conv2d(h, h, 1))
```

(The package's `DepthwiseConv2d` also pads even $k$ right; the check uses $k = 5$.)""",
    answer="separable",
    judge=_judge_separable,
)

exercise(
    "02-rotate-colours",
    hint="output channel o is the weighted sum of the inputs with weights rotate[o]; each new channel "
         "copies exactly one old one",
    solution="""Row $o$ holds the weights that output channel $o$ gives the three input channels:
new red (row 0) takes old green (column 1), new green (row 1) old blue (column 2), new blue
(row 2) old red (column 0):

```python
import torch

rotate = torch.tensor([[0.0, 1.0, 0.0],
                       [0.0, 0.0, 1.0],
                       [1.0, 0.0, 0.0]])
```

A permutation matrix: a single 1 in every row and every column.""",
    answer="rotate",
    judge=_judge_rotate,
)


def _smallest_width() -> int:
    return next(h for h in range(1, 4097) if h * 81 / (h + 81) >= 50)


exercise(
    "02-smallest-width",
    hint="section 4 gives the ratio in closed form; set it equal to 50, solve for h and round up",
    solution="""The ratio is $h k^2 / (h + k^2)$ with $k^2 = 81$. Setting it to 50 gives
$81 h = 50 h + 4050$, $h = 4050 / 31 \\approx 130.6$, so the smallest whole width is 131
(130 gives 49.9 times, 131 gives 50.05 times):

```python
smallest_width = 131
```""",
    answer="smallest_width",
    expected=_smallest_width,
)
