"""Notebook 04's exercises (registered with :func:`convmixer.notebook.exercises.exercise`).

Three make the reader write code -- a mixer block, the whole ConvMixer, and eval-mode BatchNorm --
and are judged on fresh modules with copied weights, so the message can say *what* went wrong
(a skip in the wrong place, BatchNorm missing or before the activation, ...); three are numbers
computed from the notebook's formulas.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from convmixer.notebook.exercises import exercise


def _state(module: nn.Module) -> list[tuple[str, torch.Tensor]]:
    """The module's parameters and buffers in definition order (BatchNorm's step counter left out)."""
    return [(k, v) for k, v in module.state_dict().items() if not k.endswith("num_batches_tracked")]


def _shapes(module: nn.Module) -> list[tuple[int, ...]]:
    return [tuple(v.shape) for _, v in _state(module)]


def _copy_weights(source: nn.Module, target: nn.Module, what: str) -> str | None:
    """Copy ``source``'s parameters and buffers into ``target`` by order; a sentence when the
    two do not hold the same tensors."""
    ours, theirs = _shapes(source), _shapes(target)
    if ours != theirs:
        if sum(len(s) == 1 for s in theirs) < sum(len(s) == 1 for s in ours):
            return (f"your {what} holds tensors of shapes {theirs}, the paper's {ours}: a BatchNorm (or a "
                    "convolution's bias) is missing -- every convolution is followed by GELU and BatchNorm.")
        return (f"your {what} holds tensors of shapes {theirs}, the paper's {ours}: define the layers in the "
                "paper's order, each convolution with its bias, then its BatchNorm.")
    with torch.no_grad():
        for (_, value), (name, _) in zip(_state(source), _state(target)):
            target.state_dict()[name].copy_(value)
    return None


def _randomise(module: nn.Module, seed: int = 0) -> nn.Module:
    """Non-trivial BatchNorm statistics and affine parameters, so a missing or misplaced BatchNorm shows."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.weight.copy_(0.5 + 1.5 * torch.rand(m.num_features, generator=generator))
                m.bias.copy_(torch.rand(m.num_features, generator=generator) - 0.5)
                m.running_mean.copy_(0.3 * torch.randn(m.num_features, generator=generator))
                m.running_var.copy_(0.5 + torch.rand(m.num_features, generator=generator))
    return module


def _block_variants(block: nn.Module, z: torch.Tensor) -> dict[str, torch.Tensor]:
    """Outputs of typical wrong blocks built from ``block``'s own weights, with what went wrong."""
    s, c = block.spatial, block.channel

    def conv_norm_act(step, x):  # ResNet order: BN before the activation
        return step.act(step.norm(step.conv(x)))

    def relu_step(step, x):
        return step.norm(F.relu(step.conv(x)))

    variants = {}
    for residual, message in (
        ("none", "your block has no skip connection: add the block's input to the depth-wise part's output."),
        ("block", "your skip wraps the whole block: it must wrap only the depth-wise part, before the point-wise convolution."),
        ("both", "your block adds a second skip around the point-wise part: the paper's has only the one around the depth-wise part."),
    ):
        variant = type(block)(s.conv.in_channels, s.conv.kernel_size[0], residual=residual).eval()
        variant.load_state_dict(block.state_dict())
        variants[message] = variant(z)
    order = "your block normalises before the activation (conv -> BN -> GELU): ConvMixer's order is conv -> GELU -> BN."
    mid = z + conv_norm_act(s, z)
    variants[order] = conv_norm_act(c, mid)
    variants[order + " "] = c(mid)
    variants[order + "  "] = conv_norm_act(c, z + s(z))
    mid = z + relu_step(s, z)
    variants["your block uses ReLU: the paper's activation is GELU (nn.GELU())."] = relu_step(c, mid)
    variants["your skip adds the depth-wise convolution's raw output: add BN(GELU(conv(z))), the whole spatial step."] = \
        c(z + s.conv(z))
    return variants


