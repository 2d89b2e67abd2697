"""Checkpoints: atomic writes, weights-only loading, load_model, and every way a file can be wrong."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
from pathlib import Path

import pytest
import torch
from support import TINY, single_thread, synthetic

from convmixer.data.augment import prepare_images
from convmixer.machine import machine_info
from convmixer.model import ConvMixer, ConvMixerConfig
from convmixer.train import fit
from convmixer.train.checkpoint import (
    TRAINING_KEYS,
    CheckpointError,
    load_checkpoint,
    load_model,
    model_from_checkpoint,
    save_checkpoint,
)
from convmixer.train.distributed import state_digest
from convmixer.train.export import export_model

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
        "activation": "gelu", "residual": "depthwise",
    }
    assert state["profile"] == TINY.replace(epochs=2).to_dict()
    assert state["rng"]["torch"].dtype == torch.uint8
    assert [r["epoch"] for r in state["metrics"]["history"]] == [1, 2]
    assert state["optimizer"]["param_groups"][0]["fused"] is True  # fit's AdamW


def test_history_json_holds_every_epoch_record(run):
    result, out = run
    content = json.loads((out / "history.json").read_text())
    assert (content["format"], content["version"]) == ("convmixer training history", 1)
    history = content["history"]
    assert history == [dataclasses.asdict(record) for record in result.history]
    assert history == load_checkpoint(out)["metrics"]["history"]
    assert [record["epoch"] for record in history] == [1, 2]
    assert set(history[0]) == {"epoch", "train_loss", "eval_loss", "eval_accuracy", "eval_split", "eval_images", "lr",
                               "seconds", "images_per_second"}
    assert history[-1]["eval_accuracy"] == result.evaluation.accuracy
    assert {(r["eval_split"], r["eval_images"]) for r in history} == {("test", 20)}  # fit(test=...) on 20 images


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


def test_resume_of_a_history_in_an_older_format_is_one_sentence_and_left_alone(run, tmp_path):
    _, out = run
    folder = tmp_path / "old"
    folder.mkdir()
    state = torch.load(out / "checkpoint.pt", weights_only=True)
    for record in state["metrics"]["history"]:  # the field names before eval_* (issue 19)
        record["test_accuracy"] = record.pop("eval_accuracy")
    save_checkpoint(folder / "checkpoint.pt", state)
    before = snapshot(folder / "checkpoint.pt")
    with pytest.raises(CheckpointError, match=r"holds a training history this version cannot read .*test_accuracy"):
        fit(TINY.replace(epochs=2), train=synthetic(10, 1), test=synthetic(2, 2), out=folder, resume=True, device="cpu")
    assert snapshot(folder / "checkpoint.pt") == before


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


# --- exported models -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def exported(run, tmp_path_factory):
    result, _ = run
    path = tmp_path_factory.mktemp("export") / "convmixer_tiny.pt"
    paths = export_model(
        result.model, path, profile=TINY.replace(epochs=2), history=result.history, evaluation=result.evaluation,
        dataset="synthetic", command="pytest", wall_seconds=12.34, notes={"purpose": "test"},
    )
    return result, paths


def test_export_writes_a_model_only_file_and_its_record(exported):
    result, (path, record_path) = exported
    assert record_path == path.with_suffix(".json") and sorted(p.name for p in path.parent.iterdir()) == [
        "convmixer_tiny.json", "convmixer_tiny.pt",
    ]
    state = torch.load(path, weights_only=True)
    assert not set(TRAINING_KEYS) - {"profile", "metrics"} & set(state)  # no optimizer, scheduler, rng, ...
    assert state["model_config"] == dataclasses.asdict(result.model.config)
    assert all(t.dtype == torch.float32 and t.is_contiguous() for t in state["model"].values() if t.is_floating_point())
    record = json.loads(record_path.read_text())
    assert record["file_sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert record["weights_digest"] == result.digest == state_digest(load_model(path))
    assert (record["name"], record["dataset"], record["command"], record["notes"]) == (
        "convmixer_tiny", "synthetic", "pytest", {"purpose": "test"},
    )
    assert record["test_accuracy"] == round(result.evaluation.accuracy, 6) == state["metrics"]["test_accuracy"]
    assert record["test_images"] == int(result.evaluation.confusion.sum()) == 20
    assert record["history"] == [dataclasses.asdict(r) for r in result.history] == state["metrics"]["history"]
    assert record["epochs"] == 2 and record["fit_wall_seconds"] == 12.3
    assert record["parameters"] == sum(p.numel() for p in result.model.parameters())
    assert record["profile"] == TINY.replace(epochs=2).to_dict() == state["profile"]
    assert set(record["per_class_accuracy"]) == set(result.evaluation.classes)
    assert record["machine"]["cpu_count"] == os.cpu_count() and record["date"]


def test_load_model_reads_an_exported_model_and_resuming_refuses_it(exported, tmp_path):
    result, (path, _) = exported
    model = load_model(path)
    images = prepare_images(synthetic(1, 3).images)
    with torch.no_grad():
        torch.testing.assert_close(model(images), result.model(images))
    with pytest.raises(CheckpointError, match=r"holds a trained model without its training state .* cannot be resumed"):
        load_checkpoint(path, resumable=True)
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "checkpoint.pt").write_bytes(path.read_bytes())
    with pytest.raises(CheckpointError, match="cannot be resumed"):
        fit(TINY.replace(epochs=2), train=synthetic(10, 1), test=synthetic(2, 2), out=folder, resume=True, device="cpu")


def test_checkpoints_written_before_the_activation_and_residual_fields_load_as_the_paper_model(run, tmp_path):
    _, out = run
    state = load_checkpoint(out)
    del state["model_config"]["activation"], state["model_config"]["residual"]
    save_checkpoint(tmp_path / "old.pt", {key: value for key, value in state.items() if key not in ("format", "version")})
    model = load_model(tmp_path / "old.pt")
    assert model.config.activation == "gelu" and isinstance(model.stem.act, torch.nn.GELU)
    assert model.config.residual == "depthwise" and model.blocks[0].residual == "depthwise"


def test_a_relu_model_round_trips_with_its_activation(tmp_path):
    torch.manual_seed(0)
    model = ConvMixer(ConvMixerConfig(8, 1, 3, 4, activation="relu")).eval()
    save_checkpoint(tmp_path / "relu.pt", {"model_config": dataclasses.asdict(model.config), "model": model.state_dict()})
    loaded = load_model(tmp_path / "relu.pt")
    assert loaded.config == model.config and isinstance(loaded.blocks[0].spatial.act, torch.nn.ReLU)


def test_a_model_with_another_skip_round_trips_with_it(tmp_path):
    torch.manual_seed(0)
    model = ConvMixer(ConvMixerConfig(8, 2, 3, 4, residual="both")).eval()
    save_checkpoint(tmp_path / "both.pt", {"model_config": dataclasses.asdict(model.config), "model": model.state_dict()})
    loaded = load_model(tmp_path / "both.pt")
    assert loaded.config == model.config and loaded.blocks[1].residual == "both"
    x = torch.randn(1, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(loaded(x), model(x))


def test_machine_info_describes_this_machine():
    info = machine_info()
    assert info["cpu_count"] == os.cpu_count() and info["torch_threads"] == torch.get_num_threads()
    assert info["torch"] == torch.__version__ and isinstance(info["cpu"], str) and info["cpu"]
    assert set(info["cpu_features"]) <= {"avx2", "fma", "avx512f", "avx512_bf16", "avx512_fp16", "amx_bf16", "amx_tile"}
    json.dumps(info)  # stored in JSON records


def test_atomic_write_gives_a_new_file_plain_permissions_and_keeps_an_old_files(tmp_path):
    from convmixer._util import atomic_write_text

    umask = os.umask(0o022)
    try:
        new = atomic_write_text(tmp_path / "new.json", "{}")
        assert new.stat().st_mode & 0o777 == 0o644  # as open() gives it, not mkstemp's 0600
        kept = tmp_path / "kept.json"
        kept.write_text("old")
        kept.chmod(0o640)
        atomic_write_text(kept, "new")
        assert (kept.read_text(), kept.stat().st_mode & 0o777) == ("new", 0o640)
    finally:
        os.umask(umask)
