"""Figures of notebook 05: each shows the numbers and images it is given, in the right place."""

from types import SimpleNamespace

import numpy as np
import pytest
import torch
from matplotlib.figure import Figure

from convmixer.data.augment import normalize, to_float
from convmixer.data.sample import cifar10_sample
from convmixer.viz.training import (
    Curves,
    TrainingCurves,
    augmentation_figure,
    class_grid,
    confusion_matrix_figure,
    mistakes_figure,
    most_confident_mistakes,
    per_class_accuracy_figure,
    unnormalize,
)


@pytest.fixture(scope="module")
def sample():
    return cifar10_sample()


def test_class_grid_puts_each_class_in_its_own_row(sample):
    fig = class_grid(sample.images, sample.labels, sample.classes, per_class=3)
    axes = np.array(fig.axes).reshape(len(sample.classes), 3)
    for label, name in enumerate(sample.classes):
        assert axes[label, 0].get_ylabel() == name
        expected = torch.nonzero(sample.labels == label).flatten()[:3]
        for ax, index in zip(axes[label], expected):
            shown = ax.get_images()[0].get_array()
            np.testing.assert_array_equal(shown, sample.images[index].permute(1, 2, 0).numpy())


def test_class_grid_rejects_a_missing_class(sample):
    no_cats = sample.labels != sample.classes.index("cat")
    with pytest.raises(ValueError, match="class 3 .'cat'."):
        class_grid(sample.images[no_cats], sample.labels[no_cats], sample.classes)
    with pytest.raises(ValueError, match="labels"):
        class_grid(sample.images, sample.labels[:5], sample.classes)


def test_unnormalize_inverts_the_training_normalisation(sample):
    images = sample.images[:4]
    torch.testing.assert_close(unnormalize(normalize(to_float(images))), to_float(images))


def test_augmentation_figure_shows_originals_and_views(sample):
    originals = sample.images[:2]
    flipped = unnormalize(normalize(to_float(originals.flip(-1))))
    fig = augmentation_figure(originals, [flipped])
    axes = np.array(fig.axes).reshape(2, 2)
    assert axes[0, 0].get_title() == "original" and axes[0, 1].get_title() == "view 1"
    np.testing.assert_array_equal(
        axes[1, 1].get_images()[0].get_array(), originals[1].flip(-1).permute(1, 2, 0).numpy()
    )
    with pytest.raises(ValueError, match="unnormalize"):
        augmentation_figure(originals, [normalize(to_float(originals))])
    with pytest.raises(ValueError, match="shape"):
        augmentation_figure(originals, [originals[:1]])


def test_curves_from_history_keeps_only_complete_series():
    records = [
        SimpleNamespace(epoch=1, train_loss=2.0, eval_accuracy=0.3, eval_split="validation", lr=0.01),
        SimpleNamespace(epoch=2, train_loss=1.5, eval_accuracy=0.4, eval_split="validation", lr=0.02),
    ]
    curves = Curves.from_history("run", records)
    assert curves.label == "run"
    assert curves.epochs == [1.0, 2.0]
    assert curves.train_loss == [2.0, 1.5]
    assert curves.eval_accuracy == [0.3, 0.4] and curves.eval_split == "validation"
    assert curves.eval_loss == [] and curves.train_accuracy == []


