# The two commands of the README, and the pieces they are made of.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: demo test test-unit test-integration test-functional e2e venv tools goldens docs tf-lock

TOOLS  := .tools
# The tools' venvs come first on PATH so tests find checkov, ansible-playbook and ansible-lint.
TOOLS_PATH := $(shell awk '!/^\#/ && NF {printf "$(CURDIR)/$(TOOLS)/%s/bin:", $$1}' requirements-tools.txt)

$(BIN)/iconctl: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	@touch $@

venv: $(BIN)/iconctl

$(TOOLS)/.stamp: requirements-tools.txt
	@awk '!/^#/ && NF' requirements-tools.txt | while read -r name reqs; do \
	  $(PYTHON) -m venv $(TOOLS)/$$name && \
	  $(TOOLS)/$$name/bin/pip install -q --upgrade pip && \
	  $(TOOLS)/$$name/bin/pip install -q $$reqs || exit 1; \
	done
	@touch $@

tools: $(TOOLS)/.stamp

demo: venv
	$(BIN)/iconctl demo

PYTEST := PATH="$(TOOLS_PATH)$$PATH" $(BIN)/python -m pytest

# Everything (what CI runs). The tiers one by one: tests/README.md.
test: venv tools
	$(BIN)/ruff check src tests benchmarks e2e
	$(BIN)/ruff format --check src tests benchmarks e2e
	$(BIN)/mypy
	$(PYTEST)

test-unit: venv
	$(BIN)/python -m pytest tests/unit

test-integration: venv tools
	$(PYTEST) tests/integration

test-functional: venv tools
	$(PYTEST) tests/functional

# The node stack on a real Docker engine (started here if none runs; root needed):
# images, compose stacks, roles, packer (docs/development.md).
e2e: venv tools
	PATH="$(TOOLS_PATH)$$PATH" $(BIN)/python e2e/run.py

goldens: venv
	ICONCTL_UPDATE_GOLDENS=1 $(BIN)/python -m pytest tests/unit/test_render.py -q

docs: venv
	$(BIN)/python -m iconctl.spec.reference > docs/spec.md

# Refresh the provider lock files the stacks commit (docs/terraform.md). With the registry:
# every provider, for every platform in TF_LOCK_PLATFORMS. With ICONCTL_TF_PLUGIN_MIRROR: the
# providers that mirror holds (hashicorp/aws here), for the platforms it holds.
TF_LOCK_PLATFORMS ?= linux_amd64 linux_arm64 darwin_amd64 darwin_arm64
tf-lock:
	@for stack in terraform/stacks/*/; do \
	  ( cd $$stack && export TF_DATA_DIR=$$(mktemp -d) && terraform get >/dev/null && \
	    if [ -n "$$ICONCTL_TF_PLUGIN_MIRROR" ]; then \
	      providers=$$(cd $$ICONCTL_TF_PLUGIN_MIRROR && ls -d registry.terraform.io/*/* | sed 's#^registry.terraform.io/##'); \
	      for p in $$providers; do grep -q "source *= *\"$$p\"" versions.tf || continue; \
	        terraform providers lock -fs-mirror=$$ICONCTL_TF_PLUGIN_MIRROR \
	          $$(for pf in $$(ls $$ICONCTL_TF_PLUGIN_MIRROR/registry.terraform.io/$$p/*/); do printf -- '-platform=%s ' $$pf; done) $$p; \
	      done; \
	    else \
	      terraform providers lock $$(for pf in $(TF_LOCK_PLATFORMS); do printf -- '-platform=%s ' $$pf; done); \
	    fi; rm -rf $$TF_DATA_DIR ) || exit 1; \
	done
