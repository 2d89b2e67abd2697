"""Acceleration: the speed settings change how a ConvMixer runs, never what it computes."""

from __future__ import annotations

import copy
import json
import platform
import subprocess
import sys

import pytest
import torch
from support import tiny_model
from torch import nn

from convmixer.train import acceleration
from convmixer.train.acceleration import Acceleration


def batch(size: int = 8) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(1)
    return torch.randn(size, 3, 32, 32, generator=generator), torch.arange(size) % 10


def test_defaults_per_device():
    cpu = Acceleration.for_device("cpu")
    assert (cpu.channels_last, cpu.amp_dtype, cpu.compile, cpu.grid_major) == (True, None, False, True)
    assert cpu.product_dtype == (torch.bfloat16 if acceleration.fast_bfloat16_products() else None)
    cuda = Acceleration.for_device(torch.device("cuda"))  # only builds settings: no GPU needed
    assert (cuda.channels_last, cuda.amp_dtype, cuda.compile) == (True, torch.bfloat16, True)
    assert not cuda.grid_major


@pytest.mark.parametrize("fast", [True, False])
def test_bfloat16_products_only_where_the_cpu_multiplies_bfloat16(fast, monkeypatch):
    monkeypatch.setattr(acceleration, "fast_bfloat16_products", lambda: fast)
    cpu = Acceleration.for_device("cpu")
    assert cpu.product_dtype == (torch.bfloat16 if fast else None)
    runner = cpu.prepare_model(tiny_model())
    assert runner.product_dtype == cpu.product_dtype  # handed to grid-major
    assert Acceleration.for_device(torch.device("cuda")).product_dtype is None  # CUDA: autocast instead


@pytest.mark.parametrize("dtype", [torch.float32, torch.int8, "bfloat16"])
def test_unsupported_amp_dtype_is_one_clear_error(dtype):
    with pytest.raises(ValueError, match="amp_dtype must be None"):
        Acceleration(amp_dtype=dtype)
    with pytest.raises(ValueError, match="product_dtype must be None"):
        Acceleration(product_dtype=dtype)


def test_channels_last_lays_out_weights_and_inputs_and_keeps_the_outputs():
    model, (x, _) = tiny_model().eval(), batch()
    with torch.no_grad():
        expected = model(x)
    acceleration = Acceleration(channels_last=True, grid_major=False)
    runner = acceleration.prepare_model(model)
    assert runner is model  # converted in place, not compiled
    assert model.blocks[0].spatial.conv.weight.is_contiguous(memory_format=torch.channels_last)
    assert model.stem.conv.weight.is_contiguous(memory_format=torch.channels_last)
    prepared = acceleration.prepare_input(x)
    assert prepared.is_contiguous(memory_format=torch.channels_last) and not x.is_contiguous(
        memory_format=torch.channels_last
    )
    with torch.no_grad():
        torch.testing.assert_close(runner(prepared), expected, rtol=1e-5, atol=1e-5)
    assert Acceleration(channels_last=False).prepare_input(x) is x


def test_autocast_is_a_no_op_for_float32_and_casts_otherwise():
    conv, x = nn.Conv2d(3, 4, 3), torch.randn(1, 3, 8, 8)
    with Acceleration(amp_dtype=None).autocast("cpu"):
        assert conv(x).dtype == torch.float32
    with Acceleration(amp_dtype=torch.bfloat16).autocast("cpu"):
        assert conv(x).dtype == torch.bfloat16


def test_fused_adamw_options_give_the_same_update():
    assert Acceleration().optimizer_options("cpu") == {"fused": True}
    assert Acceleration().optimizer_options("meta") == {}
    assert Acceleration(fused_optimizer=False).optimizer_options("cpu") == {}
    x, y = batch()
    models = [tiny_model(), tiny_model()]
    optimizers = [
        torch.optim.AdamW(models[0].parameters(), lr=0.01, weight_decay=0.01),
        torch.optim.AdamW(models[1].parameters(), lr=0.01, weight_decay=0.01, **Acceleration().optimizer_options("cpu")),
    ]
    for _ in range(3):
        for model, optimizer in zip(models, optimizers):
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(x), y).backward()
            optimizer.step()
    for plain, fused in zip(models[0].parameters(), models[1].parameters()):
        torch.testing.assert_close(fused, plain, rtol=1e-4, atol=1e-5)


