"""The static site (``make site``, ``scripts/build_site.py``): built from the committed notebooks,
then read as files and opened page by page in headless Chromium with every request to another
host refused.

Read as files (no browser): every notebook has a page; no page loads a script, style sheet, font or
image from another host or from outside the built folder; every internal link (other pages, the
table of contents' anchors, the previous/next links) resolves; the front page maps the whole
series; every widget is marked as precomputed or as needing a running notebook.

In Chromium, for every page: no console error and no uncaught exception, no failed request, no
request outside the served folder; every image has loaded; the math is typeset by the bundled
MathJax (no raw LaTeX left, no MathJax error); every stored widget is drawn (no error placeholder);
and every precomputed slider, moved one step with the keyboard as a reader would, switches its
figure and caption -- with no kernel anywhere. The notebook pages with precomputed sliders are also
opened straight from disk (``file://``).
"""

from __future__ import annotations

import io
import os
import re
import shutil
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import numpy as np
import pytest
from PIL import Image

pytestmark = pytest.mark.site

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = REPO / "notebooks"
# Notebooks that must carry a precomputed slider (issue 23): the photograph's kernel size (01), the
# patch size (03), the trained study's results (07), the good models' per-image fields (08) and the
# trained patch sizes (09).
PRECOMPUTED_IN = ("01", "03", "07", "08", "09")
VIEWPORT = {"width": 1360, "height": 900}
# The README's picture of the site: this page, scrolled to its precomputed slider after the test
# moved it; written to docs/img/ when CONVMIXER_UPDATE_SCREENSHOTS=1 (scripts/update-screenshots.sh).
DOCS_IMAGE = ("01_depthwise_convolution.html", "site_precomputed_slider.png")
DOCS_VIEWPORT = {"width": 1280, "height": 820}
PAGE_TIMEOUT_MS = 60_000
WIDGET_ERRORS = ("Error displaying widget", "Failed to load model class", "model not found", "Error creating widget")


# --- reading the built files ----------------------------------------------------------------------


@dataclass
class PageFile(HTMLParser):
    """What one built page refers to: the resources it loads, its links, its element ids."""

    loads: list[tuple[str, str]] = field(default_factory=list)  # (tag, url)
    links: list[str] = field(default_factory=list)
    ids: set[str] = field(default_factory=set)
    classes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(convert_charrefs=True)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if values.get("id"):
            self.ids.add(values["id"])
        if values.get("class"):
            self.classes.append(values["class"])
        if tag in {"script", "img", "iframe", "source", "audio", "video"} and values.get("src"):
            self.loads.append((tag, values["src"]))
        if tag == "link" and values.get("href"):
            self.loads.append((tag, values["href"]))
        if tag == "a" and values.get("href"):
            self.links.append(values["href"])


def read_page(path: Path) -> PageFile:
    page = PageFile()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def is_remote(url: str) -> bool:
    return bool(re.match(r"^(?:[a-z][a-z0-9+.-]*:)?//", url, re.IGNORECASE)) or url.startswith("/")


def notebook_stems() -> list[str]:
    return [path.stem for path in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))]


def test_every_notebook_has_a_page(built_site):
    assert built_site.pages[0] == "index.html"
    for name in built_site.pages:
        assert (built_site.root / name).is_file(), f"no page {name}"
    assert len(built_site.pages) == len(notebook_stems()) + 1


def test_pages_load_only_files_of_the_site(built_site):
    """Scripts, style sheets, images: all relative to the built folder, and all there."""
    for name in built_site.pages:
        page = read_page(built_site.root / name)
        for tag, url in page.loads:
            if url.startswith("data:"):
                continue
            assert not is_remote(url), f"{name}: <{tag}> loads {url} from outside the site"
            assert (built_site.root / unquote(urlsplit(url).path)).is_file(), f"{name}: <{tag}> {url} is missing"
        scripts = {Path(url).name for tag, url in page.loads if tag == "script"}
        assert {"require.js", "tex-svg-full.js"} <= scripts, f"{name} lacks the bundled scripts: {scripts}"
    for path in built_site.root.rglob("*.css"):  # fonts and pictures named by the style sheets
        for url in re.findall(r"url\(\s*['\"]?([^'\")]+)", path.read_text(encoding="utf-8", errors="replace")):
            assert url.startswith("data:") or not is_remote(url), f"{path.name} loads {url}"


