"""benchmarks/pointwise_product.py times two ways of the same point-wise convolution."""

import torch
from support import load_script

from convmixer.train.grid_major import pointwise_product

script = load_script("pointwise_product", "benchmarks")


def test_both_ways_compute_the_same_product_and_gradients():
    torch.manual_seed(0)
    conv = torch.nn.Conv2d(16, 16, 1).double().to(memory_format=torch.channels_last)
    z = torch.randn(16, 4, 9, dtype=torch.double, requires_grad=True)
    outputs = [way(z, conv.weight, conv.bias) for way in (script.addmm_product, pointwise_product)]
    torch.testing.assert_close(outputs[0], outputs[1])
    grad = torch.randn_like(outputs[0])
    gradients = [torch.autograd.grad(y, (z, conv.weight, conv.bias), grad) for y in outputs]
    for a, b in zip(*gradients):
        torch.testing.assert_close(a, b)
