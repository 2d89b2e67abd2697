"""Fixtures for the browser test: Debian's Chromium driven by Playwright, a throw-away JupyterLab
server started from the project's environment, and one fresh browser page per notebook.

Chromium comes from ``scripts/ensure-chromium.sh`` (called by ``make test``). Without it, or
without Playwright, the browser test is skipped with the reason, except under ``CI=true``, where
it fails: CI must run it.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import pytest
from support import CHROMIUM, CHROMIUM_ARGS, cifar10_at_hand, unavailable

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = REPO / "notebooks"
ARTIFACTS = REPO / "test-artifacts" / "browser"
SERVER_START_TIMEOUT_S = 120
VIEWPORT = {"width": 1440, "height": 1000}

# User settings written into the temporary JupyterLab settings dir: no news toast (it would sit on
# top of the screenshots); no autosave (running the notebooks must not rewrite the committed files;
# the test also checks that they are unchanged); every cell attached and painted (the default
# "contentVisibility" windowing skips painting off-screen cells, which Playwright then reports as
# invisible and cannot click or screenshot).
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "browser: drives the notebooks' widgets in JupyterLab in headless Chromium"
    )


@pytest.fixture(scope="session")
def chromium_executable() -> str:
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        unavailable(
            f"{CHROMIUM} is not installed (`make test` installs it with scripts/ensure-chromium.sh "
            "when run as root with apt-get)"
        )
    return str(CHROMIUM)


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


# --- the JupyterLab server ------------------------------------------------------------------------


@dataclass
class LabServer:
    """A running ``jupyter lab`` serving ``root`` at ``url`` with ``token``."""

    process: subprocess.Popen
    url: str
    token: str
    root: Path
    log: Path

    def api(self, method: str, path: str) -> object:
        request = urllib.request.Request(
            f"{self.url}{path}",
            method=method,
            headers={"Authorization": f"token {self.token}"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            body = response.read()
        return json.loads(body) if body else None

    def notebook_url(self, name: str) -> str:
        """``name`` opened alone, in a fresh workspace of its own (``reset``: no tabs restored
        from an earlier test)."""
        workspace = re.sub(r"\W+", "-", Path(name).stem)
        return f"{self.url}/lab/workspaces/{workspace}/tree/{name}?reset&token={self.token}"

    def shutdown_kernels(self) -> None:
        """Stop every kernel, so one notebook's kernel does not hold memory and cores during the
        next notebook (or during the nbval run that follows in the same pytest session)."""
        for kernel in self.api("GET", "/api/kernels") or []:
            self.api("DELETE", f"/api/kernels/{kernel['id']}")

    def log_tail(self, chars: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-chars:]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_lab_settings(settings_dir: Path) -> None:
    for relative, values in LAB_SETTINGS.items():
        path = settings_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))


@pytest.fixture(scope="session")
def jupyterlab(tmp_path_factory: pytest.TempPathFactory, artifacts_dir: Path) -> Iterator[LabServer]:
    """``jupyter lab`` from this environment (so its ``python3`` kernel is the project's venv), on
    127.0.0.1, a free port, a random token, temporary config/data/settings/workspace/runtime dirs,
    serving ``notebooks/`` like ``make lab``. Always stopped: terminate, then kill."""
    home = tmp_path_factory.mktemp("jupyterlab")
    config, data = home / "config", home / "data"
    workspaces, runtime = home / "workspaces", home / "runtime"
    settings = config / "lab" / "user-settings"
    for d in (config, data, workspaces, runtime):
        d.mkdir()
    write_lab_settings(settings)
    token, port = secrets.token_hex(24), free_port()
    env = dict(
        os.environ,
        JUPYTER_CONFIG_DIR=str(config),
        # No user-level kernels or extensions: the python3 kernel is this environment's own.
        JUPYTER_DATA_DIR=str(data),
        JUPYTERLAB_SETTINGS_DIR=str(settings),
        JUPYTERLAB_WORKSPACES_DIR=str(workspaces),
        JUPYTER_RUNTIME_DIR=str(runtime),
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        # Training panels use the seconds-long smoke budget (unless the caller chose another), and
        # notebook 07's panel keeps its runs here, not in the user's cache.
        CONVMIXER_PROFILE=os.environ.get("CONVMIXER_PROFILE", "smoke"),
        CONVMIXER_STUDY_RUNS=str(home / "study_runs.json"),
    )
    if not cifar10_at_hand():  # a Train button must fail with its one sentence, not download
        env["CONVMIXER_DATA"] = str(home / "no-cifar10")
    log = artifacts_dir / "jupyterlab.log"
    command = [
        sys.executable, "-m", "jupyterlab",
        "--no-browser",
        "--allow-root",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={NOTEBOOKS}",
        # JupyterLab checkpoints every notebook it opens: keep those out of notebooks/.
        f"--FileCheckpoints.checkpoint_dir={home / 'checkpoints'}",
        # The test reads the notebook's cell outputs (output_type "error") through window.jupyterapp.
        "--LabApp.expose_app_in_browser=True",
    ]  # fmt: skip
    with log.open("w") as log_file:
        process = subprocess.Popen(
            command, env=env, cwd=NOTEBOOKS, stdout=log_file, stderr=subprocess.STDOUT
        )
    server = LabServer(process, f"http://127.0.0.1:{port}", token, NOTEBOOKS, log)
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while True:
            if process.poll() is not None:
                pytest.fail(
                    f"jupyter lab exited with code {process.returncode}:\n{server.log_tail()}",
                    pytrace=False,
                )
            try:
                server.api("GET", "/api/status")
                break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                if time.monotonic() > deadline:
                    pytest.fail(
                        f"jupyter lab did not answer within {SERVER_START_TIMEOUT_S} s:\n"
                        f"{server.log_tail()}",
                        pytrace=False,
                    )
                time.sleep(0.5)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=20)


# --- the browser ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser(chromium_executable: str) -> Iterator[object]:
    """Headless Chromium. Module-scoped: Playwright's sync API is closed before the nbval run in
    the same pytest session."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("Playwright's Python package is not installed (pip install -e '.[test]')")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=chromium_executable, args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield chromium
        finally:
            chromium.close()


# Console errors that are neither the widgets' nor the notebook's, as (pattern, reason). Keep it
# narrow: every entry hides a whole family of messages. Empty, because none was seen: JupyterLab
# 4.6 with ipywidgets 8.1 / jupyterlab_widgets 3.0 logs no console error while opening, running
# and driving the notebooks here.
CONSOLE_NOISE: list[tuple[re.Pattern[str], str]] = []


@dataclass
class ConsoleLog:
    """Console messages of type ``error`` and uncaught page errors, minus ``CONSOLE_NOISE``."""

    errors: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)

    def add(self, text: str) -> None:
        if any(pattern.search(text) for pattern, _ in CONSOLE_NOISE):
            self.ignored.append(text)
        else:
            self.errors.append(text)


