"""fit_depthwise_kernel: gradient descent recovers a known depth-wise kernel from real images."""

import pytest
import torch
import torch.nn.functional as F

from convmixer.data.sample import cifar10_sample
from convmixer.filters import depthwise_filter, make_filters
from convmixer.notebook.learn_kernel import fit_depthwise_kernel
from convmixer.viz.kernel_fit import kernel_fit_figure


@pytest.fixture(scope="module")
def images() -> torch.Tensor:
    """16 real CIFAR-10 images, standardised per channel."""
    x = cifar10_sample().images[:16].float() / 255
    return (x - x.mean(dim=(0, 2, 3), keepdim=True)) / x.std(dim=(0, 2, 3), keepdim=True)


def filtered(images: torch.Tensor, kernels: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return depthwise_filter(kernels)(images)


@pytest.mark.parametrize("name, k", [("edge", 3), ("gaussian", 3), ("random", 3), ("edge", 2)])
def test_recovers_the_true_kernels(images, name, k):
    true = make_filters(name, k, channels=3, seed=1)  # "random": a different kernel per channel
    fit = fit_depthwise_kernel(images, filtered(images, true), k)
    torch.testing.assert_close(fit.kernels, true, atol=1e-4, rtol=0)
    assert fit.losses[-1] < 1e-8 * fit.losses[0]


def test_history_and_losses_describe_the_run(images):
    true = make_filters("edge", 3, channels=3)
    targets = filtered(images, true)
    before = images.clone()
    fit = fit_depthwise_kernel(images, targets, 3, steps=20, seed=5)
    assert fit.history.shape == (21, 3, 3, 3) and fit.losses.shape == (21,)
    torch.testing.assert_close(fit.history[0], make_filters("random", 3, 3, seed=5))
    torch.testing.assert_close(fit.history[-1], fit.kernels)
    for step in (0, 7, 20):  # each recorded loss is the loss of the kernels recorded with it
        expected = F.mse_loss(filtered(images, fit.history[step]), targets)
        torch.testing.assert_close(fit.losses[step], expected)
    assert fit.losses[-1] < fit.losses[0]
    torch.testing.assert_close(images, before, rtol=0, atol=0)  # inputs untouched
    again = fit_depthwise_kernel(images, targets, 3, steps=20, seed=5)
    torch.testing.assert_close(again.history, fit.history, rtol=0, atol=0)


def test_too_large_a_learning_rate_is_reported(images):
    targets = filtered(images, make_filters("edge", 3, 3))
    with pytest.raises(ValueError, match="the loss diverged .* try a smaller lr"):
        fit_depthwise_kernel(images, targets, 3, lr=5.0)


def test_bad_arguments_get_one_clear_sentence(images):
    targets = filtered(images, make_filters("edge", 3, 3))
    with pytest.raises(ValueError, match=r"expected float inputs shaped \(B, C, H, W\)"):
        fit_depthwise_kernel(images[0], targets[0], 3)
    with pytest.raises(ValueError, match=r"expected float inputs"):
        fit_depthwise_kernel(images.to(torch.uint8), targets, 3)
    with pytest.raises(ValueError, match=r"targets must have the inputs' shape"):
        fit_depthwise_kernel(images, targets[:, :2], 3)
    with pytest.raises(ValueError, match="kernel_size must be an integer >= 1"):
        fit_depthwise_kernel(images, targets, 0)
    with pytest.raises(ValueError, match="steps must be an integer >= 1"):
        fit_depthwise_kernel(images, targets, 3, steps=0)
    with pytest.raises(ValueError, match="need lr > 0 and 0 <= momentum < 1"):
        fit_depthwise_kernel(images, targets, 3, momentum=1.0)


def test_kernel_fit_figure_plots_loss_and_kernel_error(images):
    true = make_filters("edge", 3, channels=3)
    fit = fit_depthwise_kernel(images, filtered(images, true), 3, steps=30)
    ax = kernel_fit_figure(fit.losses, fit.history, true).axes[0]
    loss_line, error_line = ax.lines
    torch.testing.assert_close(torch.as_tensor(loss_line.get_ydata()), fit.losses)
    expected = (fit.history - true).abs().amax(dim=(1, 2, 3))
    torch.testing.assert_close(torch.as_tensor(error_line.get_ydata()), expected)
    assert ax.get_yscale() == "log"
    with pytest.raises(ValueError, match="true_kernels must have the learned kernels' shape"):
        kernel_fit_figure(fit.losses, fit.history, true[0])
