"""The training engine: profiles, the optimizer, schedule and step, the batch loader, evaluation,
fit, the command line, exact resume after ``kill -9``."""

from __future__ import annotations

import dataclasses
import signal
import subprocess
import sys
import time

import pytest
import torch
from support import TINY, real_cifar_zip, subprocess_env, synthetic, tiny_model
from torch import nn

import convmixer.train.engine
from convmixer.data.augment import prepare_images
from convmixer.data.sources import CIFAR10_CLASSES, ImageDataset
from convmixer.train import (
    CPU,
    CPU_PLAIN,
    GPU,
    PROFILES,
    BatchLoader,
    TrainProfile,
    build_model,
    build_optimizer,
    build_scaler,
    build_training,
    confusion_matrix,
    evaluate,
    fit,
    get_profile,
    make_train_step,
    one_cycle_schedule,
    per_class_accuracy,
    predict,
    with_kernel_depth,
)
from convmixer.train.__main__ import acceleration_from_args, build_parser, main, profile_from_args
from convmixer.train.acceleration import Acceleration
from convmixer.train.checkpoint import load_checkpoint, load_model
from convmixer.train.evaluate import evaluate_on_ranks, tta_views
from convmixer.train.profiles import CPU_DECEMBER_6, CPU_DECEMBER_7, CPU_DECEMBER_7_EVENING

pytestmark = pytest.mark.usefixtures("single_threaded")  # see support.single_thread


@pytest.fixture(scope="module")
def train_set() -> ImageDataset:
    return synthetic(20, seed=1)


@pytest.fixture(scope="module")
def test_set() -> ImageDataset:
    return synthetic(5, seed=2)


# --- profiles ------------------------------------------------------------------------------------


def differences(profile: TrainProfile, base: TrainProfile) -> set[str]:
    return {f.name for f in dataclasses.fields(TrainProfile) if getattr(profile, f.name) != getattr(base, f.name)}


def test_every_profile_is_in_one_registry_under_its_own_name():
    assert list(PROFILES) == [
        "gpu", "gpu100", "cpu-plain", "cpu", "cpu-long", "quick", "smoke", "short", "study", "skip-study",
        "erf-study", "kernel-study", "patch-study",
    ]
    assert all(profile.name == name and get_profile(name) is profile for name, profile in PROFILES.items())
    # cpu is the plain CPU recipe plus the fast trainers' tricks, a held-out curve and a larger peak
    # learning rate; quick and cpu-long keep all of it but the epochs; smoke keeps the 6 December
    # recipe's tricks (progressive resizing and the BatchNorm-bias rate too) but the budget; the
    # architecture comparisons train the plain recipe
    recipe = {"lr", "weight_decay", "grad_clip", "model", "seed"}
    tricks = {"stem_init", "tta", "augment", "label_smoothing", "norm_bias_lr_scale", "dirac_depthwise",
              "progressive_size", "progressive_epochs"}
    assert differences(CPU, CPU_PLAIN) <= {"name", "epochs", "validation_per_class", "lr"} | tricks
    assert {"stem_init", "tta", "validation_per_class", "dirac_depthwise"} <= differences(CPU, CPU_PLAIN)
    # the cpu recipe of 7 December: the one of 6 December without its two unseparated tricks, longer;
    # that evening's: the same at twice the peak learning rate; since the late evening: that one, longer
    assert differences(CPU_DECEMBER_7, CPU_DECEMBER_6) == {"epochs", "progressive_size", "progressive_epochs",
                                                           "norm_bias_lr_scale"}
    assert differences(CPU_DECEMBER_7_EVENING, CPU_DECEMBER_7) == {"lr"}
    assert CPU_DECEMBER_7_EVENING.lr == 2 * CPU_DECEMBER_7.lr
    assert differences(CPU, CPU_DECEMBER_7_EVENING) == {"epochs"} and CPU.epochs > CPU_DECEMBER_7_EVENING.epochs
    assert CPU.train_size(0) is None and CPU.epochs > CPU_DECEMBER_6.epochs
    # the kernel study is the cpu recipe of 6 December, frozen; only the split moves to the study script
    assert differences(PROFILES["kernel-study"], CPU_DECEMBER_6) == {"name", "validation_per_class"}
    assert differences(PROFILES["patch-study"], CPU_DECEMBER_6) == {
        "name", "validation_per_class", "model_overrides", "epochs", "progressive_size", "progressive_epochs"}
    for name in ("quick", "cpu-long"):
        assert differences(get_profile(name), CPU) == {"name", "epochs"}, name
    assert get_profile("cpu-long").epochs > CPU.epochs > get_profile("quick").epochs
    assert not differences(get_profile("smoke"), CPU_DECEMBER_6) & (recipe | tricks - {"progressive_epochs"})
    assert get_profile("smoke").train_size(1) == 24 and get_profile("smoke").train_size(2) is None
    for name in ("short", "study", "skip-study", "erf-study"):
        assert not differences(get_profile(name), CPU_PLAIN) & (recipe | tricks), name
        assert (get_profile(name).stem_init, get_profile(name).tta) == ("random", "none")
    assert differences(CPU_PLAIN, GPU) == {
        "name", "model", "model_overrides", "epochs", "batch_size", "augment", "lr", "weight_decay", "grad_clip",
    }


