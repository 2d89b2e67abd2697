"""Build the static site of the executed notebooks (``make site``): read the series in a browser,
from disk or any static file server, with nothing installed and no network.

    python scripts/build_site.py                # into site/_build/ (git-ignored)
    python scripts/build_site.py --out DIR      # elsewhere (the site's browser test uses a temp dir)

Nothing is re-executed: the notebooks' stored outputs (``make notebooks``) are the pages' content.
One page per notebook, by nbconvert's HTML exporter with the JupyterLab look
(``site/templates/convmixer_site``): prose, code, figures, tables, and the widgets, rendered from
the widget state stored in the notebook by ``@jupyter-widgets/html-manager``. Precomputed sliders
(``convmixer.widgets.precomputed``) work on the page; every other panel is marked as needing a
running notebook. Each page has the previous/next notebook, a table of contents from its headings
and the series; the front page (``index.html``) has the README's introduction, the series' map and
the README's figures.

Offline: every script, style sheet and font a page uses is in the built folder. require.js,
MathJax 3 (SVG output: no font files) and the widget manager come from the npm registry through
``site/package.json`` and ``site/package-lock.json``: ``npm ci`` runs in ``site/`` when
``site/node_modules`` is missing or was installed from another lock file (the registry is needed
then, as PyPI is for the virtual environment), and the files are copied into ``<out>/_static``.
A page that would load anything from another host fails the build.
"""

from __future__ import annotations

import argparse
import hashlib
import html
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import nbformat
from nbconvert import HTMLExporter
from nbconvert.filters.markdown_mistune import markdown2html_mistune

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks"
README = REPO / "README.md"
SITE = REPO / "site"
DEFAULT_OUT = SITE / "_build"
TEMPLATES = SITE / "templates"
TEMPLATE = "convmixer_site"
STATIC = "_static"  # under the built folder: scripts, styles
IMAGES = "img"  # under the built folder: the README's figures
NODE_MODULES = SITE / "node_modules"
LOCK = SITE / "package-lock.json"
NODE_STAMP = NODE_MODULES / ".convmixer-lock-sha256"  # the lock file node_modules was installed from
MARKER = ".convmixer-site"  # in a folder this script built, which it may therefore empty
SITE_TITLE = "ConvMixer, step by step"
FRONT_PAGE = "index.html"
README_SITE_SECTION = "Read it as a website"  # the README's section on this site: its picture is not repeated

# convmixer.widgets.precomputed.PANEL_CLASS (not imported: that would import torch, seconds for one
# string; a test checks that the two agree).
PANEL_CLASS = "cm-precomputed"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"

# (file under site/node_modules, where it goes under <out>/_static); the page template names them
# through the exporter's URLs below.
ASSETS = (
    ("requirejs/require.js", "require.js"),
    ("mathjax/es5/tex-svg-full.js", "mathjax/tex-svg-full.js"),
    ("@jupyter-widgets/html-manager/dist/embed-amd.js", "embed-amd.js"),
)
# Files the widget manager's bundle loads next to itself (webpack's public path is the script's
# folder): Font Awesome's fonts, for the icons of buttons.
WIDGET_MANAGER_DIST = "@jupyter-widgets/html-manager/dist"
WIDGET_MANAGER_FILES = ("*.woff2", "*.woff")  # what browsers take (the CSS also names eot, ttf, svg)

# A tag that loads something from another host ("//host/..." or "http(s)://...").
REMOTE_LOAD = re.compile(r"<(?:script|link|img|iframe|source|audio|video)\b[^>]*?\b(?:src|href)\s*=\s*[\"']?(?:https?:)?//",
                         re.IGNORECASE)
HEADING = re.compile(r"<h([1-6]) id=\"([^\"]+)\">(.*?)<a class=\"anchor-link\"", re.DOTALL)
README_LINK = re.compile(r"\]\((?:\.\./)?README\.md(#[^)]*)?\)")
NOTEBOOK_LINK = re.compile(r"\]\((?:\.\./notebooks/|notebooks/)?(\d\d_[\w-]+)\.ipynb(#[^)]*)?\)")
FIGURE = re.compile(r"!\[([^\]]*)\]\((docs/img/[^)\s]+)\)")


