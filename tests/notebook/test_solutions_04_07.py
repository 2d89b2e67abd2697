"""The judges of notebooks 04 and 07's code exercises reject typical wrong answers, each with one
sentence that says what went wrong (the right answers are covered by test_exercises.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from convmixer.notebook import check
from convmixer.notebook.exercises import EXERCISES
from convmixer.studies.stats import t_quantile


def verdict(name, answer):
    return EXERCISES[name].judge(answer)


def block_class(forward, norm=True, act=nn.GELU):
    class Block(nn.Module):
        def __init__(self, dim, kernel_size):
            super().__init__()
            self.dw = nn.Conv2d(dim, dim, kernel_size, groups=dim, padding=kernel_size // 2)
            self.n1 = nn.BatchNorm2d(dim) if norm else nn.Identity()
            self.pw = nn.Conv2d(dim, dim, 1)
            self.n2 = nn.BatchNorm2d(dim) if norm else nn.Identity()
            self.act = act()

        def forward(self, z):
            return forward(self, z)

    return Block


def paper(b, z):
    z = z + b.n1(b.act(b.dw(z)))
    return b.n2(b.act(b.pw(z)))


@pytest.mark.parametrize("forward, words", [
    (lambda b, z: b.n2(b.act(b.pw(b.n1(b.act(b.dw(z)))))), "no skip"),
    (lambda b, z: z + b.n2(b.act(b.pw(b.n1(b.act(b.dw(z)))))), "whole block"),
    (lambda b, z: (lambda m: m + b.n2(b.act(b.pw(m))))(z + b.n1(b.act(b.dw(z)))), "second skip"),
    (lambda b, z: b.n2(b.act(b.pw(z + b.act(b.n1(b.dw(z)))))), "normalises before the activation"),
    (lambda b, z: b.n2(b.act(b.pw(z + b.dw(z)))), "raw output"),
])
def test_mixer_block_judge_names_the_misplaced_skip_or_order(forward, words):
    message = verdict("04-mixer-block", block_class(forward))
    assert message is not None and words in message


def test_mixer_block_judge_accepts_the_paper_and_catches_relu_and_a_missing_batchnorm():
    assert verdict("04-mixer-block", block_class(paper)) is None
    assert "ReLU" in verdict("04-mixer-block", block_class(paper, act=nn.ReLU))
    assert "BatchNorm (or a convolution's bias) is missing" in verdict("04-mixer-block", block_class(paper, norm=False))


def test_mixer_block_judge_reports_a_block_that_does_not_keep_the_shape():
    class Unpadded(nn.Module):
        def __init__(self, dim, kernel_size):
            super().__init__()
            self.dw = nn.Conv2d(dim, dim, kernel_size, groups=dim)
            self.n1 = nn.BatchNorm2d(dim)
            self.pw = nn.Conv2d(dim, dim, 1)
            self.n2 = nn.BatchNorm2d(dim)
            self.act = nn.GELU()

        def forward(self, z):
            y = self.n1(self.act(self.dw(z)))
            return self.n2(self.act(self.pw(y)))

    assert "keeps the shape" in verdict("04-mixer-block", Unpadded)


def test_a_failing_block_gets_one_line_with_the_hint(capsys):
    check("04-mixer-block", block_class(lambda b, z: b.n2(b.act(b.pw(b.n1(b.act(b.dw(z))))))))
    out = capsys.readouterr().out.strip()
    assert out.startswith("[04-mixer-block] not yet: your block has no skip connection") and "\n" not in out


def convmixer(h, d, k, p, n, pool=True, skip=True):
    class Residual(nn.Module):
        def __init__(self, fn):
            super().__init__()
            self.fn = fn

        def forward(self, x):
            return self.fn(x) + x if skip else self.fn(x)

    head = [nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten()] if pool else [nn.Flatten()]
    return nn.Sequential(
        nn.Conv2d(3, h, p, stride=p), nn.GELU(), nn.BatchNorm2d(h),
        *[nn.Sequential(Residual(nn.Sequential(nn.Conv2d(h, h, k, groups=h, padding=k // 2), nn.GELU(),
                                               nn.BatchNorm2d(h))),
                        nn.Conv2d(h, h, 1), nn.GELU(), nn.BatchNorm2d(h)) for _ in range(d)],
        *head, nn.Linear(h * (1 if pool else 1), n),
    )


def test_convmixer_judge():
    assert verdict("04-convmixer", convmixer) is None
    assert "differ" in verdict("04-convmixer", lambda *a: convmixer(*a, skip=False))
    no_pool = check_raises_or_says(lambda *a: convmixer(*a, pool=False))
    assert "raised" in no_pool or "AdaptiveAvgPool2d" in no_pool
    assert "nn.Module" in verdict("04-convmixer", lambda *a: None)


def check_raises_or_says(answer):
    try:
        return verdict("04-convmixer", answer)
    except Exception as error:  # check() turns this into "your code raised ..."
        return f"raised {error}"


def test_batchnorm_judge_names_batch_statistics_eps_and_variance():
    def batch_stats(x, bn):
        return nn.functional.batch_norm(x, None, None, bn.weight, bn.bias, training=True, eps=bn.eps)

    def shape(v):
        return v.view(1, -1, 1, 1)

    def no_eps(x, bn):
        return shape(bn.weight) * (x - shape(bn.running_mean)) / shape(bn.running_var).sqrt() + shape(bn.bias)

    def by_variance(x, bn):
        return shape(bn.weight) * (x - shape(bn.running_mean)) / (shape(bn.running_var) + bn.eps) + shape(bn.bias)

    assert "training mode" in verdict("04-batchnorm-eval", batch_stats)
    assert "eps" in verdict("04-batchnorm-eval", no_eps)
    assert "square root" in verdict("04-batchnorm-eval", by_variance)
    assert "tensor" in verdict("04-batchnorm-eval", lambda x, bn: 2.0)


def test_pooled_std_judge():
    def everything(cells):
        return float(np.std([v for c in cells for v in c], ddof=1))

    def by_runs(cells):
        return math.sqrt(sum(sum((a - np.mean(c)) ** 2 for a in c) for c in cells) / sum(len(c) for c in cells))

    def averaged(cells):
        return float(np.mean([np.std(c, ddof=1) for c in cells]))

    def variance(cells):
        return sum(sum((a - np.mean(c)) ** 2 for a in c) for c in cells) / sum(len(c) - 1 for c in cells)

    assert "all runs together" in verdict("07-pooled-std", everything)
    assert "degree of freedom" in verdict("07-pooled-std", by_runs)
    assert "averaged" in verdict("07-pooled-std", averaged)
    assert "square root" in verdict("07-pooled-std", variance)


def test_difference_interval_judge():
    def normal(n_a, n_b, s, dof):
        return 1.96 * s * math.sqrt(1 / n_a + 1 / n_b)

    def standard_error(n_a, n_b, s, dof):
        return s * math.sqrt(1 / n_a + 1 / n_b)

    def summed(n_a, n_b, s, dof):
        return t_quantile(dof) * s * (1 / math.sqrt(n_a) + 1 / math.sqrt(n_b))

    assert "Student's t" in verdict("07-difference-interval", normal)
    assert "standard error" in verdict("07-difference-interval", standard_error)
    assert "quadrature" in verdict("07-difference-interval", summed)


def test_erf_judge():
    def centre_gradient(model, images, train=False, absolute=True):
        model.train(train)
        x = images.clone().requires_grad_(True)
        z = model.stem(x)
        for block in model.blocks:
            z = block(z)
        (g,) = torch.autograd.grad(z[:, :, 4, 4].sum(), x)
        return (g.abs() if absolute else g).sum(dim=1).mean(dim=0)

    assert verdict("07-erf", centre_gradient) is None
    assert "training mode" in verdict("07-erf", lambda m, x: centre_gradient(m, x, train=True))
    assert "magnitude" in verdict("07-erf", lambda m, x: centre_gradient(m, x, absolute=False))
    assert "(32, 32)" in verdict("07-erf", lambda m, x: centre_gradient(m, x)[None])
