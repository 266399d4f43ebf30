# `make run` and `make test` create the virtual environment on first use (Python 3.11).
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# TFX 1.16's wheels declare Python < 3.11; they install and run on 3.11 (see README).
export PIP_IGNORE_REQUIRES_PYTHON := 1
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: venv run test test-fast bench clean

venv: $(STAMP)

$(STAMP): setup.py constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -e '.[data,test]' -c constraints.txt
	touch $(STAMP)

run: venv
	$(BIN)/python -m pipeline run --config configs/penguins.yaml

test: venv
	$(BIN)/python -m pytest

test-fast: venv
	$(BIN)/python -m pytest -m "not e2e"

bench: venv
	$(BIN)/python bench/keras_first_epoch.py
	$(BIN)/python bench/serving.py
	$(BIN)/python bench/accuracy.py
	$(BIN)/python bench/image_accuracy.py
	$(BIN)/python bench/strategies.py
	$(BIN)/python bench/overhead.py

clean:
	rm -rf output
