# The two commands a newcomer needs: `make lab` and `make test`. Everything else is plumbing for them.
PYTHON ?= python3
VENV   := .venv
BIN    := $(abspath $(VENV))/bin
export PATH := $(BIN):$(PATH)
STATE  ?= $(abspath .lab/practice)

.PHONY: lab test bench install tools browser clean practice-down

$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[test]'
	touch $@

install: $(VENV)/.installed tools

tools: $(VENV)/.installed
	bash scripts/install-tools.sh $(abspath $(VENV))

# Debian's Chromium for the browser test (Playwright's own browser download is not reachable here).
browser:
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "make browser: install Debian's chromium (sudo apt-get install chromium)" >&2; exit 1; fi; }

# Starts the practice cluster in the background unless KUBECONFIG names a real one, then opens JupyterLab on notebook 00.
lab: install
	@if [ -z "$$KUBECONFIG" ]; then $(BIN)/clearml-lab practice up --state $(STATE); fi
	$(BIN)/jupyter lab notebooks/00_welcome_and_prerequisites.ipynb

practice-down:
	$(BIN)/clearml-lab practice down --state $(STATE)

test: install
	$(BIN)/python -m pytest -q

bench: install
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) .lab build *.egg-info test-artifacts
