"""The notebooks' widgets in a real JupyterLab, in a real (headless) Chromium.

nbval proves that the notebooks run in a kernel; this test proves that a reader who opens one in
JupyterLab sees its widgets and that moving a control redraws what it should. For every notebook
of ``SPECS`` that exists in ``notebooks/``:

1. open it, clear all outputs and run all cells from the menus, wait until every cell has run and
   the kernel is idle;
2. no cell holds an error output, no widget shows an error placeholder ("Error displaying
   widget", "Failed to load model class", ...), every control of the spec is on the page;
3. move each main control as a person would (focus the slider handle and press an arrow key,
   choose a dropdown option) and check that the panel's ``cm-readout`` states the right numbers,
   computed here from ``convmixer``, and that its figure is redrawn (screenshots before/after);
4. the browser console logged no errors (see ``CONSOLE_NOISE`` in conftest.py), and the notebook
   file on disk is unchanged.

Screenshots of each panel go to ``test-artifacts/browser/``. ``CONVMIXER_UPDATE_SCREENSHOTS=1``
also copies the ones named by ``docs_image`` to ``docs/img/`` (``scripts/update-screenshots.sh``).

Widget conventions relied on (convmixer/widgets/__init__.py): every control has the CSS class
``cm-<name>``, every panel one ``HTML`` readout with class ``cm-readout``; a figure redrawn by the
controls is an ``Image`` widget with class ``cm-figure`` (else the panel's ``Output`` widget).
"""

from __future__ import annotations

import functools
import hashlib
import io
import os
import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping, Sequence

import numpy as np
import pytest
from PIL import Image
from support import cifar10_at_hand

from convmixer.analysis.cost import convmixer_parameters, forward_flops
from convmixer.analysis.fields import receptive_field
from convmixer.data.augment import prepare_images
from convmixer.data.sample import cifar10_sample
from convmixer.model import ConvMixer, ConvMixerConfig
from convmixer.studies import patch
from convmixer.studies.erf import measure
from convmixer.train import panel_budget
from convmixer.train.checkpoint import load_model

try:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
except ImportError:  # the `browser` fixture (conftest.py) skips, or fails under CI
    PlaywrightTimeout = TimeoutError

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = REPO / "notebooks"  # served by the `jupyterlab` fixture (conftest.py)
DOCS_IMG = REPO / "docs" / "img"
RUN_ALL_TIMEOUT_S = 180  # one notebook, all cells, on 2 busy cores
MOVE_TIMEOUT_S = 60  # one control moved until its readout and figure have settled
WIDGET_ERRORS = (
    "Error displaying widget",
    "Failed to load model class",
    "model not found",
    "Error creating widget",
)

# What a readout is checked against: each control's name ("kernel-size") -> the value it shows
# ("5"), plus the notebook's facts (NotebookSpec.facts) by group name.
Controls = Mapping[str, str]


# --- what each notebook must do -------------------------------------------------------------------


@dataclass(frozen=True)
class Says:
    """The readout must match ``template``, a regular expression matched against the readout's
    text (whitespace collapsed to single spaces), with each ``{}`` standing for the next of
    ``values`` written as a whole number (see :func:`number_pattern`)."""

    template: str
    values: tuple[int, ...]

    def pattern(self) -> re.Pattern[str]:
        parts = self.template.split("{}")
        if len(parts) != len(self.values) + 1:
            raise ValueError(f"{self.template!r} has {len(parts) - 1} placeholders for {self.values}")
        numbers = [number_pattern(v) for v in self.values] + [""]
        return re.compile("".join(part + number for part, number in zip(parts, numbers)))

    def __str__(self) -> str:
        return self.template.replace("\\", "").format(*(f"{v:,}" for v in self.values))


def says(template: str, *values: int) -> Says:
    return Says(template, tuple(values))


