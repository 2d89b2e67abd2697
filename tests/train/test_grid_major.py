"""Grid-major ConvMixer: the same function, gradients and BatchNorm statistics as the model,
all of it matrix products; and the model itself wherever grid-major is not used."""

from __future__ import annotations

import copy
from unittest import mock

import pytest
import torch

from convmixer.model import ConvMixer, ConvMixerConfig
from convmixer.train import grid_major
from convmixer.train.grid_major import (
    GridMajorConvMixer,
    batch_norm_rows,
    depthwise_matrices,
    grid_major_pays,
    pointwise_product,
)


def pair(kernel_size: int, residual: str = "depthwise"):
    """A ConvMixer-8/2 (p = 4) in float64, a copy of it, and the copy run grid-major."""
    torch.manual_seed(0)
    reference = ConvMixer(ConvMixerConfig(8, 2, kernel_size, 4, residual=residual)).double()
    model = copy.deepcopy(reference)
    return reference, model, GridMajorConvMixer(model)


@pytest.mark.parametrize("memory_format", [torch.contiguous_format, torch.channels_last])
@pytest.mark.parametrize("kernel_size,size", [(5, 32), (5, 24), (9, 32), (3, 16), (2, 8), (4, 16), (7, 8)])
def test_same_outputs_gradients_and_statistics_as_the_model(kernel_size, size, memory_format):
    assert grid_major_pays(kernel_size, size // 4, size // 4)  # the grid-major path is under test
    reference, model, runner = pair(kernel_size)
    for m in (reference, model):
        m.to(memory_format=memory_format)
    x = torch.randn(6, 3, size, size, dtype=torch.double).contiguous(memory_format=memory_format)
    expected, got = reference(x), runner(x)
    torch.testing.assert_close(got, expected)
    grad = torch.randn_like(expected)
    expected.backward(grad)
    got.backward(grad)
    for (name, p), q in zip(reference.named_parameters(), model.parameters()):
        torch.testing.assert_close(q.grad, p.grad, msg=name)
    for (name, b), c in zip(reference.named_buffers(), model.buffers()):
        torch.testing.assert_close(c, b, msg=name)  # running statistics moved the same way
    reference.eval(), runner.eval()
    with torch.no_grad():
        torch.testing.assert_close(runner(x), reference(x))


def test_depthwise_matrix_row_holds_the_kernel_where_the_output_reads():
    weight = torch.arange(1.0, 10.0).view(1, 1, 3, 3)
    matrices = depthwise_matrices(weight, 3, 3)[0]  # (9 outputs, 9 inputs)
    assert torch.equal(matrices[4], weight.flatten())  # the centre output reads all nine taps
    corner = matrices[0].view(3, 3)  # output (0, 0) reads inputs (0..1, 0..1) with taps (1..2, 1..2)
    assert torch.equal(corner, torch.tensor([[5.0, 6.0, 0.0], [8.0, 9.0, 0.0], [0.0, 0.0, 0.0]]))


@pytest.mark.parametrize("momentum", [0.1, 0.4, None])
def test_batch_norm_rows_is_the_module_on_the_image_view(momentum):
    """Outputs, gradients and running statistics (two batches, so the averages move twice) as
    ``nn.BatchNorm2d`` computes them on the ``(1, h, N, 1)`` view, in float32; eval mode too."""
    torch.manual_seed(0)
    reference = torch.nn.BatchNorm2d(6, momentum=momentum)
    torch.nn.init.normal_(reference.weight), torch.nn.init.normal_(reference.bias)
    norm = copy.deepcopy(reference)
    for shift in (3.0, -1.0):  # rows far from zero mean: the centred variance must not cancel
        a = (torch.randn(6, 500) * 2 + shift).requires_grad_()
        b = a.detach().clone().requires_grad_()
        expected, got = reference(a.view(1, 6, 500, 1)).view(6, 500), batch_norm_rows(norm, b)
        torch.testing.assert_close(got, expected)
        grad = torch.randn(6, 500)
        expected.backward(grad), got.backward(grad)
        torch.testing.assert_close(b.grad, a.grad)
        for p, q in zip(reference.parameters(), norm.parameters()):
            torch.testing.assert_close(q.grad, p.grad)
        for name, buffer in reference.named_buffers():
            torch.testing.assert_close(getattr(norm, name), buffer, msg=name)
    reference.eval(), norm.eval()
    x = torch.randn(6, 500)
    torch.testing.assert_close(batch_norm_rows(norm, x), reference(x.view(1, 6, 500, 1)).view(6, 500))


def test_batch_norm_rows_gradients_are_exact_in_double():
    norm = torch.nn.BatchNorm2d(3).double()
    torch.nn.init.normal_(norm.weight)
    a = torch.randn(3, 40, dtype=torch.double, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x, w, b: batch_norm_rows(norm, x), (a, norm.weight, norm.bias))


def test_batch_norm_rows_of_one_value_is_the_modules_error():
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        batch_norm_rows(torch.nn.BatchNorm2d(3), torch.randn(3, 1))


@pytest.mark.parametrize("memory_format", [torch.contiguous_format, torch.channels_last])
def test_pointwise_product_is_the_1x1_convolution_forward_and_backward(memory_format):
    torch.manual_seed(0)
    conv = torch.nn.Conv2d(6, 5, 1).double().to(memory_format=memory_format)
    z = torch.randn(6, 3, 12, dtype=torch.double, requires_grad=True)  # (h, B, n): B = 3 images of a 3 x 4 grid
    y = pointwise_product(z, conv.weight, conv.bias)
    assert y.shape == (5, 3, 12) and y.is_contiguous()
    image = z.detach().permute(1, 0, 2).reshape(3, 6, 3, 4)  # the same maps as (B, h, H', W')
    torch.testing.assert_close(y.permute(1, 0, 2).reshape(3, 5, 3, 4), conv(image))
    assert torch.autograd.gradcheck(pointwise_product, (z, conv.weight, conv.bias))


def run_counting_grid_major(runner, x):
    with mock.patch.object(grid_major, "_GridMajorDepthwise", wraps=grid_major._GridMajorDepthwise) as used:
        runner(x)
    return used.apply.call_count


def test_other_skips_large_grids_autocast_and_inference_run_the_model_itself():
    _, _, runner = pair(5)
    assert run_counting_grid_major(runner, torch.randn(2, 3, 32, 32, dtype=torch.double)) == 2  # two blocks
    assert run_counting_grid_major(runner, torch.randn(2, 3, 64, 64, dtype=torch.double)) == 0  # 16 x 16 grid
    _, _, block_skip = pair(5, residual="block")
    assert run_counting_grid_major(block_skip, torch.randn(2, 3, 32, 32, dtype=torch.double)) == 0
    runner.float()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert run_counting_grid_major(runner, torch.randn(2, 3, 32, 32)) == 0
    with torch.inference_mode():  # inference: the forward pass is oneDNN's
        assert run_counting_grid_major(runner.eval(), torch.randn(2, 3, 32, 32)) == 0
    with torch.no_grad():
        assert run_counting_grid_major(runner.train(), torch.randn(2, 3, 32, 32)) == 0


def test_bad_image_is_the_models_clear_error():
    _, _, runner = pair(5)
    with pytest.raises(ValueError, match="not divisible by the patch size 4"):
        runner(torch.randn(2, 3, 30, 30, dtype=torch.double))


def test_rule():
    assert grid_major_pays(5, 8, 8) and grid_major_pays(3, 6, 6) and grid_major_pays(9, 16, 16)
    assert not (grid_major_pays(3, 8, 8) or grid_major_pays(5, 16, 16))


def test_bfloat16_products_round_inputs_and_results_and_sum_in_float32():
    torch.manual_seed(0)
    z = torch.randn(16, 4, 12, requires_grad=True)  # (h, B, n): a 3 x 4 grid
    weight, bias = torch.randn(8, 16, 1, 1, requires_grad=True), torch.randn(8, requires_grad=True)
    y = pointwise_product(z, weight, bias, torch.bfloat16)
    rounded = [t.detach().bfloat16().double() for t in (z, weight)]
    product = torch.einsum("oi,ibn->obn", rounded[1].view(8, 16), rounded[0])
    expected = product.bfloat16().double() + bias.detach().double()[:, None, None]  # the bias added in float32
    assert y.dtype == torch.float32
    ulp = {"rtol": 2 ** -8, "atol": 1e-6}  # one bfloat16 rounding of a float32 sum, not 16 bfloat16 ones
    torch.testing.assert_close(y.double(), expected, **ulp)
    assert not torch.allclose(y, pointwise_product(z, weight, bias), rtol=1e-4, atol=1e-4)  # it was rounded
    grad = torch.randn_like(y)
    y.backward(grad)
    g = grad.bfloat16().double()
    torch.testing.assert_close(z.grad.double(), torch.einsum("oi,obn->ibn", rounded[1].view(8, 16), g), **ulp)
    torch.testing.assert_close(weight.grad.double().view(8, 16), torch.einsum("obn,ibn->oi", g, rounded[0]), **ulp)
    torch.testing.assert_close(bias.grad, grad.sum((1, 2)))  # the bias gradient stays float32


def test_bfloat16_products_train_the_model_alike():
    """The whole model with bfloat16 products against float32: outputs and gradients agree to
    bfloat16's rounding (8 significant bits), and the running statistics move alike."""
    torch.manual_seed(0)
    reference = ConvMixer(ConvMixerConfig(32, 2, 5, 4))
    model = copy.deepcopy(reference)
    x = torch.randn(16, 3, 32, 32)
    expected, got = GridMajorConvMixer(reference)(x), GridMajorConvMixer(model, torch.bfloat16)(x)
    torch.testing.assert_close(got, expected, rtol=0.05, atol=0.05)
    grad = torch.randn_like(expected)
    expected.backward(grad)
    got.backward(grad)
    for (name, p), q in zip(reference.named_parameters(), model.parameters()):
        cosine = torch.nn.functional.cosine_similarity(p.grad.flatten(), q.grad.flatten(), dim=0)
        assert cosine > 0.999, name
    for (name, b), c in zip(reference.named_buffers(), model.buffers()):
        torch.testing.assert_close(c.float(), b.float(), rtol=0.02, atol=0.02, msg=name)
