"""Notebook 01's exercises (registered with :func:`convmixer.notebook.exercises.exercise`)."""

from __future__ import annotations

import warnings

import torch
import torch.nn.functional as F
from torch import nn

from convmixer.notebook.exercises import exercise


def _shape_message(got: object, want: tuple[int, ...], why: str) -> str | None:
    shape = tuple(getattr(got, "shape", ()))
    if shape != want:
        return f"your output has shape {shape}, the reference {want}: {why}"
    return None


def _judge_depthwise_conv(depthwise_conv) -> str | None:
    """The reader's depth-wise convolution, no padding, written without conv2d."""
    generator = torch.Generator().manual_seed(1)
    x = torch.randn(2, 3, 7, 9, generator=generator)
    weight = torch.randn(3, 1, 3, 3, generator=generator)
    reference = F.conv2d(x, weight, groups=3)
    answer = depthwise_conv(x, weight)
    wrong = _shape_message(answer, tuple(reference.shape),
                           "without padding a k x k window fits H - k + 1 times down and W - k + 1 across.")
    if wrong:
        return wrong
    answer = torch.as_tensor(answer).float()
    if torch.allclose(answer, reference, atol=1e-4):
        return None
    if torch.allclose(answer, F.conv2d(x, weight.flip(-1, -2), groups=3), atol=1e-4):
        return ("your output is the convolution with every kernel flipped: PyTorch's conv2d is a "
                "cross-correlation, weight[u, v] multiplies x[i + u, j + v].")
    if torch.allclose(answer, F.conv2d(x, weight[:1].expand(3, 1, 3, 3), groups=3), atol=1e-4):
        return "every channel used kernel 0: channel c must be filtered with weight[c] alone."
    for c in range(3):
        if not torch.allclose(answer[:, c], reference[:, c], atol=1e-4):
            return f"channel {c} of your output is wrong: it must be x[:, {c}] filtered with weight[{c}, 0] alone."
    return "your output differs from F.conv2d(x, weight, groups=C)."


def _judge_depthwise_same(depthwise_same) -> str | None:
    """The reader's "same"-padded depth-wise convolution, for odd and even k."""
    generator = torch.Generator().manual_seed(2)
    x = torch.randn(2, 3, 10, 12, generator=generator)
    for k in (3, 4, 5, 6):
        weight = torch.randn(3, 1, k, k, generator=generator)
        reference = nn.Conv2d(3, 3, k, groups=3, padding="same", bias=False)
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            reference.weight.copy_(weight)
            want = reference(x)
        answer = depthwise_same(x, weight)
        wrong = _shape_message(answer, tuple(want.shape),
                               f"with k = {k} the padding must add k - 1 = {k - 1} zeros per side in total.")
        if wrong:
            return wrong
        answer = torch.as_tensor(answer).float()
        if torch.allclose(answer, want, atol=1e-4):
            continue
        before, after = (k - 1) // 2, k // 2
        swapped = F.conv2d(F.pad(x, (after, before, after, before)), weight, groups=3)
        if torch.allclose(answer, swapped, atol=1e-4):
            return (f"with k = {k} your extra zero went before (top, left): it goes after (bottom, right), "
                    "as padding='same' puts it.")
        return f"with k = {k} your output differs from nn.Conv2d(groups=C, padding='same') with the same weight."
    return None


def _judge_shift_right(kernel) -> str | None:
    kernel = torch.as_tensor(kernel, dtype=torch.float32)
    if kernel.shape != (3, 3):
        return f"your kernel has shape {tuple(kernel.shape)}: it must be a (3, 3) tensor."
    image = torch.rand(1, 1, 8, 9, generator=torch.Generator().manual_seed(3))
    out = F.conv2d(image, kernel[None, None], padding=1)
    right = F.pad(image, (1, 0))[..., :-1]
    if torch.allclose(out, right, atol=1e-5):
        return None
    if torch.allclose(out, F.pad(image, (0, 1))[..., 1:], atol=1e-5):
        return ("your kernel shifts the image to the left: PyTorch's conv2d is a cross-correlation and does "
                "not flip the kernel, so weight [u, v] multiplies input pixel (i + u - 1, j + v - 1).")
    if torch.allclose(out, image, atol=1e-5):
        return "your kernel returns the image unchanged: the 1 must be off the centre."
    return "your kernel does not move every pixel one step to the right."


exercise(
    "01-depthwise-conv",
    hint="each output pixel of channel c is a k x k window of channel c times that channel's own kernel, summed; loop over the output positions",
    solution="""Section 1a's sliding window, run for every channel and image at once: the window
`x[:, :, i:i+k, j:j+k]` is $(B, C, k, k)$, `weight[:, 0]` is $(C, k, k)$, and broadcasting pairs
channel $c$ with kernel $c$ only.

```python
import torch


def depthwise_conv(x, weight):
    batch, channels, height, width = x.shape
    k = weight.shape[-1]
    out = torch.zeros(batch, channels, height - k + 1, width - k + 1)
    for i in range(out.shape[2]):
        for j in range(out.shape[3]):
            out[:, :, i, j] = (x[:, :, i : i + k, j : j + k] * weight[:, 0]).sum(dim=(-2, -1))
    return out
```""",
    answer="depthwise_conv",
    judge=_judge_depthwise_conv,
)

exercise(
    "01-depthwise-same",
    hint="k - 1 zeros in all along each axis: for an even k, which side gets the extra one (section 3)? Then one grouped convolution",
    solution="""$k - 1$ zeros per side in total, $(k-1)/\\!/2$ before and $k/\\!/2$ after; `F.pad` lists
the last axis first, `(left, right, top, bottom)`:

```python
import torch.nn.functional as F


def depthwise_same(x, weight):
    k = weight.shape[-1]
    before, after = (k - 1) // 2, k // 2
    return F.conv2d(F.pad(x, (before, after, before, after)), weight, groups=x.shape[1])
```""",
    answer="depthwise_same",
    judge=_judge_depthwise_same,
)

exercise(
    "01-shift-kernel",
    hint="PyTorch does not flip the kernel: weight [u, v] multiplies input pixel (i + u - 1, j + v - 1)",
    solution="""With "same" padding and $k = 3$, output pixel $(i, j)$ is
$\\sum_{u, v} w[u, v]\\, x[i + u - 1, j + v - 1]$. To read $x[i, j - 1]$ alone, the weight at
$u = 1$ (the middle row) and $v = 0$ (the left column) is 1 and every other weight is 0:

```python
import torch

shift_right = torch.tensor([[0.0, 0.0, 0.0],
                            [1.0, 0.0, 0.0],
                            [0.0, 0.0, 0.0]])
```

A convolution in the textbook sense flips the kernel and would need the 1 in the right column;
PyTorch's `conv2d` is a cross-correlation and does not flip.""",
    answer="shift_right",
    judge=_judge_shift_right,
)

exercise(
    "01-receptive-field",
    hint="an output pixel starts by seeing 1 pixel, and each layer widens that by k - 1",
    solution="""$\\mathrm{RF}(L) = 1 + L\\,(k - 1) = 1 + 8L \\ge 32$ needs $L \\ge 31 / 8 = 3.9$: four
layers (33 pixels; three see only 25).

```python
layers_needed = 4
```""",
    answer="layers_needed",
    expected=lambda: 4,
)
