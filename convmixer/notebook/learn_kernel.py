"""Learning a depth-wise kernel from examples: the step from a hand-made filter to a learned one.

Given images ``x`` and the same images filtered by an unknown depth-wise kernel ``w*`` (one
``k x k`` kernel per channel, "same" padding), :func:`fit_depthwise_kernel` finds the kernels by
gradient descent on the mean squared error

.. math::

    L(w) = \\frac{1}{BCHW} \\sum_{b, c, i, j} \\big((w_c \\star x_{b,c})[i, j] - y_{b,c}[i, j]\\big)^2 ,

with the loop that trains every network: forward, loss, backward, optimizer step. ``L`` is a
quadratic in ``w`` whose minimum, 0, lies at ``w = w*`` as soon as the ``k x k`` windows of the
images span all ``k^2`` directions, which real images do. Gradient descent gets there, but not
at the same speed in every direction: natural images hold little of the highest spatial
frequencies, so kernel changes that only those frequencies reveal (checkerboard-like ones) move
the loss very little and are learned last. Standardising the images (zero mean, unit variance
per channel, as BatchNorm does inside a network) and SGD with momentum keep that manageable.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from convmixer._util import check_positive_int
from convmixer.filters import depthwise_filter, make_filters


@dataclass(frozen=True)
class KernelFit:
    """What :func:`fit_depthwise_kernel` learned and how it got there.

    ``kernels``: the learned ``(C, k, k)`` kernels. ``history``: ``(steps + 1, C, k, k)``, the
    kernels before every step and after the last one (``history[-1]`` is ``kernels``).
    ``losses``: ``(steps + 1,)``, the mean squared error of each kernel in ``history``.
    """

    kernels: torch.Tensor
    history: torch.Tensor
    losses: torch.Tensor


def fit_depthwise_kernel(
    inputs: torch.Tensor,
    targets: torch.Tensor,
    kernel_size: int,
    steps: int = 500,
    lr: float = 0.2,
    momentum: float = 0.95,
    seed: int = 0,
) -> KernelFit:
    """Learn one ``k x k`` kernel per channel that maps ``inputs`` to ``targets``.

    A bias-free :class:`~convmixer.layers.DepthwiseConv2d` starts from seeded random kernels (an
    untrained layer, ``make_filters("random", k, C, seed)``) and takes ``steps`` steps of SGD
    with momentum on the mean squared error (module docstring).

    Args:
        inputs: ``(B, C, H, W)`` float images.
        targets: ``(B, C, H, W)``, the images after the filter to recover.
        kernel_size: ``k``, the side of the kernels to learn.
        steps: optimizer steps (full batch: every step sees all ``B`` images).
        lr, momentum: the SGD settings. The defaults suit standardised images and ``k <= 3``;
            the learning rate must stay below about ``2 / lambda_max`` of the loss's Hessian,
            which grows with ``k^2``, so larger kernels need a smaller ``lr`` and more steps.
        seed: seeds the starting kernels.

    Raises ``ValueError`` for malformed arguments, and when the loss diverges (``lr`` too large).
    """
    if inputs.dim() != 4 or not inputs.is_floating_point():
        raise ValueError(
            f"expected float inputs shaped (B, C, H, W), got {inputs.dtype} of shape "
            f"{tuple(inputs.shape)}"
        )
    if targets.shape != inputs.shape:
        raise ValueError(
            f"targets must have the inputs' shape {tuple(inputs.shape)}, got {tuple(targets.shape)}"
        )
    check_positive_int("kernel_size", kernel_size)
    check_positive_int("steps", steps)
    if not (lr > 0 and 0 <= momentum < 1):
        raise ValueError(f"need lr > 0 and 0 <= momentum < 1, got lr={lr!r}, momentum={momentum!r}")

    layer = depthwise_filter(make_filters("random", kernel_size, inputs.shape[1], seed))
    optimizer = torch.optim.SGD(layer.parameters(), lr=lr, momentum=momentum)
    history, losses = [], []
    for step in range(steps):
        loss = F.mse_loss(layer(inputs), targets)
        if not torch.isfinite(loss):
            raise ValueError(
                f"the loss diverged (it is {loss.item()} at step {step}): lr={lr} is too large for "
                f"these inputs and k={kernel_size}; try a smaller lr (and more steps)"
            )
        history.append(layer.weight.detach()[:, 0].clone())
        losses.append(loss.detach())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        losses.append(F.mse_loss(layer(inputs), targets))
    history.append(layer.weight.detach()[:, 0].clone())
    return KernelFit(kernels=history[-1], history=torch.stack(history), losses=torch.stack(losses))
