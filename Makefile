# `make run` and `make test` create the virtual environment on first use (Python 3.11) from
# requirements.lock: every package pinned with its file's hash, so a venv built on any day is
# the same. `make lock` regenerates the lock from setup.py and constraints.txt (see README).
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
LOCK := requirements.lock
# TFX 1.16's wheels declare Python < 3.11; they install and run on 3.11 (see README).
export PIP_IGNORE_REQUIRES_PYTHON := 1
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: venv lock run test test-fast lint bench clean

venv: $(STAMP)

# A changed lock rebuilds the venv from scratch, so nothing the lock no longer names stays in it.
$(STAMP): $(LOCK) setup.py tools/install-lock.sh
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	sh tools/install-lock.sh $(BIN)/pip
	$(BIN)/pip install --no-deps --no-build-isolation -e .
	touch $(STAMP)

lock:
	$(PYTHON) tools/lock.py

run: venv
	$(BIN)/python -m pipeline run --config configs/penguins.yaml

test: venv
	$(BIN)/python -m pytest

# Style is the tool's: `ruff format` writes it, `make lint` checks it (ruff.toml).
lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test-fast: venv
	$(BIN)/python -m pytest -m "not e2e"

bench: venv
	$(BIN)/python bench/keras_first_epoch.py
	$(BIN)/python bench/serving.py
	$(BIN)/python bench/accuracy.py
	$(BIN)/python bench/image_accuracy.py
	$(BIN)/python bench/strategies.py
	$(BIN)/python bench/trainer_input.py
	$(BIN)/python bench/csv_example_gen.py
	$(BIN)/python bench/overhead.py
	$(BIN)/python bench/seed_spread.py
	$(BIN)/python bench/spec_execution.py
	$(BIN)/python bench/fast_answers.py
	$(BIN)/python bench/gate_rates.py

clean:
	rm -rf output
