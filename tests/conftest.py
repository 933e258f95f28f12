import os
import sys
from pathlib import Path

# The tools `make` installs (helm, kubectl) live beside this interpreter; put them first on PATH so the
# suite behaves the same whether started by `make test` or by `.venv/bin/pytest`.
os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
