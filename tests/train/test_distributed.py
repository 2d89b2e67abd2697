"""Two gloo processes on CPU under torchrun: the same command line trains one model on two shards."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import torch
from support import free_port, subprocess_env

from convmixer.train import epoch_order
from convmixer.train.checkpoint import load_checkpoint, load_model
from convmixer.train.distributed import state_digest


def test_epoch_order_shards_are_disjoint_and_equal():
    shards = [epoch_order(103, seed=0, epoch=2, rank=r, world=3) for r in range(3)]
    assert [len(s) for s in shards] == [34, 34, 34]
    everything = torch.cat(shards)
    assert len(set(everything.tolist())) == 102
    assert torch.equal(everything, epoch_order(103, seed=0, epoch=2)[:102])
    assert not torch.equal(epoch_order(103, 0, 3), epoch_order(103, 0, 2))


def torchrun(*args: str) -> list[str]:
    """The command line of two gloo processes on this machine running ``python -m convmixer.train``."""
    return [
        sys.executable, "-m", "torch.distributed.run", "--nnodes=1", "--nproc_per_node=2",
        "--rdzv-backend=c10d", f"--rdzv-endpoint=127.0.0.1:{free_port()}",
        "-m", "convmixer.train", "--profile", "smoke", "--device", "cpu", "--no-progress", *args,
    ]  # fmt: skip


def process_tree(pid: int) -> list[int]:
    """``pid`` and every process descended from it (from Linux's ``/proc``)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):  # the process ended meanwhile
            continue
        children.setdefault(parent, []).append(int(stat.parent.name))
    tree, todo = [], [pid]
    while todo:
        tree.append(todo.pop())
        todo += children.get(tree[-1], [])
    return tree


def test_two_gloo_processes_hold_identical_weights_and_resume_exactly_after_kill_9(trainable_folder, tmp_path):
    """One run goes through; a second one, checkpointing every 4 steps, is killed (torchrun and
    both workers) right after its first checkpoint and resumed: it ends with the same weights."""
    common = [
        "--data", str(trainable_folder.directory), "--cache-dir", str(tmp_path / "cache"),
        "--batch-size", "16", "--epochs", "2", "--checkpoint-every", "4",
    ]  # fmt: skip
    out, killed = tmp_path / "ddp", tmp_path / "killed"
    reference = subprocess.Popen(torchrun(*common, "--out", str(out)), env=subprocess_env(),
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    victim = subprocess.Popen(torchrun(*common, "--out", str(killed)), env=subprocess_env(),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 240
    while not (killed / "checkpoint.pt").exists() and victim.poll() is None and time.monotonic() < deadline:
        time.sleep(0.002)
    for pid in process_tree(victim.pid):  # torchrun starts each worker in a session of its own
        os.kill(pid, signal.SIGKILL)
    victim.wait()
    assert victim.returncode == -signal.SIGKILL, "the run ended before it could be killed"
    stdout, stderr = reference.communicate(timeout=300)
    assert reference.returncode == 0, stdout + stderr

    # Rank 0 alone reports; every rank's digest was compared (all_gather) before it did.
    assert stdout.count("test accuracy") == 1
    assert stdout.count("epoch   2/2") == 1
    assert "(identical on all 2 processes)" in stdout
    digest = stdout.split("weights sha256 ")[1].split()[0]
    assert state_digest(load_model(out)) == digest
    state = load_checkpoint(out)
    assert (state["epoch"], state["step"]) == (2, 0)
    # 240 images, 2 ranks x 8 per step: 15 steps per epoch, each seeing 16 images.
    assert state["scheduler"]["last_epoch"] == 30
    assert len(state["metrics"]["history"]) == 2

    at_kill = load_checkpoint(killed)
    assert (at_kill["epoch"], at_kill["step"]) < (2, 0)  # killed part-way
    resumed = subprocess.run(torchrun(*common, "--out", str(killed), "--resume"), env=subprocess_env(),
                             capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert resumed.stdout.split("weights sha256 ")[1].split()[0] == digest
    final = load_checkpoint(killed)
    for name, tensor in state["optimizer"]["state"].items():
        for key, value in tensor.items():
            assert torch.equal(final["optimizer"]["state"][name][key], value), (name, key)
    assert [r["train_loss"] for r in final["metrics"]["history"]] == [r["train_loss"] for r in state["metrics"]["history"]]
