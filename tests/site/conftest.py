"""Fixtures for the site test: the site built by ``scripts/build_site.py`` (the command behind
``make site``) into a temporary folder, served by ``http.server`` on 127.0.0.1, and Debian's
Chromium driven by Playwright.

Without Chromium or Playwright (or without npm and an installed ``site/node_modules``), the tests
that need them are skipped with the reason, except under ``CI=true``, where they fail.
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest
from support import CHROMIUM, CHROMIUM_ARGS, load_script, unavailable

REPO = Path(__file__).resolve().parents[2]
BUILD_TIMEOUT_S = 300  # npm ci, on a fresh clone whose `make test` did not install site/ first
TIMINGS: list[tuple[str, float]] = []  # (what, seconds), for the summary at the end of the run


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "site: builds the static site and opens its pages in headless Chromium")


@dataclass(frozen=True)
class BuiltSite:
    """The built folder, its pages (front page first) and the build's wall time."""

    root: Path
    pages: tuple[str, ...]
    seconds: float


@pytest.fixture(scope="session")
def build_site_module():
    return load_script("build_site")


@pytest.fixture(scope="session")
def built_site(tmp_path_factory: pytest.TempPathFactory, build_site_module) -> BuiltSite:
    """``python scripts/build_site.py --out <tmp>/site``, exactly as ``make site`` runs it."""
    if not build_site_module.node_modules_current() and shutil.which("npm") is None:
        unavailable("npm is not installed and site/node_modules is not current, so the site cannot be built")
    out = tmp_path_factory.mktemp("site") / "site"
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "build_site.py"), "--out", str(out)],
        cwd=REPO, capture_output=True, text=True, timeout=BUILD_TIMEOUT_S, check=False,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    seconds = time.perf_counter() - started
    assert result.returncode == 0, f"scripts/build_site.py failed:\n{result.stdout}\n{result.stderr}"
    TIMINGS.append(("build (scripts/build_site.py)", seconds))
    pages = (build_site_module.FRONT_PAGE,) + tuple(
        f"{path.stem}.html" for path in sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    )
    return BuiltSite(out, pages, seconds)


@pytest.fixture(scope="session")
def site_timings() -> list[tuple[str, float]]:
    """Where tests note how long things took (printed at the end of the run)."""
    return TIMINGS


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # the base class's argument names
        pass


@pytest.fixture(scope="session")
def site_url(built_site: BuiltSite) -> Iterator[str]:
    """The built site served by ``http.server`` on 127.0.0.1, a free port, in a thread."""
    handler = functools.partial(QuietHandler, directory=str(built_site.root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def site_browser() -> Iterator[object]:
    """Headless Chromium (module-scoped: Playwright's sync API is closed before the nbval run in
    the same pytest session)."""
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        unavailable(f"{CHROMIUM} is not installed (`make test` installs it with scripts/ensure-chromium.sh)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("Playwright's Python package is not installed (pip install -e '.[test]')")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


def pytest_terminal_summary(terminalreporter) -> None:
    """The site's build time and the time each page took in Chromium."""
    if not TIMINGS:
        return
    terminalreporter.section("static site (tests/site)")
    for what, seconds in TIMINGS:
        terminalreporter.line(f"{seconds:6.1f} s  {what}")
