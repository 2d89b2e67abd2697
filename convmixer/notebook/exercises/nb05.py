"""Notebook 05's exercises (registered with :func:`convmixer.notebook.exercises.exercise`).

Three make the reader write code -- one training step, an evaluation in eval mode without
gradients, the standard error of an accuracy -- and are judged on a small model with copied
weights, so the message can say *what* went wrong (the weights did not move, the gradient doubled,
BatchNorm's running statistics changed, ...); two are numbers (the loss of an untrained model and
the number of optimizer steps of the ``cpu`` profile), whose expected values come from the package,
never from the notebook's variables.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from convmixer.notebook.exercises import exercise

# The training split of notebook 05 (and of fit with validation_per_class=500): 50,000 - 5,000 images.
TRAINING_IMAGES = 45_000


def _small_model(seed: int = 0) -> nn.Module:
    """A tiny classifier with a BatchNorm, so eval mode and running statistics matter."""
    torch.manual_seed(seed)
    model = nn.Sequential(
        nn.Conv2d(3, 6, 3, padding=1), nn.GELU(), nn.BatchNorm2d(6),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(6, 10),
    )
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        batch_norm = model[2]
        batch_norm.weight.copy_(0.5 + 1.5 * torch.rand(6, generator=generator))
        batch_norm.bias.copy_(torch.rand(6, generator=generator) - 0.5)
        batch_norm.running_mean.copy_(0.5 * torch.randn(6, generator=generator))
        batch_norm.running_var.copy_(0.3 + torch.rand(6, generator=generator))
    return model


def _batch(images: int, seed: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(images, 3, 8, 8, generator=generator), torch.randint(0, 10, (images,), generator=generator)


def _all_close(first: list[torch.Tensor], second: list[torch.Tensor], atol: float = 1e-4) -> bool:
    return all(torch.allclose(a, b, atol=atol, rtol=1e-3) for a, b in zip(first, second))


# --- 1. one training step ----------------------------------------------------------------------------------
def _judge_train_step(train_step: Callable[..., Any]) -> str | None:
    lr = 0.1
    model = _small_model().train()
    images, labels = _batch(16)
    start = [p.detach().clone() for p in model.parameters()]

    reference = copy.deepcopy(model)
    reference_loss = F.cross_entropy(reference(images), labels)
    gradients = torch.autograd.grad(reference_loss, list(reference.parameters()))

    theirs = copy.deepcopy(model)
    optimizer = torch.optim.SGD(theirs.parameters(), lr=lr)
    for parameter, gradient in zip(theirs.parameters(), gradients):  # left over from the previous step
        parameter.grad = gradient.clone()
    returned = train_step(theirs, optimizer, images.clone(), labels.clone())

    moved = [(s - p.detach()) / lr for s, p in zip(start, theirs.parameters())]  # the gradient the step used
    if all(torch.allclose(m, torch.zeros_like(m), atol=1e-7) for m in moved):
        return ("the weights did not move: did you call optimizer.step() after loss.backward() "
                "(and not zero the gradients between the two)?")
    if _all_close(moved, [2 * g for g in gradients]):
        return ("the gradient doubled: the previous step's gradient was still there and backward() adds to it -- "
                "you did not zero it (optimizer.zero_grad() before loss.backward()).")
    if not _all_close(moved, list(gradients)):
        return ("the weights moved, but not by one step on this batch's cross-entropy: compute "
                "F.cross_entropy(model(images), labels) on the raw logits, call loss.backward() once and "
                "optimizer.step() once.")
    if returned is None:
        return "the step is right, but the function returns nothing: return the batch's loss."
    try:
        value = float(returned)
    except (TypeError, ValueError, RuntimeError):
        return f"the step is right, but it returned a {type(returned).__name__}: return the batch's loss (one number)."
    if not math.isclose(value, reference_loss.item(), rel_tol=1e-4, abs_tol=1e-5):
        return f"the step is right, but it returned {value:.4f}, not the batch's loss ({reference_loss.item():.4f})."
    return None


exercise(
    "05-train-step",
    hint="the loop of section 4 without clipping and schedule: which call forgets the last step's gradients, "
         "and which one moves the weights? Return the loss",
    solution="""The five parts of section 4, without clipping and schedule:

```python
import torch.nn.functional as F


def train_step(model, optimizer, images, labels):
    loss = F.cross_entropy(model(images), labels)   # forward and loss
    optimizer.zero_grad()                            # backward() adds to .grad: forget the last step's
    loss.backward()                                  # d loss / d weight for every weight
    optimizer.step()                                 # move the weights (plain SGD: w - lr * gradient)
    return loss.detach()
```

