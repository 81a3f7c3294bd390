# churnops: `make repro` runs the pipeline, `make test` runs the tests. Both set up .venv first.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export DVC_NO_ANALYTICS := 1
# Stage commands in dvc.yaml call `python`: make it the virtual environment's.
export PATH := $(abspath $(BIN)):$(PATH)

.PHONY: setup repro remote push pull test test-slow lint serve image bench-pipeline bench-drift bench-serve bench-batch bench-scale bench-abtest clean

setup: $(STAMP)

# Re-install whenever the pinned requirements or the package metadata change.
$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $(STAMP)

repro: setup
	$(BIN)/dvc repro
	@$(MAKE) --no-print-directory push || echo "make repro: the results are in the workspace, but \
	the push to the DVC remote failed (above): fix the remote, then make push" >&2
	@echo
	@$(BIN)/churnops summary

# The DVC remote: by default a folder beside the work tree (../churnops-dvc-remote, in
# .dvc/config), which `dvc push` creates; `make push DVC_REMOTE=/other/path` (or an s3://, gs://,
# ssh:// URL) points this clone elsewhere (.dvc/config.local, not committed).
DVC_REMOTE ?=
remote: setup
	@if [ -n "$(DVC_REMOTE)" ]; then $(BIN)/dvc remote modify --local storage url "$(DVC_REMOTE)"; fi

push: remote
	$(BIN)/dvc push --quiet
	@echo "pushed the pipeline's data and models to DVC remote: $$($(BIN)/dvc remote list | awk '/(default)/ {print $$2}')"

pull: remote
	$(BIN)/dvc pull

test: setup
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -n 2 --dist loadfile

test-slow: setup
	$(BIN)/python -m pytest -m slow

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The PyCaret baseline needs its own environment (it pins scikit-learn 1.4 and numpy 1.x).
PYCARET_VENV := .venv-pycaret
$(PYCARET_VENV)/.installed: bench/requirements-pycaret.txt
	@test -x $(PYCARET_VENV)/bin/python || $(PYTHON) -m venv $(PYCARET_VENV)
	$(PYCARET_VENV)/bin/python -m pip install --quiet -r bench/requirements-pycaret.txt
	@touch $@

# The `mlflow models serve` baseline of bench/serve.py, in its own environment too.
MLFLOW_VENV := .venv-mlflow
$(MLFLOW_VENV)/.installed: bench/requirements-mlflow.txt
	@test -x $(MLFLOW_VENV)/bin/python || $(PYTHON) -m venv $(MLFLOW_VENV)
	$(MLFLOW_VENV)/bin/python -m pip install --quiet -r bench/requirements-mlflow.txt
	@touch $@

bench-pipeline: setup $(PYCARET_VENV)/.installed
	$(BIN)/python bench/pipeline.py --pycaret-python $(PYCARET_VENV)/bin/python
	$(BIN)/python bench/bench_results.py

serve: setup
	$(BIN)/churnops serve

# The service's container image (Dockerfile); the model bundle is mounted at run time.
# `make image EXTRAS=explain` adds SHAP, for reason codes of non-linear models.
IMAGE ?= churnops:latest
EXTRAS ?=
image:
	@command -v docker >/dev/null || { echo "make image: docker is not installed" >&2; exit 1; }
	docker build --tag $(IMAGE) --build-arg EXTRAS=$(EXTRAS) .

# Every benchmark keeps its figures in bench/results/ and renders them into the docs
# (bench/bench_results.py: docs/benchmarks.md, and docs/scale.md for bench-scale).
bench-drift: setup
	PYTHONHASHSEED=0 $(BIN)/python bench/drift.py
	$(BIN)/python bench/bench_results.py

bench-serve: setup $(MLFLOW_VENV)/.installed
	$(BIN)/python bench/serve.py --mlflow-python $(MLFLOW_VENV)/bin/python
	$(BIN)/python bench/serve_profile.py
	$(BIN)/python bench/bench_results.py

bench-batch: setup
	$(BIN)/python bench/batch.py
	$(BIN)/python bench/bench_results.py

# Batch scoring at 1M, 10M and 30M synthetic rows, in-process and on LocalClusters of 1 and 2
# workers (about 10 minutes; needs `make repro` and 1 GB of disk under .tmp/).
bench-scale: setup
	$(BIN)/python bench/scale.py
	$(BIN)/python bench/bench_results.py

bench-abtest: setup
	$(BIN)/python bench/abtest.py
	$(BIN)/python bench/bench_results.py

clean:
	rm -rf .tmp .pytest_cache .ruff_cache
