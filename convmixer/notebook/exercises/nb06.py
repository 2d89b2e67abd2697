'''Notebook 06's exercises (registered with :func:`convmixer.notebook.exercises.exercise`).

Every exercise here asks for a function of its inputs, so each judge can try it on inputs of its
own (random tensors, a tiny ConvMixer) and needs neither the checkpoint nor the data.
'''

from __future__ import annotations

from collections.abc import Callable

import torch

from convmixer.analysis.fields import receptive_field
from convmixer.notebook.exercises import exercise

_SHAPES = ((128, 4, 3), (256, 7, 3), (64, 2, 1))  # (h, p, c_in)


def _close(a, b, tol: float = 1e-4) -> bool:
    a, b = torch.as_tensor(a).double(), torch.as_tensor(b).double()
    return a.shape == b.shape and torch.allclose(a, b, rtol=tol, atol=tol)


# --- 1. Numbers in the stem ------------------------------------------------------------------------


def judge_stem_filter_numbers(answer: Callable[[int, int, int], int]) -> str | None:
    for h, p, c_in in _SHAPES:
        got, right = answer(h, p, c_in), h * c_in * p * p
        if got == right:
            continue
        if got == h * p * p:
            return f"for h={h}, p={p}, c_in={c_in} you gave {got}: each filter has one p x p slice per input colour channel."
        if got == right + h:
            return f"for h={h}, p={p}, c_in={c_in} you gave {got}, which counts the {h} biases too: weights only."
        return f"for h={h}, p={p}, c_in={c_in} you gave {got}, not the number of weights in h filters of shape (c_in, p, p)."
    return None


exercise(
    "06-stem-filter-numbers",
    hint="one p x p filter per input colour channel, for each of the h output channels; no biases.",
    solution="""The stem's weight has shape $(h, c_{in}, p, p)$: one $p \\times p$ slice per input colour
channel, for each of the $h$ output channels.

```python
def stem_filter_numbers(h, p, c_in=3):
    return h * c_in * p * p
```""",
    answer="stem_filter_numbers",
    judge=judge_stem_filter_numbers,
)


# --- 2. Receptive field ------------------------------------------------------------------------------


def judge_receptive_field(answer: Callable[[int, int, int], int]) -> str | None:
    for k, p, blocks in ((9, 4, 2), (7, 2, 0), (5, 7, 3)):
        got, right = answer(k, p, blocks), receptive_field(k, p, blocks)
        if got == right:
            continue
        if got == 1 + blocks * (k - 1):
            return f"for k={k}, p={p}, {blocks} blocks you gave {got}, in grid positions: one position is p pixels wide."
        if got == 1 + blocks * (k - 1) * p:
            return f"for k={k}, p={p}, {blocks} blocks you gave {got}: the stem alone already sees a p x p patch, not one pixel."
        return f"for k={k}, p={p}, {blocks} blocks you gave {got} pixels, not the width one position of z_l sees."
    return None


exercise(
    "06-receptive-field",
    hint="the stem sees p pixels; each block's k x k depth-wise kernel adds (k - 1) grid positions of p pixels each.",
    solution="""The stem sees one $p \\times p$ patch; each block's depth-wise convolution adds $k - 1$ grid
positions of $p$ pixels (the point-wise convolutions add nothing): $p\\,(1 + l\\,(k - 1))$.

```python
def receptive_field_after(k, p, blocks):
    return p * (1 + blocks * (k - 1))
```""",
    answer="receptive_field_after",
    judge=judge_receptive_field,
)


# --- 3. Class activation map ---------------------------------------------------------------------------


def _cam_inputs(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    features = torch.randn(4, 6, 3, 5, generator=generator)  # (N, h, H', W'), non-square grid
    weight = torch.randn(10, 6, generator=generator)  # (classes, h)
    target = torch.tensor([3, 0, 9, 3])
    return features, weight, target


def judge_cam(answer: Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]) -> str | None:
    features, weight, target = _cam_inputs()
    got = torch.as_tensor(answer(features.clone(), weight.clone(), target.clone()))
    right = torch.einsum("nchw,nc->nhw", features, weight[target])
    if _close(got, right):
        return None
    if got.shape == right.shape[:1]:
        return "you returned one number per image: the CAM keeps one value per patch, shape (N, H', W')."
    if got.shape != right.shape:
        return f"the CAM should have shape (N, H', W') = {tuple(right.shape)}, yours has {tuple(got.shape)}."
    if _close(got, torch.einsum("nchw,c->nhw", features, weight[target[0]])):
        return "you used the first image's class for every image: take each image's own class target[n]."
    if _close(got, right / right[0].numel()) or _close(got, right / features.shape[1]):
        return "your map is scaled down: CAM_c(i, j) is the plain dot product w_c . z[:, i, j], no averaging."
    return "your map is not w_c . z[:, i, j] at every patch (w_c = weight[target[n]], the row of the image's class)."


exercise(
    "06-cam",
    hint="the CAM of a class at (i, j) is that class's classifier row dotted with the last map's h-vector at (i, j)",
    solution="""$\\mathrm{CAM}_c(i, j) = w_c^\\top z_d[:, i, j]$, for each image its own class $c$: pick the rows
of the classifier's weight, then contract the channel axis.

```python
import torch

def cam_from_features(features, weight, target):
    # features (N, h, H', W'), weight (classes, h), target (N,) -> (N, H', W')
    return torch.einsum("nchw,nc->nhw", features, weight[target])
```""",
    answer="cam_from_features",
    judge=judge_cam,
)


# --- 4. The logit from the CAM -------------------------------------------------------------------------