@pytest.fixture
def lab_page(browser, jupyterlab: LabServer, artifacts_dir: Path, request: pytest.FixtureRequest):
    """A fresh browser context and page; on the way out, a screenshot if the test failed, and every
    kernel stopped."""
    context = browser.new_context(viewport=VIEWPORT, device_scale_factor=1)
    context.set_default_timeout(30_000)
    page = context.new_page()
    console = ConsoleLog()

    def on_console(message) -> None:
        if message.type == "error":
            location = message.location or {}
            console.add(f"{message.text} [{location.get('url', '')}:{location.get('lineNumber', '')}]")

    page.on("console", on_console)
    page.on("pageerror", lambda error: console.add(f"uncaught page error: {error}"))
    try:
        yield page, console
    finally:
        try:
            report = getattr(request.node, "rep_call", None)
            if report is not None and report.failed:
                name = re.sub(r"[^\w.-]+", "_", request.node.name)
                page.screenshot(path=str(artifacts_dir / f"FAILED-{name}.png"), full_page=True)
        finally:
            context.close()
            jupyterlab.shutdown_kernels()


# (outcome, test id, seconds) of every browser test, for the summary at the end of the run.
RESULTS: list[tuple[str, str, float]] = []


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """Keep each phase's report on the item, so fixtures can tell whether the test failed."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    if item.get_closest_marker("browser") and "lab_page" in getattr(item, "fixturenames", ()):
        if report.when == "call" or (report.when == "setup" and not report.passed):
            RESULTS.append((report.outcome, item.name, report.duration))
    return report


def pytest_terminal_summary(terminalreporter) -> None:
    """Say which notebooks were driven in the browser, so a skipped browser test cannot hide."""
    if not RESULTS:
        return
    terminalreporter.section("widgets in JupyterLab + headless Chromium (tests/browser)")
    for outcome, name, seconds in RESULTS:
        terminalreporter.line(f"{outcome.upper():8} {name} ({seconds:.0f} s)")
    terminalreporter.line(f"screenshots: {ARTIFACTS.relative_to(REPO)}/")