def test_internal_links_resolve(built_site):
    """Every link to a page of the site (and to an anchor in it) lands on something."""
    parsed = {name: read_page(built_site.root / name) for name in built_site.pages}
    checked = 0
    for name, page in parsed.items():
        for href in page.links:
            if re.match(r"^(?:https?:|mailto:)", href):
                continue
            assert not is_remote(href), f"{name}: link {href} leaves the site"
            target, _, anchor = href.partition("#")
            target = unquote(target) or name
            assert (built_site.root / target).is_file(), f"{name}: link {href} points at a missing file"
            if anchor:
                ids = parsed[target].ids if target in parsed else read_page(built_site.root / target).ids
                assert unquote(anchor) in ids or anchor in ids, f"{name}: link {href}: no id {anchor!r} in {target}"
            checked += 1
    assert checked > 100  # tables of contents, pagers, the series lists


def test_pages_carry_navigation_contents_and_the_map(built_site):
    stems = notebook_stems()
    front = read_page(built_site.root / "index.html")
    for stem in stems:
        assert f"{stem}.html" in front.links, f"the front page does not link {stem}"
    front_text = (built_site.root / "index.html").read_text(encoding="utf-8")
    assert "img/" in front_text and front_text.count("<img") >= 3, "the README's figures are missing"
    for position, stem in enumerate(stems):
        page = read_page(built_site.root / f"{stem}.html")
        previous = "index.html" if position == 0 else f"{stems[position - 1]}.html"
        assert previous in page.links, f"{stem}: no link back to {previous}"
        if position + 1 < len(stems):
            assert f"{stems[position + 1]}.html" in page.links, f"{stem}: no link on to the next notebook"
        contents = [href for href in page.links if href.startswith("#")]
        assert len(contents) >= 4, f"{stem}: table of contents has {len(contents)} entries"


def test_every_widget_says_whether_it_works_on_the_page(built_site):
    for stem in notebook_stems():
        text = (built_site.root / f"{stem}.html").read_text(encoding="utf-8")
        views = text.count('<script type="application/vnd.jupyter.widget-view+json">')
        notes = text.count('class="cm-widget-note ')
        assert notes == views, f"{stem}: {views} widgets, {notes} notes"
        if stem[:2] in PRECOMPUTED_IN:
            assert "cm-widget-note-static" in text, f"{stem} has no precomputed slider"


# --- in Chromium ----------------------------------------------------------------------------------

# Every widget the page's state describes has been drawn (html-manager puts each view in a
# .widget-subarea after its <script>), and MathJax has finished.
JS_READY = """() => {
  const views = document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]');
  const drawn = Array.from(views).filter(v => {
    const area = v.parentElement.querySelector('.widget-subarea');
    return area && area.children.length > 0;
  });
  return drawn.length === views.length && !!window.cmMathDone;
}"""

JS_STATE = """() => ({
  widgets: document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]').length,
  drawn: document.querySelectorAll('.widget-subarea').length,
  mathjax: !!(window.MathJax && MathJax.startup), math_done: !!window.cmMathDone})"""

JS_WAIT_MATH = """() => { if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
  MathJax.startup.promise.then(() => { window.cmMathDone = true; });
} }"""

# Images that have not loaded (or are broken): every <img>, the widgets' included.
JS_BROKEN_IMAGES = """() => Array.from(document.images)
  .filter(img => !(img.complete && img.naturalWidth > 0))
  .map(img => (img.currentSrc || img.src).slice(0, 120))"""

JS_IMAGES_LOADED = "() => Array.from(document.images).every(img => img.complete && img.naturalWidth > 0)"

