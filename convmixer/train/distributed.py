"""The few collective operations the trainer needs, as no-ops when running in one process.

Launched by ``torchrun --nproc_per_node=N`` (which sets ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``
and the rendezvous address), :func:`setup` joins the process group: gloo on CPU, NCCL on CUDA.
Each process (rank) trains on its own shard of every epoch; DistributedDataParallel averages
the gradients so that all ranks take the same optimizer step and hold the same weights.
"""

from __future__ import annotations

import hashlib
import os

import torch
import torch.distributed as dist
from torch import nn


def is_distributed() -> bool:
    """True inside an initialised process group of more than one process."""
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def rank() -> int:
    """This process's index in the group (0 when not distributed)."""
    return dist.get_rank() if is_distributed() else 0


def world_size() -> int:
    """Number of processes in the group (1 when not distributed)."""
    return dist.get_world_size() if is_distributed() else 1


def setup(device: str | None = None) -> torch.device:
    """Join the process group described by torchrun's environment variables, if any, and
    return the device this process should use.

    ``device`` (e.g. ``"cpu"``, ``"cuda"``) defaults to CUDA when available. Under torchrun with
    CUDA each process takes ``cuda:LOCAL_RANK``.
    """
    chosen = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return chosen
    if chosen.type == "cuda":
        chosen = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        torch.cuda.set_device(chosen)
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if chosen.type == "cuda" else "gloo")
    return chosen


def shutdown() -> None:
    """Leave the process group (if one was joined)."""
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def all_reduce_sum(tensor: torch.Tensor) -> torch.Tensor:
    """Sum ``tensor`` over all ranks, in place; returns it."""
    if is_distributed():
        dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
    return tensor


def barrier() -> None:
    """Wait until every rank gets here."""
    if is_distributed():
        dist.barrier()


def broadcast_buffers(module: nn.Module) -> None:
    """Copy rank 0's buffers (BatchNorm running statistics) to every rank.

    DistributedDataParallel broadcasts buffers at the start of each forward pass, so after the
    last step of an epoch each rank still holds the statistics of its own last batch.
    """
    if is_distributed():
        for buffer in module.buffers():
            dist.broadcast(buffer, src=0)


def state_digest(module: nn.Module) -> str:
    """SHA-256 of every parameter and buffer of ``module`` (names, shapes and exact bytes)."""
    digest = hashlib.sha256()
    for name, tensor in module.state_dict().items():
        data = tensor.detach().cpu().contiguous()
        digest.update(f"{name}|{tuple(data.shape)}|{data.dtype}".encode())
        digest.update(data.view(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def check_replicas_identical(module: nn.Module) -> str:
    """Gather every rank's :func:`state_digest`; raise ``RuntimeError`` unless all agree.
    Returns the digest."""
    mine = state_digest(module)
    if not is_distributed():
        return mine
    digests: list[str] = [""] * world_size()
    dist.all_gather_object(digests, mine)
    if len(set(digests)) != 1:
        raise RuntimeError(f"the {len(digests)} replicas hold different weights: digests {digests}")
    return mine
