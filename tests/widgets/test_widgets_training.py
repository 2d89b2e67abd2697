"""The short-budget training panel of notebook 05: press Train, check what was trained and shown."""

import dataclasses

import pytest
import torch

from convmixer.analysis.cost import count_parameters
from convmixer.data.sample import cifar10_sample
from convmixer.model import ConvMixer
from convmixer.train import SHORT, fit
from convmixer.widgets.training import KernelDepthTrainer, bundled_sample_split

# Seconds, not minutes: an 8-wide model on the 200 training images of the bundled sample.
TINY = SHORT.replace(
    name="tiny", model_overrides={"dim": 8, "patch_size": 4}, epochs=2, batch_size=50
)


@pytest.fixture(scope="module")
def splits():
    return bundled_sample_split()


class Spy:
    """Calls the real ``fit`` and remembers its arguments and results."""

    def __init__(self):
        self.calls, self.results = [], []

    def __call__(self, profile, **kwargs):
        self.calls.append((profile, kwargs))
        self.results.append(fit(profile, **kwargs))
        return self.results[-1]


def test_bundled_sample_split_is_a_disjoint_per_class_split(splits):
    train, test = splits
    assert (len(train), len(test)) == (200, 100)
    assert torch.bincount(train.labels).tolist() == [20] * 10
    assert torch.bincount(test.labels).tolist() == [10] * 10
    sample = cifar10_sample()
    assert train.classes == test.classes == sample.classes
    # Together they are the sample, each image exactly once.
    flat = lambda images: {bytes(image.flatten().tolist()) for image in images}  # noqa: E731
    assert flat(train.images).isdisjoint(flat(test.images))
    assert flat(train.images) | flat(test.images) == flat(sample.images)
    with pytest.raises(ValueError, match="between 1 and 29"):
        bundled_sample_split(30)


def test_panel_follows_the_widget_conventions(splits):
    panel = KernelDepthTrainer(*splits, profile=TINY)
    controls = {cls: w for w in panel.panel.children[0].children for cls in w._dom_classes}
    assert set(controls) == {"cm-kernel-size", "cm-depth", "cm-train"}
    assert all(w.description for w in controls.values())
    assert "cm-readout" in panel.readout._dom_classes and panel.readout in panel.panel.children
    assert "cm-figure" in panel.figure._dom_classes and panel.figure.value  # empty axes drawn
    assert panel.kernel_size.continuous_update is False and panel.depth.continuous_update is False
    assert "application/vnd.jupyter.widget-view+json" in panel._repr_mimebundle_()
    assert "200 training images &times; 2 epochs, evaluated on 100 test images" in panel.readout.value
    assert panel.runs == []


def test_train_button_trains_the_chosen_kernel_size_and_depth(splits):
    spy = Spy()
    panel = KernelDepthTrainer(*splits, profile=TINY, train_fn=spy)
    pictures = []
    panel.figure.observe(lambda change: pictures.append(change["new"]), names="value")
    panel.kernel_size.value, panel.depth.value = 4, 3  # an even kernel works too
    panel.train_button.click()

    (profile, kwargs), = spy.calls
    config = profile.model_config()
    assert (config.kernel_size, config.depth, config.dim, config.patch_size) == (4, 3, 8, 4)
    assert kwargs["train"] is splits[0] and kwargs["test"] is splits[1]
    assert kwargs["progress"] is False
    result = spy.results[0]
    run, = panel.runs
    assert (run.kernel_size, run.depth) == (4, 3)
    assert run.parameters == count_parameters(ConvMixer(config))
    assert run.eval_accuracy == result.evaluation.accuracy
    assert run.curves.eval_accuracy == [r.eval_accuracy for r in result.history]
    assert run.curves.eval_split == "test" == splits[1].split
    assert f"<b>{100 * run.eval_accuracy:.1f}%</b>" in panel.readout.value
    assert "finished k=4 d=3" in panel.readout.value
    # The curves were redrawn after every epoch, while training.
    assert len(pictures) >= TINY.epochs and len(set(map(bytes, pictures))) >= TINY.epochs
    assert panel.train_button.disabled is False


def test_later_runs_are_drawn_over_the_earlier_ones(splits):
    panel = KernelDepthTrainer(*splits, profile=TINY)
    first = panel.train()
    panel.kernel_size.value = 1
    picture = panel.figure.value
    second = panel.train()
    assert [r.kernel_size for r in panel.runs] == [5, 1]
    assert panel.plot.references == [first.curves]
    assert panel.plot.live == second.curves
    assert panel.figure.value != picture
    readout = panel.readout.value
    assert readout.count("<tr>") == 3  # header + two runs
    assert f"<b>{100 * first.eval_accuracy:.1f}%</b>" in readout
    assert f"<b>{100 * second.eval_accuracy:.1f}%</b>" in readout


def test_a_held_out_split_is_named_validation_not_test(splits):
    train, test = splits
    panel = KernelDepthTrainer(train, dataclasses.replace(test, split="validation"), profile=TINY)
    assert "evaluated on 100 validation images" in panel.readout.value
    panel.train()
    assert "finished k=5 d=2: validation accuracy" in panel.readout.value
    assert "<th>validation accuracy</th>" in panel.readout.value and "test" not in panel.readout.value
    legend = [line.get_label() for line in panel.plot.accuracy_ax.get_lines()]
    assert "k=5 d=2: validation" in legend and not any("test" in label for label in legend)


def test_a_failed_run_re_enables_the_button(splits):
    def broken(profile, **kwargs):
        assert panel.train_button.disabled is True
        raise ValueError("no data")

    panel = KernelDepthTrainer(*splits, profile=TINY, train_fn=broken)
    with pytest.raises(ValueError, match="no data"):
        panel.train()
    assert panel.train_button.disabled is False and panel.runs == []


def test_bad_settings_are_one_clear_sentence(splits):
    with pytest.raises(ValueError, match="kernel_size must be an integer between 1 and 9, got 11"):
        KernelDepthTrainer(*splits, kernel_size=11)
    with pytest.raises(ValueError, match="depth must be an integer between 1 and 4, got 5"):
        KernelDepthTrainer(*splits, depth=5, max_depth=4)
