"""The exercises of notebooks 01-03: registered in convmixer.notebook.exercises (nb01-nb03), announced
and checked in the notebooks without giving the answer away, and judged with a sentence that says
what a typical wrong answer got wrong. (tests/notebook/test_exercises.py runs every solution.)"""

import json
import re

import pytest
import torch
import torch.nn.functional as F
from support import REPO
from torch import nn

from convmixer.notebook import check
from convmixer.notebook.exercises import EXERCISES
from convmixer.notebook.solutions import SOLUTIONS

NOTEBOOKS = REPO / "notebooks"
NAMES = ("01_depthwise_convolution", "02_pointwise_convolution", "03_patch_embeddings")
WORD_BUDGET = {"01": 1900, "02": 1100, "03": 1250}


def cells(name: str, kind: str) -> list[str]:
    notebook = json.loads((NOTEBOOKS / f"{name}.ipynb").read_text())
    return ["".join(cell["source"]) for cell in notebook["cells"] if cell["cell_type"] == kind]


def verdict(name: str, answer) -> str | None:
    """What the judge of exercise ``name`` says about ``answer`` (None: right)."""
    return EXERCISES[name].judge(answer)


@pytest.mark.parametrize("notebook", NAMES)
def test_every_exercise_is_registered_announced_and_checked(notebook):
    number = notebook[:2]
    markdown, code = "".join(cells(notebook, "markdown")), cells(notebook, "code")
    announced = set(re.findall(rf"\*\*Exercise \d+\*\* \(`({number}-[a-z-]+)`\)", markdown))
    checks = [source for source in code if "check(" in source]
    checked = {re.fullmatch(r'check\("([^"]+)", \w+\)', source.strip()).group(1) for source in checks}
    registered = {name for name in EXERCISES if name.startswith(number)}
    assert announced and announced == checked == registered
    assert not any(key.startswith(number) for key in SOLUTIONS)  # migrated to the registry
    judged = [name for name in registered if EXERCISES[name].judge is not None]
    assert 2 * sum("def " in EXERCISES[name].solution for name in registered) >= len(registered)
    assert len(judged) >= len(registered) / 2


@pytest.mark.parametrize("notebook", NAMES)
def test_blanks_hold_placeholders_not_answers(notebook):
    blanks = [source for source in cells(notebook, "code") if "# your " in source]
    assert blanks
    for source in blanks:
        for line in source.splitlines():
            if "# your " in line:
                assert re.match(r"^\s*(\w+ = \.\.\.|raise NotImplementedError)\s+# your (answer|code)", line), line


@pytest.mark.parametrize("notebook", NAMES)
def test_markdown_stays_within_its_word_budget_and_teaches_batchnorm_only_from_04(notebook):
    words = sum(len(re.findall(r"\S+", source)) for source in cells(notebook, "markdown"))
    assert words <= WORD_BUDGET[notebook[:2]]
    code = "".join(cells(notebook, "code"))
    assert "BatchNorm" not in code and ".norm(" not in code


def test_an_unwritten_function_is_not_answered_yet(capsys):
    def blank(*args):
        raise NotImplementedError

    check("01-depthwise-conv", blank)
    assert "not answered yet" in capsys.readouterr().out


# --- 01 ---------------------------------------------------------------------------------------------

def test_depthwise_conv_judge_names_the_mistake():
    def padded(x, weight):
        return F.conv2d(x, weight, padding=1, groups=x.shape[1])

    def flipped(x, weight):
        return F.conv2d(x, weight.flip(-1, -2), groups=x.shape[1])

    def one_kernel(x, weight):
        return F.conv2d(x, weight[:1].expand_as(weight), groups=x.shape[1])

    assert "shape" in verdict("01-depthwise-conv", padded)
    assert "cross-correlation" in verdict("01-depthwise-conv", flipped)
    assert "weight[c]" in verdict("01-depthwise-conv", one_kernel)
    assert verdict("01-depthwise-conv", lambda x, w: F.conv2d(x, w, groups=x.shape[1])) is None


