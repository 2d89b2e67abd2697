# Two commands do all set-up:  `make lab` (open the series)  and  `make test` (run every test).
# Both create the virtual environment in .venv when it is missing and refresh it when
# pyproject.toml changes. `make site` builds the series as a static website in site/_build.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# The offline copy of CIFAR-10 next to the project, when there is one (see README, "Data").
SHARED_CIFAR := $(wildcard ../shared/data/cifar10-jpeg.zip)
# On shared cores, OpenMP threads that spin while waiting made 2 threads slower than 1 (measured
# 4.5x); passive waiting changes no result.
export OMP_WAIT_POLICY ?= PASSIVE
ifneq ($(SHARED_CIFAR),)
export CONVMIXER_DATA ?= $(abspath $(SHARED_CIFAR))
endif

.PHONY: env lab test notebooks site

env: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[notebooks,test,bench]'
	touch $(STAMP)

# JupyterLab refuses to run as root unless told it may.
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root)

lab: $(STAMP)
	$(VENV)/bin/jupyter lab $(ROOT_FLAG) notebooks/

# lint-imports checks the package's layering (pyproject.toml, [tool.importlinter]).
# The browser test (tests/browser) drives Debian's Chromium; installed here when missing.
# CONVMIXER_PROFILE=smoke: the training notebooks (05, 07) train their seconds-long smoke budget,
# on every machine alike; a reader's Run All trains the `quick` profile instead (README).
# The site's scripts (require.js, MathJax, the widget manager) come from the npm registry
# (site/package-lock.json, `npm ci`, only when site/node_modules is missing or stale); without npm
# the site test says why it cannot run.
test: $(STAMP)
	$(VENV)/bin/lint-imports
	bash scripts/ensure-chromium.sh
	$(PY) scripts/build_site.py --install-only || echo "make test: site/node_modules not installed (see above)"
	CONVMIXER_PROFILE=smoke $(PY) -m pytest tests notebooks --nbval --nbval-current-env \
		--nbval-sanitize-with tests/nbval_sanitize.cfg

# Re-run every notebook in its committed mode and store the outputs (NB=04 for one); the
# training notebook loads the shipped run instead of training (scripts/run_notebooks.py).
notebooks: $(STAMP)
	$(PY) scripts/run_notebooks.py $(NB)

# The notebooks as a static website in site/_build (no re-execution: their stored outputs and
# widget state), readable offline: open site/_build/index.html, or serve the folder
# (python -m http.server -d site/_build). The first build runs `npm ci` in site/.
site: $(STAMP)
	$(PY) scripts/build_site.py
