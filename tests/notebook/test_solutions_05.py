"""The solutions of notebook 05's exercises run and give the answers the notebook's checks expect."""

import math
import re

import pytest
import torch
from support import synthetic

from convmixer.notebook.solutions import SOLUTIONS
from convmixer.studies.stats import binomial_standard_error
from convmixer.train import get_profile


def _run(name: str, **namespace) -> dict:
    """Execute the fenced Python code of solution ``name`` in ``namespace``; return it."""
    blocks = re.findall(r"```python\n(.*?)```", SOLUTIONS[name], re.S)
    assert blocks, f"{name} has no code"
    namespace = {"math": math, "torch": torch, **namespace}
    exec("\n".join(blocks), namespace)  # noqa: S102 - the package's own solution text
    return namespace


def test_initial_loss_solution():
    assert _run("05-initial-loss")["expected_initial_loss"] == pytest.approx(math.log(10))


def test_sgd_update_solution_matches_torch_sgd():
    weight, gradient = torch.randn(5), torch.randn(5)
    reference = weight.clone().requires_grad_(True)
    reference.grad = gradient.clone()
    torch.optim.SGD([reference], lr=0.1).step()
    torch.testing.assert_close(_run("05-sgd-update")["sgd_update"](weight, gradient, 0.1), reference.detach())


def test_standard_error_solution():
    standard_error = _run("05-standard-error")["standard_error"]
    for accuracy, images in ((0.8, 5000), (0.5, 10), (1.0, 3)):
        assert standard_error(accuracy, images) == pytest.approx(binomial_standard_error(accuracy, images))


def test_total_steps_solution_counts_full_batches_of_every_epoch():
    train_set = synthetic(per_class=30, seed=0)
    cpu = get_profile("cpu")
    expected = cpu.epochs * (len(train_set.subset(cpu.train_subset, cpu.seed)) // cpu.batch_size)
    assert _run("05-total-steps", get_profile=get_profile, train_set=train_set)["total_steps"] == expected
