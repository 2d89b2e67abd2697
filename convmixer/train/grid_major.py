"""ConvMixer's forward pass with every activation a ``(h, B, n)`` array: all of it matrix products.

``fit``'s default memory format, channels-last, stores a feature map as ``(B, H, W, h)``: the
point-wise convolution is one matrix product, but the depth-wise one is oneDNN's direct
convolution, and on the ``cpu`` profile's 8 x 8 grid it took the largest share of the training
step (``benchmarks/results/archive/step_breakdown-cpu-2026-12-06.json``). Stored *grid-major*
instead, channel by channel, ``z[c]`` is a ``(B, n)`` matrix with ``n = H' W'`` grid positions,
and on a small grid the whole ConvMixer is matrix products:

- the stem: the ``p x p`` patches as the rows of a ``(B n, c_in p^2)`` matrix, times the stem's
  ``(c_in p^2, h)`` weight;
- the depth-wise convolution of channel ``c``: ``z[c] T[c]^T``, where ``T[c]`` is the ``n x n``
  matrix whose row ``o`` holds the kernel's taps at the input positions output ``o`` reads (zero
  elsewhere): one ``bmm`` over the channels, ``B n^2`` multiply-adds per channel instead of
  ``B n k^2``, at matrix-product speed. Its weight gradient sums ``G[c] = g[c]^T z[c]`` tap by
  tap (:func:`tap_sums`);
- the point-wise convolution: ``W (h x h)`` times the ``(h, B n)`` matrix;
- BatchNorm: the statistics of each channel's row over batch and grid, what the module computes on
  the ``(1, h, B n, 1)`` view, gathered in float32 (:func:`batch_norm_rows`; PyTorch gathers a
  float32 map's in double precision, the slower way: ``benchmarks/README.md``, "BatchNorm's
  statistics in float32 and the taps as products");
- the head: the mean over the grid, then the linear layer.

:class:`GridMajorConvMixer` runs a :class:`~convmixer.model.ConvMixer` this way when it trains
(gradients on), :func:`grid_major_pays` and the blocks have the paper's skip placement, in float32
and not under ``torch.compile``; otherwise it calls the model. What grid-major buys is the
backward pass: oneDNN's depth-wise weight gradient is slow when the kernel is wide against the
grid, while its forward pass is not, and grid-major's forward does ``n^2`` multiply-adds per
channel and image where the direct convolution does ``n k^2``; so inference (no gradients) runs
the model itself (run grid-major, the ``cpu`` model's inference was 0.74x timm's:
``benchmarks/README.md``). Same parameters, buffers and function (up to floating-point rounding). Where the CPU multiplies
bfloat16 in hardware, the engine rounds the products' inputs and results to bfloat16
(``product_dtype``, :class:`~convmixer.train.acceleration.Acceleration`); BatchNorm, GELU and the
weights stay float32.
"""

from __future__ import annotations

import functools

import torch
from torch import nn

from convmixer.layers import ConvActNorm, check_image, same_padding
from convmixer.model import ConvMixer

# Grid-major when the grid has at most this many positions per kernel tap, n <= 4 k^2: the
# product's B n^2 multiply-adds against the direct convolution's B n k^2. Measured on the whole
# training step (benchmarks/results/grid_major-cpu.json, 2-core AMD EPYC): faster at every
# n / k^2 up to 4.0 in the table, slower at 7.1 and 10.2.
POSITIONS_PER_TAP = 4


def grid_major_pays(kernel_size: int, grid_height: int, grid_width: int) -> bool:
    """Whether :class:`GridMajorConvMixer` computes a model of kernel size ``k`` grid-major on an
    ``grid_height x grid_width`` grid: when ``n <= POSITIONS_PER_TAP * k^2``."""
    return grid_height * grid_width <= POSITIONS_PER_TAP * kernel_size * kernel_size


@functools.lru_cache(maxsize=64)
def tap_of_pair(kernel_size: int, height: int, width: int) -> torch.Tensor:
    """``index[o, i]``: the tap ``u k + v`` with which output position ``o`` of a "same"
    depth-wise convolution reads input position ``i`` of an ``height x width`` grid, or ``k^2``
    where it does not read it. Shape ``(n, n)``."""
    k, (before, _) = kernel_size, same_padding(kernel_size)
    y, x = torch.meshgrid(torch.arange(height), torch.arange(width), indexing="ij")
    u = y.reshape(1, -1) - y.reshape(-1, 1) + before  # (output, input)
    v = x.reshape(1, -1) - x.reshape(-1, 1) + before
    inside = (u >= 0) & (u < k) & (v >= 0) & (v < k)
    return torch.where(inside, u * k + v, torch.full_like(u, k * k))