def test_prepare_optimizer_steps_on_one_thread_and_restores_the_count():
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        model = tiny_model()
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
        assert Acceleration().prepare_optimizer(optimizer) is optimizer
        Acceleration().prepare_optimizer(optimizer)  # a second call adds nothing
        assert len(optimizer._optimizer_step_pre_hooks) == len(optimizer._optimizer_step_post_hooks) == 1
        seen = []
        optimizer.register_step_pre_hook(lambda *_: seen.append(torch.get_num_threads()))
        x, y = batch()
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
        assert seen == [1] and torch.get_num_threads() == 2
        untouched = torch.optim.SGD(model.parameters(), lr=0.1)
        Acceleration(single_thread_optimizer=False).prepare_optimizer(untouched)
        assert not untouched._optimizer_step_pre_hooks
    finally:
        torch.set_num_threads(threads)


def test_optimizer_threads_is_one_cpu_thread_unless_turned_off():
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        with Acceleration().optimizer_threads("cpu"):
            assert torch.get_num_threads() == 1
        assert torch.get_num_threads() == 2
        for acceleration, device in [(Acceleration(single_thread_optimizer=False), "cpu"), (Acceleration(), "cuda")]:
            with acceleration.optimizer_threads(device):
                assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(threads)


# Allocate and free a 64 MiB tensor 14 times; count the page faults of the last 4 allocations, with
# glibc's defaults and then after reuse_freed_host_memory(). (Observed here: with reuse the first
# five allocations still fault while the heap grows, then none do; training's warm-up is the same.)
PAGE_FAULTS = """
import json, resource, torch
from convmixer.train.acceleration import reuse_freed_host_memory
def faults():
    for _ in range(10):
        torch.ones(16 * 2**20)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(4):
        torch.ones(16 * 2**20)
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
default = faults()
applied = reuse_freed_host_memory()
print(json.dumps({"default": default, "applied": applied, "reused": faults()}))
"""


def test_reusing_freed_host_memory_removes_the_page_faults_of_big_tensors():
    # in a fresh process: the setting is process-wide and cannot be undone
    result = json.loads(subprocess.run([sys.executable, "-c", PAGE_FAULTS], capture_output=True, text=True, check=True).stdout)
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        assert result["applied"] is False
        return
    assert result["applied"] is True
    assert result["default"] > 4 * 16_000  # every 64 MiB tensor faulted in anew: >= 16384 pages each
    assert result["reused"] < 1_000


def test_compiled_model_trains_and_predicts_like_the_eager_one():
    """torch.compile (inductor, with our options) on a tiny model: same loss, gradients and
    eval-mode outputs as eager float32. Compiling takes ~20-40 s on 2 CPU cores."""
    eager = tiny_model(depth=1)
    compiled_model = copy.deepcopy(eager)
    acceleration = Acceleration(channels_last=True, compile=True)
    runner = acceleration.prepare_model(compiled_model)
    assert runner is not compiled_model
    assert runner.state_dict().keys() != compiled_model.state_dict().keys()  # hence: save the model
    x, y = batch()
    loss_eager = nn.functional.cross_entropy(eager(x), y)
    loss_compiled = nn.functional.cross_entropy(runner(acceleration.prepare_input(x)), y)
    torch.testing.assert_close(loss_compiled, loss_eager, rtol=1e-5, atol=1e-5)
    loss_eager.backward()
    loss_compiled.backward()
    for (name, p_eager), p_compiled in zip(eager.named_parameters(), compiled_model.parameters()):
        torch.testing.assert_close(p_compiled.grad, p_eager.grad, rtol=1e-4, atol=1e-5, msg=name)
    eager.eval(), runner.eval()
    with torch.no_grad():
        torch.testing.assert_close(runner(acceleration.prepare_input(x)), eager(x), rtol=1e-5, atol=1e-5)
