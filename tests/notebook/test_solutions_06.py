"""Notebook 06's exercises: every judge accepts the solution and turns typical wrong answers
away with a sentence that says what is wrong (the solutions' own run: test_exercises.py)."""

import pytest
import torch

from convmixer.notebook.exercises import EXERCISES


def judge(name: str):
    return EXERCISES[name].judge


def test_stem_filter_numbers_rejects_a_missing_colour_axis_and_the_biases():
    assert judge("06-stem-filter-numbers")(lambda h, p, c_in=3: h * c_in * p * p) is None
    assert "colour channel" in judge("06-stem-filter-numbers")(lambda h, p, c_in=3: h * p * p)
    assert "biases" in judge("06-stem-filter-numbers")(lambda h, p, c_in=3: h * c_in * p * p + h)


def test_receptive_field_rejects_grid_positions_and_a_one_pixel_stem():
    assert judge("06-receptive-field")(lambda k, p, l: p * (1 + l * (k - 1))) is None
    assert "grid positions" in judge("06-receptive-field")(lambda k, p, l: 1 + l * (k - 1))
    assert "stem alone" in judge("06-receptive-field")(lambda k, p, l: 1 + l * (k - 1) * p)


def test_cam_rejects_pooled_maps_one_class_for_all_and_a_scaled_map():
    right = lambda z, w, t: torch.einsum("nchw,nc->nhw", z, w[t])
    assert judge("06-cam")(right) is None
    assert "one number per image" in judge("06-cam")(lambda z, w, t: right(z, w, t).mean(dim=(1, 2)))
    assert "own class" in judge("06-cam")(lambda z, w, t: torch.einsum("nchw,c->nhw", z, w[t[0]]))
    assert "scaled down" in judge("06-cam")(lambda z, w, t: right(z, w, t) / z[0, 0].numel())
    assert "shape" in judge("06-cam")(lambda z, w, t: torch.einsum("nchw,kc->nkhw", z, w))
    assert "w_c" in judge("06-cam")(lambda z, w, t: right(z, w, t) + 1)


def test_logit_from_cam_rejects_a_sum_and_a_missing_bias():
    assert judge("06-logit-from-cam")(lambda cam, b: cam.mean(dim=(1, 2)) + b) is None
    assert "summed" in judge("06-logit-from-cam")(lambda cam, b: cam.sum(dim=(1, 2)) + b)
    assert "bias" in judge("06-logit-from-cam")(lambda cam, b: cam.mean(dim=(1, 2)))
    assert "one logit per image" in judge("06-logit-from-cam")(lambda cam, b: cam.mean() + b.mean())


def test_filter_moved_rejects_absolute_pooled_and_wrongly_scaled_distances():
    def moved(w0, w):
        return (w - w0).flatten(1).norm(dim=1) / w0.flatten(1).norm(dim=1)

    assert judge("06-filter-moved")(moved) is None
    assert "absolute" in judge("06-filter-moved")(lambda w0, w: (w - w0).flatten(1).norm(dim=1))
    assert "one number" in judge("06-filter-moved")(lambda w0, w: (w - w0).norm() / w0.norm())
    assert "trained filter" in judge("06-filter-moved")(
        lambda w0, w: (w - w0).flatten(1).norm(dim=1) / w.flatten(1).norm(dim=1))
    assert "squared" in judge("06-filter-moved")(lambda w0, w: moved(w0, w) ** 2)


def test_eval_mode_rejects_training_mode_logits_a_graph_and_a_model_left_in_eval_mode():
    def right(model, images):
        was = model.training
        model.eval()
        with torch.no_grad():
            out = model(images)
        model.train(was)
        return out

    def forgot_eval(model, images):
        with torch.no_grad():
            return model(images)

    def with_graph(model, images):
        model.eval()
        out = model(images)
        model.train()
        return out

    def left_in_eval(model, images):
        model.eval()
        with torch.no_grad():
            return model(images)

    assert judge("06-eval-mode")(right) is None
    assert "training-mode logits" in judge("06-eval-mode")(forgot_eval)
    assert "no_grad" in judge("06-eval-mode")(with_graph)
    assert "left in eval mode" in judge("06-eval-mode")(left_in_eval)


@pytest.mark.parametrize("name", [n for n in EXERCISES if n.startswith("06-")])
def test_every_message_is_one_sentence(name):
    assert EXERCISES[name].judge is not None
    assert EXERCISES[name].hint.count(". ") == 0
