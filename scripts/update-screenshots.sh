#!/usr/bin/env bash
# Re-take the README's screenshots (docs/img/*.png): the widgets in a real JupyterLab and a page of
# the static site. Runs the browser tests with CONVMIXER_UPDATE_SCREENSHOTS=1, which copies each
# notebook's panel screenshot named by `docs_image` in tests/browser/test_widgets_in_jupyterlab.py,
# and the site page named by DOCS_IMAGE in tests/site/test_site.py, to docs/img/. Needs `make env`
# first.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-chromium.sh
CONVMIXER_UPDATE_SCREENSHOTS=1 .venv/bin/python -m pytest tests/browser tests/site -q "$@"
git status --short docs/img