def judge_mixer_block(block_class: Any) -> str | None:
    from convmixer import MixerBlock

    dim, kernel_size = 8, 5
    torch.manual_seed(0)
    reference = _randomise(MixerBlock(dim, kernel_size)).eval()
    try:
        theirs = block_class(dim, kernel_size)
    except TypeError as error:
        return f"your class could not be built as MixerBlock(dim=8, kernel_size=5): {error}."
    if not isinstance(theirs, nn.Module):
        return "MixerBlock(dim, kernel_size) must build an nn.Module (subclass nn.Module or nn.Sequential)."
    problem = _copy_weights(reference, theirs, "block")
    if problem:
        return problem
    theirs.eval()
    z = torch.randn(4, dim, 8, 8, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        out, expected = theirs(z), reference(z)
        if tuple(out.shape) != tuple(expected.shape):
            return f"your block maps {tuple(z.shape)} to {tuple(out.shape)}: a mixer block keeps the shape (pad the depth-wise conv by k // 2)."
        if torch.allclose(out, expected, atol=1e-5, rtol=1e-4):
            return None
        for message, wrong in _block_variants(reference, z).items():
            if torch.allclose(out, wrong, atol=1e-5, rtol=1e-4):
                return message.strip()
    return ("your block's output differs from the paper's (largest difference "
            f"{(out - expected).abs().max():.3g}): check groups=dim in the depth-wise conv, padding k // 2, "
            "and z' = z + BN(GELU(DepthwiseConv(z))), then BN(GELU(PointwiseConv(z'))).")


def judge_convmixer(build: Any) -> str | None:
    from convmixer import ConvMixer
    from convmixer.model import ConvMixerConfig

    dim, depth, kernel_size, patch_size, classes = 16, 2, 5, 4, 10
    torch.manual_seed(0)
    reference = _randomise(ConvMixer(ConvMixerConfig(dim=dim, depth=depth, kernel_size=kernel_size,
                                                     patch_size=patch_size, num_classes=classes))).eval()
    theirs = build(dim, depth, kernel_size, patch_size, classes)
    if not isinstance(theirs, nn.Module):
        return "your function must return an nn.Module (e.g. an nn.Sequential)."
    problem = _copy_weights(reference, theirs, "model")
    if problem:
        return problem
    theirs.eval()
    images = torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        expected = reference(images)
        out = theirs(images)
    if tuple(out.shape) != tuple(expected.shape):
        return (f"your model maps {tuple(images.shape)} to {tuple(out.shape)}, not (2, {classes}): after the blocks, "
                "average over the grid (nn.AdaptiveAvgPool2d((1, 1))) and nn.Flatten() before the Linear layer.")
    if torch.allclose(out, expected, atol=1e-4, rtol=1e-4):
        return None
    return ("your model's logits differ from the package's with the same weights: check the stem "
            "(Conv2d with kernel_size = stride = p, then GELU, BatchNorm) and that each block's skip wraps "
            "only its depth-wise part.")


def judge_batchnorm_eval(function: Any) -> str | None:
    torch.manual_seed(0)
    bn = _randomise(nn.BatchNorm2d(5)).eval()
    with torch.no_grad():
        bn.eps = 0.1  # large enough that leaving it out shows
        x = 3 + 2 * torch.randn(6, 5, 4, 4)
        expected = bn(x)
        out = function(x, bn)
    if not isinstance(out, torch.Tensor) or out.shape != x.shape:
        return f"your function must return a tensor shaped like its input {tuple(x.shape)}."
    out = out.detach()
    if torch.allclose(out, expected, atol=1e-5, rtol=1e-4):
        return None
    with torch.no_grad():
        trained = nn.BatchNorm2d(5, eps=bn.eps).train()
        trained.load_state_dict(bn.state_dict())
        if torch.allclose(out, trained(x), atol=1e-5, rtol=1e-4):
            return "you normalised with the batch's statistics (training mode): eval mode uses bn.running_mean and bn.running_var."
        shape = (1, -1, 1, 1)
        without_eps = (bn.weight.view(shape) * (x - bn.running_mean.view(shape)) / bn.running_var.view(shape).sqrt()
                       + bn.bias.view(shape))
        if torch.allclose(out, without_eps, atol=1e-5, rtol=1e-4):
            return "you left out bn.eps: divide by sqrt(running_var + eps)."
        by_variance = (bn.weight.view(shape) * (x - bn.running_mean.view(shape)) / (bn.running_var.view(shape) + bn.eps)
                       + bn.bias.view(shape))
        if torch.allclose(out, by_variance, atol=1e-5, rtol=1e-4):
            return "you divided by the variance: divide by its square root, the standard deviation."
    return ("your output differs from nn.BatchNorm2d's in eval mode: (x - running_mean) / sqrt(running_var + eps), "
            "then times gamma (bn.weight) plus beta (bn.bias), each reshaped to (1, C, 1, 1).")


exercise(
    "04-mixer-block",
    hint="the skip wraps only the spatial (depth-wise) part; every convolution is followed by the activation, then BatchNorm; define the layers in the order they run",
    solution="""Two `conv → GELU → BN` steps; the skip wraps only the first:

```python
import torch
from torch import nn


class MyMixerBlock(nn.Module):
    def __init__(self, dim, kernel_size):
        super().__init__()
        self.depthwise = nn.Conv2d(dim, dim, kernel_size, groups=dim, padding=kernel_size // 2)
        self.norm1 = nn.BatchNorm2d(dim)
        self.pointwise = nn.Conv2d(dim, dim, 1)
        self.norm2 = nn.BatchNorm2d(dim)
        self.act = nn.GELU()

    def forward(self, z):
        z = z + self.norm1(self.act(self.depthwise(z)))     # spatial mixing, with the skip
        return self.norm2(self.act(self.pointwise(z)))      # channel mixing, no skip


answer = MyMixerBlock
```

The check copies the package's weights into yours (in order: depth-wise weight and bias, its
BatchNorm, point-wise weight and bias, its BatchNorm) and compares the outputs.""",
    answer="MyMixerBlock",
    judge=judge_mixer_block,
)

exercise(
    "04-convmixer",
    hint="the stem of notebook 03 (with its BatchNorm), d mixer blocks, then the head: average over the grid and one linear layer",
    solution="""The paper's own listing, with the mixer block of exercise 1 (one `Residual` wrapper
around the depth-wise step):

```python
from torch import nn


class Residual(nn.Module):
    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, x):
        return self.fn(x) + x


def my_convmixer(h, d, k, p, n):
    return nn.Sequential(
        nn.Conv2d(3, h, kernel_size=p, stride=p), nn.GELU(), nn.BatchNorm2d(h),
        *[nn.Sequential(
            Residual(nn.Sequential(nn.Conv2d(h, h, k, groups=h, padding=k // 2), nn.GELU(), nn.BatchNorm2d(h))),
            nn.Conv2d(h, h, kernel_size=1), nn.GELU(), nn.BatchNorm2d(h),
        ) for _ in range(d)],
        nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(), nn.Linear(h, n),
    )


answer = my_convmixer
```""",
    answer="my_convmixer",
    judge=judge_convmixer,
)

exercise(
    "04-batchnorm-eval",
    hint="in eval mode BatchNorm uses the statistics it stored during training, not the batch's; mind eps and the learned scale and shift",
    solution="""Eval mode uses the stored running statistics, one per channel:

```python
import torch


def batchnorm_eval(x, bn):
    shape = (1, -1, 1, 1)
    mean, var = bn.running_mean.view(shape), bn.running_var.view(shape)
    return bn.weight.view(shape) * (x - mean) / torch.sqrt(var + bn.eps) + bn.bias.view(shape)


answer = batchnorm_eval
```

With running mean 2, variance 4, $\\gamma = 0.5$, $\\beta = 1$ and $\\epsilon = 0$ the input 6 gives
$0.5 \\cdot (6 - 2) / 2 + 1 = 2$, whatever else is in the batch.""",
    answer="batchnorm_eval",
    judge=judge_batchnorm_eval,
)


def _parameters_512_12() -> int:
    from convmixer.analysis.cost import convmixer_parameters
    from convmixer.model import ConvMixerConfig

    return convmixer_parameters(ConvMixerConfig(dim=512, depth=12, kernel_size=8, patch_size=4))


exercise(
    "04-parameters",
    hint="add up the stem, d times (depth-wise + point-wise, each with its bias and BatchNorm), and the head",
    solution="""The closed form of section 7, with $h = 512$, $d = 12$, $k = 8$, $p = 4$, $n = 10$, $c_{in} = 3$:

```python
h, d, k, p, n, c_in = 512, 12, 8, 4, 10, 3
stem = c_in * p * p * h + h + 2 * h
block = (h * k * k + h + 2 * h) + (h * h + h + 2 * h)
head = h * n + n
answer = parameters_512_12 = stem + d * block + head

```""",
    answer="parameters_512_12",
    expected=_parameters_512_12,
)


def _smallest_depth() -> int:
    from convmixer.analysis.fields import receptive_field

    return min(d for d in range(1, 32) if receptive_field(5, 2, d) >= 32)


exercise(
    "04-smallest-depth",
    hint="RF = p (1 + d (k - 1)) pixels (notebook 01); find the first d that reaches 32",
    solution="""$\\mathrm{RF}(d) = p\\,(1 + d(k - 1)) = 2\\,(1 + 4d)$ must reach 32, so $d \\ge 3.75$:

```python
answer = smallest_depth = next(d for d in range(1, 100) if 2 * (1 + d * (5 - 1)) >= 32)
# 4: RF(3) = 26 px, RF(4) = 34 px
```""",
    answer="smallest_depth",
    expected=_smallest_depth,
)


def _pointwise_share() -> float:
    h, k = 256, 5
    return round(h * h / (h * k * k + h * h), 2)


exercise(
    "04-pointwise-share",
    hint="per position, the depth-wise conv does h k² multiply-adds and the point-wise one h²",
    solution="""Per grid position the depth-wise convolution does $h k^2$ multiply-adds and the
point-wise one $h^2$; the number of positions cancels:

```python
h, k = 256, 5
answer = pointwise_share = round(h * h / (h * k * k + h * h), 2)
# 0.91
```""",
    answer="pointwise_share",
    expected=_pointwise_share,
    atol=0.005,
    rtol=0.0,
)
