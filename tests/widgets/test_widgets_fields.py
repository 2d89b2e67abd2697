"""The per-image ERF slider: one frame per image, each caption the measurement of that image alone."""

from __future__ import annotations

import pytest
from support import tiny_model

from convmixer.data.augment import prepare_images
from convmixer.data.sample import cifar10_sample
from convmixer.studies.erf import measure
from convmixer.viz.fields import INPUT_TITLE, erf_figure
from convmixer.widgets.fields import erf_caption, image_erf_slider


def test_each_frame_is_one_image_and_its_caption_that_images_measurement():
    sample = cifar10_sample()
    models = {"k = 3": tiny_model(kernel_size=3).eval(), "k = 9": tiny_model(kernel_size=9).eval()}
    slider = image_erf_slider(models, sample, [4, 7])
    assert slider.labels == [f"4: {sample.classes[sample.labels[4]]}", f"7: {sample.classes[sample.labels[7]]}"]
    expected = {name: measure(model, prepare_images(sample.images[7][None])) for name, model in models.items()}
    assert slider.frames[1].caption == erf_caption(expected)
    assert slider.frames[0].caption != slider.frames[1].caption  # each image its own field
    assert "k = 9: half the gradient within" in slider.frames[1].caption


def test_the_image_panel_comes_first_and_wrong_inputs_are_one_sentence():
    sample = cifar10_sample()
    model = tiny_model(kernel_size=3).eval()
    erf = measure(model, prepare_images(sample.images[:1])).tensor()
    fig = erf_figure({"k = 3": erf}, (12, 12, 4), image=sample.images[0])
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert titles[:2] == [INPUT_TITLE, "k = 3"] and fig.axes[0].images[0].get_array().shape == (32, 32, 3)
    with pytest.raises(ValueError, match="differ in patch size"):
        image_erf_slider({"a": model, "b": tiny_model(patch_size=2).eval()}, sample, [0])
    with pytest.raises(ValueError, match="at least one model and one image"):
        image_erf_slider({}, sample, [0])
