"""The training engine: schedule, train step, evaluation, fit, the command line, exact resume
after ``kill -9``."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest
import torch
from support import TINY, real_cifar_zip, subprocess_env, synthetic
from torch import nn

from convmixer.acceleration import Acceleration
from convmixer.augment import prepare_images
from convmixer.checkpoint import load_checkpoint, load_model
from convmixer.data import CIFAR10_CLASSES, ImageDataset
from convmixer.model import ConvMixer
from convmixer.train import (
    PROFILES,
    TrainProfile,
    confusion_matrix,
    evaluate,
    fit,
    get_profile,
    make_train_step,
    one_cycle_schedule,
    per_class_accuracy,
    predict,
)
from convmixer.train.__main__ import main

@pytest.fixture(scope="module")
def train_set() -> ImageDataset:
    return synthetic(20, seed=1)

pytestmark = pytest.mark.usefixtures("single_threaded")  # see support.single_thread


@pytest.fixture(scope="module")
def test_set() -> ImageDataset:
    return synthetic(5, seed=2)


def tiny_model() -> ConvMixer:
    torch.manual_seed(0)
    return ConvMixer(16, 2, 5, 4)


# --- schedule and step ---------------------------------------------------------------------------


def test_one_cycle_schedule_warms_up_decays_and_anneals():
    f = one_cycle_schedule(epochs=5, steps_per_epoch=10)  # t = (step + 1) / 10 epochs
    assert f(9) == pytest.approx(0.5)  # t = 1: halfway up to the peak at t = 2
    assert f(19) == pytest.approx(1.0)
    assert f(29) == pytest.approx(0.525)  # halfway from 1 down to 1/20
    assert f(39) == pytest.approx(0.05)
    assert f(49) == pytest.approx(0.0) and f(60) == 0.0
    values = [f(k) for k in range(50)]
    assert values[:20] == sorted(values[:20]) and values[19:] == sorted(values[19:], reverse=True)


def test_train_step_returns_the_loss_before_the_update_with_label_smoothing():
    model, x, y = tiny_model(), torch.randn(8, 3, 32, 32), torch.arange(8)
    with torch.no_grad():
        expected = nn.functional.cross_entropy(model(x), y, label_smoothing=0.1)
    optimizer = torch.optim.AdamW(model.parameters(), lr=0.01)
    step = make_train_step(model, optimizer, None, Acceleration(channels_last=False), "cpu", label_smoothing=0.1)
    torch.testing.assert_close(step(x, y), expected)


def test_train_step_fits_a_batch_and_steps_the_scheduler():
    model, x, y = tiny_model(), torch.randn(20, 3, 32, 32), torch.arange(20) % 10
    acceleration = Acceleration.for_device("cpu")
    runner = acceleration.prepare_model(model)
    optimizer = torch.optim.AdamW(model.parameters(), lr=0.01)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda k: 1.0 if k < 30 else 0.5)
    step = make_train_step(runner, optimizer, scheduler, acceleration, "cpu", grad_clip=1.0)
    losses = [float(step(x, y)) for _ in range(30)]
    assert losses[-1] < 0.5 * losses[0]
    assert optimizer.param_groups[0]["lr"] == pytest.approx(0.005)  # stepped exactly 30 times


def test_gradient_clipping_bounds_the_update():
    model, x, y = tiny_model(), torch.randn(8, 3, 32, 32), torch.arange(8)
    before = torch.cat([p.detach().flatten().clone() for p in model.parameters()])
    optimizer = torch.optim.SGD(model.parameters(), lr=1.0)
    step = make_train_step(model, optimizer, None, Acceleration(channels_last=False), "cpu", grad_clip=1e-3)
    step(x, y)
    after = torch.cat([p.detach().flatten() for p in model.parameters()])
    assert 0 < float((after - before).norm()) <= 1e-3 * 1.0001  # SGD, lr 1: update = clipped gradient


# --- evaluation ----------------------------------------------------------------------------------


def test_confusion_matrix_and_per_class_accuracy():
    labels = torch.tensor([0, 0, 1, 1, 1, 2])
    predictions = torch.tensor([0, 1, 1, 1, 2, 2])
    confusion = confusion_matrix(predictions, labels, 4)
    assert confusion.tolist() == [[1, 1, 0, 0], [0, 2, 1, 0], [0, 0, 1, 0], [0, 0, 0, 0]]
    accuracy = per_class_accuracy(confusion)
    assert accuracy[:3].tolist() == pytest.approx([0.5, 2 / 3, 1.0]) and torch.isnan(accuracy[3])
    with pytest.raises(ValueError, match=r"predictions \(2,\) and labels \(3,\) differ in shape"):
        confusion_matrix(torch.zeros(2), torch.zeros(3), 2)


def test_evaluate_agrees_with_its_parts(test_set):
    model = tiny_model().eval()
    result = evaluate(model, test_set, batch_size=16)
    with torch.no_grad():
        logits = model(prepare_images(test_set.images))
    torch.testing.assert_close(predict(model, test_set.images, batch_size=7), logits)
    assert result.confusion.sum() == len(test_set)
    assert result.accuracy == pytest.approx(float((logits.argmax(1) == test_set.labels).float().mean()))
    assert result.loss == pytest.approx(float(nn.functional.cross_entropy(logits, test_set.labels)), rel=1e-5)
    assert torch.equal(result.per_class_accuracy, per_class_accuracy(result.confusion))
    assert result.classes == CIFAR10_CLASSES
    with pytest.raises(ValueError, match="empty dataset"):
        evaluate(model, ImageDataset(test_set.images[:0], test_set.labels[:0], CIFAR10_CLASSES, "empty"))


# --- fit -----------------------------------------------------------------------------------------


def test_fit_learns_reports_every_epoch_and_is_deterministic(train_set, test_set, capfd):
    records = []
    result = fit(TINY, train=train_set, test=test_set, device="cpu", progress=False, callback=records.append)
    history = result.history
    assert [r.epoch for r in history] == [1, 2, 3, 4] and records == history
    assert history[-1].train_loss < 0.7 * history[0].train_loss
    assert result.evaluation.accuracy >= 0.4  # chance is 0.1
    assert history[-1].test_accuracy == result.evaluation.accuracy
    assert history[-1].lr == pytest.approx(0.0, abs=1e-12)  # the schedule ends at 0
    assert not result.model.training and result.checkpoint is None
    assert capfd.readouterr().err == ""  # no progress bar, no warnings

    short = TINY.replace(epochs=1)
    once, twice = (fit(short, train=train_set, test=test_set, device="cpu", progress=False) for _ in range(2))
    assert once.digest == twice.digest
    other_seed = fit(short.replace(seed=1), train=train_set, test=test_set, device="cpu", progress=False)
    assert other_seed.digest != once.digest


def test_gpu_recipe_runs_on_cpu_with_bfloat16_autocast(train_set, test_set):
    """The GPU profile's path (paper augmentation, autocast) on tiny data, on this CPU."""
    recipe = TINY.replace(epochs=1, augment=get_profile("gpu").augment, label_smoothing=0.1)
    result = fit(
        recipe, train=train_set, test=test_set, device="cpu", progress=False,
        acceleration=Acceleration(channels_last=True, amp_dtype=torch.bfloat16),
    )
    assert torch.isfinite(torch.tensor(result.history[0].train_loss))
    assert result.model.stem.conv.weight.dtype == torch.float32  # autocast keeps float32 weights


