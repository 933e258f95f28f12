"""Where the lab keeps its local state, known to both sides: the lab finds the practice cluster's kubeconfig there,
and `clearml-lab practice up` keeps the practice cluster's state there."""

from __future__ import annotations

import os
from pathlib import Path


def lab_home() -> Path:
    """$CLEARML_LAB_HOME, else ~/.clearml-lab."""
    return Path(os.environ.get("CLEARML_LAB_HOME") or Path.home() / ".clearml-lab")


def practice_state() -> Path:
    """The practice cluster's state directory (its kubeconfig, store, certificates): <lab home>/practice."""
    return lab_home() / "practice"
