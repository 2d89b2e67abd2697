"""Two gloo processes on CPU under torchrun: the same command line trains one model on two shards."""

from __future__ import annotations

import subprocess
import sys

import torch
from support import free_port, subprocess_env

from convmixer.checkpoint import load_checkpoint, load_model
from convmixer.distributed import state_digest
from convmixer.train import epoch_order


def test_epoch_order_shards_are_disjoint_and_equal():
    shards = [epoch_order(103, seed=0, epoch=2, rank=r, world=3) for r in range(3)]
    assert [len(s) for s in shards] == [34, 34, 34]
    everything = torch.cat(shards)
    assert len(set(everything.tolist())) == 102
    assert torch.equal(everything, epoch_order(103, seed=0, epoch=2)[:102])
    assert not torch.equal(epoch_order(103, 0, 3), epoch_order(103, 0, 2))


def test_two_gloo_processes_hold_identical_weights(trainable_folder, tmp_path):
    out = tmp_path / "ddp"
    command = [
        sys.executable, "-m", "torch.distributed.run", "--nnodes=1", "--nproc_per_node=2",
        "--rdzv-backend=c10d", f"--rdzv-endpoint=127.0.0.1:{free_port()}",
        "-m", "convmixer.train", "--profile", "smoke", "--device", "cpu",
        "--data", str(trainable_folder.directory), "--cache-dir", str(tmp_path / "cache"),
        "--batch-size", "16", "--epochs", "2", "--out", str(out), "--no-progress",
    ]  # fmt: skip
    result = subprocess.run(command, env=subprocess_env(), capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr

    # Rank 0 alone reports; every rank's digest was compared (all_gather) before it did.
    assert result.stdout.count("test accuracy") == 1
    assert result.stdout.count("epoch   2/2") == 1
    assert "(identical on all 2 processes)" in result.stdout
    digest = result.stdout.split("weights sha256 ")[1].split()[0]
    assert state_digest(load_model(out)) == digest

    state = load_checkpoint(out)
    assert (state["epoch"], state["step"]) == (2, 0)
    # 240 images, 2 ranks x 8 per step: 15 steps per epoch, each seeing 16 images.
    assert state["scheduler"]["last_epoch"] == 30
    assert len(state["metrics"]["history"]) == 2
