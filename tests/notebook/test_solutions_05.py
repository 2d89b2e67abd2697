"""Notebook 05's exercises: the judges accept the right answers and reject the typical wrong ones
with a sentence that says what went wrong; the numeric answers come from the package."""

import math

import pytest
import torch
import torch.nn.functional as F

from convmixer.notebook import check
from convmixer.notebook.exercises import EXERCISES
from convmixer.train import get_profile


def verdict(name: str, answer) -> str | None:
    return EXERCISES[name].judge(answer)


# --- train_step -------------------------------------------------------------------------------------------
def right_step(model, optimizer, images, labels):
    loss = F.cross_entropy(model(images), labels)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss.item()


def test_a_right_training_step_passes():
    assert verdict("05-train-step", right_step) is None


def test_a_step_without_optimizer_step_is_told_the_weights_did_not_move():
    def no_step(model, optimizer, images, labels):
        loss = F.cross_entropy(model(images), labels)
        optimizer.zero_grad()
        loss.backward()
        return loss

    assert "did not move" in verdict("05-train-step", no_step)
    assert "optimizer.step()" in verdict("05-train-step", no_step)


def test_a_step_without_zero_grad_is_told_the_gradient_doubled():
    def no_zero(model, optimizer, images, labels):
        loss = F.cross_entropy(model(images), labels)
        loss.backward()
        optimizer.step()
        return loss

    message = verdict("05-train-step", no_zero)
    assert "gradient doubled" in message and "zero" in message


def test_a_step_on_the_wrong_loss_or_without_returning_it_is_told_so():
    def softmax_first(model, optimizer, images, labels):
        loss = F.cross_entropy(model(images).softmax(dim=1), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss

    def returns_nothing(model, optimizer, images, labels):
        right_step(model, optimizer, images, labels)

    assert "raw logits" in verdict("05-train-step", softmax_first)
    assert "returns nothing" in verdict("05-train-step", returns_nothing)


# --- evaluate_accuracy --------------------------------------------------------------------------------------
def right_accuracy(model, images, labels):
    model.eval()
    with torch.no_grad():
        return (model(images).argmax(dim=1) == labels).float().mean().item()


def test_a_right_evaluation_passes():
    assert verdict("05-evaluate-accuracy", right_accuracy) is None


def test_an_evaluation_in_training_mode_is_told_to_call_eval():
    def train_mode(model, images, labels):
        with torch.no_grad():
            return (model(images).argmax(dim=1) == labels).float().mean().item()

    message = verdict("05-evaluate-accuracy", train_mode)
    assert "running statistics" in message and "model.eval()" in message


def test_an_evaluation_with_gradients_is_told_to_use_no_grad():
    def with_gradients(model, images, labels):
        model.eval()
        return (model(images).argmax(dim=1) == labels).float().mean().item()

    assert "torch.no_grad()" in verdict("05-evaluate-accuracy", with_gradients)


def test_a_percentage_or_a_count_is_told_what_to_return():
    assert "percentage" in verdict("05-evaluate-accuracy", lambda *a: 100 * right_accuracy(*a))
    assert "divide by the number" in verdict("05-evaluate-accuracy", lambda m, x, y: len(y) * right_accuracy(m, x, y))


# --- standard_error -----------------------------------------------------------------------------------------
def test_the_standard_error_judge():
    assert verdict("05-standard-error", lambda a, n: math.sqrt(a * (1 - a) / n)) is None
    assert "square root" in verdict("05-standard-error", lambda a, n: a * (1 - a) / n)
    assert "1.96" in verdict("05-standard-error", lambda a, n: 1.96 * math.sqrt(a * (1 - a) / n))
    assert "number of images" in verdict("05-standard-error", lambda a, n: math.sqrt(a * (1 - a)))


# --- numbers ------------------------------------------------------------------------------------------------
def test_total_steps_counts_full_batches_of_45000_images(capsys):
    cpu = get_profile("cpu")
    expected = cpu.epochs * (45_000 // cpu.batch_size)
    assert EXERCISES["05-total-steps"].expected() == expected
    check("05-total-steps", expected + cpu.epochs)  # one partial batch per epoch too many
    assert "not yet" in capsys.readouterr().out


@pytest.mark.parametrize("answer, right", [(math.log(10), True), (1 / 10, False), (math.log(2), False)])
def test_initial_loss(answer, right, capsys):
    check("05-initial-loss", answer)
    assert ("correct" in capsys.readouterr().out) == right