@dataclass(frozen=True)
class Move:
    """One reader action on the panel that holds the control ``cm-<control>``.

    A slider is moved one step (``ArrowRight``, or ``ArrowLeft`` when it is at its maximum), or
    step by step with ``ArrowRight`` until it shows ``option``; a dropdown or toggle buttons
    choose ``option`` (a dropdown without one: the next entry); a button is clicked. Afterwards,
    within ``timeout_s``, the ``cm-readout`` must read differently (unless not
    ``readout_changes``) and say everything that ``readout(values)`` lists for the values the
    controls now show; if ``figure_changes``, the panel's figure must look different.
    """

    control: str
    option: str | None = None
    readout: Callable[[Controls], Sequence[Says]] | None = None
    readout_changes: bool = True
    figure_changes: bool = True
    timeout_s: float = MOVE_TIMEOUT_S


@dataclass(frozen=True)
class NotebookSpec:
    """The moves to make in ``notebook``. ``facts`` is a regular expression searched in the text of
    the cells' outputs after Run All; its named groups join the controls' values given to each
    ``Move.readout`` (e.g. the ``k`` and ``p`` of the checkpoint a notebook loads)."""

    notebook: str
    moves: tuple[Move, ...]
    facts: str | None = None
    docs_image: str | None = None  # file name under docs/img/ for the README


def number_pattern(value: int) -> str:
    """A regular expression for ``value`` written as a whole number: ``12345``, ``12,345``,
    ``12 345`` (also thin or no-break spaces) or ``12_345``, not part of a longer number."""
    digits = str(abs(value))
    groups = [digits[max(0, i - 3) : i] for i in range(len(digits), 0, -3)][::-1]
    sign = "[-\u2212]" if value < 0 else ""
    return r"(?<![\d.,])" + sign + r"[,_\u00a0\u2009\u202f ]?".join(groups) + r"(?![\d]|[.,]\d)"


def image_size(label: str) -> tuple[int, int]:
    """``(H, W)`` from an image menu label such as ``"portrait (224x224)"``."""
    match = re.search(r"(\d+)\s*[x×]\s*(\d+)", label)
    if not match:
        pytest.fail(f"the image menu label {label!r} does not state the image size HxW")
    return int(match[1]), int(match[2])