def test_fit_errors_are_one_sentence(train_set, test_set):
    with pytest.raises(ValueError, match=r"training set \(200 images\) is smaller than one batch \(500\)"):
        fit(TINY.replace(batch_size=500), train=train_set, test=test_set, device="cpu", progress=False)
    with pytest.raises(ValueError, match="unknown profile 'laptop'; known profiles: gpu, cpu, quick, smoke, short, study$"):
        fit("laptop", train=train_set, test=test_set)
    with pytest.raises(ValueError, match="checkpoint_every must be >= 0"):
        fit(TINY, train=train_set, test=test_set, device="cpu", checkpoint_every=-1)


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"epochs": 0}, "epochs must be an integer >= 1"),
        ({"lr": 0.0}, "lr must be > 0"),
        ({"label_smoothing": 1.0}, r"label_smoothing must be in \[0, 1\)"),
        ({"train_subset": 0}, "train_subset must be None or an integer >= 1"),
        ({"model": "convmixer_9"}, "unknown config 'convmixer_9'"),
        ({"model_overrides": {"width": 3}}, "unknown config field"),
    ],
)
def test_bad_profile_is_one_sentence(changes, message):
    with pytest.raises(ValueError, match=message):
        TINY.replace(**changes)


def test_profiles_round_trip_and_follow_the_official_recipe():
    for profile in PROFILES.values():
        assert TrainProfile.from_dict(profile.to_dict()) == profile
    gpu = get_profile("gpu")
    assert (gpu.model, gpu.epochs, gpu.batch_size, gpu.lr, gpu.weight_decay, gpu.grad_clip) == (
        "convmixer_256_8", 25, 512, 0.01, 0.01, 1.0,
    )
    augment = gpu.augment
    assert (augment.scale, augment.randaugment_ops, augment.randaugment_magnitude, augment.jitter, augment.erase_prob) == (
        0.75, 1, 8, 0.1, 0.25,
    )


