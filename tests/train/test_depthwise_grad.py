"""The depth-wise weight gradient by one matrix product equals oneDNN's, and swapping it in
changes nothing else about a model."""

from __future__ import annotations

import copy

import pytest
import torch
from support import tiny_model

from convmixer.layers import DepthwiseConv2d
from convmixer.train.acceleration import Acceleration
from convmixer.train.depthwise_grad import (
    DepthwiseWeightGradByMatmul,
    matmul_pays,
    tap_index,
    use_matmul_weight_grad,
)


def layer_pair(channels: int, kernel_size: int, memory_format: torch.memory_format):
    torch.manual_seed(0)
    reference = DepthwiseConv2d(channels, kernel_size).double().to(memory_format=memory_format)
    fast = copy.deepcopy(reference)
    use_matmul_weight_grad(fast)
    return reference, fast


@pytest.mark.parametrize("memory_format", [torch.channels_last, torch.contiguous_format])
@pytest.mark.parametrize("kernel_size,grid", [(2, 1), (3, 2), (4, 3), (5, 4), (8, 6), (9, 8), (9, 6), (7, 5)])
def test_gradients_equal_onednn_for_odd_and_even_kernels(kernel_size, grid, memory_format):
    assert matmul_pays(kernel_size, grid, grid)  # the matrix-product path is the one under test
    reference, fast = layer_pair(6, kernel_size, memory_format)
    x = torch.randn(3, 6, grid, grid, dtype=torch.double).contiguous(memory_format=memory_format)
    inputs = [x.clone().requires_grad_(), x.clone().requires_grad_()]
    outputs = [reference(inputs[0]), fast(inputs[1])]
    grad = torch.randn_like(outputs[0])
    for output in outputs:
        output.backward(grad)
    torch.testing.assert_close(outputs[1], outputs[0])
    torch.testing.assert_close(inputs[1].grad, inputs[0].grad)
    torch.testing.assert_close(fast.weight.grad, reference.weight.grad)
    torch.testing.assert_close(fast.bias.grad, reference.bias.grad)


def test_weight_gradient_is_not_zero_or_symmetric_by_accident():
    """A wrong tap order (a flipped kernel) would still give a gradient of the right size."""
    _, fast = layer_pair(2, 3, torch.contiguous_format)
    x = torch.zeros(1, 2, 2, 2, dtype=torch.double)
    x[0, :, 0, 0] = 1.0  # one lit input pixel, top left
    out = fast(x)
    grad = torch.zeros_like(out)
    grad[0, :, 1, 1] = 1.0  # the bottom-right output reads it through tap (0, 0)
    out.backward(grad)
    expected = torch.zeros(2, 1, 3, 3, dtype=torch.double)
    expected[:, 0, 0, 0] = 1.0
    torch.testing.assert_close(fast.weight.grad, expected)


def test_tap_index_names_each_tap_once_per_output():
    index = tap_index(3, 1, 4, 4)
    assert index.shape == (16, 16)
    for row in index:
        taps = row[row < 9]
        assert len(taps) == len(set(taps.tolist()))
    assert (index[5] < 9).sum() == 9  # an interior output reads all nine taps
    assert (index[0] < 9).sum() == 4  # a corner output reads four


def test_rule_keeps_onednn_where_it_is_fast():
    assert matmul_pays(9, 8, 8) and matmul_pays(7, 6, 6) and matmul_pays(5, 4, 4) and matmul_pays(5, 8, 4)
    assert not (matmul_pays(3, 8, 8) or matmul_pays(5, 8, 8) or matmul_pays(9, 10, 10) or matmul_pays(8, 8, 8))


def test_without_gradients_the_layer_is_onednns_convolution():
    reference, fast = layer_pair(4, 9, torch.channels_last)
    x = torch.randn(2, 4, 8, 8, dtype=torch.double)
    with torch.no_grad():
        torch.testing.assert_close(fast(x), reference(x))


def test_swap_keeps_parameters_keys_and_random_state_and_trains_the_same():
    reference = tiny_model(kernel_size=9)
    fast = copy.deepcopy(reference)
    keys, parameters = list(fast.state_dict()), list(fast.parameters())
    state = torch.random.get_rng_state()
    assert use_matmul_weight_grad(fast) is fast
    assert torch.equal(torch.random.get_rng_state(), state)
    assert list(fast.state_dict()) == keys and list(fast.parameters()) == parameters
    swapped = [m for m in fast.modules() if isinstance(m, DepthwiseConv2d)]
    assert swapped and all(type(m) is DepthwiseWeightGradByMatmul for m in swapped)
    x, y = torch.randn(8, 3, 32, 32), torch.arange(8) % 10
    for model in (reference, fast):
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
        for _ in range(2):
            optimizer.zero_grad()
            torch.nn.functional.cross_entropy(model(x), y).backward()
            optimizer.step()
    for a, b in zip(reference.parameters(), fast.parameters()):
        torch.testing.assert_close(b, a, rtol=1e-4, atol=1e-5)


def test_acceleration_swaps_only_when_asked():
    model = tiny_model(kernel_size=9)
    Acceleration(matmul_depthwise_grad=False).prepare_model(model)
    assert all(type(m) is not DepthwiseWeightGradByMatmul for m in model.modules())
    Acceleration().prepare_model(model)
    assert any(type(m) is DepthwiseWeightGradByMatmul for m in model.modules())