# Raw LaTeX left in the prose (outside code): $...\\command...$ that MathJax did not typeset.
JS_RAW_MATH = """() => {
  const raw = [];
  for (const cell of document.querySelectorAll('.jp-MarkdownOutput')) {
    const copy = cell.cloneNode(true);
    copy.querySelectorAll('code, pre, mjx-container, script').forEach(e => e.remove());
    const found = copy.textContent.match(/\\$[^$]*\\\\[a-zA-Z]+[^$]*\\$/g);
    if (found) raw.push(...found.map(s => s.slice(0, 80)));
  }
  return {raw, typeset: document.querySelectorAll('mjx-container').length,
          errors: document.querySelectorAll('mjx-merror').length};
}"""

# The shown frame of a precomputed slider: Stack shows only its selected child.
JS_FRAME = """panel => {
  const stack = panel.querySelector('.cm-precomputed-frames') || panel;
  const img = Array.from(stack.querySelectorAll('img')).find(i => i.offsetParent !== null);
  const caption = Array.from(stack.querySelectorAll('.cm-readout')).find(c => c.offsetParent !== null);
  return {src: img ? img.src : null, caption: caption ? caption.innerText : null};
}"""


@dataclass
class Watch:
    """Everything a page did wrong while loading and being used."""

    errors: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)

    def problems(self) -> list[str]:
        return (
            [f"console: {e}" for e in self.errors]
            + [f"failed request: {f}" for f in self.failed]
            + [f"request outside the site, refused: {r}" for r in self.refused]
        )


def open_page(browser, url: str, base: str):
    """A fresh context and page at ``url`` that refuses every request outside ``base`` and
    records console errors, uncaught exceptions and failed requests."""
    context = browser.new_context(viewport=VIEWPORT, device_scale_factor=1, service_workers="block")
    context.set_default_timeout(PAGE_TIMEOUT_MS)
    watch = Watch()

    def route(route) -> None:
        request_url = route.request.url
        if request_url.startswith((base, "data:", "blob:")):
            route.continue_()
        else:
            watch.refused.append(request_url)
            route.abort("blockedbyclient")

    context.route("**/*", route)
    page = context.new_page()
    page.on("console", lambda m: m.type == "error" and watch.errors.append(f"{m.text} [{(m.location or {}).get('url', '')}]"))
    page.on("pageerror", lambda error: watch.errors.append(f"uncaught: {error}"))
    page.on("requestfailed", lambda r: r.url not in watch.refused and watch.failed.append(f"{r.url}: {r.failure}"))
    page.on("response", lambda r: r.status >= 400 and watch.failed.append(f"{r.url}: HTTP {r.status}"))
    page.add_init_script("window.cmMathDone = false;")
    page.goto(url, wait_until="load")
    page.evaluate(JS_WAIT_MATH)
    try:
        page.wait_for_function(JS_READY, polling=200)
    except Exception as error:  # say what was missing, and what went wrong meanwhile
        state = page.evaluate(JS_STATE)
        context.close()
        pytest.fail(f"{url} never finished drawing ({state}): {error}\n" + "\n".join(watch.problems()), pytrace=False)
    return context, page, watch


def pixels(locator) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(locator.screenshot())).convert("RGB"))


def move_precomputed_sliders(page) -> list[str]:
    """Move every precomputed slider one step (ArrowRight, or ArrowLeft at its end) and check that
    the shown picture and caption change, on screen too; the failures."""
    failures = []
    panels = page.locator(".cm-precomputed")
    for i in range(panels.count()):
        panel = panels.nth(i)
        panel.scroll_into_view_if_needed()
        before = panel.evaluate(JS_FRAME)
        shown = pixels(panel.locator(".cm-precomputed-frames").first)
        handle = panel.locator(".noUi-handle").first
        at_end = handle.get_attribute("aria-valuenow") == handle.get_attribute("aria-valuemax")
        handle.focus()
        handle.press("ArrowLeft" if at_end else "ArrowRight")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            after = panel.evaluate(JS_FRAME)
            if after["src"] != before["src"] and after["caption"] != before["caption"]:
                break
            time.sleep(0.1)
        else:
            failures.append(f"precomputed slider {i + 1}: the frame did not switch ({before} -> {after})")
            continue
        page.wait_for_function(JS_IMAGES_LOADED, polling=100)
        if np.array_equal(shown, pixels(panel.locator(".cm-precomputed-frames").first)):
            failures.append(f"precomputed slider {i + 1}: the picture on screen did not change")
    return failures


