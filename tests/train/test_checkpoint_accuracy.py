"""The shipped checkpoint: a slim, safe file whose record tells the truth about it.

``checkpoints/convmixer_cpu.pt`` is a model-only checkpoint (what
:func:`convmixer.train.checkpoint.export_model` writes) of a finished run (notebook 05, ``cpu`` profile):
float32 weights, the model config, the training profile and the per-epoch results, without
training state. ``convmixer_cpu.json`` beside it records that run. Always checked: the file loads
with ``load_model`` (``weights_only=True``), is small, carries no optimizer state (so no run can
resume from it), and agrees with its record. When CIFAR-10 is at hand, the model is re-evaluated
on the whole test split (with the test-time augmentation its profile states) and must
reproduce the recorded accuracy.
"""

import hashlib
import json
import os
from pathlib import Path

import pytest
import torch
from support import REPO

from convmixer.data.sources import DATA_ENV, load_cifar10
from convmixer.model import ConvMixerConfig
from convmixer.train import TrainProfile, evaluate, get_profile
from convmixer.train.checkpoint import FORMAT, CheckpointError, load_checkpoint, load_model

CHECKPOINTS = REPO / "checkpoints"
WEIGHTS = CHECKPOINTS / "convmixer_cpu.pt"
RECORD = CHECKPOINTS / "convmixer_cpu.json"
MAX_BYTES = 5_000_000
TOLERANCE = 0.003  # 0.3 percentage points


@pytest.fixture(scope="module")
def state():
    return load_checkpoint(WEIGHTS)  # torch.load(..., weights_only=True)


@pytest.fixture(scope="module")
def record():
    return json.loads(RECORD.read_text())


def test_checkpoint_is_small_and_slim(state):
    assert WEIGHTS.stat().st_size <= MAX_BYTES
    assert state["format"] == FORMAT
    for key in ("optimizer", "scheduler", "scaler", "rng"):
        assert not state.get(key), f"the shipped checkpoint should hold no {key} state"
    with pytest.raises(CheckpointError, match="cannot be resumed"):
        load_checkpoint(WEIGHTS, resumable=True)
    assert len(state["metrics"]["history"]) == state["profile"]["epochs"]  # a finished run
    for name, tensor in state["model"].items():
        if tensor.is_floating_point():
            assert tensor.dtype == torch.float32, name


def test_record_describes_this_file(state, record):
    assert record["file_sha256"] == hashlib.sha256(WEIGHTS.read_bytes()).hexdigest()
    assert record["model_config"] == state["model_config"]
    assert record["profile"] == state["profile"]
    assert record["epochs"] == state["profile"]["epochs"] == len(record["history"])
    for key in ("dataset", "test_accuracy", "test_images", "history"):
        assert state["metrics"][key] == record[key], key
    assert record["dataset"] == "CIFAR-10 (JPEG copy)" and record["test_images"] == 10_000
    # the curve was drawn on the held-out validation images; the test set was read once, at the end
    assert {(r["eval_split"], r["eval_images"]) for r in record["history"]} == {("validation", 5_000)}
    assert record["profile"]["validation_per_class"] == 500
    assert (record["format"], record["version"]) == ("convmixer exported run", 1)
    for key in ("command", "machine", "date", "fit_wall_seconds"):
        assert record[key], key


def test_checkpoint_was_trained_with_the_cpu_profile(state):
    trained = TrainProfile.from_dict(state["profile"])  # one of the recipe's seeds (the record says which)
    assert trained == get_profile("cpu").replace(seed=trained.seed)
    assert ConvMixerConfig(**state["model_config"]) == get_profile("cpu").model_config()


def test_model_loads_and_runs(record):
    model = load_model(WEIGHTS)
    assert not model.training
    parameters = sum(p.numel() for p in model.parameters())
    assert parameters == record["parameters"]
    with torch.no_grad():
        logits = model(torch.zeros(2, 3, 32, 32))
    assert logits.shape == (2, record["model_config"]["num_classes"])


def _test_split():
    """The CIFAR-10 test split, or a skip when no copy is available at all. A copy named by
    ``CONVMIXER_DATA`` that cannot be read is an error, not a skip."""
    if os.environ.get(DATA_ENV):
        return load_cifar10("test")
    try:
        return load_cifar10("test", download=False)
    except ValueError as error:
        pytest.skip(f"no CIFAR-10 to re-evaluate the checkpoint on ({DATA_ENV} is not set): {error}")


def test_checkpoint_reproduces_its_recorded_test_accuracy(record):
    test = _test_split()
    if "image folder" not in test.source:
        pytest.skip(f"the record is for CIFAR-10 (JPEG copy); this machine has {test.source}")
    profile = TrainProfile.from_dict(record["profile"])
    evaluation = evaluate(load_model(WEIGHTS), test, tta=profile.tta)  # as fit evaluated it
    assert len(test) == record["test_images"]
    assert abs(evaluation.accuracy - record["test_accuracy"]) <= TOLERANCE, (
        f"re-evaluated {100 * evaluation.accuracy:.2f}%, recorded {100 * record['test_accuracy']:.2f}%"
    )
