# mlcycle: the two commands are `make demo` and `make test`; both install what they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-dev
RUNTIME_STAMP := $(VENV)/.installed-runtime
BENCH_STAMP := $(VENV)/.installed-bench
# Evidently 0.7.23 needs pandas < 3, so the monitoring benchmark runs it from its own venv.
EVIDENTLY_VENV := .venv-evidently
EVIDENTLY_STAMP := $(EVIDENTLY_VENV)/.installed
# NannyML 0.13.1 (the explain suite's CBPE comparison) needs pandas < 3 too, and imports
# statsmodels without declaring it.
NANNYML_VENV := .venv-nannyml
NANNYML_STAMP := $(NANNYML_VENV)/.installed
# BentoML (the serving benchmark's peer) brings its own web stack, so it gets a venv too;
# scikit-learn is pinned to the main venv's so the pickled model loads the same.
BENTOML_VENV := .venv-bentoml
BENTOML_STAMP := $(BENTOML_VENV)/.installed

.PHONY: install demo test check bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# The demo needs only the runtime; the dev extra (MLflow, mypy, XGBoost, ...) is for tests.
$(RUNTIME_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@ $(RUNTIME_STAMP)

$(BENCH_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev,bench]"
	touch $@

install: $(STAMP)

demo: $(RUNTIME_STAMP)
	$(BIN)/mlcycle demo

test: $(STAMP)
	$(BIN)/python -m pytest -q

check: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy

$(EVIDENTLY_STAMP):
	$(PYTHON) -m venv $(EVIDENTLY_VENV)
	$(EVIDENTLY_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(EVIDENTLY_VENV)/bin/python -m pip install --quiet "evidently==0.7.23" "pandas<3" pyarrow
	touch $@

$(NANNYML_STAMP):
	$(PYTHON) -m venv $(NANNYML_VENV)
	$(NANNYML_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(NANNYML_VENV)/bin/python -m pip install --quiet "nannyml==0.13.1" "pandas<3" statsmodels pyarrow
	touch $@

$(BENTOML_STAMP): $(BENCH_STAMP)
	$(PYTHON) -m venv $(BENTOML_VENV)
	$(BENTOML_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(BENTOML_VENV)/bin/python -m pip install --quiet bentoml \
		"scikit-learn==$$($(BIN)/python -c 'import sklearn; print(sklearn.__version__)')" \
		"numpy==$$($(BIN)/python -c 'import numpy; print(numpy.__version__)')"
	touch $@

bench: $(BENCH_STAMP) $(EVIDENTLY_STAMP) $(NANNYML_STAMP) $(BENTOML_STAMP)
	@command -v wrk >/dev/null 2>&1 || apt-get install -y -qq wrk >/dev/null 2>&1 \
		|| (apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq wrk >/dev/null 2>&1) \
		|| echo "note: could not install wrk; the serving benchmark uses a Python load generator"
	@# An installed wheel is byte-compiled by pip; an editable source tree is compiled on
	@# first import, unless PYTHONDONTWRITEBYTECODE is set (as on some CI machines): then
	@# every process would compile mlcycle anew, and the start-up figures would measure that.
	$(BIN)/python -m compileall -q src/mlcycle >/dev/null
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) $(EVIDENTLY_VENV) $(NANNYML_VENV) $(BENTOML_VENV) .mlcycle .pytest_cache .mypy_cache .ruff_cache
