"""Numbers published outside this project, each with the source it was checked against (the
repository, file and commit read), so that the notebooks and the README quote them from one place.

Two traps this module keeps visible:

- **Which source.** The official ConvMixer repository's README gives one accuracy (81.37 % for
  ConvMixer-1536/20) and no parameter counts; the other two ImageNet accuracies and all parameter
  counts come from open-mmlab/mmpretrain's table of the *converted official weights*.
- **FLOPs or multiply-accumulates.** mmpretrain's "Flops (G)" column counts multiply-accumulates
  (MACs). This project counts FLOPs as ``torch.utils.flop_counter`` does, 2 per MAC, so its numbers
  for the same model are about twice as large.

The paper itself (Trockman & Kolter, "Patches Are All You Need?", arXiv 2201.09792) could not be
read from any stored copy while this was written: none of its tables is quoted here.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Source:
    """Where a number was read: ``repository`` (GitHub ``owner/name``), ``path`` and ``commit``,
    or an issue thread (``path`` = ``"issues/N"``)."""

    repository: str
    path: str
    commit: str | None = None

    @property
    def url(self) -> str:
        if self.path.startswith("issues/"):
            return f"https://github.com/{self.repository}/{self.path}"
        return f"https://github.com/{self.repository}/blob/{self.commit or 'HEAD'}/{self.path}"

    def cite(self) -> str:
        """E.g. ``locuslab/convmixer README.md (commit 4704811)``."""
        if self.path.startswith("issues/"):
            return f"{self.repository} issue #{self.path.split('/', 1)[1]}"
        commit = f" (commit {self.commit[:7]})" if self.commit else ""
        return f"{self.repository} {self.path}{commit}"


OFFICIAL_README = Source("locuslab/convmixer", "README.md", "47048118e95721a00385bfe3122519f4b583b26e")
MMPRETRAIN_TABLE = Source(
    "open-mmlab/mmpretrain", "configs/convmixer/README.md", "09c4815457ceac1bf0e6e25ab20cd0d340ecf6fa"
)
MMPRETRAIN_METAFILE = Source(
    "open-mmlab/mmpretrain", "configs/convmixer/metafile.yml", "4a74b89426fec323952998e2e22f625b4112a2bd"
)
CIFAR10_README = Source("locuslab/convmixer-cifar10", "README.md", "2d3d9b73d3caa6112ecdcea866f1d2805f37cc8e")
TRAINING_TIME_ISSUE = Source("locuslab/convmixer", "issues/12")


@dataclass(frozen=True)
class ImageNetModel:
    """A released ImageNet-1k ConvMixer (224 x 224 images): its name in
    :data:`convmixer.model.CONFIGS`, activation, top-1 accuracy with its source, and mmpretrain's
    parameter count and multiply-accumulates per image (:data:`MMPRETRAIN_METAFILE`)."""

    config: str
    activation: str
    top1: float  # percent
    top1_source: Source
    parameters: int
    macs: int  # mmpretrain's "Flops": multiply-accumulates, not 2-per-MAC FLOPs


IMAGENET: tuple[ImageNetModel, ...] = (
    # The official README: "You should get a `81.37%` accuracy" (validate.py on ConvMixer-1536/20).
    ImageNetModel("convmixer_1536_20", "gelu", 81.37, OFFICIAL_README, 51_625_960, 48_713_170_944),
    # "ConvMixer-768/32 here uses ReLU instead of GELU" (official README); top-1 from mmpretrain.
    ImageNetModel("convmixer_768_32", "relu", 80.16, MMPRETRAIN_TABLE, 21_110_248, 19_623_051_264),
    ImageNetModel("convmixer_1024_20", "gelu", 76.94, MMPRETRAIN_TABLE, 24_383_464, 5_550_112_768),
)

# The official ImageNet training of ConvMixer-1536/20 (official README): 150 epochs on 10 GPUs,
# AdamW, one-cycle schedule, RandAugment (rand-m9-mstd0.5-inc1), mixup 0.5, CutMix 0.5, random
# erasing 0.25, gradient clipping 1.0; ConvMixer-768/32 the same for 300 epochs. The authors
# (issue #12): about 9 days for ConvMixer-1536/20 and 8 days for ConvMixer-768/32 on 10 RTX8000s.
IMAGENET_EPOCHS = {"convmixer_1536_20": 150, "convmixer_768_32": 300}
IMAGENET_TRAINING_DAYS = {"convmixer_1536_20": 9, "convmixer_768_32": 8}


@dataclass(frozen=True)
class CifarScriptResult:
    """A result of the official CIFAR-10 script (:data:`CIFAR10_README`) for ConvMixer-256/8 with
    k = 5 and p = 2: the accuracy the README states, the command it belongs to, and the last test
    accuracy of the README's example log where it shows one."""

    accuracy: str  # as the README words it
    epochs: int
    command: str
    logged_test_accuracy: float | None = None
    last_epoch_seconds: float | None = None  # the example log's last epoch, on one RTX 2080 Ti


CIFAR10_SCRIPT: tuple[CifarScriptResult, ...] = (
    # Not the script's defaults (lr-max 0.01, ra-n 1, ra-m 8, wd 0.01, scale 0.75, jitter 0.1,
    # reprob 0.25); no --clip-norm.
    CifarScriptResult(
        "around 92.5%", 25,
        "python train.py --lr-max=0.05 --ra-n=2 --ra-m=12 --wd=0.005 --scale=1.0 --jitter=0 --reprob=0",
        logged_test_accuracy=0.9260, last_epoch_seconds=42.6,
    ),
    CifarScriptResult(
        "more than 94%", 100,
        "python train.py --lr-max=0.05 --ra-n=2 --ra-m=12 --wd=0.005 --scale=1.0 --jitter=0.2 --reprob=0.2 "
        "--epochs=100",
    ),
)
