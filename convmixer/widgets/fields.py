"""How far trained models look, one image at a time: a precomputed slider over images, each frame
the image beside the effective receptive field (:mod:`convmixer.analysis.fields`) of every model's
centre grid position for that image alone, on one colour scale."""

from __future__ import annotations

from typing import Mapping, Sequence

from convmixer.analysis.fields import centre_position
from convmixer.data.augment import prepare_images
from convmixer.data.sample import ImageSample
from convmixer.model import ConvMixer
from convmixer.studies.erf import ErfMeasure, measure
from convmixer.viz.fields import erf_figure
from convmixer.viz.model import receptive_box
from convmixer.widgets.precomputed import PrecomputedSlider, figure_frame


def erf_caption(measured: Mapping[str, ErfMeasure]) -> str:
    """The readout of one frame: each model's half-gradient side and own-patch share, e.g.
    ``k = 3: half the gradient within 12 px, 31 % on its own patch``."""
    return "; ".join(f"{name}: half the gradient within {m.side} px, {100 * m.own_share:.0f} % on its own patch"
                     for name, m in measured.items())


def image_erf_slider(models: Mapping[str, ConvMixer], sample: ImageSample, indices: Sequence[int]) -> PrecomputedSlider:
    """A :class:`~convmixer.widgets.precomputed.PrecomputedSlider` over the ``sample`` images at
    ``indices`` (labelled e.g. ``"12: cat"``): each frame the image and, for every model of
    ``models`` (``{name: model}``, same patch size), the ERF of its centre position for that image
    (:func:`convmixer.studies.erf.measure` on one image), with its theoretical receptive field
    outlined; the caption is :func:`erf_caption`."""
    if not models or not indices:
        raise ValueError("need at least one model and one image")
    patch_sizes = {model.config.patch_size for model in models.values()}
    if len(patch_sizes) > 1:
        raise ValueError(f"the models differ in patch size ({sorted(patch_sizes)}); one own-patch box cannot outline both")
    (p,) = patch_sizes
    frames = []
    for index in indices:
        image = sample.images[index]
        position = centre_position(image.shape[-2], image.shape[-1], p)
        measured = {name: measure(model, prepare_images(image[None])) for name, model in models.items()}
        boxes = {name: receptive_box(model.config.kernel_size, p, model.config.depth, *position)
                 for name, model in models.items()}
        fig = erf_figure({name: m.tensor() for name, m in measured.items()}, receptive_box(1, p, 0, *position),
                         boxes, image=image)
        frames.append(figure_frame(f"{index}: {sample.classes[sample.labels[index]]}", fig, erf_caption(measured)))
    return PrecomputedSlider("erf-image", "Image", frames)
