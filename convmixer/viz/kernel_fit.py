"""The figure of notebook 01's learned kernel: how the loss and the kernel error fall, step by
step, in the style of :mod:`convmixer.viz.style`."""

from __future__ import annotations

import torch
from matplotlib.figure import Figure

from convmixer.viz.style import new_figure


def kernel_fit_figure(
    losses: torch.Tensor, history: torch.Tensor, true_kernels: torch.Tensor, size: tuple[float, float] = (6.0, 3.0)
) -> Figure:
    """The loss of a kernel fit (:func:`~convmixer.notebook.learn_kernel.fit_depthwise_kernel`:
    ``losses`` ``(steps + 1,)``, kernels ``history`` ``(steps + 1, C, k, k)``) and the largest
    kernel error ``max |w - w*|`` against the step, both on one log scale: the error trails the
    loss, because the directions real images hardly excite move the loss very little."""
    if true_kernels.shape != history.shape[1:]:
        raise ValueError(
            f"true_kernels must have the learned kernels' shape {tuple(history.shape[1:])}, got "
            f"{tuple(true_kernels.shape)}"
        )
    errors = (history - true_kernels).abs().amax(dim=(1, 2, 3))
    steps = torch.arange(len(losses))
    fig = new_figure(*size, layout="constrained")
    ax = fig.subplots()
    ax.plot(steps, losses, label="loss (mean squared error)")
    ax.plot(steps, errors, label="largest kernel error  max |w - w*|")
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    return fig
