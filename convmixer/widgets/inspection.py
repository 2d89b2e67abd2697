"""Panel for notebook 06: pick a test image, a stage and a channel of a trained ConvMixer, and see
that channel's feature map, the patch norms, which patches drive the predicted class, and the
filter that made the channel.

Controls ``cm-image`` (menu), ``cm-layer`` (slider, 0 = stem, ``l`` = block ``l``) and
``cm-channel`` (slider) over the readout and the figure of a
:class:`convmixer.widgets.panel.Panel`. Moving the layer or channel only redraws: the forward
and backward pass runs once per image (cached).
"""

from __future__ import annotations

import dataclasses
import html
from typing import Callable, Sequence

import torch

from convmixer._util import check_int_in_range
from convmixer.analysis.fields import receptive_field
from convmixer.analysis.inspection import Inspection, inspect_image, most_varied_channel, patch_norms, stage_names
from convmixer.model import ConvMixer
from convmixer.viz.inspection import inspection_figure
from convmixer.widgets.panel import Panel, dropdown, int_slider

Preprocess = Callable[[torch.Tensor], torch.Tensor]  # uint8 (B, C, H, W) -> float model input


def image_options(labels: torch.Tensor, classes: Sequence[str]) -> list[tuple[str, int]]:
    """Menu entries ``("12: cat", 12)`` for every image, named by its index and true class."""
    return [(f"{i}: {classes[int(label)]}", i) for i, label in enumerate(labels)]


class ActivationExplorer(Panel):
    """Image menu (``cm-image``), layer (``cm-layer``) and channel (``cm-channel``) sliders over a
    readout and the :func:`inspection_figure` (the panel of notebook 06).

    Args:
        model: a (trained) ConvMixer; it is put in eval mode for every pass and left as found.
        images: uint8 ``(N, C, H, W)`` test images; ``labels``: their true classes ``(N,)``.
        classes: class names, indexed by label.
        preprocess: turns a uint8 batch into the model's input (e.g.
            ``convmixer.data.augment.prepare_images``), so the panel sees what the model saw in training.
        image, layer, channel: the initial selection (``layer`` defaults to the last block).
    """

    def __init__(
        self,
        model: ConvMixer,
        images: torch.Tensor,
        labels: torch.Tensor,
        classes: Sequence[str],
        preprocess: Preprocess,
        image: int = 0,
        layer: int | None = None,
        channel: int = 0,
    ) -> None:
        if images.dim() != 4 or images.dtype != torch.uint8:
            raise ValueError(
                f"expected uint8 images shaped (N, C, H, W), got {images.dtype} {tuple(images.shape)}"
            )
        if len(labels) != len(images):
            raise ValueError(f"got {len(images)} images but {len(labels)} labels")
        if len(classes) != model.head.fc.out_features:
            raise ValueError(
                f"got {len(classes)} class names for a model with {model.head.fc.out_features} classes"
            )
        config = dataclasses.replace(model.config, image_size=images.shape[-1])
        depth, width = config.depth, config.dim
        layer = depth if layer is None else layer
        check_int_in_range("image", image, 0, len(images) - 1)
        self.model, self.images, self.labels = model, images, labels
        self.classes, self.preprocess, self.config = tuple(classes), preprocess, config
        self._cache: dict[int, Inspection] = {}

        self.image = dropdown("image", "Image", image_options(labels, self.classes), image)
        self.layer = int_slider("layer", "Layer (0 = stem)", layer, 0, depth)
        self.channel = int_slider("channel", "Channel", channel, 0, width - 1)
        # the figure at its own size (100 dpi), shrunk only where the page is narrower
        self.layout([[self.image, self.layer, self.channel]])
        self.redraw_on(self.image, self.layer, self.channel)
        self.update()

    def inspection(self, index: int) -> Inspection:
        """Feature maps, probabilities and attributions of image ``index`` (computed once)."""
        if index not in self._cache:
            x = self.preprocess(self.images[index : index + 1])[0]
            self._cache[index] = inspect_image(self.model, x)
        return self._cache[index]

    def update(self, change: object = None) -> None:
        """Refresh the readout and the figure for the current image, layer and channel."""
        index, layer, channel = self.image.value, self.layer.value, self.channel.value
        result = self.inspection(index)
        self.readout.value = readout_html(
            result, layer, channel, self.classes, int(self.labels[index]), self.config.kernel_size,
            self.config.patch_size,
        )
        self.show(inspection_figure(self.images[index], result, self.model, layer, channel, self.classes))


def readout_html(
    result: Inspection, layer: int, channel: int, classes: Sequence[str], label: int,
    kernel_size: int, patch_size: int,
) -> str:
    """The readout: true and predicted class with its probability, the stage's name, shape and
    receptive field, the channel's statistics, the patch with the largest norm, and this layer's
    most varied channel (channel numbers name unrelated features in different layers)."""
    feature_map = result.feature_maps[layer]
    name = stage_names(len(result.feature_maps) - 1)[layer]
    values = feature_map[channel]
    norms = patch_norms(feature_map)
    row, col = divmod(int(norms.argmax()), norms.shape[1])
    predicted = result.prediction
    verdict = "correct" if predicted == label else "wrong"
    rf = receptive_field(kernel_size, patch_size, layer)
    return (
        f"true class <b>{html.escape(classes[label])}</b> &rarr; predicted "
        f"<b>{html.escape(classes[predicted])}</b> (p = {float(result.probabilities[predicted]):.2f}, "
        f"{verdict})<br>"
        f"layer {layer} = {name} output z<sub>{layer}</sub>: shape {tuple(feature_map.shape)}, "
        f"receptive field {rf}&times;{rf} px<br>"
        f"channel {channel}: mean {float(values.mean()):.2f}, min {float(values.min()):.2f}, "
        f"max {float(values.max()):.2f} &middot; largest patch norm {float(norms.max()):.2f} "
        f"at patch (row {row}, col {col})<br>"
        f"most varied channel of this layer: {most_varied_channel(feature_map)} "
        f"(a channel number names a different feature in every layer)"
    )
