"""The command line: ``python -m convmixer.train`` (also under ``torchrun``).

    python -m convmixer.train --profile cpu --data cifar10-jpeg.zip --out runs/cpu [--resume]
    torchrun --nproc_per_node=2 -m convmixer.train --profile gpu --out runs/gpu
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path
from typing import Any, Sequence

import torch

from convmixer.model import CONFIGS
from convmixer.train import distributed
from convmixer.train.acceleration import Acceleration
from convmixer.train.engine import fit
from convmixer.train.evaluate import TTA_MODES
from convmixer.train.profiles import PROFILES, TrainProfile, get_profile


def build_parser() -> argparse.ArgumentParser:
    """The command-line interface of ``python -m convmixer.train``."""
    parser = argparse.ArgumentParser(
        prog="python -m convmixer.train",
        description="Train a ConvMixer on CIFAR-10 (also under torchrun for several processes).",
    )
    parser.add_argument("--profile", choices=list(PROFILES), help="training recipe (default: gpu with CUDA, else cpu)")
    parser.add_argument("--config", choices=sorted(CONFIGS), help="model config (default: the profile's)")
    parser.add_argument("--epochs", type=int, help="override the profile's number of epochs")
    parser.add_argument("--batch-size", type=int, help="override the profile's (global) batch size")
    parser.add_argument("--lr", type=float, help="override the profile's peak learning rate")
    parser.add_argument("--seed", type=int, help="override the profile's seed")
    parser.add_argument("--train-subset", type=int, help="train on this many images")
    parser.add_argument("--test-subset", type=int, help="evaluate on this many images")
    parser.add_argument("--tta", choices=TTA_MODES, help="test-time augmentation of the final evaluation (default: the profile's)")
    parser.add_argument("--data", help="CIFAR-10 source: image folder, .zip or torchvision root (default: $CONVMIXER_DATA)")
    parser.add_argument("--cache-dir", help="where decoded images are cached (default: ~/.cache/convmixer)")
    parser.add_argument("--out", help="output folder for checkpoint.pt and history.json (default: runs/<profile>)")
    parser.add_argument("--resume", action="store_true", help="continue from the checkpoint in --out, if any")
    parser.add_argument("--checkpoint-every", type=int, default=0, help="also checkpoint every N steps")
    parser.add_argument("--device", help="cpu, cuda, ... (default: cuda when available)")
    parser.add_argument("--compile", action=argparse.BooleanOptionalAction, help="torch.compile the model (default: on CUDA only)")
    parser.add_argument("--bf16-products", action=argparse.BooleanOptionalAction,
                        help="grid-major's matrix products on bfloat16 inputs (default: where the CPU has bfloat16 instructions)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser


def profile_from_args(args: argparse.Namespace) -> TrainProfile:
    """The profile named by ``--profile`` with the command line's overrides applied
    (``--config`` replaces the model and drops the profile's model overrides)."""
    name = args.profile or ("gpu" if torch.cuda.is_available() else "cpu")
    profile = get_profile(name)
    changes: dict[str, Any] = {}
    if args.config is not None:
        changes.update(model=args.config, model_overrides={})
    for option in ("epochs", "batch_size", "lr", "seed", "train_subset", "test_subset", "tta"):
        if getattr(args, option) is not None:
            changes[option] = getattr(args, option)
    return profile.replace(**changes)


def acceleration_from_args(args: argparse.Namespace, device: torch.device) -> Acceleration:
    """The device's defaults (:meth:`Acceleration.for_device`), with ``--compile`` / ``--no-compile``
    and ``--bf16-products`` / ``--no-bf16-products``."""
    changes: dict[str, Any] = {}
    if args.compile is not None:
        changes["compile"] = args.compile
    if args.bf16_products is not None:
        changes["product_dtype"] = torch.bfloat16 if args.bf16_products else None
    return dataclasses.replace(Acceleration.for_device(device), **changes)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m convmixer.train``; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        profile = profile_from_args(args)
        device = distributed.setup(args.device)
        result = fit(
            profile,
            data=args.data,
            out=Path(args.out or Path("runs") / profile.name),
            resume=args.resume,
            device=device,
            acceleration=acceleration_from_args(args, device),
            progress=not args.no_progress,
            cache_dir=args.cache_dir,
            checkpoint_every=args.checkpoint_every,
            verbose=True,
        )
    except ValueError as error:  # bad input, data or checkpoint: one sentence, no traceback
        print(f"error: {error}", file=sys.stderr)
        return 2
    finally:
        rank, world = distributed.rank(), distributed.world_size()
        distributed.shutdown()
    if rank == 0:
        evaluation = result.evaluation
        print(
            f"test accuracy {100 * evaluation.accuracy:.2f}% on {int(evaluation.confusion.sum())} images; "
            f"checkpoint {result.checkpoint}; weights sha256 {result.digest}"
            + (f" (identical on all {world} processes)" if world > 1 else "")
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
