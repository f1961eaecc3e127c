# Two commands do all set-up on a fresh machine with Python 3.12 and make:
#   make demo   -- the main job on the bundled CDNOW data
#   make test   -- the default test suite (slow MCMC tests excluded)
PYTHON ?= $(shell command -v python3.12 2>/dev/null || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-slow test-all lint bench clean

$(STAMP): pyproject.toml constraints.txt Makefile
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 12), "bayesclv needs Python >= 3.12, got " + sys.version'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev,spark]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/bayesclv demo

test: $(STAMP)
	$(BIN)/python -m pytest -m "not slow"

test-slow: $(STAMP)
	$(BIN)/python -m pytest -m slow

test-all: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check bayesclv tests bench

bench: $(STAMP)
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev,bench]'
	$(BIN)/python bench/bench_summary.py
	$(BIN)/python bench/bench_fit.py

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