With plain SGD the step is $w \\leftarrow w - \\eta\\, \\partial L / \\partial w$; AdamW, which the recipe
uses, divides the gradient by a running estimate of its size and shrinks every weight a little.""",
    answer="train_step",
    judge=_judge_train_step,
)


# --- 2. accuracy, evaluated properly ------------------------------------------------------------------------
def _judge_evaluate_accuracy(evaluate_accuracy: Callable[..., Any]) -> str | None:
    model = _small_model(seed=2)
    images, _ = _batch(64, seed=3)
    with torch.no_grad():
        predictions = copy.deepcopy(model).eval()(images).argmax(dim=1)
    labels = predictions.clone()
    labels[24:] = (labels[24:] + 1) % 10  # eval-mode accuracy: 24 / 64
    right = 24 / 64

    model.train()  # as a model is after training
    statistics = [model[2].running_mean.clone(), model[2].running_var.clone()]
    grad_enabled: list[bool] = []
    model.register_forward_pre_hook(lambda module, inputs: grad_enabled.append(torch.is_grad_enabled()))
    result = evaluate_accuracy(model, images.clone(), labels.clone())

    if result is None:
        return "your function returns nothing: return the fraction of the images classified correctly."
    if not (torch.equal(model[2].running_mean, statistics[0]) and torch.equal(model[2].running_var, statistics[1])):
        return ("your function changed BatchNorm's running statistics (the model was still in training mode): "
                "call model.eval() before the forward pass.")
    if any(grad_enabled):
        return ("your function recorded gradients it never uses (memory and time): run the forward pass "
                "inside `with torch.no_grad():`.")
    if not grad_enabled:
        return "your function never called the model: compute model(images) and compare its argmax with the labels."
    try:
        value = float(result)
    except (TypeError, ValueError, RuntimeError):
        return f"your function returned a {type(result).__name__}: return one number, the fraction correct."
    if math.isclose(value, 100 * right, abs_tol=1e-4):
        return "that is a percentage: return the fraction between 0 and 1."
    if math.isclose(value, 24, abs_tol=1e-4):
        return "that is the number of correct images: divide by the number of images."
    if not math.isclose(value, right, abs_tol=1e-6):
        return (f"it returned {value:.4f} where {right:.4f} of the images are right: the prediction is the "
                "argmax of the logits over the classes (dim=1), compared with the labels.")
    return None


exercise(
    "05-evaluate-accuracy",
    hint="BatchNorm must use (and not update) its running statistics, and nothing should be recorded for a "
         "backward pass; then count the images whose highest score is their label",
    solution="""Eval mode makes BatchNorm use (and not update) its running statistics; `no_grad` skips the
bookkeeping for a backward pass that never comes:

```python
import torch


def evaluate_accuracy(model, images, labels):
    model.eval()
    with torch.no_grad():
        predictions = model(images).argmax(dim=1)
    return (predictions == labels).float().mean().item()
```

`convmixer.train.evaluate` does the same in batches, and adds the loss, the confusion matrix and
test-time augmentation.""",
    answer="evaluate_accuracy",
    judge=_judge_evaluate_accuracy,
)


# --- 3. the standard error of an accuracy -------------------------------------------------------------------
_CASES = ((0.8, 5_000), (0.5, 10), (0.93, 1_000))


def _judge_standard_error(standard_error: Callable[[float, int], Any]) -> str | None:
    values = [standard_error(a, n) for a, n in _CASES]
    if any(v is None for v in values):
        return "your function returns nothing: return the standard error, one number."
    values = [float(v) for v in values]
    right = [math.sqrt(a * (1 - a) / n) for a, n in _CASES]

    def matches(candidates: list[float]) -> bool:
        return all(math.isclose(v, c, rel_tol=1e-6) for v, c in zip(values, candidates))

    if matches(right):
        return None
    if matches([a * (1 - a) / n for a, n in _CASES]):
        return "that is the variance a(1 - a)/n: the standard error is its square root."
    if matches([1.96 * r for r in right]):
        return "that is the half-width of the 95 % interval, 1.96 standard errors: return one standard error."
    if matches([math.sqrt(a * (1 - a)) for a, _ in _CASES]):
        return "it does not shrink with more images: divide by the number of images inside the square root."
    return f"for a = 0.8 on 5,000 images it gives {values[0]:.5f}, not {right[0]:.5f}."


exercise(
    "05-standard-error",
    hint="each image is right with probability a, independently: the fraction right has variance a(1 - a)/n",
    solution="""The count right is binomial with variance $n a (1 - a)$, so the fraction right has variance
$a(1-a)/n$; the standard error is its square root:

```python
import math


def standard_error(accuracy, images):
    return math.sqrt(accuracy * (1 - accuracy) / images)   # 0.8 on 5,000 images: 0.0057
```

So 80 % measured on 5,000 validation images is $80 \\pm 1.1$ % (95 %: $\\pm 1.96$ standard errors);
on 1,000 images it is $\\pm 2.5$ %. (`convmixer.studies.stats.binomial_standard_error`.)""",
    answer="standard_error",
    judge=_judge_standard_error,
)


# --- 4. numbers ---------------------------------------------------------------------------------------------
exercise(
    "05-initial-loss",
    hint="cross-entropy is -ln(probability given to the true class); guessing evenly gives each class 1/10",
    solution="""An untrained model gives each of the 10 classes probability about $1/10$, and cross-entropy
is $-\\ln$ of the probability of the true class:

```python
import math

expected_initial_loss = -math.log(1 / 10)   # = ln 10 = 2.303
```""",
    answer="expected_initial_loss",
    expected=lambda: math.log(10),
)


def _total_steps() -> int:
    from convmixer.train import get_profile

    cpu = get_profile("cpu")
    images = TRAINING_IMAGES if cpu.train_subset is None else min(cpu.train_subset, TRAINING_IMAGES)
    return cpu.epochs * (images // cpu.batch_size)


exercise(
    "05-total-steps",
    hint="steps per epoch = training images // batch size (the last, incomplete batch is dropped), "
         "times the number of epochs",
    solution="""Every epoch makes `images // batch_size` steps (the last, incomplete batch is dropped), for
`epochs` epochs; the training split has 45,000 images once the 5,000 validation images are held out:

```python
from convmixer.train import get_profile

cpu = get_profile("cpu")
images = 45_000 if cpu.train_subset is None else min(cpu.train_subset, 45_000)
total_steps = cpu.epochs * (images // cpu.batch_size)
```""",
    answer="total_steps",
    expected=_total_steps,
    atol=0,
    rtol=0,
)