def depthwise_readout(c: Controls) -> list[Says]:
    """Notebook 01 filters ``photo()`` (3 x 600 x 512) with a bias-free depth-wise ``k x k``
    convolution: ``C k^2`` weights against ``C^2 k^2`` for a full one; "same" padding puts
    ``(k - 1) // 2`` pixels before and ``k // 2`` after, so the output stays 600 x 512."""
    k, channels = int(c["kernel-size"]), 3
    return [
        says(r"kernel size k = {}: padding \(top/left, bottom/right\) = \({}, {}\)", k, (k - 1) // 2, k // 2),
        says(r"output \({}, {}, {}\)", channels, 600, 512),
        says(r"depth-wise parameters: {} = {} × {}²", channels * k * k, channels, k),
        says(r"convolution: {}\)", channels * channels * k * k),
    ]


def separable_readout(c: Controls) -> list[Says]:
    """Notebook 02 compares ``h -> h`` convolutions on a 16 x 16 map (``P = 256`` positions), a
    table of parameters and forward FLOPs (2 per multiply-add, bias left out): full ``h^2 k^2 + h``
    and ``2 h^2 k^2 P``, depth-wise ``h k^2 + h`` and ``2 h k^2 P``, point-wise ``h^2 + h`` and
    ``2 h^2 P``, separable = depth-wise + point-wise."""
    h, k, positions = int(c["width"]), int(c["kernel-size"]), 16 * 16
    depthwise = (h * k * k + h, 2 * h * k * k * positions)
    pointwise = (h * h + h, 2 * h * h * positions)
    return [
        says(r"h = {}, k = {}", h, k),
        says(r"full {}×{} {} {}", k, k, h * h * k * k + h, 2 * h * h * k * k * positions),
        says(r"depth-wise {}×{} {} {}", k, k, *depthwise),
        says(r"point-wise 1×1 {} {}", *pointwise),
        says(r"separable \(depth-wise \+ point-wise\) {} {}",
             depthwise[0] + pointwise[0], depthwise[1] + pointwise[1]),
    ]  # fmt: skip


def patch_readout(c: Controls) -> list[Says]:
    """Notebook 03: an ``H x W`` RGB image cut into ``p x p`` patches gives an ``H/p x W/p``
    grid, ``N = (H/p)(W/p)`` tokens of ``3 p^2`` numbers each."""
    p, (height, width) = int(c["patch-size"]), image_size(c["image"])
    return [
        says(r"p = {}: {}×{} image → grid {}×{}", p, height, width, height // p, width // p),
        says(r"N = {} tokens", (height // p) * (width // p)),
        says(r"each patch 3·{}² = {} numbers", p, 3 * p * p),
    ]


@functools.cache
def model_numbers(h: int, d: int, k: int, p: int, size: int) -> tuple[int, int, int]:
    """ConvMixer-h/d with kernel ``k`` and patch ``p`` on an ``S x S`` RGB image, 10 classes: the
    closed-form parameter count, forward FLOPs counted by ``torch.utils.flop_counter`` on the real
    module, and the receptive field of the last block."""
    config = ConvMixerConfig(dim=h, depth=d, kernel_size=k, patch_size=p, image_size=size)
    flops = forward_flops(ConvMixer(config), (1, 3, size, size))
    return convmixer_parameters(config), flops, receptive_field(k, p, d)


def model_readout(c: Controls) -> list[Says]:
    """Notebook 04: the model explorer on a 32 x 32 CIFAR-10 image. It shows the shipped trained
    model (its h, d, k, p printed by the notebook: ``TRAINED_04``) where h, k and p equal its own
    and d is at most its depth, and says "untrained" everywhere else; the effective receptive
    field line ends with the theoretical receptive field."""
    h, d, k, p = (int(c[name]) for name in ("width", "depth", "kernel-size", "patch-size"))
    parameters, flops, rf = model_numbers(h, d, k, p, CIFAR_SIZE)
    trained = (h, k, p) == (int(c["h"]), int(c["k"]), int(c["p"])) and d <= int(c["d"])
    return [
        says(r"ConvMixer-{}/{}, k = {}, p = {}", h, d, k, p),
        says(r"parameters {} \(closed form {}\)", parameters, parameters),
        says(r"forward {} FLOPs", flops),
        says(r"receptive field after {} block\(s\): {}×{} px", d, rf, rf),
        says(r"weights: trained" if trained else r"weights: untrained \(random, seed"),
        says(r"effective receptive field of the centre position \(\d images?\): untrained: half within "
             r"\d+ px square, \d+% on its own patch;?.* \(theoretical {}×{} px\)", rf, rf),
    ]


CIFAR_SIZE = 32
# Notebook 04 prints the shipped checkpoint's configuration; its panel shows that model where it matches.
TRAINED_04 = r"convmixer_cpu\.pt: ConvMixer-(?P<h>\d+)/(?P<d>\d+), k = (?P<k>\d+), p = (?P<p>\d+)"
# Notebook 06 prints the loaded (or trained) model's configuration; its panel runs that model.
CHECKPOINT_CONFIG = r"ConvMixer-(?P<h>\d+)/(?P<d>\d+): h = \d+, d = \d+, k = (?P<k>\d+), p = (?P<p>\d+)"


def layer_readout(c: Controls) -> list[Says]:
    """Notebook 06: layer ``l`` (0 = stem) of ConvMixer-h/d on a 32 x 32 image has shape
    ``(h, 32/p, 32/p)`` and receptive field ``p (1 + l (k - 1))`` pixels."""
    h, k, p, layer = int(c["h"]), int(c["k"]), int(c["p"]), int(c["layer"])
    grid, rf = CIFAR_SIZE // p, receptive_field(k, p, layer)
    return [
        says(r"layer {} = ", layer),
        says(r"shape \({}, {}, {}\), receptive field {}×{} px", h, grid, grid, rf, rf),
    ]


def channel_readout(c: Controls) -> list[Says]:
    return [says(r"channel {}: mean", int(c["channel"]))]


# Notebook 07 prints the budget its training panel uses (the smoke budget under the test, see
# conftest.py): the width h and patch size p of the models it trains.
STUDY_BUDGET = r"The panel trains under the (?P<budget>\w+) budget: ConvMixer-(?P<h>\d+)/d, p = (?P<p>\d+)"
STUDY_TRAIN_TIMEOUT_S = 180  # first press: load CIFAR-10 (cached) and train one smoke-budget model


def study_choice(c: Controls) -> tuple[int, int, int]:
    return int(c["study-kernel-size"]), int(c["study-depth"]), int(c["study-seed"])


def study_next_run_readout(c: Controls) -> list[Says]:
    """Notebook 07's trainer previews ConvMixer-h/d with kernel ``k`` and patch ``p``: its
    closed-form parameter count and receptive field ``p (1 + d (k - 1))``."""
    (k, d, seed), h, p = study_choice(c), int(c["h"]), int(c["p"])
    parameters = convmixer_parameters(ConvMixerConfig(dim=h, depth=d, kernel_size=k, patch_size=p))
    return [
        says(r"Next run: k = {}, d = {}, seed {}: ConvMixer-{}/{} with p = {}, {} parameters", k, d, seed, h, d, p,
             parameters),
        says(r"receptive field {} px", receptive_field(k, p, d)),
    ]


def study_trained_readout(c: Controls) -> list[Says]:
    """After Train: the run of the chosen ``(k, d, seed)`` finished, under the smoke budget -- or,
    where no CIFAR-10 is at hand (the lab server then names a missing copy), the panel says so in
    one sentence and trains nothing."""
    k, d, seed = study_choice(c)
    if not cifar10_at_hand():
        return [says(r"Could not load the data: CIFAR-10 source \S+no-cifar10 does not exist")]
    return [
        says(r"Finished k = {}, d = {}, seed {}: validation accuracy", k, d, seed),
        says(r"Your runs: smoke budget: ConvMixer-{}/d, p = {}", int(c["h"]), int(c["p"])),
    ]


def trainer_finished_readout(c: Controls) -> list[Says]:
    """Notebook 05's panel after Train: the run of the chosen ``k`` and ``d`` finished, trained under
    the panels' budget (``convmixer.train.panel_budget``: smoke under the test) -- its width and
    patch size in the budget line."""
    k, d = int(c["kernel-size"]), int(c["depth"])
    config = panel_budget(os.environ.get("CONVMIXER_PROFILE", "smoke")).model_config()
    return [
        says(r"finished k={} d={}: validation accuracy", k, d),
        says(r"Budget: ConvMixer-{}/d, p = {};", config.dim, config.patch_size),
    ]


@functools.cache
def kept_kernel_study_models() -> dict[int, ConvMixer]:
    """Seed 0's trained k = 3 and k = 9 models of the kernel-size study (notebook 08)."""
    return {k: load_model(REPO / "results" / "kernel_size_study" / f"k{k}-d8-seed0.pt") for k in (3, 9)}


def erf_image_readout(c: Controls) -> list[Says]:
    """The per-image ERF slider's caption: both kept models' half-gradient sides, measured here for
    the image the slider now shows (its label starts with the sample index)."""
    index = int(c["precomputed-erf-image"].split(":")[0])
    image = prepare_images(cifar10_sample().images[index][None])
    sides = [measure(model, image).side for model in kept_kernel_study_models().values()]
    return [says(r"k = 3: half the gradient within {} px, .* k = 9: half the gradient within {} px", *sides)]


def trained_patch_readout(c: Controls) -> list[Says]:
    """The trained patch-size slider's caption: the p it now shows, its tokens and its
    same-minutes mean over seeds, from results/patch_study.json."""
    p = int(c["precomputed-patch-size-trained"].removeprefix("p = "))
    runs, _ = patch.read_results(REPO / "results" / "patch_study.json")
    (minutes,) = [s for s in patch.summarise(runs) if s.budget == patch.MINUTES_BUDGET and s.patch_size == p]
    return [says(r"p = {}: {} tokens, .* same minutes: " + re.escape(f"{minutes.mean:.1f} "), p, minutes.tokens)]


SPECS: tuple[NotebookSpec, ...] = (
    NotebookSpec(
        "01_depthwise_convolution.ipynb",
        moves=(
            Move("kernel-size", readout=depthwise_readout),  # 5 -> 6: an even kernel
            Move("filter", option="edge"),
        ),
        docs_image="01_depthwise_widget.png",
    ),
    NotebookSpec(
        "02_pointwise_convolution.ipynb",
        moves=(Move("kernel-size", readout=separable_readout),),  # 5 -> 6 at h = 256
    ),
    NotebookSpec(
        "03_patch_embeddings.ipynb",
        moves=(
            Move("patch-size", option="16", readout=patch_readout),  # 14 -> 15 -> 16 on 224x224
            Move("image", option="car (32x32)", readout=patch_readout),
        ),
    ),
    NotebookSpec(
        "04_convmixer_model.ipynb",
        facts=TRAINED_04,
        moves=(
            Move("depth", readout=model_readout),
            Move("kernel-size", readout=model_readout),
            Move("width", readout=model_readout),
            Move("patch-size", readout=model_readout),
        ),
        docs_image="04_model_explorer_widget.png",
    ),
    NotebookSpec(
        "05_train_cifar10.ipynb",
        moves=(  # the sliders change what Train will do, not what the panel shows
            Move("kernel-size", readout_changes=False, figure_changes=False),  # 5 -> 6: an even kernel
            Move("depth", readout_changes=False, figure_changes=False),
            Move("train", readout=trainer_finished_readout, timeout_s=STUDY_TRAIN_TIMEOUT_S),
        ),
    ),
    NotebookSpec(
        "06_visualize_kernels_and_activations.ipynb",
        facts=CHECKPOINT_CONFIG,
        moves=(
            Move("layer", readout=layer_readout),  # starts at the last block: moves to d - 1
            Move("channel", readout=channel_readout),
            Move("image"),  # the next test image
        ),
    ),
    NotebookSpec(
        "07_kernel_size_and_depth.ipynb",
        facts=STUDY_BUDGET,
        moves=(
            Move("study-metric"),  # the explorer of the stored study: the next metric
            Move("study-kernel-size", readout=study_next_run_readout),  # 5 -> 6: an even kernel
            Move("study-depth", readout=study_next_run_readout),
            Move("study-seed", readout=study_next_run_readout),
            Move("study-train", readout=study_trained_readout, timeout_s=STUDY_TRAIN_TIMEOUT_S,
                 figure_changes=cifar10_at_hand()),  # no data: no new run on the plot
        ),
    ),
    NotebookSpec(
        "08_kernel_size_on_good_models.ipynb",
        moves=(Move("precomputed-erf-image", readout=erf_image_readout),),  # the next image
    ),
    NotebookSpec(
        "09_patch_size_trained.ipynb",
        moves=(Move("precomputed-patch-size-trained", readout=trained_patch_readout),),  # p = 2 -> 4
    ),
)


# Notebooks whose panels must be driven here as soon as they exist (issue 7), by number, so that a
# notebook named differently from its spec is caught instead of silently not collected.
MUST_BE_DRIVEN = ("01", "03", "04", "05", "06", "07", "08", "09")


def present(specs: Sequence[NotebookSpec]) -> list[pytest.param]:
    return [
        pytest.param(spec, id=Path(spec.notebook).stem)
        for spec in specs
        if (NOTEBOOKS / spec.notebook).is_file()
    ]


# --- driving JupyterLab ---------------------------------------------------------------------------

# The notebook panel in front, through window.jupyterapp (the server runs with
# --LabApp.expose_app_in_browser); the DOM alone does not tell an error output from stderr.
JS_STATE = """() => {
  const panel = window.jupyterapp.shell.currentWidget;
  const kernel = panel.sessionContext.session?.kernel;
  const errors = [], pending = [];
  panel.content.widgets.forEach((cell, i) => {
    if (cell.model.type !== 'code' || !cell.model.sharedModel.getSource().trim()) return;
    for (const o of cell.model.outputs.toJSON()) {
      if (o.output_type === 'error') errors.push(`cell ${i + 1}: ${o.ename}: ${o.evalue}`);
    }
    if (cell.model.executionCount === null) pending.push(i + 1);
  });
  return {kernel: kernel ? kernel.status : 'none', errors, pending};
}"""

JS_RUN_FINISHED = f"""() => {{
  const s = ({JS_STATE})();
  return s.kernel === 'idle' && (s.errors.length > 0 || s.pending.length === 0);
}}"""

JS_KERNEL_IDLE = f"() => ({JS_STATE})().kernel === 'idle'"

# Text of the tracebacks an Output widget shows when a callback raised inside ``with out:``.
JS_WIDGET_STDERR = """() => Array.from(document.querySelectorAll(
    '.widget-output .jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'
  )).map(e => e.innerText.slice(0, 2000))"""

# Widget callbacks run on comm messages; a traceback they raise outside an Output widget goes to
# JupyterLab's log console, not to a cell. Listen to the kernel's messages to catch those.
JS_LISTEN_TO_KERNEL = """() => {
  const panel = window.jupyterapp.shell.currentWidget;
  window.cmCallbackErrors = [];
  panel.sessionContext.iopubMessage.connect((_, msg) => {
    if (msg.parent_header?.msg_type !== 'comm_msg') return;
    const type = msg.header.msg_type, content = msg.content;
    if (type === 'error') {
      window.cmCallbackErrors.push(`${content.ename}: ${content.evalue}`);
    } else if (type === 'stream' && content.name === 'stderr') {
      window.cmCallbackErrors.push(content.text.slice(-2000));
    }
  });
}"""

JS_CONTROLS = """panel => {
  const values = {};
  for (const el of panel.querySelectorAll('[class*="cm-"][class*="widget-"]')) {
    const name = [...el.classList].find(c => c.startsWith('cm-'))?.slice(3);
    if (!name) continue;
    let value = null;
    if (el.classList.contains('widget-slider')) {
      value = el.querySelector('.widget-readout')?.innerText
        ?? el.querySelector('.noUi-handle')?.getAttribute('aria-valuetext');
    } else if (el.querySelector('select')) {
      const select = el.querySelector('select');
      value = select.selectedOptions.length ? select.selectedOptions[0].textContent : null;
    } else if (el.classList.contains('widget-toggle-buttons')) {
      value = el.querySelector('button.mod-active')?.innerText ?? null;
    }
    if (value !== null && !(name in values)) values[name] = value.replace(/\\u00a0/g, ' ').trim();
  }
  return values;
}"""


class Notebook:
    """One notebook open in JupyterLab, driven through the page as a reader would."""

    def __init__(self, page, server, name: str) -> None:
        self.page, self.server, self.name = page, server, name

    def open(self) -> None:
        self.page.goto(self.server.notebook_url(self.name))
        self.page.wait_for_selector(".jp-NotebookPanel .jp-Notebook", timeout=120_000)
        self.page.wait_for_selector(".jp-Spinner", state="detached", timeout=120_000)
        self.page.wait_for_function(JS_KERNEL_IDLE, timeout=120_000, polling=250)
        self.page.evaluate(JS_LISTEN_TO_KERNEL)

    def menu(self, menu: str, item: str) -> None:
        self.page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(f"^{menu}$")).click()
        self.page.locator(".lm-Menu-itemLabel", has_text=re.compile(f"^{re.escape(item)}$")).click()

    def run_all(self) -> None:
        """Clear the stored outputs (so nothing stale is checked), then Run > Run All Cells."""
        self.page.locator(".jp-Notebook .jp-InputPrompt >> visible=true").first.click()  # focus
        self.menu("Edit", "Clear Outputs of All Cells")
        self.menu("Run", "Run All Cells")
        try:
            self.page.wait_for_function(
                JS_RUN_FINISHED, timeout=RUN_ALL_TIMEOUT_S * 1000, polling=500
            )
        except PlaywrightTimeout as error:  # say which cells never ran
            state = self.state()
            pytest.fail(
                f"{self.name}: run-all did not finish within {RUN_ALL_TIMEOUT_S} s (kernel "
                f"{state['kernel']}, cells not run: {state['pending']}): {error}",
                pytrace=False,
            )

    def state(self) -> dict:
        return self.page.evaluate(JS_STATE)

    def wait_kernel_idle(self, timeout_s: float = MOVE_TIMEOUT_S) -> None:
        self.page.wait_for_function(JS_KERNEL_IDLE, timeout=timeout_s * 1000, polling=250)

    def problems(self) -> list[str]:
        """Error outputs of cells, tracebacks of widget callbacks (inside Output widgets or in the
        log console), widget error placeholders."""
        found = list(self.state()["errors"])
        found += [f"a widget callback failed: {t}" for t in self.page.evaluate("window.cmCallbackErrors")]
        found += [f"an Output widget shows stderr: {t}" for t in self.page.evaluate(JS_WIDGET_STDERR)]
        outputs = "\n".join(self.page.locator(".jp-Notebook .jp-OutputArea-output").all_inner_texts())
        found += [f"an output shows {m!r}" for m in WIDGET_ERRORS if m in outputs]
        return found

    def facts(self, pattern: str) -> dict[str, str]:
        """The named groups of ``pattern`` in the text of the cells' outputs."""
        text = "\n".join(self.page.locator(".jp-Notebook .jp-OutputArea-output").all_inner_texts())
        match = re.search(pattern, text)
        if not match:
            pytest.fail(f"{self.name}: no output matches {pattern!r}", pytrace=False)
        return match.groupdict()

    def panel(self, control: str):
        """The cell output (the whole widget panel) that holds the control ``cm-<control>``."""
        selector = f".cm-{control}"
        widget = self.page.locator(f".jp-OutputArea-output {selector}").first
        try:
            widget.wait_for(state="visible", timeout=60_000)
        except PlaywrightTimeout:
            outputs = self.page.locator(".jp-OutputArea-output").all_inner_texts()
            pytest.fail(
                f"{self.name}: no visible widget with CSS class {selector!r} after running all "
                f"cells. Outputs shown:\n" + "\n---\n".join(o[:300] for o in outputs),
                pytrace=False,
            )
        return self.page.locator(
            ".jp-Cell-outputArea > .jp-OutputArea-child > .jp-OutputArea-output",
            has=self.page.locator(selector),
        ).first


def controls(panel) -> dict[str, str]:
    return panel.evaluate(JS_CONTROLS)


def readout_text(panel) -> str:
    """The readout's text as shown, whitespace (table cells, line breaks) collapsed to spaces."""
    readout = panel.locator(".cm-readout .widget-html-content").first
    return " ".join(readout.inner_text().split()) if readout.count() else ""


def figure(panel):
    """What the controls redraw: the ``cm-figure`` widget, else an ``Output`` widget, else all."""
    for selector in (".cm-figure", ".widget-output"):
        located = panel.locator(selector).first
        if located.count():
            return located
    return panel


def pixels(locator) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(locator.screenshot())).convert("RGB"))


def same_picture(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and bool(np.array_equal(a, b))


def move(page, panel, step: Move) -> None:
    """Act on the control as a person would: keyboard on a slider, a click on an option."""
    widget = panel.locator(f".cm-{step.control}").first
    classes = widget.get_attribute("class") or ""
    if "widget-slider" in classes:
        handle = widget.locator(".noUi-handle").first
        handle.focus()
        if step.option is None:
            at_max = handle.get_attribute("aria-valuenow") == handle.get_attribute("aria-valuemax")
            handle.press("ArrowLeft" if at_max else "ArrowRight")
        else:
            for _ in range(100):
                if controls(panel).get(step.control) == step.option:
                    break
                handle.press("ArrowRight")
            else:
                pytest.fail(f"slider cm-{step.control} never showed {step.option!r}")
    elif widget.locator("select").count():
        select = widget.locator("select")
        if step.option is None:
            labels = [t.strip() for t in select.locator("option").all_inner_texts()]
            current = select.evaluate("s => s.selectedIndex")
            option = labels[current + 1 if current + 1 < len(labels) else current - 1]
        else:
            option = step.option
        select.select_option(label=option)
    elif "widget-toggle-buttons" in classes:
        widget.get_by_role("button", name=step.option, exact=True).click()
    elif "widget-button" in classes:
        widget.click()
    else:
        pytest.fail(f"cm-{step.control} is neither a slider, a dropdown, toggle buttons nor a button")


def wait_for_readout(
    notebook: Notebook, panel, step: Move, before: str, facts: Controls
) -> tuple[str, list[str]]:
    """Wait until the readout has changed and says what it should for the controls' values."""
    deadline = time.monotonic() + step.timeout_s
    while True:
        values = {**facts, **controls(panel)}
        expected = list(step.readout(values)) if step.readout else []
        text = readout_text(panel)
        missing = [str(x) for x in expected if not x.pattern().search(text)]
        changed = text != before or not step.readout_changes
        if changed and not missing:
            return text, []
        if time.monotonic() > deadline or notebook.problems():  # no point waiting longer
            failure = f"controls show {values}; the readout "
            if not changed:
                failure += "did not change"
            failure += f"{' and ' if not changed and missing else ''}"
            if missing:
                failure += "does not say " + "; ".join(repr(m) for m in missing)
            return text, [failure]
        time.sleep(0.25)


def wait_for_new_figure(
    notebook: Notebook, panel, before: np.ndarray, timeout_s: float = MOVE_TIMEOUT_S
) -> np.ndarray | None:
    """The figure's pixels once they differ from ``before`` and hold still; None on timeout."""
    deadline = time.monotonic() + timeout_s
    previous = None
    while time.monotonic() < deadline:
        notebook.wait_kernel_idle(max(1.0, deadline - time.monotonic()))
        current = pixels(figure(panel))
        if not same_picture(current, before) and previous is not None and same_picture(current, previous):
            return current
        previous = current
        time.sleep(0.5)
    return None


def fingerprint(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- the test -------------------------------------------------------------------------------------


def test_every_required_notebook_has_a_spec() -> None:
    specified = {spec.notebook for spec in SPECS}
    unspecified = [
        path.name
        for number in MUST_BE_DRIVEN
        for path in sorted(NOTEBOOKS.glob(f"{number}_*.ipynb"))
        if path.name not in specified
    ]
    assert not unspecified, (
        f"no browser spec for {unspecified}: add a NotebookSpec (or fix its file name) in SPECS"
    )


@pytest.mark.parametrize("spec", present(SPECS))
def test_widgets_redraw_in_jupyterlab(spec: NotebookSpec, lab_page, jupyterlab, artifacts_dir):
    page, console = lab_page
    path = NOTEBOOKS / spec.notebook
    on_disk = fingerprint(path)
    stem = path.stem
    notebook = Notebook(page, jupyterlab, spec.notebook)

    def problems() -> list[str]:
        return notebook.problems() + [f"browser console error: {e}" for e in console.errors]

    notebook.open()
    notebook.run_all()
    found = problems()
    assert not found, f"{spec.notebook} after Run All Cells:\n" + "\n".join(found)
    facts = notebook.facts(spec.facts) if spec.facts else {}

    for number, step in enumerate(spec.moves, start=1):
        panel = notebook.panel(step.control)
        panel.scroll_into_view_if_needed()
        notebook.wait_kernel_idle()
        readout_before = readout_text(panel)
        figure_before = pixels(figure(panel))
        if number == 1:
            panel.screenshot(path=str(artifacts_dir / f"{stem}.png"))
        move(page, panel, step)

        text, failures = wait_for_readout(notebook, panel, step, readout_before, facts)
        if step.figure_changes and not failures:
            if wait_for_new_figure(notebook, panel, figure_before, step.timeout_s) is None:
                failures.append(f"the figure did not change within {step.timeout_s} s")
        panel.screenshot(path=str(artifacts_dir / f"{stem}-move{number}-{step.control}.png"))
        failures += problems()
        assert not failures, (
            f"{spec.notebook}: after moving cm-{step.control}"
            f"{f' to {step.option!r}' if step.option else ''}:\n" + "\n".join(failures)
            + f"\nreadout before: {readout_before!r}\nreadout after:  {text!r}"
        )

    page.screenshot(path=str(artifacts_dir / f"{stem}-page.png"))
    if spec.docs_image and os.environ.get("CONVMIXER_UPDATE_SCREENSHOTS") == "1":
        DOCS_IMG.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(artifacts_dir / f"{stem}.png", DOCS_IMG / spec.docs_image)
    assert fingerprint(path) == on_disk, f"the browser run rewrote {spec.notebook}"
