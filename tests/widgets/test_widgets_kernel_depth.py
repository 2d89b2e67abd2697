"""Notebook 07's panels: the explorer of the stored study and the trainer of one (k, d, seed),
driven with a fake training function."""

import pytest
from study_fakes import FakeFit, sweep_grid, tiny_data

from convmixer.analysis.cost import convmixer_parameters
from convmixer.model import ConvMixerConfig
from convmixer.studies.panel_runs import RunStore, budget_digest
from convmixer.train import PROFILES
from convmixer.widgets.kernel_depth import StudyTrainer, SweepExplorer


@pytest.fixture()
def grid():
    return sweep_grid()


def classes(panel) -> dict[str, object]:
    """CSS class ``cm-...`` -> widget, for every control of the panel's rows."""
    rows = [row for row in panel.panel.children if hasattr(row, "children")]
    return {cls: w for row in rows for w in row.children for cls in w._dom_classes}


# --- the explorer ------------------------------------------------------------------------------


def test_explorer_conventions_and_readout(grid):
    panel = SweepExplorer(grid)
    found = classes(panel)
    assert set(found) == {"cm-study-metric", "cm-study-show-depth"} and all(w.description for w in found.values())
    assert "cm-readout" in panel.readout._dom_classes and "cm-figure" in panel.figure._dom_classes
    text = panel.readout.value
    assert "k3 d2: 47.0" in text and "k9 d4: 57.0" in text and "k5 d4: 51.8 (mean of 3 seeds)" in text
    # s = 1.26 from k5 d4's three seeds; t(2 dof) = 4.30; sqrt(1 + 1) s t = 7.7
    assert "k = 9 vs k = 3 at d = 2: +6.0 ± 7.7 points: within the noise" in text
    assert "parameters &times;" in text and "throughput &times;0.33" in text
    assert "95 % interval from the seed spread, 1.26 points (from k5 d4, 3 seeds; 2 degrees of freedom)" in text


def test_explorer_controls_change_readout_and_figure(grid):
    panel = SweepExplorer(grid)
    picture = panel.figure.value
    panel.metric.value = "parameters"
    assert panel.readout.value.startswith("<b>parameters</b>")
    assert f"k9 d4: {grid[5].parameters:,}" in panel.readout.value
    assert panel.figure.value != picture
    picture = panel.figure.value
    panel.depth.value = "4"
    assert "at d = 2" not in panel.readout.value and "k = 9 vs k = 3 at d = 4" in panel.readout.value
    assert "k3 d2" not in panel.readout.value
    assert panel.figure.value != picture
    with pytest.raises(ValueError, match="unknown metric"):
        SweepExplorer(grid, metric="speed")


def test_explorer_says_when_no_difference_can_be_judged(grid):
    panel = SweepExplorer([r for r in grid if r.seed == 0])
    assert "the seed spread is unknown, so no accuracy difference can be judged" in panel.readout.value
    assert "±" not in panel.readout.value


# --- the trainer -------------------------------------------------------------------------------


class Loader:
    """Counts how often the panel asks for the data."""

    def __init__(self, error: str | None = None, split: str = "test") -> None:
        self.calls, self.error, self.split = 0, error, split

    def __call__(self):
        self.calls += 1
        if self.error:
            raise ValueError(self.error)
        return tiny_data(30, split="train"), tiny_data(12, split=self.split)


def make_trainer(grid, tmp_path, fake=None, loader=None, budget="short"):
    return StudyTrainer(
        grid, PROFILES[budget], RunStore(tmp_path / "runs.json"), loader or Loader(), train_fn=fake or FakeFit()
    )


def test_trainer_conventions(grid, tmp_path):
    panel = make_trainer(grid, tmp_path)
    found = classes(panel)
    assert set(found) == {"cm-study-kernel-size", "cm-study-depth", "cm-study-seed", "cm-study-train"}
    assert all(w.description for w in found.values())
    assert not any(cls in found for cls in ("cm-kernel-size", "cm-depth", "cm-train"))  # notebook 05's names
    assert "cm-readout" in panel.readout._dom_classes and "cm-figure" in panel.figure._dom_classes
    text = panel.readout.value
    assert "short budget: ConvMixer-64/d, p = 4, 5,000 images × 4 epochs, tested on 1,000" in text
    assert str(tmp_path / "runs.json") in text and "0 run(s) under this budget" in text


def test_moving_a_slider_previews_the_next_model(grid, tmp_path):
    panel = make_trainer(grid, tmp_path)
    picture = panel.figure.value
    panel.kernel_size.value, panel.depth.value, panel.seed.value = 7, 3, 4
    parameters = convmixer_parameters(ConvMixerConfig(dim=64, depth=3, kernel_size=7, patch_size=4))
    assert (f"Next run: k = 7, d = 3, seed 4: ConvMixer-64/3 with p = 4, {parameters:,} parameters, "
            f"receptive field {4 * (1 + 3 * 6)} px") in panel.readout.value
    assert panel.figure.value != picture
    legend = [t.get_text() for t in panel.drawn.axes[0].get_legend().get_texts()]
    assert "next run: k = 7, d = 3, seed 4" in legend


