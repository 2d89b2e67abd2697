"""The trained patch-size slider: one frame per patch size, each caption that p's cost and results."""

from __future__ import annotations

import pytest
from support import tiny_model

from convmixer.data.sample import cifar10_sample
from convmixer.studies.patch import PatchRun, summarise
from convmixer.viz.patches import trained_patch_figure
from convmixer.widgets.patch_study import patch_caption, patch_study_slider


def runs() -> list[PatchRun]:
    made = []
    for kind, base in (("epochs", 0.80), ("minutes", 0.70)):
        for p in (2, 4):
            for seed in (0, 1):
                made.append(PatchRun(kind, p, seed, 10 if kind == "epochs" else 3 * p, base + 0.01 * p + 0.002 * seed,
                                     5000, 50_000 + p, 1_000_000 * (32 // p) ** 2, (32 // p) ** 2, (), 120.0 * p, 121.0))
    return made


def test_each_frame_is_one_patch_size_with_its_grid_filters_and_both_budgets():
    summaries = summarise(runs())
    models = {p: tiny_model(patch_size=p).eval() for p in (4, 2)}
    slider = patch_study_slider(summaries, models, cifar10_sample().images[0])
    assert slider.labels == ["p = 2", "p = 4"]
    caption = slider.frames[0].caption
    assert caption == patch_caption(summaries, 2)
    assert caption.startswith("p = 2: 256 tokens, 256.0 MFLOPs per image, 50,002 parameters; same epochs: 82.1 ± ")
    assert "same minutes: 72.1 ± " in caption and "(6 epochs, 4.0 min)" in caption
    with pytest.raises(ValueError, match="no runs with p = 8"):
        patch_caption(summaries, 8)
    with pytest.raises(ValueError, match="the model given for p = 2 has p = 4"):
        patch_study_slider(summaries, {2: tiny_model(patch_size=4)}, cifar10_sample().images[0])


def test_the_figure_shows_the_grid_and_the_first_filters():
    model = tiny_model(patch_size=4, dim=16)
    fig = trained_patch_figure(cifar10_sample().images[0], 4, model.stem.conv.weight.detach(), count=12, ncols=6)
    pictures = [ax for sub in fig.subfigs for ax in sub.axes if ax.images]
    assert len(pictures) == 1 + 12
    assert pictures[0].get_title() == "p = 4: a 8 x 8 grid"
    with pytest.raises(ValueError, match="stem filters shaped"):
        trained_patch_figure(cifar10_sample().images[0], 2, model.stem.conv.weight.detach())
