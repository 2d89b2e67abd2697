"""Checkpoints: atomic writes, weights-only loading, load_model, and every way a file can be wrong."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
import torch
from support import TINY, single_thread, synthetic

from convmixer.augment import prepare_images
from convmixer.checkpoint import (
    CheckpointError,
    load_checkpoint,
    load_model,
    model_from_checkpoint,
    save_checkpoint,
)
from convmixer.train import fit

pytestmark = pytest.mark.usefixtures("single_threaded")  # see support.single_thread


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A finished two-epoch run of the tiny profile, with its output folder."""
    out = tmp_path_factory.mktemp("run")
    with single_thread():
        result = fit(
            TINY.replace(epochs=2), train=synthetic(10, 1), test=synthetic(2, 2), out=out, device="cpu", progress=False
        )
    return result, out


def snapshot(path: Path) -> tuple[bytes, int]:
    return path.read_bytes(), path.stat().st_mtime_ns


def test_run_folder_holds_a_weights_only_checkpoint_and_history(run):
    result, out = run
    assert sorted(p.name for p in out.iterdir()) == ["checkpoint.pt", "history.json"]  # no temporary files
    state = torch.load(out / "checkpoint.pt", weights_only=True)
    assert state["format"] == "convmixer-checkpoint" and (state["epoch"], state["step"]) == (2, 0)
    assert state["model_config"] == {
        "dim": 16, "depth": 2, "kernel_size": 5, "patch_size": 4, "num_classes": 10, "in_channels": 3, "image_size": 32,
        "activation": "gelu",
    }
    assert state["profile"] == TINY.replace(epochs=2).to_dict()
    assert state["rng"]["torch"].dtype == torch.uint8
    assert [r["epoch"] for r in state["metrics"]["history"]] == [1, 2]


def test_load_model_rebuilds_the_trained_network(run):
    result, out = run
    images = prepare_images(synthetic(1, 3).images)
    for source in (out, out / "checkpoint.pt"):
        model = load_model(source)
        assert not model.training
        for name, tensor in result.model.state_dict().items():
            assert torch.equal(model.state_dict()[name], tensor), name
        with torch.no_grad():  # the trained model is channels-last: other kernels, same function
            torch.testing.assert_close(model(images), result.model(images))


def test_resuming_a_finished_run_trains_nothing(run):
    result, out = run
    before = snapshot(out / "checkpoint.pt")
    again = fit(TINY.replace(epochs=2), train=synthetic(10, 1), test=synthetic(2, 2), out=out, resume=True, device="cpu", progress=False)
    assert again.digest == result.digest and len(again.history) == 2
    assert again.evaluation.accuracy == result.evaluation.accuracy
    assert snapshot(out / "checkpoint.pt") == before


def test_a_fresh_run_never_overwrites_a_checkpoint(run):
    _, out = run
    before = snapshot(out / "checkpoint.pt")
    with pytest.raises(ValueError, match=r"checkpoint.pt already exists; resume it \(resume=True, CLI --resume\)"):
        fit(TINY.replace(epochs=2), train=synthetic(10, 1), test=synthetic(2, 2), out=out, device="cpu", progress=False)
    assert snapshot(out / "checkpoint.pt") == before


def test_resume_with_another_configuration_names_the_difference(run):
    _, out = run
    before = snapshot(out / "checkpoint.pt")
    with pytest.raises(CheckpointError) as error:
        fit(TINY.replace(epochs=3, lr=0.02), train=synthetic(10, 1), test=synthetic(2, 2), out=out, resume=True, device="cpu")
    message = str(error.value)
    assert re.search(r"checkpoint \S+checkpoint.pt was written by a different training configuration", message)
    assert "epochs: 2 in the file, 3 now" in message and "lr: 0.01 in the file, 0.02 now" in message
    assert snapshot(out / "checkpoint.pt") == before


@pytest.mark.parametrize("damage", ["truncate", "garbage", "empty"])
def test_corrupt_checkpoint_is_one_sentence_and_left_alone(run, tmp_path, damage):
    _, out = run
    folder = tmp_path / "damaged"
    folder.mkdir()
    data = (out / "checkpoint.pt").read_bytes()
    damaged = {"truncate": data[: len(data) // 2], "garbage": os.urandom(5000), "empty": b""}[damage]
    (folder / "checkpoint.pt").write_bytes(damaged)
    before = snapshot(folder / "checkpoint.pt")
    with pytest.raises(CheckpointError, match=r"^checkpoint \S+damaged/checkpoint.pt is truncated or corrupt and cannot be read \("):
        fit(TINY.replace(epochs=2), train=synthetic(10, 1), test=synthetic(2, 2), out=folder, resume=True, device="cpu")
    assert snapshot(folder / "checkpoint.pt") == before
    with pytest.raises(CheckpointError, match="truncated or corrupt"):
        load_model(folder)


def test_foreign_files_are_named(tmp_path):
    torch.save({"weights": torch.zeros(3)}, tmp_path / "other.pt")
    with pytest.raises(CheckpointError, match=r"other.pt is not a convmixer training checkpoint"):
        load_checkpoint(tmp_path / "other.pt")
    torch.save({"format": "convmixer-checkpoint", "version": 1, "model": {}}, tmp_path / "partial.pt")
    with pytest.raises(CheckpointError, match=r"partial.pt is incomplete: it lacks model_config$"):
        load_checkpoint(tmp_path / "partial.pt")
    with pytest.raises(CheckpointError, match=r"partial.pt is incomplete: it lacks model_config, profile, optimizer"):
        load_checkpoint(tmp_path / "partial.pt", resumable=True)
    torch.save({"format": "convmixer-checkpoint", "version": 99}, tmp_path / "future.pt")
    with pytest.raises(CheckpointError, match=r"future.pt has format version 99; this code reads version 1"):
        load_checkpoint(tmp_path / "future.pt")
    torch.save({"format": "convmixer-checkpoint", "hook": Path("x")}, tmp_path / "objects.pt")
    with pytest.raises(CheckpointError, match=r"objects.pt holds Python objects other than tensors"):
        load_checkpoint(tmp_path / "objects.pt")
    with pytest.raises(CheckpointError, match=r"missing.pt does not exist"):
        load_checkpoint(tmp_path / "missing.pt")


def test_weights_that_do_not_fit_the_config_are_named(run):
    _, out = run
    state = load_checkpoint(out)
    state["model_config"]["dim"] = 32
    with pytest.raises(CheckpointError, match=r"holds weights that do not fit its model config \(Error"):
        model_from_checkpoint(state, "x.pt")


def test_a_failed_write_keeps_the_previous_file(tmp_path, monkeypatch):
    path = tmp_path / "checkpoint.pt"
    save_checkpoint(path, {"epoch": 1})
    before = path.read_bytes()

    def broken_save(obj, file):
        file.write(b"half a checkpoint")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(path, {"epoch": 2})
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["checkpoint.pt"]
