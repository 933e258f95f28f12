"""The recipe, in order. Each step: commands(), run(), check(), undo() — see base.py."""

from __future__ import annotations

from ..errors import UsageError
from .base import Check, Step, StepResult
from .cleanup import Cleanup, leftovers
from .helm_repo import HelmRepo
from .install import Install
from .prerequisites import Prerequisites
from .project import Project
from .routes import Routes
from .scc import SccGrants
from .values import Values
from .verify import Verify

STEPS: tuple[Step, ...] = (
    Prerequisites(),
    HelmRepo(),
    Project(),
    Values(),
    SccGrants(),
    Install(),
    Routes(),
    Verify(),
    Cleanup(),
)
NAMES = tuple(step.name for step in STEPS)
RECIPE = tuple(step for step in STEPS if step.name != "cleanup")  # what `all` means


def get(name: str) -> Step:
    for step in STEPS:
        if step.name == name:
            return step
    raise UsageError(f"there is no step {name!r}: choose one of {', '.join(NAMES)}, or all.")


def select(name: str, *, reverse: bool = False) -> list[Step]:
    steps = list(RECIPE) if name == "all" else [get(name)]
    return steps[::-1] if reverse else steps


__all__ = ["STEPS", "NAMES", "RECIPE", "get", "select", "leftovers", "Step", "StepResult", "Check"]
