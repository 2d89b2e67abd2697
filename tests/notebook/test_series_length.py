"""The series stays readable: its prose (markdown words over notebooks 01-07) within the budget
issue 20 set, a quarter below the 18,700 words it had grown to."""

import json
import re

from support import REPO

WORD_BUDGET = 14_000


def markdown_words(path) -> int:
    cells = json.loads(path.read_text())["cells"]
    return sum(len(re.findall(r"\S+", "".join(c["source"]))) for c in cells if c["cell_type"] == "markdown")


def test_the_series_prose_fits_its_word_budget():
    notebooks = sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    assert len(notebooks) == 7
    words = {path.name: markdown_words(path) for path in notebooks}
    assert sum(words.values()) <= WORD_BUDGET, words
    assert words["07_kernel_size_and_depth.ipynb"] <= 3_000