def judge_logit_from_cam(answer: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> str | None:
    generator = torch.Generator().manual_seed(1)
    cam, bias = torch.randn(3, 4, 5, generator=generator), torch.randn(3, generator=generator)
    got = torch.as_tensor(answer(cam.clone(), bias.clone()))
    right = cam.mean(dim=(1, 2)) + bias
    if _close(got, right):
        return None
    if got.shape != right.shape:
        return f"expected one logit per image, shape {tuple(right.shape)}; yours has {tuple(got.shape)}."
    if _close(got, cam.sum(dim=(1, 2)) + bias):
        return "you summed the CAM over the patches: the head averages them (global average pooling)."
    if _close(got, cam.mean(dim=(1, 2))):
        return "the class's bias b_c is missing: y_c = mean of CAM_c + b_c."
    return "your logits are not the mean of each CAM over its grid plus the bias."


exercise(
    "06-logit-from-cam",
    hint="the head averages the last map over the grid and applies one linear layer: y_c = mean over (i, j) of CAM_c(i, j) + b_c.",
    solution="""Global average pooling followed by a linear layer:
$y_c = \\frac{1}{N}\\sum_{i,j} \\mathrm{CAM}_c(i, j) + b_c$.

```python
def logit_from_cam(cam, bias):
    # cam (N, H', W'), bias (N,): the bias of each image's class
    return cam.mean(dim=(-2, -1)) + bias
```""",
    answer="logit_from_cam",
    judge=judge_logit_from_cam,
)


# --- 5. How far a filter moved ---------------------------------------------------------------------------


def judge_filter_moved(answer: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> str | None:
    generator = torch.Generator().manual_seed(2)
    initial = torch.randn(5, 3, 4, 4, generator=generator) * torch.arange(1, 6).view(5, 1, 1, 1)
    trained = initial * 0.8 + torch.randn(5, 3, 4, 4, generator=generator)
    got = torch.as_tensor(answer(initial.clone(), trained.clone()))
    change = (trained - initial).flatten(1).norm(dim=1)
    right = change / initial.flatten(1).norm(dim=1)
    if _close(got, right):
        return None
    if got.numel() == 1:
        return "you returned one number: give one distance per filter, shape (h,)."
    if got.shape != right.shape:
        return f"expected one number per filter, shape {tuple(right.shape)}; yours has {tuple(got.shape)}."
    if _close(got, change):
        return "that is the absolute distance: divide by the length of the filter's initial value ||W0[c]||."
    if _close(got, change / trained.flatten(1).norm(dim=1)):
        return "you divided by the trained filter's length: measure relative to where it started, ||W0[c]||."
    if _close(got, right**2) or _close(got, (change**2) / initial.flatten(1).norm(dim=1) ** 2):
        return "those are squared distances: take the square root (a norm, not a sum of squares)."
    return "your numbers are not ||W[c] - W0[c]|| / ||W0[c]|| for each filter c."


exercise(
    "06-filter-moved",
    hint="per filter: the length of (trained - initial), relative to the initial filter's length",
    solution="""Flatten each filter to a vector; the length of its change, divided by its starting length:

```python
def filter_moved(initial, trained):
    # initial, trained: (h, c_in, p, p) -> (h,)
    start = initial.flatten(1)
    return (trained.flatten(1) - start).norm(dim=1) / start.norm(dim=1)
```""",
    answer="filter_moved",
    judge=judge_filter_moved,
)


# --- 6. Break it: forget eval mode ------------------------------------------------------------------


def _trained_looking_model():
    """A tiny ConvMixer whose BatchNorm running statistics are far from a batch's own, in train mode."""
    from convmixer.model import ConvMixer, ConvMixerConfig

    torch.manual_seed(0)
    model = ConvMixer(ConvMixerConfig(dim=8, depth=1, kernel_size=3, patch_size=4, num_classes=10))
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_mean.uniform_(-1, 1)
                module.running_var.uniform_(0.5, 2)
    return model.train()


def judge_eval_logits(answer: Callable[[torch.nn.Module, torch.Tensor], torch.Tensor]) -> str | None:
    model = _trained_looking_model()
    images = torch.randn(6, 3, 32, 32, generator=torch.Generator().manual_seed(3))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with torch.no_grad():
        model.eval()
        right = model(images)
        model.train()
        batch_mode = model(images)
    model.load_state_dict(before)
    got = answer(model, images.clone())
    if isinstance(got, torch.Tensor) and got.requires_grad:
        return "your logits carry a computation graph: compute them under torch.no_grad()."
    got = torch.as_tensor(got)
    if _close(got, batch_mode):
        return ("these are training-mode logits: BatchNorm normalised with this batch's own statistics, so an "
                "image's logits depend on the others in the batch; call model.eval() first.")
    if not _close(got, right):
        return "your logits are not the eval-mode output of the model for these images."
    if any(not torch.equal(v, before[k]) for k, v in model.state_dict().items()):
        return "the model's BatchNorm running statistics changed: a forward pass in training mode updates them."
    if not model.training:
        return "the logits are right, but the model was left in eval mode: put it back in the mode it was in."
    return None


exercise(
    "06-eval-mode",
    hint="classify without updating BatchNorm or recording gradients, and leave the model in the mode you found it in",
    solution="""In eval mode BatchNorm uses the running statistics it collected during training, so each
image's logits depend on that image only; afterwards the model goes back to the mode it was in.

```python
import torch

def eval_logits(model, images):
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            return model(images)
    finally:
        model.train(was_training)
```""",
    answer="eval_logits",
    judge=judge_eval_logits,
)
