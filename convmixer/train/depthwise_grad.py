"""The depth-wise convolution's weight gradient as one batched matrix product, for kernels wider
than the grid.

A depth-wise layer ``y[b, c] = w[c] * x[b, c]`` (cross-correlation with a ``k x k`` kernel and
zero padding ``q``) has the weight gradient

    dL/dw[c, u, v] = sum over b, i, j of  g[b, c, i, j] * x[b, c, i + u - q, j + v - q]

with ``g = dL/dy``. On the CPU, oneDNN computes it slowly when the kernel is wider than the grid it
slides over, which ConvMixer meets at once: k = 9 on the 8 x 8 grid of 32 x 32 images with p = 4,
or k = 5 on the 4 x 4 grid of p = 8. Measured for one layer of width 128 at batch 256 (forward and
backward, 2-core AMD EPYC Zen 3, ``benchmarks/README.md``): 2.8x faster by the product at k = 9 on
8 x 8, 6.6x at k = 9 on 6 x 6, 8x at k = 5 on 4 x 4; slower (0.25-0.9x) wherever the kernel fits
inside the grid, so those layers keep oneDNN's.

On such small grids all ``n = H W`` output positions of one channel against all ``n`` input
positions fit in an ``n x n`` matrix:

    G[c, o, i] = sum over b of  g[b, c, o] * x[b, c, i]        (one ``bmm`` over the channels)

and every entry belongs to at most one tap ``(u, v)`` — the one that reads input ``i`` for output
``o`` — or to none (outside the kernel). Summing ``G`` by tap (an ``index_add``) gives the
gradient, at ``B n^2`` multiply-adds per channel.

The forward pass and the input gradient stay oneDNN's (they are fast); only the weight gradient
changes, so the function computed is the same up to floating-point rounding.
"""

from __future__ import annotations

import functools

import torch
import torch.nn.functional as F
from torch import nn

from convmixer.layers import DepthwiseConv2d


def matmul_pays(kernel_size: int, height: int, width: int) -> bool:
    """Whether :class:`DepthwiseWeightGradByMatmul` takes the weight gradient of a layer on a
    ``height x width`` grid (before padding): when the kernel is wider than the grid."""
    return kernel_size > min(height, width)


@functools.lru_cache(maxsize=64)
def tap_index(kernel_size: int, padding: int, height: int, width: int) -> torch.Tensor:
    """For an ``height x width`` input: ``index[o, i]`` is the tap ``u * k + v`` that reads input
    position ``i`` for output position ``o``, or ``k * k`` where no tap does. Shape ``(n_out, n)``."""
    k = kernel_size
    out_h, out_w = height + 2 * padding - k + 1, width + 2 * padding - k + 1
    oy, ox = torch.meshgrid(torch.arange(out_h), torch.arange(out_w), indexing="ij")
    iy, ix = torch.meshgrid(torch.arange(height), torch.arange(width), indexing="ij")
    u = iy.reshape(1, -1) - oy.reshape(-1, 1) + padding  # (n_out, n)
    v = ix.reshape(1, -1) - ox.reshape(-1, 1) + padding
    inside = (u >= 0) & (u < k) & (v >= 0) & (v < k)
    return torch.where(inside, u * k + v, torch.full_like(u, k * k))


def _channels_by_positions(t: torch.Tensor) -> torch.Tensor:
    """``(B, C, H, W)`` in either memory format -> ``(C, B, H*W)`` contiguous."""
    batch, channels, height, width = t.shape
    if t.is_contiguous(memory_format=torch.channels_last) and not t.is_contiguous():
        flat = t.permute(0, 2, 3, 1).reshape(batch * height * width, channels)
        return flat.t().contiguous().view(channels, batch, height * width)
    return t.transpose(0, 1).reshape(channels, batch, height * width).contiguous()


def depthwise_weight_grad(x: torch.Tensor, grad_y: torch.Tensor, kernel_size: int, padding: int) -> torch.Tensor:
    """``dL/dw`` of a depth-wise convolution, shape ``(C, 1, k, k)``, by one ``bmm`` (above)."""
    channels, k = x.shape[1], kernel_size
    index = tap_index(k, padding, x.shape[2], x.shape[3]).to(x.device)
    pair_sums = torch.bmm(_channels_by_positions(grad_y).transpose(1, 2), _channels_by_positions(x))
    taps = pair_sums.new_zeros(channels, k * k + 1)
    taps.index_add_(1, index.flatten(), pair_sums.view(channels, -1))
    return taps[:, : k * k].reshape(channels, 1, k, k)


class _DepthwiseConv(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias, padding):  # type: ignore[override]
        ctx.save_for_backward(x, weight)
        ctx.padding, ctx.has_bias = padding, bias is not None
        return F.conv2d(x, weight, bias, padding=padding, groups=x.shape[1])

    @staticmethod
    def backward(ctx, grad_y):  # type: ignore[override]
        x, weight = ctx.saved_tensors
        p, k = ctx.padding, weight.shape[-1]
        grad_x = grad_w = grad_b = None
        if ctx.needs_input_grad[0]:
            grad_x = torch.ops.aten.convolution_backward(
                grad_y, x, weight, None, [1, 1], [p, p], [1, 1], False, [0, 0], x.shape[1], [True, False, False]
            )[0]
        if ctx.needs_input_grad[1]:
            grad_w = depthwise_weight_grad(x, grad_y, k, p)
        if ctx.has_bias and ctx.needs_input_grad[2]:
            grad_b = grad_y.sum((0, 2, 3))
        return grad_x, grad_w, grad_b, None


class DepthwiseWeightGradByMatmul(DepthwiseConv2d):
    """:class:`~convmixer.layers.DepthwiseConv2d` whose weight gradient is one ``bmm`` on grids
    narrower than the kernel (:func:`matmul_pays`); the same parameters, state-dict keys and
    outputs. Under ``torch.compile`` it leaves the layer to the compiler."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        fast_grad = torch.is_grad_enabled() and not torch.compiler.is_compiling()  # inductor: its own
        fast_grad = fast_grad and matmul_pays(self.kernel_size[0], x.shape[2], x.shape[3])
        if self.extra_padding is not None:
            x = F.pad(x, self.extra_padding)
        padding = self.padding[0]
        if not fast_grad:
            return F.conv2d(x, self.weight, self.bias, padding=padding, groups=self.groups)
        return _DepthwiseConv.apply(x, self.weight, self.bias, padding)


def use_matmul_weight_grad(model: nn.Module) -> nn.Module:
    """Make every :class:`DepthwiseConv2d` in ``model`` a :class:`DepthwiseWeightGradByMatmul`, in
    place, and return ``model``.

    The subclass adds no state, so each layer only changes its class: parameters, buffers, hooks
    and state-dict keys stay as they are, and no random numbers are drawn.
    """
    for module in model.modules():
        if type(module) is DepthwiseConv2d:
            module.__class__ = DepthwiseWeightGradByMatmul
    return model
