"""Does mixed precision hold accuracy, and does it pay, for ConvMixer-256/8 on this CPU?

    python benchmarks/amp_check.py [--batch 32]

One forward + backward of ConvMixer-256/8 (channels-last, training mode) on one random batch in
float32, then under ``torch.autocast`` with bfloat16 and with float16. Prints, for each: the loss
and its relative difference from float32, the relative error ``|g - g32| / |g32|`` and cosine
similarity of the flattened gradient, and the seconds the step took (the second of two). Mind the time: without
AVX-512 BF16/FP16 or AMX, a low-precision step took minutes here.
"""

from __future__ import annotations

import argparse
import sys
import time

import torch
from torch import nn

from convmixer.model import create_model
from convmixer.train.acceleration import Acceleration


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch", type=int, default=32, help="batch size (default 32)")
    args = parser.parse_args(argv)
    if args.batch < 1:
        parser.error("--batch must be >= 1")
    torch.manual_seed(0)
    model = create_model("convmixer_256_8")
    images = torch.randn(args.batch, 3, 32, 32)
    labels = torch.randint(0, 10, (args.batch,))

    def step(dtype: torch.dtype | None) -> tuple[float, torch.Tensor, float]:
        acceleration = Acceleration(channels_last=True, amp_dtype=dtype)
        runner = acceleration.prepare_model(model)
        for _ in range(2):  # time the second step: the first one sets up oneDNN's kernels
            model.zero_grad()
            started = time.perf_counter()
            with acceleration.autocast("cpu"):
                loss = nn.functional.cross_entropy(runner(acceleration.prepare_input(images)), labels)
            loss.backward()
            seconds = time.perf_counter() - started
        return float(loss.detach()), torch.cat([p.grad.flatten() for p in model.parameters()]), seconds

    loss32, grad32, time32 = step(None)
    print(f"float32   loss {loss32:.5f}  {time32:6.1f} s")
    for dtype in (torch.bfloat16, torch.float16):
        loss, grad, seconds = step(dtype)
        error = float((grad - grad32).norm() / grad32.norm())
        cosine = float(nn.functional.cosine_similarity(grad, grad32, dim=0))
        print(
            f"{str(dtype).replace('torch.', ''):<9} loss {loss:.5f} (relative difference {abs(loss - loss32) / loss32:.1e}), "
            f"gradient relative error {error:.3f}, cosine {cosine:.4f}  {seconds:6.1f} s ({seconds / time32:.0f}x float32)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