def test_short_and_study_budgets_train_convmixer_64_with_4x4_patches():
    short, study = get_profile("short"), get_profile("study")
    assert (short.epochs, short.batch_size, short.train_subset, short.test_subset) == (4, 100, 5000, 1000)
    assert (study.epochs, study.batch_size, study.train_subset, study.test_subset) == (3, 128, None, None)
    for budget in (short, study):
        config = budget.model_config()
        assert (config.dim, config.patch_size, config.kernel_size) == (64, 4, 5)


def test_with_kernel_depth_sets_k_and_d_and_keeps_the_rest():
    profile = with_kernel_depth(get_profile("short"), kernel_size=3, depth=6)
    assert profile.name == "short-k3-d6" and profile.seed == 0
    assert (profile.model_config().kernel_size, profile.model_config().depth, profile.model_config().dim) == (3, 6, 64)
    assert differences(profile, get_profile("short")) == {"name", "model_overrides"}
    assert with_kernel_depth(CPU, 7, 2, seed=4).seed == 4
    with pytest.raises(ValueError, match="depth must be an integer >= 1, got 0"):
        with_kernel_depth(CPU, 3, 0)


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


def test_build_optimizer_is_fused_adamw_stepping_on_one_thread():
    model = tiny_model()
    optimizer = build_optimizer(model, TINY.replace(lr=0.02, weight_decay=0.03), "cpu", Acceleration())
    assert type(optimizer) is torch.optim.AdamW and optimizer.defaults["fused"] is True
    assert (optimizer.defaults["lr"], optimizer.defaults["weight_decay"]) == (0.02, 0.03)
    plain = build_optimizer(model, TINY, "cpu", Acceleration(fused_optimizer=False, single_thread_optimizer=False))
    assert not plain.defaults["fused"] and not plain._optimizer_step_pre_hooks
    seen = []
    optimizer.register_step_pre_hook(lambda *_: seen.append(torch.get_num_threads()))
    torch.set_num_threads(2)  # the test's single_threaded fixture restores the count
    x, y = torch.randn(4, 3, 32, 32), torch.arange(4)
    nn.functional.cross_entropy(model(x), y).backward()
    optimizer.step()
    assert seen == [1] and torch.get_num_threads() == 2


