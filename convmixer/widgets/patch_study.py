"""Patch size, trained: a precomputed slider over the patch sizes of the patch-size study
(:mod:`convmixer.studies.patch`), each frame an image with that ``p``'s grid beside the trained
stem's filters, the caption its cost and what it reached under both budgets."""

from __future__ import annotations

from typing import Mapping, Sequence

import torch

from convmixer.model import ConvMixer
from convmixer.studies.patch import PatchSummary
from convmixer.viz.patches import trained_patch_figure
from convmixer.widgets.precomputed import PrecomputedSlider, figure_frame


def patch_caption(summaries: Sequence[PatchSummary], patch_size: int) -> str:
    """E.g. ``p = 2: 256 tokens, 23.7 MFLOPs per image, 50,250 parameters; same epochs: 80.1 ±
    0.6 % (10 epochs, 9.8 min); same minutes: ...``, from the study's summaries of ``p``."""
    rows = [s for s in summaries if s.patch_size == patch_size]
    if not rows:
        raise ValueError(f"the study has no runs with p = {patch_size}")
    first = rows[0]
    budgets = [
        f"same {s.budget}: {s.mean:.1f}{'' if s.half_width is None else f' ± {s.half_width:.1f}'} % "
        f"({s.epochs} epochs, {s.train_minutes:.1f} min)"
        for s in rows
    ]
    return (f"p = {patch_size}: {first.tokens} tokens, {first.flops / 1e6:.1f} MFLOPs per image, "
            f"{first.parameters:,} parameters; " + "; ".join(budgets))


def patch_study_slider(summaries: Sequence[PatchSummary], models: Mapping[int, ConvMixer],
                       image: torch.Tensor) -> PrecomputedSlider:
    """A :class:`~convmixer.widgets.precomputed.PrecomputedSlider` over the patch sizes of
    ``models`` (``{p: a trained model}``): ``image`` with that grid beside the model's first
    trained stem filters (:func:`convmixer.viz.patches.trained_patch_figure`), captioned by
    :func:`patch_caption`."""
    if not models:
        raise ValueError("need at least one trained model")
    frames = []
    for p, model in sorted(models.items()):
        if model.config.patch_size != p:
            raise ValueError(f"the model given for p = {p} has p = {model.config.patch_size}")
        figure = trained_patch_figure(image, p, model.stem.conv.weight.detach())
        frames.append(figure_frame(f"p = {p}", figure, patch_caption(summaries, p)))
    return PrecomputedSlider("patch-size-trained", "Patch size", frames)
