"""The panel of notebook 06: move a control, check the readout's numbers and the figure."""

import re

import pytest
import torch
from support import panel_controls, tiny_model

from convmixer import ConvMixer
from convmixer.analysis import inspection as analysis_inspection
from convmixer.analysis.fields import receptive_field
from convmixer.data.sample import cifar10_sample
from convmixer.widgets import inspection as widget_module
from convmixer.widgets.inspection import ActivationExplorer, image_options


def preprocess(images: torch.Tensor) -> torch.Tensor:
    return images.float() / 127.5 - 1


@pytest.fixture(scope="module")
def sample():
    data = cifar10_sample()
    return data.images[:6], data.labels[:6], data.classes


def make_model(kernel_size: int = 5) -> ConvMixer:
    return tiny_model(depth=3, dim=12, kernel_size=kernel_size)


def number_after(text: str, label: str) -> float:
    return float(re.search(re.escape(label) + r" (-?[\d.]+)", text).group(1))


def test_panel_follows_the_widget_conventions(sample):
    explorer = ActivationExplorer(make_model(), *sample, preprocess=preprocess)
    found = panel_controls(explorer)
    assert set(found) == {"cm-image", "cm-layer", "cm-channel"}
    assert all(w.description for w in found.values())
    assert explorer.layer.continuous_update is False and explorer.channel.continuous_update is False
    assert "cm-readout" in explorer.readout._dom_classes and explorer.readout in explorer.panel.children
    assert "cm-figure" in explorer.figure._dom_classes and explorer.figure.value[:4] == b"\x89PNG"
    assert "application/vnd.jupyter.widget-view+json" in explorer._repr_mimebundle_()


def test_controls_span_the_model(sample):
    images, labels, classes = sample
    explorer = ActivationExplorer(make_model(), images, labels, classes, preprocess)
    assert (explorer.layer.min, explorer.layer.max, explorer.layer.value) == (0, 3, 3)
    assert (explorer.channel.min, explorer.channel.max) == (0, 11)
    assert explorer.image.options == tuple(image_options(labels, classes))
    assert explorer.image.options[2] == (f"2: {classes[int(labels[2])]}", 2)


def test_readout_states_prediction_shape_and_receptive_field(sample):
    images, labels, classes = sample
    model = make_model()
    explorer = ActivationExplorer(model, images, labels, classes, preprocess, image=1)
    model.eval()
    with torch.no_grad():
        probabilities = model(preprocess(images[1:2]))[0].softmax(0)
    predicted = int(probabilities.argmax())
    text = explorer.readout.value
    assert f"true class <b>{classes[int(labels[1])]}</b>" in text
    assert f"predicted <b>{classes[predicted]}</b> (p = {float(probabilities[predicted]):.2f}" in text
    assert "layer 3 = block 3 output" in text and "shape (12, 8, 8)" in text
    rf = receptive_field(5, 4, 3)
    assert rf == 52 and f"receptive field {rf}&times;{rf} px" in text


def test_moving_layer_and_channel_redraws_with_that_feature_map(sample):
    images, labels, classes = sample
    model = make_model(kernel_size=4)  # an even kernel works too
    explorer = ActivationExplorer(model, images, labels, classes, preprocess)
    picture = explorer.figure.value

    explorer.layer.value = 1
    text = explorer.readout.value
    assert "layer 1 = block 1 output" in text
    assert f"receptive field {receptive_field(4, 4, 1)}&times;" in text
    assert explorer.figure.value != picture
    picture = explorer.figure.value

    explorer.channel.value = 7
    text = explorer.readout.value
    feature_map = model.eval().feature_maps(preprocess(images[:1]))[1][0, 7]
    assert number_after(text, "channel 7: mean") == pytest.approx(float(feature_map.mean()), abs=0.006)
    assert number_after(text, "max") == pytest.approx(float(feature_map.max()), abs=0.006)
    assert explorer.figure.value != picture

    explorer.layer.value = 0
    assert "layer 0 = stem output" in explorer.readout.value
    assert "receptive field 4&times;4 px" in explorer.readout.value


def test_changing_image_runs_the_model_once_per_image(sample, monkeypatch):
    images, labels, classes = sample
    calls = []
    original = widget_module.inspect_image

    def counting(model, x, target=None):
        calls.append(x.clone())
        return original(model, x, target)

    monkeypatch.setattr(widget_module, "inspect_image", counting)
    explorer = ActivationExplorer(make_model(), images, labels, classes, preprocess)
    explorer.image.value = 4
    assert f"true class <b>{classes[int(labels[4])]}</b>" in explorer.readout.value
    explorer.layer.value = 2
    explorer.channel.value = 3
    explorer.image.value = 0
    assert len(calls) == 2
    torch.testing.assert_close(calls[1], preprocess(images[4:5])[0])
    assert analysis_inspection.inspect_image is original


def test_panel_rejects_bad_arguments(sample):
    images, labels, classes = sample
    model = make_model()
    with pytest.raises(ValueError, match="uint8 images"):
        ActivationExplorer(model, images.float(), labels, classes, preprocess)
    with pytest.raises(ValueError, match="6 images but 5 labels"):
        ActivationExplorer(model, images, labels[:5], classes, preprocess)
    with pytest.raises(ValueError, match="9 class names for a model with 10 classes"):
        ActivationExplorer(model, images, labels, classes[:9], preprocess)
    with pytest.raises(ValueError, match=r"layer must be an integer between 0 and 3, got 4"):
        ActivationExplorer(model, images, labels, classes, preprocess, layer=4)
    with pytest.raises(ValueError, match=r"channel must be an integer between 0 and 11, got 12"):
        ActivationExplorer(model, images, labels, classes, preprocess, channel=12)
    with pytest.raises(ValueError, match=r"image must be an integer between 0 and 5, got 6"):
        ActivationExplorer(model, images, labels, classes, preprocess, image=6)
