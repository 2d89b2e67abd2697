"""Re-execute the notebooks in place, in their committed mode, so their stored outputs are fresh.

    python scripts/run_notebooks.py              # every notebooks/NN_*.ipynb, in order
    python scripts/run_notebooks.py 04 06        # the notebooks whose names start with 04, 06
    python scripts/run_notebooks.py path.ipynb   # a notebook file anywhere (e.g. a copy)

``make notebooks`` (``make notebooks NB=04``) runs this with the project's environment.

The committed mode: ``CONVMIXER_PROFILE=stored``, so the training notebook (05) reuses the
shipped checkpoint and history instead of training for tens of minutes; every other notebook
runs as a reader's Run All does. Each notebook runs in a fresh kernel of *this* Python (the
project's ``.venv``), whatever kernel its metadata names, with ``notebooks/`` as the working
directory (also for a copy stored elsewhere) and ``OMP_WAIT_POLICY=PASSIVE`` (on shared cores,
spinning OpenMP threads made two threads slower than one).

What is written back: the new outputs and execution counts, and the state of the widgets the
outputs display (``metadata.widgets``), so that a page made from the notebook without a kernel
(``make site``, ``scripts/build_site.py``) draws the controls and their precomputed sliders work
(``convmixer.widgets.precomputed``). Only the widgets a displayed one reaches are kept: those it
contains, their layouts and styles, and the links between them; widgets made and dropped along the
way (a panel swept to precompute frames, progress bars) would only make the file larger. Cell tags
and all other metadata are kept, except per-cell execution timestamps, which change on every run
and help no reader. A notebook whose run fails is left as it was, and the script exits with
status 1 after the others.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path

import ipykernel.kernelspec
import nbformat
from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

from convmixer._util import atomic_write_text

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
KERNEL = "convmixer-current-env"
ENVIRONMENT = {"CONVMIXER_PROFILE": "stored", "OMP_WAIT_POLICY": "PASSIVE"}
CELL_TIMEOUT_S = 3600  # generous: a slow machine must not fail a cell that only takes long


class CurrentEnvironmentSpecs(KernelSpecManager):
    """Kernel specs that add :data:`KERNEL`: ipykernel in the Python running this script."""

    def get_kernel_spec(self, kernel_name: str) -> KernelSpec:
        if kernel_name == KERNEL:
            return KernelSpec(resource_dir=ipykernel.kernelspec.RESOURCES, **ipykernel.kernelspec.get_kernel_dict())
        return super().get_kernel_spec(kernel_name)


def select(names: list[str]) -> list[Path]:
    """The notebooks named on the command line: files, or prefixes of names in ``notebooks/``
    (``04`` -> ``04_convmixer_model.ipynb``); every notebook when none are named."""
    every = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    if not names:
        return every
    chosen = []
    for name in names:
        if name.endswith(".ipynb"):
            path = Path(name).resolve()
            if not path.is_file():
                raise SystemExit(f"no notebook {name}")
            chosen.append(path)
            continue
        matches = [path for path in every if path.name.startswith(name)]
        if len(matches) != 1:
            raise SystemExit(f"{name!r} names {len(matches)} notebooks in {NOTEBOOKS}; give a longer prefix or a path")
        chosen += matches
    return chosen


WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
LINK_MODELS = {"LinkModel", "DirectionalLinkModel"}  # ipywidgets' jslink / jsdlink
MODEL_REFERENCE = re.compile(r'IPY_MODEL_([\w-]+)|"model_id": "([\w-]+)"')


def references(model: dict) -> set[str]:
    """The ids of the widget models ``model``'s state names (children, layout, style, link ends,
    widgets shown inside an ``Output``)."""
    return {a or b for a, b in MODEL_REFERENCE.findall(json.dumps(model.get("state", {})))}


def displayed_widgets(notebook: nbformat.NotebookNode) -> set[str]:
    return {
        output["data"][WIDGET_VIEW]["model_id"]
        for cell in notebook.cells
        for output in cell.get("outputs", [])
        if WIDGET_VIEW in output.get("data", {})
    }


def prune_widget_state(notebook: nbformat.NotebookNode) -> None:
    """Keep the stored state of the widgets the outputs display, everything they reach, and the
    links (``jslink``) between kept widgets; drop the rest (and ``metadata.widgets`` when nothing
    is left)."""
    stored = notebook.metadata.get("widgets", {}).get(WIDGET_STATE)
    if not stored:
        notebook.metadata.pop("widgets", None)
        return
    state = stored["state"]
    kept, todo = set(), [m for m in displayed_widgets(notebook) if m in state]
    while todo:
        model_id = todo.pop()
        if model_id not in kept:
            kept.add(model_id)
            todo += [m for m in references(state[model_id]) if m in state]
    kept |= {
        model_id for model_id, model in state.items()
        if model.get("model_name") in LINK_MODELS and references(model) and references(model) <= kept
    }
    stored["state"] = {model_id: model for model_id, model in state.items() if model_id in kept}
    if not stored["state"]:
        notebook.metadata.pop("widgets")


def strip_volatile_metadata(notebook: nbformat.NotebookNode) -> None:
    """Drop per-cell execution timestamps and the state of widgets no output shows; keep
    everything else (tags, the displayed widgets' state)."""
    prune_widget_state(notebook)
    for cell in notebook.cells:
        cell.metadata.pop("execution", None)


def execute(path: Path, timeout: int) -> float:
    """Run ``path`` top to bottom in a fresh kernel and write it back; the wall time in seconds."""
    notebook = nbformat.read(path, as_version=4)
    # Local sockets (no TCP port, nothing sent in plain text), at an absolute path: the kernel
    # starts in notebooks/, and a relative socket name would point it elsewhere than its client.
    with tempfile.TemporaryDirectory() as sockets:
        kernel = AsyncKernelManager(kernel_name=KERNEL, kernel_spec_manager=CurrentEnvironmentSpecs(),
                                    transport="ipc", ip=os.path.join(sockets, "kernel"))
        client = NotebookClient(
            notebook, km=kernel, timeout=timeout, kernel_name=KERNEL, record_timing=False,
            store_widget_state=True, resources={"metadata": {"path": str(NOTEBOOKS)}},
        )
        started = time.perf_counter()
        client.execute()
        seconds = time.perf_counter() - started
    strip_volatile_metadata(notebook)
    nbformat.validate(notebook)
    atomic_write_text(path, nbformat.writes(notebook) + "\n")
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", help="prefixes (04) or paths; default: all")
    parser.add_argument("--timeout", type=int, default=CELL_TIMEOUT_S, help="seconds per cell")
    args = parser.parse_args(argv)
    os.environ.update(ENVIRONMENT)  # the kernels inherit it ...
    os.environ.pop("MPLBACKEND", None)  # ... and ipykernel picks the inline backend only if this is unset
    failed = []
    for path in select(args.notebooks):
        print(f"{path.name}: running ...", flush=True)
        try:
            seconds = execute(path, args.timeout)
        except (CellExecutionError, CellTimeoutError, DeadKernelError) as error:
            failed.append(path.name)
            print(f"{path.name}: FAILED, left unchanged\n{error}", flush=True)
            continue
        print(f"{path.name}: {seconds:.0f} s", flush=True)
    if failed:
        print(f"failed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