def test_depthwise_same_judge_catches_symmetric_and_swapped_padding():
    def symmetric(x, weight):
        return F.conv2d(x, weight, padding=weight.shape[-1] // 2, groups=x.shape[1])

    def swapped(x, weight):
        k = weight.shape[-1]
        return F.conv2d(F.pad(x, (k // 2, (k - 1) // 2) * 2), weight, groups=x.shape[1])

    assert "k - 1 = 3 zeros" in verdict("01-depthwise-same", symmetric)
    assert "goes after" in verdict("01-depthwise-same", swapped)


def test_shift_kernel_judge_explains_the_flip():
    left = torch.zeros(3, 3)
    left[1, 2] = 1
    assert "cross-correlation" in verdict("01-shift-kernel", left)
    assert "shape" in verdict("01-shift-kernel", torch.zeros(2, 2))
    centre = torch.zeros(3, 3)
    centre[1, 1] = 1
    assert "unchanged" in verdict("01-shift-kernel", centre)


def test_receptive_field_rejects_a_wrong_number(capsys):
    check("01-receptive-field", 3)
    assert "not yet" in capsys.readouterr().out


# --- 02 ---------------------------------------------------------------------------------------------

def test_pointwise_judge_catches_transpose_and_missing_bias():
    def no_bias(x, weight, bias):
        return torch.einsum("oc,bchw->bohw", weight, x)

    def transposed(x, weight, bias):
        return torch.einsum("co,bchw->bohw", weight, x) + bias[:, None, None]

    assert "bias" in verdict("02-pointwise-matmul", no_bias)
    assert "must become c_out long" in verdict("02-pointwise-matmul", lambda x, weight, bias: x)

    def transposed_if_square(x, weight, bias):
        if weight.shape[0] != weight.shape[1]:
            return torch.einsum("oc,bchw->bohw", weight, x) + bias[:, None, None]
        return transposed(x, weight, bias)

    assert "transposed" in verdict("02-pointwise-matmul", transposed_if_square)


def test_separable_judge_catches_a_full_convolution_and_the_wrong_order():
    assert "groups=h" in verdict("02-separable", lambda h, k: nn.Conv2d(h, h, k, padding=k // 2))
    assert "point-wise layer must mix" in verdict("02-separable", _no_mixing)
    assert "shape" in verdict("02-separable", lambda h, k: nn.Sequential(nn.Conv2d(h, h, k, groups=h), nn.Conv2d(h, h, 1)))


def _no_mixing(h: int, k: int) -> nn.Module:
    """Right parameter count, but the 1x1 layer only rescales each channel: nothing mixes channels."""

    class NoMixing(nn.Module):
        def __init__(self):
            super().__init__()
            self.depthwise = nn.Conv2d(h, h, k, padding=k // 2, groups=h)
            self.pointwise = nn.Conv2d(h, h, 1)

        def forward(self, x):
            diagonal = torch.diagonal(self.pointwise.weight[:, :, 0, 0])
            return self.depthwise(x) * diagonal[:, None, None] + self.pointwise.bias[:, None, None]

    return NoMixing()


def test_rotate_judge_catches_the_transpose():
    assert "other way" in verdict("02-rotate-colours", torch.tensor([[0.0, 1, 0], [0, 0, 1], [1, 0, 0]]).T)
    assert "shape" in verdict("02-rotate-colours", torch.eye(2))


def test_smallest_width_rejects_130(capsys):
    check("02-smallest-width", 130)
    assert "not yet" in capsys.readouterr().out


# --- 03 ---------------------------------------------------------------------------------------------

def test_patchify_judge_catches_the_wrong_reshape_order():
    def reshape_only(images, p):
        b, c, h, w = images.shape
        return images.reshape(b, (h // p) * (w // p), c * p * p)

    def channels_last_in_patch(images, p):
        b, c, h, w = images.shape
        grid = images.reshape(b, c, h // p, p, w // p, p)
        return grid.permute(0, 2, 4, 3, 5, 1).reshape(b, (h // p) * (w // p), c * p * p)

    def column_by_column(images, p):
        b, c, h, w = images.shape
        grid = images.reshape(b, c, h // p, p, w // p, p)
        return grid.permute(0, 4, 2, 1, 3, 5).reshape(b, (h // p) * (w // p), c * p * p)

    assert "permute" in verdict("03-patchify", reshape_only)
    assert "channel first" in verdict("03-patchify", channels_last_in_patch)
    assert "row by row" in verdict("03-patchify", column_by_column)
    assert "shape" in verdict("03-patchify", lambda images, p: images.flatten(1))


def test_to_sequence_judge_explains_the_reshape_that_looks_right():
    def reshape_only(grid):
        b, h, rows, cols = grid.shape
        return grid.reshape(b, rows * cols, h)

    assert "permute the channel axis last" in verdict("03-grid-to-sequence", reshape_only)
    assert "shape" in verdict("03-grid-to-sequence", lambda grid: grid.flatten(2))


def test_numeric_exercises_reject_wrong_numbers(capsys):
    check("03-tokens", (256, 196))
    check("03-overlapping-patches", 256)
    assert capsys.readouterr().out.count("not yet") == 2
