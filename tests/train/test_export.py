"""Reading a shipped run back: the exported model with its JSON record, checked to belong together."""

import json

import pytest
import torch
from support import REPO, TINY, synthetic

from convmixer.model import ConvMixer
from convmixer.train import EpochRecord, evaluate
from convmixer.train.export import export_model, load_stored_run


@pytest.fixture
def exported(tmp_path):
    torch.manual_seed(0)
    model = ConvMixer(TINY.model_config()).eval()
    history = [EpochRecord(e, 2.0 - e / 10, 1.9, 0.1 * e, "validation", 500, 0.01, 1.0, 100.0) for e in (1, 2)]
    evaluation = evaluate(model, synthetic(per_class=2, seed=0))
    path, _ = export_model(
        model, tmp_path / "run.pt", profile=TINY, history=history, evaluation=evaluation,
        dataset="synthetic", command="(test)", wall_seconds=1.0,
    )
    return model, history, path


def test_stored_run_gives_back_model_profile_and_history(exported):
    model, history, path = exported
    run = load_stored_run(path)
    assert run.profile == TINY
    assert run.history == history
    for name, tensor in model.state_dict().items():
        torch.testing.assert_close(run.model.state_dict()[name], tensor, rtol=0, atol=0)
    assert not run.model.training
    assert (run.history[-1].eval_split, run.history[-1].eval_images) == ("validation", 500)  # what each epoch names
    assert "format" not in run.record and run.record["name"] == "run"


def test_a_record_in_another_format_or_version_is_refused(exported):
    _, _, path = exported
    record_path = path.with_suffix(".json")
    record = json.loads(record_path.read_text())
    assert (record["format"], record["version"]) == ("convmixer exported run", 1)
    record_path.write_text(json.dumps({**record, "version": 2}))
    with pytest.raises(ValueError, match="is version 2 of the convmixer exported run format; this code reads version 1"):
        load_stored_run(path)
    old_layout = {key: value for key, value in record.items() if key not in ("format", "version")}
    record_path.write_text(json.dumps(old_layout))
    with pytest.raises(ValueError, match="run.json is not a convmixer exported run file"):
        load_stored_run(path)


def test_a_record_of_another_file_or_none_at_all_is_refused(exported):
    _, _, path = exported
    record_path = path.with_suffix(".json")
    record = json.loads(record_path.read_text())
    record["file_sha256"] = "0" * 64
    record_path.write_text(json.dumps(record))
    with pytest.raises(ValueError, match="describes another file"):
        load_stored_run(path)
    record_path.unlink()
    with pytest.raises(ValueError, match="run.json does not exist; run export_model"):
        load_stored_run(path)


def test_the_shipped_run_reads_back_consistently():
    run = load_stored_run(REPO / "checkpoints" / "convmixer_cpu.pt")
    assert len(run.history) == run.profile.epochs == run.record["epochs"]
    assert run.model.config == run.profile.model_config()
    # its curve was drawn on the held-out validation images; the test set was read once, at the end
    held_out = 10 * run.profile.validation_per_class
    assert held_out > 0 and {(r.eval_split, r.eval_images) for r in run.history} == {("validation", held_out)}
    assert run.record["test_images"] == 10_000 and 0.1 < run.record["test_accuracy"] <= 1
