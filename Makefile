# The two commands of the README, and the pieces they are made of.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: demo test venv lint goldens docs

$(BIN)/iconctl: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	@touch $@

venv: $(BIN)/iconctl

demo: venv
	$(BIN)/iconctl demo

test: venv
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/python -m pytest

goldens: venv
	ICONCTL_UPDATE_GOLDENS=1 $(BIN)/python -m pytest tests/unit/test_render.py -q

docs: venv
	$(BIN)/python -m iconctl.specdoc > docs/spec.md
