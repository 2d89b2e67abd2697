"""Which test-time augmentation for the cpu recipe? Views compared on a validation split.

    python benchmarks/tta_variants.py --out runs/tta-validation    # ~17 min of training, then ~2 min

Trains the ``cpu`` profile with ``fit`` on the 45,000 training images that
``convmixer.data.splits.hold_out(per_class=500, seed=0)`` leaves (the split of the studies), or
resumes the finished run in ``--out``, then classifies the 5,000 held-out images with several sets
of views of each image -- none, the mirror image, one-pixel shifts in two, four or eight
directions, a two-pixel shift, zero instead of reflect padding, equal instead of half weights --
and prints each set's accuracy and, against the package's ``flip-shift``, the images gained and
lost with a paired two-standard-error margin, ``2 sqrt(gained + lost) / n``. The test split is not
read. Writes ``benchmarks/results/tta_variants.json``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

from convmixer.data.augment import prepare_images
from convmixer.data.sources import load_cifar10
from convmixer.records import write_record_file
from convmixer.data.splits import hold_out
from convmixer.machine import machine_info, utc_timestamp
from convmixer.train import fit, get_profile, predict
from convmixer.train.evaluate import shift_images

RESULTS = Path(__file__).resolve().parent / "results" / "tta_variants.json"
Shift = tuple[float, int, int, str]  # weight, rows down, columns right, padding


def both(weight: float, down: int, right: int, padding: str = "reflect") -> list[Shift]:
    """A shifted view and its mirror image (``flip`` is encoded as the sign of ``weight``)."""
    return [(weight, down, right, padding), (-weight, down, right, padding)]


NEIGHBOURS = [(down, right) for down in (-1, 0, 1) for right in (-1, 0, 1) if down or right]
VARIANTS: dict[str, list[Shift]] = {
    "none": [(1.0, 0, 0, "reflect")],
    "flip": both(1, 0, 0),
    "flip-shift (the package's)": both(1, 0, 0) + both(0.5, 1, 1) + both(0.5, -1, -1),
    "flip-shift, equal weights": both(1, 0, 0) + both(1, 1, 1) + both(1, -1, -1),
    "flip-shift, zero padding": both(1, 0, 0) + both(0.5, 1, 1, "zero") + both(0.5, -1, -1, "zero"),
    "flip-shift, 2-pixel shifts": both(1, 0, 0) + both(0.5, 2, 2) + both(0.5, -2, -2),
    "flip x 4 diagonal 1-pixel shifts (10 views)": both(1, 0, 0) + [v for d in (-1, 1) for r in (-1, 1) for v in both(0.5, d, r)],
    "flip x 4 axis 1-pixel shifts (10 views)": both(1, 0, 0) + [v for d, r in ((1, 0), (-1, 0), (0, 1), (0, -1)) for v in both(0.5, d, r)],
    "flip x 8 neighbours (18 views)": both(1, 0, 0) + [v for d, r in NEIGHBOURS for v in both(0.5, d, r)],
}
REFERENCE = "flip-shift (the package's)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, help="run folder (resumed if it holds the finished run)")
    parser.add_argument("--data", help="CIFAR-10 source (default: $CONVMIXER_DATA)")
    args = parser.parse_args(argv)
    train, validation = hold_out(load_cifar10("train", args.data), per_class=500, seed=0)
    profile = get_profile("cpu").replace(tta="none")
    model = fit(profile, train=train, test=validation, out=args.out, resume=True, device="cpu", verbose=True).model
    images, labels = prepare_images(validation.images), validation.labels
    probabilities: dict[tuple[bool, int, int, str], torch.Tensor] = {}

    def view_probabilities(mirrored: bool, down: int, right: int, padding: str) -> torch.Tensor:
        key = (mirrored, down, right, padding)
        if key not in probabilities:
            view = shift_images(images, down, right, "constant" if padding == "zero" else padding)
            view = view.flip(-1) if mirrored else view
            with torch.inference_mode():
                probabilities[key] = torch.cat([model(batch).softmax(1) for batch in view.split(500)])
        return probabilities[key]

    correct = {}
    for name, views in VARIANTS.items():
        total = sum(abs(w) * view_probabilities(w < 0, down, right, padding) for w, down, right, padding in views)
        correct[name] = total.argmax(1) == labels
        if name == REFERENCE:  # the spelled-out views are the package's
            expected = predict(model, validation.images, tta="flip-shift").softmax(1)
            torch.testing.assert_close(total / sum(abs(view[0]) for view in views), expected)
    rows = []
    for name, right in correct.items():
        gained = int((right & ~correct[REFERENCE]).sum())
        lost = int((correct[REFERENCE] & ~right).sum())
        rows.append({
            "views": name, "count": len(VARIANTS[name]), "accuracy": float(right.double().mean()),
            "gained": gained, "lost": lost, "margin": 2 * (gained + lost) ** 0.5 / len(labels),
        })
        print(f"{100 * rows[-1]['accuracy']:6.2f} %  {name:<45} vs {REFERENCE}: +{gained} / -{lost} images "
              f"({100 * (gained - lost) / len(labels):+.2f} +- {100 * rows[-1]['margin']:.2f} points)")
    record = {"date": utc_timestamp(), "machine": machine_info(), "profile": profile.to_dict(),
              "split": {"train": len(train), "validation": len(validation)}, "variants": rows}
    write_record_file(RESULTS, "convmixer TTA variants", 1, record)
    print(f"-> {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