def test_fit_trains_with_the_engines_optimizer_and_clips_on_one_thread(train_set, test_set, monkeypatch):
    built, threads = [], []

    def spy(*args, **kwargs):
        built.append(build_optimizer(*args, **kwargs))
        built[-1].register_step_pre_hook(lambda *_: threads.append(torch.get_num_threads()))
        return built[-1]

    monkeypatch.setattr(convmixer.train.engine, "build_optimizer", spy)
    clip = nn.utils.clip_grad_norm_
    monkeypatch.setattr(nn.utils, "clip_grad_norm_", lambda *a, **k: threads.append(torch.get_num_threads()) or clip(*a, **k))
    torch.set_num_threads(2)
    fit(TINY.replace(epochs=1), train=train_set, test=test_set, device="cpu", progress=False)
    assert len(built) == 1 and built[0].defaults["fused"] is True
    assert threads == [1] * (2 * len(train_set) // TINY.batch_size)  # clipping and step, every step


def test_float16_loss_scaling_unscales_before_clipping_and_skips_overflowing_steps():
    """The float16 path on a CPU: GradScaler("cpu") scales the loss, unscales the gradients
    before clipping, and when float16 gradients overflow skips the update and halves the scale."""
    x, y = torch.randn(8, 3, 32, 32), torch.arange(8)

    def one_step(scaler: torch.amp.GradScaler | None, amp_dtype: torch.dtype | None = None) -> torch.Tensor:
        model = tiny_model()
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
        acceleration = Acceleration(channels_last=False, amp_dtype=amp_dtype)
        make_train_step(model, optimizer, None, acceleration, "cpu", grad_clip=0.5, scaler=scaler)(x, y)
        return torch.cat([p.detach().flatten() for p in model.parameters()])

    untrained = torch.cat([p.detach().flatten() for p in tiny_model().parameters()])
    plain, scaled = one_step(None), one_step(torch.amp.GradScaler("cpu", init_scale=2.0**10))
    torch.testing.assert_close(scaled, plain, rtol=1e-6, atol=1e-7)  # clipped the unscaled gradients
    assert not torch.equal(plain, untrained)
    overflowing = torch.amp.GradScaler("cpu", init_scale=2.0**40)  # float16 gradients become inf
    assert torch.equal(one_step(overflowing, torch.float16), untrained)
    assert overflowing.get_scale() == 2.0**39
    assert build_scaler("cpu", Acceleration(amp_dtype=torch.float16)).is_enabled()
    assert not build_scaler("cpu", Acceleration(amp_dtype=torch.bfloat16)).is_enabled()


def test_fit_with_float16_autocast_keeps_the_scaler_in_its_checkpoint(train_set, test_set, tmp_path):
    profile = TINY.replace(epochs=1)
    acceleration = Acceleration(channels_last=False, amp_dtype=torch.float16)
    result = fit(profile, train=train_set, test=test_set, device="cpu", progress=False, out=tmp_path,
                 acceleration=acceleration)
    assert torch.isfinite(torch.tensor(result.history[0].train_loss))
    scaler = load_checkpoint(tmp_path, resumable=True)["scaler"]
    assert scaler["scale"] > 0 and scaler["growth_interval"] == 2000  # an enabled scaler's state


# --- the batch loader ----------------------------------------------------------------------------


def test_batch_loader_is_seeded_and_resumes_mid_epoch(train_set):
    loader = BatchLoader(train_set, 30, TINY.augment, seed=3, device="cpu")
    assert len(loader) == loader.steps_per_epoch == 6  # 200 images: the last 20 are dropped
    epoch = list(loader.batches(1))
    assert len(epoch) == 6 and all(images.shape == (30, 3, 32, 32) and images.dtype == torch.float32 for images, _ in epoch)
    for (images, labels), (again, labels_again) in zip(epoch[4:], loader.batches(1, start_step=4)):
        assert torch.equal(images, again) and torch.equal(labels, labels_again)
    seen = torch.cat([labels for _, labels in epoch])
    assert len(seen) == 180 and not torch.equal(seen, torch.cat([labels for _, labels in loader.batches(2)]))
    with pytest.raises(ValueError, match=r"training set \(200 images\) is smaller than one batch \(300\)"):
        BatchLoader(train_set, 300, TINY.augment, seed=0, device="cpu")


def test_build_training_restores_a_checkpoint_before_it_runs(train_set, test_set, tmp_path):
    fit(TINY.replace(epochs=1), train=train_set, test=test_set, device="cpu", progress=False, out=tmp_path)
    state = load_checkpoint(tmp_path, resumable=True)
    training = build_training(TINY.replace(epochs=1), "cpu", Acceleration(), 10, checkpoint=state)
    for name, tensor in training.model.state_dict().items():
        assert torch.equal(tensor, state["model"][name]), name
    assert training.scheduler.last_epoch == state["scheduler"]["last_epoch"] == 10
    assert training.model.stem.conv.weight.is_contiguous(memory_format=torch.channels_last)


def test_a_resumed_epoch_counts_the_seconds_its_steps_took_before_the_checkpoint(train_set, test_set, tmp_path,
                                                                                monkeypatch):
    """The engine's clock advances 10 s per training step; a run stopped at step 5 of 10, after its
    checkpoint at step 4, and resumed, reports the whole epoch's 100 s (the step lost after the
    checkpoint counts once), as an uninterrupted run does -- not only the 60 s of the second process."""
    steps, stop_at = [0], [5]

    class Clock:
        @staticmethod
        def perf_counter() -> float:
            return 10.0 * steps[0]

    real = convmixer.train.engine.build_training

    def counting(*args, **kwargs):
        training = real(*args, **kwargs)
        step = training.step

        def counted(images, labels):
            if steps[0] + 1 == stop_at[0]:
                raise KeyboardInterrupt
            steps[0] += 1
            return step(images, labels)

        training.step = counted
        return training

    monkeypatch.setattr(convmixer.train.engine, "time", Clock)
    monkeypatch.setattr(convmixer.train.engine, "build_training", counting)
    profile = TINY.replace(epochs=1)
    with pytest.raises(KeyboardInterrupt):
        fit(profile, train=train_set, test=test_set, device="cpu", progress=False, out=tmp_path, checkpoint_every=2)
    stored = load_checkpoint(tmp_path, resumable=True)
    assert (stored["step"], stored["metrics"]["epoch_seconds"]) == (4, 40.0)
    stop_at[0] = 0
    (record,) = fit(profile, train=train_set, test=test_set, device="cpu", progress=False, out=tmp_path,
                    resume=True, checkpoint_every=2).history
    assert steps[0] == 10 and record.seconds == 100.0
    assert record.images_per_second == pytest.approx(10 * profile.batch_size / 100.0)
    assert load_checkpoint(tmp_path, resumable=True)["metrics"]["epoch_seconds"] == 0.0  # the next epoch starts afresh


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


def test_fit_names_the_split_it_evaluated_on(train_set, test_set, capfd):
    validation = dataclasses.replace(test_set, split="validation")  # as hold_out names a held-out split
    result = fit(TINY.replace(epochs=1, test_subset=30), train=train_set, test=validation, device="cpu",
                 progress=False, verbose=True)
    record, = result.history
    assert (record.eval_split, record.eval_images) == ("validation", 30)
    captured = capfd.readouterr()
    assert "validation loss" in captured.out + captured.err


def test_fit_learns_reports_every_epoch_and_is_deterministic(train_set, test_set, capfd):
    records = []
    result = fit(TINY, train=train_set, test=test_set, device="cpu", progress=False, callback=records.append)
    history = result.history
    assert [r.epoch for r in history] == [1, 2, 3, 4] and records == history
    assert history[-1].train_loss < 0.7 * history[0].train_loss
    assert result.evaluation.accuracy >= 0.4  # chance is 0.1
    assert history[-1].eval_accuracy == result.evaluation.accuracy
    assert {(r.eval_split, r.eval_images) for r in history} == {("test", len(test_set))}
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
    with pytest.raises(ValueError, match="unknown profile 'laptop'; known profiles: gpu, gpu100, cpu-plain, cpu, cpu-long, quick, smoke, short, study, skip-study, erf-study, kernel-study, patch-study$"):
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
    # the README command of locuslab/convmixer-cifar10 (~92.5 % in 25 epochs): --lr-max=0.05
    # --ra-n=2 --ra-m=12 --wd=0.005 --scale=1.0 --jitter=0 --reprob=0, no clipping
    gpu = get_profile("gpu")
    assert (gpu.model, gpu.epochs, gpu.batch_size, gpu.lr, gpu.weight_decay, gpu.grad_clip) == (
        "convmixer_256_8", 25, 512, 0.05, 0.005, 0.0,
    )
    augment = gpu.augment
    assert (augment.crop_padding, augment.scale, augment.flip, augment.randaugment_ops,
            augment.randaugment_magnitude, augment.jitter, augment.erase_prob) == (0, 1.0, True, 2, 12, 0.0, 0.0)
    # ... and its 100-epoch command adds --jitter=0.2 --reprob=0.2
    gpu100 = get_profile("gpu100")
    assert differences(gpu100, gpu) == {"name", "epochs", "augment"}
    assert (gpu100.epochs, gpu100.augment.jitter, gpu100.augment.erase_prob) == (100, 0.2, 0.2)


# --- command line --------------------------------------------------------------------------------


def test_profile_from_args_applies_the_command_lines_overrides():
    args = build_parser().parse_args(["--profile", "smoke", "--lr", "0.02", "--seed", "7", "--epochs", "2"])
    assert profile_from_args(args) == get_profile("smoke").replace(lr=0.02, seed=7, epochs=2)
    args = build_parser().parse_args(["--profile", "cpu", "--tta", "none"])
    assert profile_from_args(args) == get_profile("cpu").replace(tta="none")
    args = build_parser().parse_args(["--profile", "cpu", "--config", "convmixer_256_8", "--batch-size", "64"])
    profile = profile_from_args(args)
    assert (profile.model, profile.model_overrides, profile.batch_size) == ("convmixer_256_8", {}, 64)
    assert profile.model_config() == get_profile("gpu").model_config()  # the config alone, not cpu's overrides
    expected = "gpu" if torch.cuda.is_available() else "cpu"
    assert profile_from_args(build_parser().parse_args([])) == get_profile(expected)


@pytest.mark.parametrize("flag, compiled", [([], False), (["--compile"], True), (["--no-compile"], False)])
def test_compile_flag_changes_only_compilation(flag, compiled):
    acceleration = acceleration_from_args(build_parser().parse_args(flag), torch.device("cpu"))
    assert acceleration == dataclasses.replace(Acceleration.for_device("cpu"), compile=compiled)
    on_cuda = acceleration_from_args(build_parser().parse_args(["--no-compile"]), torch.device("cuda"))
    assert not on_cuda.compile and on_cuda.amp_dtype == torch.bfloat16  # only built, no GPU needed


@pytest.mark.parametrize("flag, dtype", [(["--bf16-products"], torch.bfloat16), (["--no-bf16-products"], None)])
def test_bf16_products_flag_changes_only_the_products(flag, dtype):
    acceleration = acceleration_from_args(build_parser().parse_args(flag), torch.device("cpu"))
    assert acceleration == dataclasses.replace(Acceleration.for_device("cpu"), product_dtype=dtype)


def test_cli_rejects_unknown_profiles_and_configs(capsys):
    for argv in (["--profile", "laptop"], ["--config", "convmixer_9"]):
        with pytest.raises(SystemExit):
            build_parser().parse_args(argv)
        assert "invalid choice" in capsys.readouterr().err


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


# --- recipe options: whitened stem, test-time augmentation ----------------------------------------


def test_a_whitened_stem_starts_from_the_training_images_patch_whitening_filters(train_set):
    from convmixer.train.whitening import patch_whitening_filters

    profile = TINY.replace(stem_init="whiten")
    model = build_model(profile, "cpu", train_set.images)
    filters = patch_whitening_filters(train_set.images, 4)[:16]
    torch.testing.assert_close(model.stem.conv.weight, filters)
    with pytest.raises(ValueError, match="needs the training images"):
        build_model(profile, "cpu")
    with pytest.raises(ValueError, match="stem_init must be one of random, whiten"):
        TINY.replace(stem_init="pca")


def test_flip_tta_averages_the_probabilities_of_each_image_and_its_mirror(test_set):
    model = tiny_model(varied_norms=True).eval()
    plain = predict(model, test_set.images)
    mirrored = predict(model, test_set.images.flip(-1))
    averaged = predict(model, test_set.images, tta="flip")
    torch.testing.assert_close(averaged.softmax(1), (plain.softmax(1) + mirrored.softmax(1)) / 2)
    assert evaluate(model, test_set, tta="flip").accuracy == float(
        (averaged.argmax(1) == test_set.labels).double().mean()
    )


def test_flip_shift_tta_adds_one_pixel_diagonal_shifts_at_half_weight(test_set):
    images = test_set.images[:40]
    views = list(tta_views(images, "flip-shift"))
    assert [weight for weight, _ in views] == [1.0, 1.0, 0.5, 0.5, 0.5, 0.5]
    (_, down_right), (_, up_left) = views[2], views[4]
    # the content moves one pixel down-right / up-left; the uncovered row and column are reflections
    assert torch.equal(down_right[..., 1:, 1:], images[..., :-1, :-1])
    assert torch.equal(down_right[..., 0, 1:], images[..., 1, :-1])
    assert torch.equal(up_left[..., :-1, :-1], images[..., 1:, 1:])
    assert torch.equal(views[3][1], down_right.flip(-1)) and torch.equal(views[5][1], up_left.flip(-1))

    model = tiny_model(varied_norms=True).eval()
    probabilities = [weight * predict(model, view).softmax(1) for weight, view in views]
    expected = torch.stack(probabilities).sum(0) / 4.0
    torch.testing.assert_close(predict(model, images, tta="flip-shift").softmax(1), expected)
    assert [weight for weight, _ in tta_views(images, "none")] == [1.0]
    with pytest.raises(ValueError, match="tta must be one of none, flip, flip-shift, got 'crop'"):
        predict(model, images, tta="crop")
    with pytest.raises(ValueError, match="tta must be one of none, flip, flip-shift, got 'crop'"):
        TINY.replace(tta="crop")


def test_fit_evaluates_earlier_epochs_plainly_and_the_final_model_with_the_profiles_tta(
    train_set, test_set, monkeypatch
):
    from convmixer.train import engine

    asked = []

    def recording(*args):
        asked.append(args[4])
        return evaluate_on_ranks(*args)

    monkeypatch.setattr(engine, "evaluate_on_ranks", recording)
    profile = TINY.replace(epochs=3, tta="flip-shift")
    result = fit(profile, train=train_set, test=test_set, device="cpu", progress=False)
    assert asked == ["none", "none", "flip-shift"]
    final = evaluate(result.model, test_set, tta="flip-shift")
    assert result.history[-1].eval_accuracy == result.evaluation.accuracy == final.accuracy
    assert result.history[-1].eval_loss == pytest.approx(final.loss, rel=1e-5)
    assert result.evaluation.loss != pytest.approx(evaluate(result.model, test_set).loss, rel=1e-5)