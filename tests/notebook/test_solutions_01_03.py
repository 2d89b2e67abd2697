"""The exercises of notebooks 01-03: every one has a solution, the solutions' code gives answers the
notebooks' checks accept, and the notebooks hold placeholders, not answers."""

import json
import re
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from support import REPO
from torch import nn

from convmixer import PatchEmbedding
from convmixer.analysis.cost import convolution_costs, count_parameters
from convmixer.analysis.fields import receptive_field
from convmixer.filters import apply_filter
from convmixer.layers import DepthwiseConv2d, PointwiseConv2d, same_padding
from convmixer.notebook import check, solution
from convmixer.notebook.solutions import SOLUTIONS
from convmixer.patches import grid_to_tokens, num_tokens

NOTEBOOKS = REPO / "notebooks"
NAMES = ("01_depthwise_convolution", "02_pointwise_convolution", "03_patch_embeddings")


def cells(name: str, kind: str) -> list[str]:
    notebook = json.loads((NOTEBOOKS / f"{name}.ipynb").read_text())
    return ["".join(cell["source"]) for cell in notebook["cells"] if cell["cell_type"] == kind]


def solved(name: str) -> dict:
    """The variables that the python blocks of solution ``name`` define."""
    namespace = {"torch": torch}
    for block in re.findall(r"```python\n(.*?)```", SOLUTIONS[name], flags=re.S):
        exec(block, namespace)
    return namespace


@pytest.mark.parametrize("notebook", NAMES)
def test_every_exercise_has_a_solution_and_a_check(notebook):
    number = notebook[:2]
    markdown, code = "".join(cells(notebook, "markdown")), "".join(cells(notebook, "code"))
    announced = set(re.findall(rf"\*\*Exercise \d+\*\* \(`({number}-[a-z-]+)`\)", markdown))
    checked = {name.split(",")[0] for name in re.findall(r'check\("([^"]+)"', code)}
    assert announced and announced == checked
    assert announced <= set(SOLUTIONS)
    assert {key for key in SOLUTIONS if key.startswith(number)} == announced
    for name in announced:
        assert "```python" in solution(name).data


@pytest.mark.parametrize("notebook", NAMES)
def test_exercise_cells_hold_placeholders_not_answers(notebook):
    exercise_cells = [source for source in cells(notebook, "code") if "check(" in source]
    assert exercise_cells
    for source in exercise_cells:
        answers = [line for line in source.splitlines() if "# your " in line]
        assert answers, source
        for line in answers:
            assert re.match(r"^\s*(\w+ = \.\.\.|\.\.\.)\s+# your (answer|code)", line), line


def test_notebook_01_solutions_pass_the_checks(capsys):
    answers = solved("01-parameters")
    check("a", answers["depthwise_parameters"], count_parameters(DepthwiseConv2d(768, 7)), hint="")
    full = nn.Conv2d(768, 768, 7, device="meta")  # shapes only, no memory
    check("b", answers["full_parameters"], count_parameters(full), hint="")
    answers = solved("01-padding")
    check("c", answers["padding"], same_padding(6), hint="")
    naive = nn.Conv2d(1, 1, 6, padding=(6 - 1) // 2)
    height = naive(torch.zeros(1, 1, 32, 32)).shape[-2]
    check("d", answers["height_with_naive_padding"], height, hint="")
    layers = solved("01-receptive-field")["layers_needed"]
    assert receptive_field(9, 1, layers) >= 32 > receptive_field(9, 1, layers - 1)
    image = torch.rand(3, 12, 10)
    shifted = F.pad(image, (1, 0))[..., :-1]
    check("e", apply_filter(image, solved("01-shift-kernel")["shift_right"]), shifted, hint="")
    assert capsys.readouterr().out.count("correct.") == 5


def test_notebook_02_solutions_pass_the_checks(capsys):
    check("a", solved("02-pointwise-parameters")["pointwise_parameters"],
          count_parameters(PointwiseConv2d(256, 512)), hint="")
    layer = PointwiseConv2d(3, 3, bias=False)
    image = torch.rand(1, 3, 8, 8)
    with torch.no_grad():
        layer.weight.copy_(solved("02-rotate-colours")["rotate"][:, :, None, None])
        check("b", layer(image), image[:, [1, 2, 0]], hint="")

    def ratio(h: int) -> float:
        costs = convolution_costs(h, 9, 16)
        return costs["full"].flops / costs["separable"].flops

    width = solved("02-smallest-width")["smallest_width"]
    assert ratio(width) >= 50 > ratio(width - 1)
    assert capsys.readouterr().out.count("correct.") == 2


def test_notebook_03_solutions_pass_the_checks(capsys):
    answers = solved("03-tokens")
    check("a", answers["tokens_p14"], num_tokens(224, 224, 14), hint="")
    length = F.unfold(torch.zeros(1, 3, 224, 224), 14, stride=14).shape[1]
    check("b", answers["patch_vector_length"], length, hint="")
    check("c", solved("03-stem-parameters")["stem_conv_parameters"],
          count_parameters(PatchEmbedding(3, 768, 7).conv), hint="")
    check("d", solved("03-overlapping-patches")["overlapping_patches"],
          F.unfold(torch.zeros(1, 3, 32, 32), kernel_size=4, stride=2).shape[-1], hint="")
    grid = torch.randn(2, 5, 3, 4)  # h = 5 differs from N = 12, so a wrong order cannot pass
    to_sequence = solved("03-grid-to-sequence")["to_sequence"]
    check("e", lambda: to_sequence(grid), grid_to_tokens(grid), hint="")
    assert capsys.readouterr().out.count("correct.") == 5


def test_check_reports_placeholders_wrong_and_right_answers(capsys):
    assert check("x", ..., 3, hint="count") is None  # nothing for a notebook cell to display
    check("x", None, 3, hint="count")
    check("x", 4, 3, hint="count")
    check("x", lambda: None, torch.ones(2), hint="shape")
    check("x", torch.ones(2), torch.ones(2), hint="shape")
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        "[x] not answered yet. Hint: count",
        "[x] not answered yet. Hint: count",
        "[x] not yet. Hint: count",
        "[x] not answered yet. Hint: shape",
        "[x] correct.",
    ]