@functools.lru_cache(maxsize=64)
def tap_selector(kernel_size: int, height: int, width: int, dtype: torch.dtype = torch.float32,
                 device: torch.device | str = "cpu") -> torch.Tensor:
    """``E[t, o n + i] = 1`` where output ``o`` reads input ``i`` with tap ``t`` (:func:`tap_of_pair`),
    else 0; shape ``(k^2, n^2)``. It turns both directions of the tap bookkeeping into small matrix
    products: the ``(h, k^2)`` taps times ``E`` are the matrices ``T[c]`` (:func:`depthwise_matrices`),
    and ``G[c]`` times ``E^T`` sums ``G`` by tap (:func:`tap_sums`)."""
    index = tap_of_pair(kernel_size, height, width).reshape(-1)
    selector = torch.zeros(kernel_size * kernel_size + 1, index.numel(), dtype=dtype)
    selector[index, torch.arange(index.numel())] = 1  # row k^2 collects the pairs no tap connects
    return selector[:-1].to(device)


def depthwise_matrices(weight: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """The ``(h, n, n)`` matrices ``T[c]`` of a depth-wise kernel ``(h, 1, k, k)`` on a grid: every
    entry one tap of the kernel or zero (:func:`tap_selector`)."""
    channels, k, n = weight.shape[0], weight.shape[-1], height * width
    selector = tap_selector(k, height, width, weight.dtype, weight.device)
    return weight.reshape(channels, k * k).mm(selector).view(channels, n, n)


def tap_sums(pairs: torch.Tensor, kernel_size: int, height: int, width: int) -> torch.Tensor:
    """Sum ``G[c, o, i]`` (shape ``(h, n, n)``) by the tap with which output ``o`` reads input
    ``i`` (:func:`tap_of_pair`): the weight gradient, shape ``(h, 1, k, k)``."""
    k = kernel_size
    selector = tap_selector(k, height, width, pairs.dtype, pairs.device)
    return pairs.reshape(pairs.shape[0], -1).mm(selector.t()).view(-1, 1, k, k)


def product_inputs(dtype: torch.dtype | None, *tensors: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """``tensors`` rounded to ``dtype`` for a matrix product (``None``: as they are). A bfloat16
    product sums in float32 inside and rounds its result to bfloat16, which the caller widens back
    to float32: what ``torch.autocast`` does to CUDA's products."""
    return tensors if dtype is None else tuple(t.to(dtype) for t in tensors)


class _GridMajorDepthwise(torch.autograd.Function):
    """``y[c] = z[c] T[c]^T + b[c]`` on ``(h, B, n)`` arrays, with the weight gradient by tap; the
    products' inputs in ``dtype`` (:func:`product_inputs`)."""

    @staticmethod
    def forward(ctx, z, weight, bias, height, width, dtype):  # type: ignore[override]
        z_in, matrices = product_inputs(dtype, z, depthwise_matrices(weight, height, width))
        ctx.save_for_backward(z_in, matrices)
        ctx.shape = (weight.shape[-1], height, width)
        y = torch.bmm(z_in, matrices.transpose(1, 2))
        if bias is None:
            return y.to(z.dtype)
        return torch.add(y, bias.view(-1, 1, 1)).to(z.dtype)  # widened to float32 as the bias is added

    @staticmethod
    def backward(ctx, grad_y):  # type: ignore[override]
        z_in, matrices = ctx.saved_tensors
        k, height, width = ctx.shape
        g, = product_inputs(z_in.dtype, grad_y)
        grad_z = torch.bmm(g, matrices).to(grad_y.dtype) if ctx.needs_input_grad[0] else None
        grad_w = grad_b = None
        if ctx.needs_input_grad[1]:  # G: (h, n, n)
            grad_w = tap_sums(torch.bmm(g.transpose(1, 2), z_in).to(grad_y.dtype), k, height, width)
        if ctx.needs_input_grad[2]:
            grad_b = grad_y.sum((1, 2))
        return grad_z, grad_w, grad_b, None, None, None


def grid_major_depthwise(z: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None, height: int,
                         width: int, dtype: torch.dtype | None = None) -> torch.Tensor:
    """A "same" depth-wise convolution of kernel ``weight`` ``(h, 1, k, k)`` on the ``(h, B, n)``
    array ``z`` of an ``height x width`` grid, differentiable: ``z[c] T[c]^T + b[c]``, its products
    on inputs rounded to ``dtype`` (``None``: ``z``'s own)."""
    return _GridMajorDepthwise.apply(z, weight, bias, height, width, dtype)


class _PointwiseProduct(torch.autograd.Function):
    """``y = W z + b`` on an ``(h, B n)`` matrix: the forward pass as one ``mm`` and the bias added as
    the result is widened back to float32 (one pass over it), the backward pass as two ``mm``.

    On ``(128 x 128) @ (128 x 16,384)`` (the ``cpu`` model at batch 256) ``addmm`` runs its bias
    through a slower path than ``mm`` and an in-place add; oneDNN's 1 x 1 convolution of the same
    memory viewed as a ``(1, h, B n, 1)`` image, the forward pass here until 7 December, was faster
    than ``addmm`` on a Zen 3 container but much slower than ``mm`` on a Zen 4 one
    (``benchmarks/README.md``, "The same step on a Zen 4 container").
    """

    @staticmethod
    def forward(ctx, z, weight, bias, dtype):  # type: ignore[override]
        z_in, weight_in = product_inputs(dtype, z, weight)
        ctx.save_for_backward(z_in, weight_in)
        return torch.add(weight_in.mm(z_in), bias[:, None]).to(z.dtype)  # widened as the bias is added

    @staticmethod
    def backward(ctx, grad_y):  # type: ignore[override]
        z_in, weight_in = ctx.saved_tensors
        g, = product_inputs(z_in.dtype, grad_y)
        grad_z = weight_in.t().mm(g).to(grad_y.dtype) if ctx.needs_input_grad[0] else None
        grad_w = g.mm(z_in.t()).to(grad_y.dtype) if ctx.needs_input_grad[1] else None
        grad_b = grad_y.sum(1) if ctx.needs_input_grad[2] else None
        return grad_z, grad_w, grad_b, None


def pointwise_product(z: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor,
                      dtype: torch.dtype | None = None) -> torch.Tensor:
    """The point-wise convolution on the ``(h, B, n)`` array ``z``: ``W z + b`` with ``W`` the
    ``(h_out, h)`` matrix of the ``(h_out, h, 1, 1)`` ``weight``, differentiable, its products on
    inputs rounded to ``dtype`` (``None``: ``z``'s own)."""
    flat = _PointwiseProduct.apply(z.view(z.shape[0], -1), weight.reshape(weight.shape[0], -1), bias, dtype)
    return flat.view(-1, *z.shape[1:])


class _RowBatchNorm(torch.autograd.Function):
    """Training-mode BatchNorm of the rows of an ``(h, N)`` matrix: ``x_hat = (a - mu) / sqrt(var +
    eps)``, ``y = gamma x_hat + beta``, with ``mu`` and the biased ``var`` of each row. Returns ``y``
    and the row statistics (not differentiated).

    The same function as ``torch.batch_norm`` on the ``(1, h, N, 1)`` view, faster forward on the
    CPU: PyTorch gathers a float32 map's statistics in double precision, which on the ``cpu``
    model's ``(128, 16384)`` rows took longer than the two passes here (a sum for the mean, the
    squared norm of the centred rows for the variance) plus the normalising one. The backward pass is
    PyTorch's own (``native_batch_norm_backward``), given the saved mean and ``1 / sqrt(var + eps)``.
    """

    @staticmethod
    def forward(ctx, a, weight, bias, eps):  # type: ignore[override]
        n = a.shape[1]
        mean = a.sum(1).div_(n)
        centered = a - mean[:, None]
        var = torch.linalg.vector_norm(centered, dim=1).square_().div_(n)
        invstd = (var + eps).rsqrt_()
        ctx.save_for_backward(a, weight, mean, invstd)
        ctx.eps = eps
        ctx.mark_non_differentiable(mean, var)
        return centered.mul_((weight * invstd)[:, None]).add_(bias[:, None]), mean, var

    @staticmethod
    def backward(ctx, grad_y, _grad_mean, _grad_var):  # type: ignore[override]
        a, weight, mean, invstd = ctx.saved_tensors
        image = (1, *a.shape, 1)
        grad_a, grad_w, grad_b = torch.ops.aten.native_batch_norm_backward(
            grad_y.contiguous().view(image), a.view(image), weight, None, None, mean, invstd, True, ctx.eps,
            list(ctx.needs_input_grad[:3]),
        )
        return None if grad_a is None else grad_a.view(a.shape), grad_w, grad_b, None


def batch_norm_rows(norm: nn.BatchNorm2d, a: torch.Tensor) -> torch.Tensor:
    """``norm`` applied to the ``(h, N)`` matrix ``a`` as to the ``(1, h, N, 1)`` image, running
    statistics and all; in training mode through :class:`_RowBatchNorm`."""
    n = a.shape[1]
    if not (norm.training and norm.affine and n > 1):  # evaluation, no affine weights, or one value a row
        return norm(a.view(1, *a.shape, 1)).view(a.shape)
    y, mean, var = _RowBatchNorm.apply(a.contiguous(), norm.weight, norm.bias, norm.eps)
    if norm.track_running_stats:  # as nn.BatchNorm2d does: count the batch, move the averages
        with torch.no_grad():
            norm.num_batches_tracked.add_(1)
            momentum = 1 / norm.num_batches_tracked.item() if norm.momentum is None else norm.momentum
            norm.running_mean.lerp_(mean, momentum)
            norm.running_var.lerp_(var * (n / (n - 1)), momentum)  # the unbiased variance, as PyTorch keeps
    return y


def _act_norm(stage: ConvActNorm, y: torch.Tensor) -> torch.Tensor:
    """The stage's activation, then its BatchNorm over batch and grid, on a ``(h, B, n)`` array."""
    return batch_norm_rows(stage.norm, stage.act(y).view(y.shape[0], -1)).view(y.shape)


class GridMajorConvMixer(nn.Module):
    """Runs ``model`` grid-major (module docstring) where that pays, else calls it; ``model`` is
    kept as ``self.model`` (save and load checkpoints through it). ``product_dtype``: the depth-wise
    and point-wise products on inputs rounded to it (``torch.bfloat16``), their results rounded
    too and widened back to float32 (:func:`product_inputs`); ``None``: float32 throughout."""

    def __init__(self, model: ConvMixer, product_dtype: torch.dtype | None = None) -> None:
        super().__init__()
        self.model = model
        self.product_dtype = product_dtype

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        config, p = self.model.config, self.model.config.patch_size
        check_image(images, config.in_channels, p)
        height, width = images.shape[-2] // p, images.shape[-1] // p
        plain = torch.compiler.is_compiling() or torch.is_autocast_enabled(images.device.type)
        if plain or not torch.is_grad_enabled():  # inference: oneDNN's forward pass is the faster one
            return self.model(images)
        if config.residual != "depthwise" or not grid_major_pays(config.kernel_size, height, width):
            return self.model(images)  # the compiler, autocast and other skips get the model itself
        stem = self.model.stem
        z = self._embed(images, height, width)
        z = _act_norm(stem, z)
        for block in self.model.blocks:
            dw = block.spatial.conv
            spatial = grid_major_depthwise(z, dw.weight, dw.bias, height, width, self.product_dtype)
            z = z + _act_norm(block.spatial, spatial)
            pw = block.channel.conv
            z = _act_norm(block.channel, pointwise_product(z, pw.weight, pw.bias, self.product_dtype))
        return self.model.head.fc(z.mean(2).t())

    def _embed(self, images: torch.Tensor, height: int, width: int) -> torch.Tensor:
        """The stem's convolution as one product: ``(h, c_in p^2) @ (c_in p^2, B n)`` -> ``(h, B, n)``."""
        conv, p, batch = self.model.stem.conv, self.model.config.patch_size, images.shape[0]
        # (B, c, H', p, W', p) -> (c, p, p, B, H', W'): every patch a column, in the weight's order
        patches = images.reshape(batch, -1, height, p, width, p).permute(1, 3, 5, 0, 2, 4)
        columns = patches.reshape(conv.in_channels * p * p, batch * height * width)
        z = torch.addmm(conv.bias.view(-1, 1), conv.weight.reshape(conv.out_channels, -1), columns)
        return z.view(-1, batch, height * width)