def test_training_curves_move_lines_in_place_and_keep_references():
    plot = TrainingCurves(max_epochs=4)
    figure = plot.figure
    plot.add_reference(Curves("k=3 d=2", [1, 2], [2.0, 1.8], [2.1, 1.9], [0.2, 0.3], [0.25, 0.35]))
    plot.update(Curves("k=9 d=4", [1], [1.9], [2.0], [0.3], [0.32]))
    plot.update(Curves("k=9 d=4", [1, 2], [1.9, 1.2], [2.0, 1.4], [0.3, 0.55], [0.32, 0.5], "validation"))
    assert plot.figure is figure
    live = plot._lines["eval_accuracy"]
    np.testing.assert_allclose(live.get_xdata(), [1, 2])
    np.testing.assert_allclose(live.get_ydata(), [32, 50])  # percent
    np.testing.assert_allclose(plot._lines["train_loss"].get_ydata(), [1.9, 1.2])
    # The reference run is drawn on both axes (train dashed, test solid) and named in the legend.
    assert len(plot.loss_ax.get_lines()) == 4 and len(plot.accuracy_ax.get_lines()) == 4
    legend = [t.get_text() for t in plot.accuracy_ax.get_legend().get_texts()]
    assert "k=3 d=2" in legend and "k=9 d=4: validation" in legend  # named by the live run's eval_split
    low, high = plot.loss_ax.get_ylim()
    assert low <= 1.2 and high >= 2.1
    assert plot.accuracy_ax.get_xlim()[1] >= 4


def test_confusion_matrix_figure_writes_row_percentages():
    classes = ("a", "b", "c")
    matrix = torch.tensor([[8, 2, 0], [0, 5, 5], [1, 1, 2]])
    fig = confusion_matrix_figure(matrix, classes)
    ax = fig.axes[0]
    texts = [t.get_text() for t in ax.texts]
    assert texts == ["80", "20", "0", "0", "50", "50", "25", "25", "50"]
    np.testing.assert_allclose(ax.get_images()[0].get_array()[2], [25, 25, 50])
    with pytest.raises(ValueError, match="3 x 3"):
        confusion_matrix_figure(torch.zeros(2, 2), classes)


def test_per_class_accuracy_bars_and_mean():
    fig = per_class_accuracy_figure([0.5, 1.0, 0.75], ("a", "b", "c"))
    ax = fig.axes[0]
    np.testing.assert_allclose([bar.get_width() for bar in ax.patches], [50, 100, 75])
    assert ax.get_legend().get_texts()[0].get_text() == "mean 75.0 %"
    with pytest.raises(ValueError, match="2 accuracies for 3 classes"):
        per_class_accuracy_figure([0.5, 1.0], ("a", "b", "c"))


def test_most_confident_mistakes_orders_wrong_predictions_by_confidence():
    probabilities = torch.tensor(
        [
            [0.9, 0.1],  # right
            [0.6, 0.4],  # wrong, 0.6
            [0.05, 0.95],  # wrong, 0.95
            [0.2, 0.8],  # right
            [0.3, 0.7],  # wrong, 0.7
        ]
    )
    labels = torch.tensor([0, 1, 0, 1, 0])
    assert most_confident_mistakes(probabilities, labels, 10).tolist() == [2, 4, 1]
    assert most_confident_mistakes(probabilities, labels, 2).tolist() == [2, 4]
    assert most_confident_mistakes(probabilities, torch.tensor([0, 0, 1, 1, 1]), 3).tolist() == []
    with pytest.raises(ValueError, match="labels"):
        most_confident_mistakes(probabilities, labels[:3], 2)


def test_mistakes_figure_titles_name_truth_guess_and_confidence(sample):
    probabilities = torch.tensor([[0.1, 0.9] + [0.0] * 8, [0.0013] + [0.0] * 8 + [0.9987]])
    labels = torch.tensor([3, 8])
    fig = mistakes_figure(sample.images[:2], labels, probabilities, sample.classes)
    assert isinstance(fig, Figure)
    titles = [ax.get_title() for ax in fig.axes[:2]]
    assert titles == ["cat\n→ automobile 90.00%", "ship\n→ truck 99.87%"]


def test_confusion_matrix_figure_has_a_colour_bar_in_percent():
    fig = confusion_matrix_figure(torch.tensor([[3, 1], [0, 4]]), ("a", "b"))
    assert len(fig.axes) == 2  # the matrix and its colour bar
    assert "%" in fig.axes[1].get_ylabel()
