"""Stand-ins for notebook 07's tests: stored study runs with known accuracies, and a training
function that records what it was asked to train and returns a known result at once."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from convmixer import ConvMixer, ConvMixerConfig
from convmixer.analysis.cost import count_parameters
from convmixer.data.sources import CIFAR10_CLASSES, ImageDataset
from convmixer.studies.kernel_depth import SweepRun
from convmixer.train import EpochRecord, Evaluation, FitResult, TrainProfile


def epoch_record(epoch: int, train_loss: float, loss: float, accuracy: float, seconds: float,
                 split: str = "validation", images: int = 5_000) -> EpochRecord:
    """An epoch as fit records it, evaluated on ``images`` images of ``split``."""
    return EpochRecord(epoch, train_loss, loss, accuracy, split, images, 0.01, seconds, 1000.0)


def sweep_run(k: int, d: int, seed: int = 0, accuracy: float = 0.5, speed: float = 100.0) -> SweepRun:
    """A stored run of ConvMixer-64/d with p = 4: real parameter count, made-up FLOPs and speed."""
    return SweepRun(
        kernel_size=k, depth=d, dim=64, patch_size=4, seed=seed,
        parameters=count_parameters(ConvMixer(ConvMixerConfig(dim=64, depth=d, kernel_size=k, patch_size=4))),
        flops=1000 * (k * k + 64) * d, receptive_field=4 * (1 + d * (k - 1)), validation_accuracy=accuracy,
        validation_loss=1.5, validation_images=5_000, train_loss=1.4, train_images_per_second=speed,
        train_seconds=10.0 * d, wall_seconds=12.0 * d,
        history=(epoch_record(1, 1.8, 1.7, accuracy - 0.1, 5.0 * d), epoch_record(2, 1.4, 1.5, accuracy, 5.0 * d)),
    )


def sweep_grid() -> list[SweepRun]:
    """k in {3, 5, 9} x d in {2, 4} at seed 0 (accuracy 0.40 + 0.01 k + 0.02 d), and k5 d4 again
    with seeds 1 and 2 (0.52, 0.505): cell k5 d4 holds 0.53, 0.52, 0.505."""
    runs = [sweep_run(k, d, accuracy=0.40 + 0.01 * k + 0.02 * d, speed=1000 / (k * d))
            for d in (2, 4) for k in (3, 5, 9)]
    return runs + [sweep_run(5, 4, seed=1, accuracy=0.52), sweep_run(5, 4, seed=2, accuracy=0.505)]


def tiny_data(count: int = 20, split: str = "test") -> ImageDataset:
    generator = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (count, 3, 32, 32), dtype=torch.uint8, generator=generator)
    return ImageDataset(images, torch.arange(count) % 10, CIFAR10_CLASSES, "random test images", split)


@dataclass
class FakeFit:
    """A ``fit`` that trains nothing: it records each call, reports one epoch record per epoch to
    the callback, and returns an untrained model of the profile's configuration with test accuracy
    ``accuracy`` on ``test_images`` images."""

    accuracy: float = 0.42
    test_images: int = 50
    calls: list[tuple[TrainProfile, dict]] = field(default_factory=list)

    def __call__(self, profile: TrainProfile, **kwargs) -> FitResult:
        self.calls.append((profile, kwargs))
        split = kwargs["test"].split if "test" in kwargs else "test"
        history = [EpochRecord(e, 2.0 - 0.1 * e, 2.0, self.accuracy, split, self.test_images, 0.01, 1.0, 100.0)
                   for e in range(1, profile.epochs + 1)]
        for record in history:
            if kwargs.get("callback"):
                kwargs["callback"](record)
        confusion = torch.zeros(10, 10, dtype=torch.int64)
        confusion[0, 0] = self.test_images
        evaluation = Evaluation(2.0, self.accuracy, torch.zeros(10), confusion, CIFAR10_CLASSES)
        model = ConvMixer(profile.model_config())
        return FitResult(model, history, evaluation, None, "")