# --- command line --------------------------------------------------------------------------------


def test_cli_reports_bad_data_in_one_line(tmp_path, capsys):
    status = main(["--profile", "smoke", "--data", str(tmp_path / "nowhere"), "--out", str(tmp_path / "run"), "--no-progress"])
    assert status == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: CIFAR-10 source") and err.endswith("nowhere does not exist")
    assert "\n" not in err


def run_cli(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "convmixer.train", *args],
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=300,
        **kwargs,
    )


@pytest.mark.skipif(real_cifar_zip() is None, reason="CONVMIXER_DATA does not name the CIFAR-10 JPEG zip")
def test_smoke_profile_runs_from_the_command_line_on_real_data(tmp_path):
    result = run_cli("--profile", "smoke", "--data", str(real_cifar_zip()), "--out", str(tmp_path / "smoke"), "--no-progress")
    assert result.returncode == 0, result.stderr
    assert "epoch   1/" in result.stdout
    accuracy = float(result.stdout.split("test accuracy ")[1].split("%")[0])
    assert accuracy > 20  # chance: 10%
    assert load_model(tmp_path / "smoke").training is False


def test_resume_after_kill_9_gives_the_weights_of_an_uninterrupted_run(trainable_folder, tmp_path):
    common = [
        "--profile", "smoke", "--data", str(trainable_folder.directory), "--cache-dir", str(tmp_path / "cache"),
        "--batch-size", "8", "--epochs", "3", "--checkpoint-every", "4", "--no-progress",
    ]  # 240 training images: 30 steps per epoch, a checkpoint every 4 steps and at each epoch end
    command = [sys.executable, "-m", "convmixer.train", *common]
    reference = subprocess.Popen(  # runs alongside the run that gets killed
        [*command, "--out", str(tmp_path / "reference")],
        env=subprocess_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    out = tmp_path / "killed"
    process = subprocess.Popen([*command, "--out", str(out)], env=subprocess_env(), stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 240
    while not (out / "checkpoint.pt").exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.002)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL, "the run ended before it could be killed"
    reference_out, reference_err = reference.communicate(timeout=300)
    assert reference.returncode == 0, reference_err
    at_kill = load_checkpoint(out)
    assert (at_kill["epoch"], at_kill["step"]) < (3, 0)  # killed part-way

    resumed = run_cli(*common, "--out", str(out), "--resume")
    assert resumed.returncode == 0, resumed.stderr
    expected, final = load_checkpoint(tmp_path / "reference"), load_checkpoint(out)
    assert (final["epoch"], final["step"]) == (3, 0)
    for name, tensor in expected["model"].items():
        assert torch.equal(final["model"][name], tensor), name
    for index, state in expected["optimizer"]["state"].items():
        for key, value in state.items():
            assert torch.equal(final["optimizer"]["state"][index][key], value), (index, key)
    assert [r["train_loss"] for r in final["metrics"]["history"]] == [
        r["train_loss"] for r in expected["metrics"]["history"]
    ]
    assert resumed.stdout.split("weights sha256 ")[1] == reference_out.split("weights sha256 ")[1]