class BuildError(RuntimeError):
    """The site cannot be built as asked; the message says why and what to do."""


# --- the JavaScript from the npm registry ---------------------------------------------------------


def lock_digest() -> str:
    return hashlib.sha256(LOCK.read_bytes()).hexdigest()


def node_modules_current() -> bool:
    """Whether ``site/node_modules`` was installed by :func:`install_node_modules` from the
    lock file as it is now, and holds every asset."""
    return (
        NODE_STAMP.is_file()
        and NODE_STAMP.read_text().strip() == lock_digest()
        and all((NODE_MODULES / source).is_file() for source, _ in ASSETS)
    )


def install_node_modules(npm: str = "npm") -> float:
    """``npm ci`` in ``site/`` unless ``site/node_modules`` is current; the seconds it took."""
    if node_modules_current():
        return 0.0
    if shutil.which(npm) is None:
        raise BuildError(
            f"{npm!r} is not on PATH: the site's scripts (require.js, MathJax, the widget manager) come "
            "from the npm registry through site/package-lock.json. Install Node.js and npm "
            "(Debian: apt-get install nodejs npm) and run again."
        )
    started = time.perf_counter()
    command = [npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"]
    result = subprocess.run(command, cwd=SITE, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BuildError(
            f"`{' '.join(command)}` in {SITE} failed (exit {result.returncode}); it needs the npm "
            f"registry once:\n{(result.stdout + result.stderr)[-3000:]}"
        )
    missing = [source for source, _ in ASSETS if not (NODE_MODULES / source).is_file()]
    if missing:
        raise BuildError(f"npm ci installed no {', '.join(missing)}: check site/package.json")
    NODE_STAMP.write_text(lock_digest() + "\n")
    return time.perf_counter() - started


def copy_assets(out: Path) -> None:
    """The scripts, the widget manager's fonts and the site's style sheet into ``<out>/_static``."""
    static = out / STATIC
    for source, target in ASSETS:
        (static / target).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(NODE_MODULES / source, static / target)
    for pattern in WIDGET_MANAGER_FILES:
        for path in (NODE_MODULES / WIDGET_MANAGER_DIST).glob(pattern):
            shutil.copyfile(path, static / path.name)
    shutil.copyfile(SITE / "static" / "site.css", static / "site.css")


# --- reading the notebooks ------------------------------------------------------------------------


def notebook_title(notebook: nbformat.NotebookNode, fallback: str) -> str:
    """The text of the notebook's first ``#`` heading (``01 · Depth-wise convolution``)."""
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            match = re.search(r"^#\s+(.+?)\s*#*\s*$", cell.source, re.MULTILINE)
            if match:
                return match[1]
    return fallback


def headings(notebook: nbformat.NotebookNode, deepest: int = 3) -> list[dict[str, Any]]:
    """The markdown cells' headings down to level ``deepest``, with the ids nbconvert gives them
    (rendered by the same Markdown renderer as the page): the table of contents."""
    found = []
    for cell in notebook.cells:
        if cell.cell_type != "markdown":
            continue
        for level, anchor, inner in HEADING.findall(markdown2html_mistune(cell.source)):
            if int(level) <= deepest:
                found.append({"level": int(level), "id": anchor, "html": inner.strip()})
    return found


def widget_kinds(notebook: nbformat.NotebookNode, name: str) -> dict[str, str]:
    """For every widget an output displays, ``"static"`` (a precomputed slider, which works on
    the page) or ``"kernel"`` (its controls need Python). Every one must be in the stored widget
    state, or the page would show an error where the widget should be."""
    state = notebook.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    kinds = {}
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            view = output.get("data", {}).get(WIDGET_VIEW)
            if not view:
                continue
            model = state.get(view["model_id"])
            if model is None:
                raise BuildError(
                    f"{name} displays a widget whose state was not stored: re-run the notebook with "
                    f"`make notebooks NB={name[:2]}` (scripts/run_notebooks.py stores widget state)"
                )
            classes = model.get("state", {}).get("_dom_classes", [])
            kinds[view["model_id"]] = "static" if PANEL_CLASS in classes else "kernel"
    return kinds


def site_links(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy whose Markdown links point at the site's pages: ``NN_name.ipynb`` -> ``NN_name.html``
    and the README -> the front page."""
    notebook = nbformat.from_dict(notebook)
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            source = NOTEBOOK_LINK.sub(lambda m: f"]({m[1]}.html{m[2] or ''})", cell.source)
            cell.source = README_LINK.sub(f"]({FRONT_PAGE})", source)
    return notebook


# --- the front page -------------------------------------------------------------------------------


def readme_sections(text: str) -> tuple[str, str, dict[str, str]]:
    """The README's title, its introduction (before the first ``##``) and its ``##`` sections by
    title."""
    parts = re.split(r"^## +", text, flags=re.MULTILINE)
    head = parts[0]
    title_match = re.search(r"^# +(.+)$", head, re.MULTILINE)
    title = title_match[1].strip() if title_match else SITE_TITLE
    intro = head[title_match.end():].strip() if title_match else head.strip()
    sections = {}
    for part in parts[1:]:
        name, _, body = part.partition("\n")
        sections[name.strip()] = body
    return title, intro, sections


def series_map(sections: dict[str, str], pages: list[dict[str, Any]]) -> str:
    """The series' map as a Markdown table: each notebook's page and what it builds, as the
    README's table of notebooks says (the notebook's title alone where the README has no row)."""
    builds = {}
    for line in sections.get("The notebooks", "").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        match = NOTEBOOK_LINK.search(line)
        if len(cells) >= 3 and match:
            builds[match[1]] = cells[-1]
    rows = ["| # | page | what you build |", "|---|---|---|"]
    for page in pages:
        number = page["stem"][:2]
        rows.append(f"| {number} | [{page['short_title']}]({page['href']}) | {builds.get(page['stem'], '')} |")
    return "\n".join(rows)


def readme_figures(sections: dict[str, str]) -> list[tuple[str, str]]:
    """``(caption, path)`` of every figure the README shows from ``docs/img/`` (except the picture
    of this site)."""
    figures = []
    for name, body in sections.items():
        if name == README_SITE_SECTION:
            continue
        figures += [(alt, path) for alt, path in FIGURE.findall(body) if (REPO / path).is_file()]
    return figures


def front_page(pages: list[dict[str, Any]], out: Path) -> nbformat.NotebookNode:
    """The front page as a notebook of Markdown cells (rendered like every other page): the
    README's title and introduction, how to read the pages, the map, the README's figures (copied
    to ``<out>/img``)."""
    title, intro, sections = readme_sections(README.read_text(encoding="utf-8"))
    figures = readme_figures(sections)
    (out / IMAGES).mkdir(parents=True, exist_ok=True)
    shown = []
    for caption, path in figures:
        shutil.copyfile(REPO / path, out / IMAGES / Path(path).name)
        shown.append(f"![{caption}]({IMAGES}/{Path(path).name})\n\n*{caption}*")
    reading = (
        "## Reading these pages\n\n"
        "Each page is one notebook of the series as it ran top to bottom (`make notebooks`): the prose, "
        "the code, and the figures and tables it printed. Nothing runs here, and nothing is loaded from "
        "the network. Controls come in two kinds, and each is marked where it appears:\n\n"
        "- **precomputed sliders** (marked *works here*) switch between figures computed in advance "
        "when the notebook ran: move them;\n"
        "- **panels that need a running notebook** (marked *needs a running notebook*) show the state "
        "they were saved in; their controls run Python (a new figure, a training run). Run the "
        "notebook in JupyterLab to use them: `make lab` in a clone of the project."
    )
    cells = [
        nbformat.v4.new_markdown_cell(f"# {title}\n\n{intro}"),
        nbformat.v4.new_markdown_cell(reading),
        nbformat.v4.new_markdown_cell(
            "## The series\n\nSeven notebooks, in order: each builds on the ones before it.\n\n" + series_map(sections, pages)
        ),
    ]
    if shown:
        cells.append(nbformat.v4.new_markdown_cell(
            "## Figures from the README\n\n" + "\n\n".join(shown)
        ))
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata["title"] = title
    return notebook


# --- writing the pages ----------------------------------------------------------------------------


def exporter() -> HTMLExporter:
    """nbconvert's HTML exporter with the site's template, every script from ``_static``."""
    return HTMLExporter(
        template_name=TEMPLATE,
        extra_template_basedirs=[str(TEMPLATES)],
        require_js_url=f"{STATIC}/require.js",
        mathjax_url=f"{STATIC}/mathjax/tex-svg-full.js",
        widget_renderer_url=f"{STATIC}/embed-amd.js",
    )


def check_offline(page: str, text: str) -> None:
    match = REMOTE_LOAD.search(text)
    if match:
        raise BuildError(f"{page} would load something from another host: {text[match.start():match.start() + 200]!r}")


def prepare_out(out: Path) -> None:
    """An empty ``out``: a folder this script built is emptied; any other non-empty folder is
    refused (nothing else is deleted)."""
    if out.exists():
        if not out.is_dir() or (any(out.iterdir()) and not (out / MARKER).is_file()):
            raise BuildError(f"{out} exists and was not built by this script: choose another --out")
        shutil.rmtree(out)
    out.mkdir(parents=True)
    (out / MARKER).write_text("built by scripts/build_site.py; emptied on every build\n")


def build(out: Path = DEFAULT_OUT, npm: str = "npm", log=print) -> list[Path]:
    """Build the site into ``out``; the pages written, the front page first."""
    started = time.perf_counter()
    installed = install_node_modules(npm)
    if installed:
        log(f"npm ci in site/: {installed:.1f} s")
    out = out.resolve()
    prepare_out(out)
    copy_assets(out)

    paths = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    if not paths:
        raise BuildError(f"no notebooks in {NOTEBOOKS}")
    notebooks = [nbformat.read(path, as_version=4) for path in paths]
    pages = []
    for path, notebook in zip(paths, notebooks):
        title = notebook_title(notebook, path.stem)
        pages.append({
            "stem": path.stem, "href": f"{path.stem}.html", "title": title,
            "short_title": re.sub(r"^\d+\s*·\s*", "", title),
        })
    front = {"stem": "index", "href": FRONT_PAGE, "title": SITE_TITLE}
    order = [front] + pages

    html_exporter = exporter()
    written = []
    documents = [(front, front_page(pages, out), None)] + [
        (page, site_links(notebook), path.name) for page, notebook, path in zip(pages, notebooks, paths)
    ]
    for position, (page, notebook, file_name) in enumerate(documents):
        kinds = widget_kinds(notebook, file_name) if file_name else {}
        site = {
            "title": SITE_TITLE,
            "home": FRONT_PAGE,
            "static": STATIC,
            "prev": order[position - 1] if position > 0 else None,
            "next": order[position + 1] if position + 1 < len(order) else None,
            "toc": headings(notebook),
            "series": [{**p, "current": p is page} for p in order],
            "notebook_file": f"notebooks/{file_name}" if file_name else "",
            "widget_kinds": kinds,
            "widgets": {
                "static": sum(kind == "static" for kind in kinds.values()),
                "kernel": sum(kind == "kernel" for kind in kinds.values()),
            },
        }
        resources = {"site": site, "metadata": {"name": html.unescape(page["title"])}}
        text, _ = html_exporter.from_notebook_node(notebook, resources=resources)
        check_offline(page["href"], text)
        target = out / page["href"]
        target.write_text(text, encoding="utf-8")
        written.append(target)
    log(f"site: {len(written)} pages in {out} ({time.perf_counter() - started:.1f} s)")
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"folder to build into (default {DEFAULT_OUT.relative_to(REPO)})")
    parser.add_argument("--npm", default=os.environ.get("NPM", "npm"), help="the npm command (default: npm)")
    parser.add_argument("--install-only", action="store_true",
                        help="only install site/node_modules (npm ci) when it is missing or stale")
    args = parser.parse_args(argv)
    try:
        if args.install_only:
            seconds = install_node_modules(args.npm)
            print(f"site/node_modules: {f'installed in {seconds:.1f} s' if seconds else 'current'}")
            return 0
        pages = build(args.out, args.npm)
    except BuildError as error:
        print(f"build_site: {error}", file=sys.stderr)
        return 1
    print(f"open {pages[0]} (or: python -m http.server -d {args.out})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
