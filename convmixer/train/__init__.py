"""Train a ConvMixer on CIFAR-10: one engine for a notebook (:func:`fit`) and the command line
(``python -m convmixer.train``).

- :mod:`~convmixer.train.profiles`: :class:`TrainProfile` and the registry :data:`PROFILES`;
- :mod:`~convmixer.train.engine`: the model, optimizer, schedule and step builders, :func:`fit`;
- :mod:`~convmixer.train.loader`: the training set on the device, as seeded augmented batches;
- :mod:`~convmixer.train.run`: where a run stands and the folder that keeps it (exact resume);
- :mod:`~convmixer.train.evaluate`: loss, accuracy, per-class accuracy, confusion matrix;
- :mod:`~convmixer.train.__main__`: the command line.
"""

from convmixer.train.engine import (
    FitResult,
    Training,
    build_model,
    build_optimizer,
    build_scaler,
    build_schedule,
    build_training,
    fit,
    make_train_step,
    one_cycle_schedule,
)
from convmixer.train.evaluate import Evaluation, confusion_matrix, evaluate, per_class_accuracy, predict
from convmixer.train.loader import BatchLoader, derive_seed, epoch_order
from convmixer.train.profiles import (
    CPU,
    CPU_PLAIN,
    GPU,
    GPU100,
    PROFILES,
    QUICK,
    SHORT,
    SMOKE,
    STUDY,
    TrainProfile,
    get_profile,
    panel_budget,
    with_kernel_depth,
)
from convmixer.train.run import EpochRecord, RunFolder, RunState

__all__ = [
    "BatchLoader", "CPU", "CPU_PLAIN", "EpochRecord", "Evaluation", "FitResult", "GPU", "GPU100", "PROFILES", "QUICK", "RunFolder",
    "RunState", "SHORT", "SMOKE", "STUDY", "TrainProfile", "Training", "build_model", "build_optimizer",
    "build_scaler", "build_schedule", "build_training", "confusion_matrix", "derive_seed", "epoch_order",
    "evaluate", "fit", "get_profile", "make_train_step", "one_cycle_schedule", "panel_budget", "per_class_accuracy", "predict",
    "with_kernel_depth",
]