def page_param(name: str):
    return pytest.param(name, id=Path(name).stem)


SITE_PAGES = ["index.html"] + [f"{stem}.html" for stem in notebook_stems()]


@pytest.mark.parametrize("name", [page_param(n) for n in SITE_PAGES])
def test_page_in_chromium(name, built_site, site_url, site_browser, site_timings):
    started = time.perf_counter()
    context, page, watch = open_page(site_browser, site_url + name, site_url)
    sliders = 0
    try:
        failures = [f"image did not load: {src}" for src in page.evaluate(JS_BROKEN_IMAGES)]
        math = page.evaluate(JS_RAW_MATH)
        failures += [f"raw LaTeX left: {raw!r}" for raw in math["raw"]]
        if math["errors"]:
            failures.append(f"{math['errors']} MathJax errors")
        if name != "index.html" and math["typeset"] == 0:
            failures.append("no math was typeset")
        text = page.locator("body").inner_text()
        failures += [f"the page shows {m!r}" for m in WIDGET_ERRORS if m in text]
        sliders = page.locator(".cm-precomputed").count()
        if name[:2] in PRECOMPUTED_IN and sliders == 0:
            failures.append("no precomputed slider on the page")
        failures += move_precomputed_sliders(page)
        failures += watch.problems()  # loading and moving
        page.screenshot(path=str(artifacts() / f"{Path(name).stem}.png"))
        if name == DOCS_IMAGE[0] and os.environ.get("CONVMIXER_UPDATE_SCREENSHOTS") == "1":
            docs_screenshot(page, REPO / "docs" / "img" / DOCS_IMAGE[1])
        assert not failures, f"{name}:\n" + "\n".join(failures)
    finally:
        context.close()
        site_timings.append((f"{name} in Chromium, {sliders} precomputed slider(s) moved", time.perf_counter() - started))


@pytest.mark.parametrize("name", [page_param(f"{s}.html") for s in notebook_stems() if s[:2] in PRECOMPUTED_IN])
def test_page_opened_from_disk(name, built_site, site_browser, site_timings):
    """Opened as a file (no server): drawn, typeset and its precomputed slider works."""
    started = time.perf_counter()
    url = (built_site.root / name).as_uri()
    context, page, watch = open_page(site_browser, url, built_site.root.as_uri() + "/")
    try:
        failures = [f"image did not load: {s}" for s in page.evaluate(JS_BROKEN_IMAGES)]
        failures += move_precomputed_sliders(page)
        failures += watch.problems()
        assert not failures, f"{name} from disk:\n" + "\n".join(failures)
    finally:
        context.close()
        site_timings.append((f"{name} from disk (file://) in Chromium", time.perf_counter() - started))


def docs_screenshot(page, target: Path) -> None:
    """The viewport with the first precomputed slider's note near the top, the prose above it in view."""
    page.set_viewport_size(DOCS_VIEWPORT)
    page.evaluate("""() => {
      const note = document.querySelector('.cm-widget-note-static');
      window.scrollTo(0, note.getBoundingClientRect().top + window.scrollY - 190);
    }""")
    page.wait_for_timeout(300)
    page.screenshot(path=str(artifacts() / target.name))
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(artifacts() / target.name, target)


def artifacts() -> Path:
    path = REPO / "test-artifacts" / "site"
    path.mkdir(parents=True, exist_ok=True)
    return path
