import os
import sys
from pathlib import Path

# The tools `make` installs (helm, kubectl) live beside this interpreter; put them first on PATH so the
# suite behaves the same whether started by `make test` or by `.venv/bin/pytest`.
os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"

# Charts come from loopback Helm repositories (the practice charts for every test; the tests' own on request).
from tests.chartrepo_fixtures import extended_chart_repository, loopback_chart_repository  # noqa: E402,F401
