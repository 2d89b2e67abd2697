"""What the site is made from, without building it: the widget state ``scripts/run_notebooks.py``
stores (and prunes), the committed notebooks holding it, and ``scripts/build_site.py``'s reading
of the notebooks and the README."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from support import load_script

from convmixer.widgets.precomputed import PANEL_CLASS

REPO = Path(__file__).resolve().parents[2]
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


@pytest.fixture(scope="module")
def run_notebooks():
    return load_script("run_notebooks")


@pytest.fixture(scope="module")
def build_site():
    return load_script("build_site")


def model(name: str, **state) -> dict:
    return {"model_name": name, "model_module": "@jupyter-widgets/controls", "model_module_version": "2.0.0",
            "state": {"_model_name": name, **state}}


def notebook_with(state: dict, shown: list[str]) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell("panel")
    cell.outputs = [nbformat.v4.new_output("execute_result", {WIDGET_VIEW: {"model_id": m, "version_major": 2, "version_minor": 0}}, execution_count=1)
                    for m in shown]
    notebook = nbformat.v4.new_notebook(cells=[cell])
    notebook.metadata["widgets"] = {WIDGET_STATE: {"state": state, "version_major": 2, "version_minor": 0}}
    return notebook


def test_prune_keeps_what_the_outputs_reach_and_their_links(run_notebooks):
    state = {
        "box": model("VBoxModel", children=["IPY_MODEL_slider", "IPY_MODEL_stack"], layout="IPY_MODEL_layout"),
        "slider": model("SelectionSliderModel", layout="IPY_MODEL_layout2"),
        "stack": model("StackModel", children=["IPY_MODEL_image"]),
        "image": model("ImageModel"),
        "layout": model("LayoutModel"),
        "layout2": model("LayoutModel"),
        "link": model("LinkModel", source=["IPY_MODEL_slider", "index"], target=["IPY_MODEL_stack", "selected_index"]),
        "swept": model("VBoxModel", children=["IPY_MODEL_swept_image"]),  # a panel used up to precompute
        "swept_image": model("ImageModel"),
        "dead_link": model("LinkModel", source=["IPY_MODEL_swept", "index"], target=["IPY_MODEL_stack", "selected_index"]),
        "output": model("OutputModel", outputs=[{"output_type": "display_data", "data": {WIDGET_VIEW: {"model_id": "inner"}}}]),
        "inner": model("LabelModel"),
    }
    notebook = notebook_with(state, ["box", "output"])
    run_notebooks.strip_volatile_metadata(notebook)
    kept = set(notebook.metadata["widgets"][WIDGET_STATE]["state"])
    assert kept == {"box", "slider", "stack", "image", "layout", "layout2", "link", "output", "inner"}


def test_prune_drops_the_metadata_when_nothing_is_shown(run_notebooks):
    notebook = notebook_with({"lonely": model("IntSliderModel")}, [])
    notebook.cells[0].metadata["execution"] = {"iopub.execute_input": "2026-12-06T00:00:00Z"}
    notebook.cells[0].metadata["tags"] = ["nbval-ignore-output"]
    run_notebooks.strip_volatile_metadata(notebook)
    assert "widgets" not in notebook.metadata
    assert notebook.cells[0].metadata == {"tags": ["nbval-ignore-output"]}


def test_notebooks_are_executed_with_widget_state(run_notebooks):
    source = (REPO / "scripts" / "run_notebooks.py").read_text()
    assert "store_widget_state=True" in source


@pytest.mark.parametrize("path", sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb")), ids=lambda p: p.stem)
def test_committed_notebooks_store_the_state_of_every_widget_they_show(path, build_site):
    """The site draws widgets from this state: a notebook run without it (or edited by hand after
    its run) would show an error on its page. ``make notebooks`` stores it."""
    notebook = nbformat.read(path, as_version=4)
    kinds = build_site.widget_kinds(notebook, path.name)  # raises when a shown widget has no state
    if path.name[:2] in ("01", "03", "07"):
        assert "static" in kinds.values(), f"{path.name} shows no precomputed slider"
    state = notebook.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    for model_id, kind in kinds.items():
        if kind == "static":
            assert PANEL_CLASS in state[model_id]["state"]["_dom_classes"]


def test_the_build_knows_precomputed_sliders_by_the_widgets_class(build_site):
    assert build_site.PANEL_CLASS == PANEL_CLASS


def test_headings_carry_the_ids_nbconvert_gives_them(build_site):
    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# 01 · Title\n\nText.\n\n## 2. The $k \\times k$ part"),
        nbformat.v4.new_code_cell("# not a heading"),
        nbformat.v4.new_markdown_cell("### Deep\n\n#### Too deep"),
    ])
    found = build_site.headings(notebook)
    assert [(h["level"], h["id"]) for h in found] == [(1, "01-%C2%B7-Title"), (2, "2.-The-$k-%5Ctimes-k$-part"), (3, "Deep")]
    assert build_site.notebook_title(notebook, "x") == "01 · Title"


def test_links_to_notebooks_and_the_readme_point_at_pages(build_site):
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(
        "See [03](03_patch_embeddings.ipynb#7.-Try-it), [the README](../README.md) and [x](https://example.org)."
    )])
    source = build_site.site_links(notebook).cells[0].source
    assert "(03_patch_embeddings.html#7.-Try-it)" in source
    assert "(index.html)" in source and "(https://example.org)" in source
    assert notebook.cells[0].source.count(".ipynb") == 1  # the original is untouched


def test_front_page_maps_every_notebook_from_the_readme(build_site):
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    title, intro, sections = build_site.readme_sections(readme)
    assert title and intro and "The notebooks" in sections
    pages = [{"stem": p.stem, "href": f"{p.stem}.html", "short_title": p.stem}
             for p in sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))]
    table = build_site.series_map(sections, pages)
    for page in pages:
        row = next(line for line in table.splitlines() if f"({page['href']})" in line)
        assert len(row.split("|")[-2].strip()) > 20, f"no description of {page['stem']} from the README"
    figures = build_site.readme_figures(sections)
    assert len(figures) >= 3 and all(path.startswith("docs/img/") for _, path in figures)
    assert not any(name.startswith("site") for _, name in ((c, Path(p).name) for c, p in figures))