def test_train_runs_the_chosen_model_stores_it_and_plots_it(grid, tmp_path):
    fake, loader = FakeFit(accuracy=0.42, test_images=12), Loader()
    panel = make_trainer(grid, tmp_path, fake, loader)
    assert loader.calls == 0  # the panel shows without data
    panel.kernel_size.value, panel.depth.value, panel.seed.value = 9, 2, 3
    picture = panel.figure.value
    run = panel.train()
    (profile, _), = fake.calls
    config = profile.model_config()
    assert (config.kernel_size, config.depth, profile.seed) == (9, 2, 3)
    assert profile.replace(name="short", model_overrides=PROFILES["short"].model_overrides, seed=0) == PROFILES["short"]
    assert (run.kernel_size, run.depth, run.seed, run.eval_accuracy, run.eval_split) == (9, 2, 3, 0.42, "test")
    assert "Finished k = 9, d = 2, seed 3: test accuracy <b>42.0%</b> on 12 test images" in panel.readout.value
    assert "1 run(s) under this budget" in panel.readout.value
    assert "short budget: ConvMixer-64/d, p = 4, 30 images × 4 epochs, tested on 12" in panel.readout.value
    assert panel.figure.value != picture
    assert not panel.train_button.disabled
    assert RunStore(tmp_path / "runs.json").load() == [run]
    panel.train()
    assert loader.calls == 1  # loaded once, kept


def test_runs_survive_a_restart_and_other_budgets_stay_apart(grid, tmp_path):
    make_trainer(grid, tmp_path, budget="smoke").train()
    panel = make_trainer(grid, tmp_path)  # a new kernel, the short budget
    assert panel.your_runs == [] and "(1 more under other budgets or judged on another split, not shown)" in panel.readout.value
    panel.train()
    again = make_trainer(grid, tmp_path)
    assert len(again.your_runs) == 1 and again.your_runs[0].budget_digest == budget_digest(PROFILES["short"])
    assert "1 run(s) under this budget (1 more under other budgets" in again.readout.value
    legend = [t.get_text().replace("\n", " ") for t in again.drawn.axes[0].get_legend().get_texts()]
    assert any(text.startswith("your runs (short budget: ConvMixer-64/d") for text in legend)


def test_runs_judged_on_validation_say_so_and_stay_apart_from_test_runs(grid, tmp_path):
    make_trainer(grid, tmp_path).train()  # judged on test images
    panel = StudyTrainer(grid, PROFILES["short"], RunStore(tmp_path / "runs.json"), Loader(split="validation"),
                          train_fn=FakeFit(accuracy=0.5, test_images=12), eval_split="validation")
    assert panel.your_runs == [] and "checked on 1,000 validation images" in panel.readout.value
    run = panel.train()
    assert run.eval_split == "validation" and [r.eval_split for r in RunStore(tmp_path / "runs.json").load()] == [
        "test", "validation"]
    text = panel.readout.value
    assert "validation accuracy <b>50.0%</b> on 12 validation images" in text
    assert "30 images × 4 epochs, checked on 12 validation images" in text and "<th>validation accuracy</th>" in text
    assert panel.your_runs == [run]


def test_training_reports_each_epoch(grid, tmp_path):
    panel = make_trainer(grid, tmp_path)
    seen = []
    panel.readout.observe(lambda change: seen.append(change["new"]), names="value")
    panel.train()
    assert any("epoch 2/4, train loss 1.800" in text for text in seen)


def test_missing_data_is_said_in_the_readout(grid, tmp_path):
    fake = FakeFit()
    panel = make_trainer(grid, tmp_path, fake, Loader(error="no CIFAR-10 data found; supply a copy"))
    assert panel.train() is None
    assert "Could not load the data: no CIFAR-10 data found; supply a copy" in panel.readout.value
    assert fake.calls == [] and not panel.train_button.disabled
    assert not (tmp_path / "runs.json").exists()


def test_a_broken_runs_file_is_one_clear_error(grid, tmp_path):
    (tmp_path / "runs.json").write_text("{")
    with pytest.raises(ValueError, match="is not a readable convmixer study runs file .*; move or delete"):
        make_trainer(grid, tmp_path)


# --- figures at their real size -----------------------------------------------------------------


def png_width(data: bytes) -> int:
    return int.from_bytes(data[16:20], "big")


def test_both_panels_show_their_figures_at_their_real_size(grid, tmp_path):
    """No fixed CSS width (860 px shrank the 12-inch sweep figure to about 72 dpi) and no dpi
    below the style's: each picture is its figure's inches at 100 dpi or more, shown at its own
    size and shrunk only where the page is narrower."""
    from convmixer.viz.style import FIGURE_DPI

    explorer = SweepExplorer(grid)
    trainer = make_trainer(grid, tmp_path)
    assert FIGURE_DPI >= 100
    for panel in (explorer, trainer):
        assert not panel.figure.layout.width and panel.figure.layout.max_width == "100%"
        assert panel.dpi >= FIGURE_DPI
        inches = panel.drawn.get_size_inches()[0]
        assert png_width(panel.figure.value) == round(inches * panel.dpi)
