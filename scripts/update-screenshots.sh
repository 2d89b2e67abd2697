#!/usr/bin/env bash
# Re-take the README's widget screenshots (docs/img/*.png) in a real JupyterLab: runs the browser
# test with CONVMIXER_UPDATE_SCREENSHOTS=1, which copies each notebook's panel screenshot named by
# `docs_image` in tests/browser/test_widgets_in_jupyterlab.py to docs/img/. Needs `make env` first.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-chromium.sh
CONVMIXER_UPDATE_SCREENSHOTS=1 .venv/bin/python -m pytest tests/browser -q "$@"
git status --short docs/img
