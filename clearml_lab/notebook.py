"""What the notebooks call: a few short functions over the library and the widgets.

The target and settings chosen in notebook 00 are saved in the lab's home (``session.yaml``), so every later
notebook — each its own kernel — acts on the same cluster and project. Environment variables override them for
test runs (CLEARML_LAB_CHART_VERSION, CLEARML_LAB_PROFILE, CLEARML_LAB_NAMESPACE).

Every function that displays a widget also prints deterministic text, so nbval compares what the learner saw.
"""
from __future__ import annotations

import os

import yaml
from IPython.display import display

from . import steps
from .lab import Lab, connect, lab_home

ENV_OVERRIDES = {"chart_version": "CLEARML_LAB_CHART_VERSION", "profile": "CLEARML_LAB_PROFILE",
                 "namespace": "CLEARML_LAB_NAMESPACE"}
TARGETS = ("practice", "kubeconfig", "in-cluster")


def _session_file():
    return lab_home() / "session.yaml"


def saved_choice() -> dict:
    path = _session_file()
    return (yaml.safe_load(path.read_text()) or {}) if path.exists() else {}


def choose(target: str = "practice", *, kubeconfig: str | None = None, context: str | None = None,
           namespace: str | None = None, chart_version: str | None = None, profile: str | None = None) -> Lab:
    """Pick the cluster and settings for all notebooks; connects first, so nothing invalid is saved."""
    choice = {"target": target, "kubeconfig": kubeconfig, "context": context, "namespace": namespace,
              "chart_version": chart_version, "profile": profile}
    lab = _connect(choice)
    path = _session_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump({k: v for k, v in choice.items() if v is not None}))
    return lab


def _connect(choice: dict) -> Lab:
    settings = {key: os.environ.get(env) or choice.get(key) for key, env in ENV_OVERRIDES.items()}
    target = choice.get("target", "practice")
    return connect(kubeconfig=choice.get("kubeconfig") if target == "kubeconfig" else None,
                   context=choice.get("context") if target == "kubeconfig" else None,
                   in_cluster=target == "in-cluster", **settings)


def session(quiet: bool = False) -> Lab:
    """The lab as notebook 00 chose it (the practice cluster if nothing was chosen); says where it acts."""
    lab = _connect(saved_choice())
    if not quiet:
        s = lab.settings
        print(f"Acting on {lab.describe()} — chart {s.chart_version}, profile {s.profile}.")
    return lab


def show(widget) -> None:
    display(widget)
    print(widget.text)


def card(step_name: str, lab: Lab):
    """Display a step card (explanation, commands, buttons) and print its text."""
    from .widgets import StepCard

    widget = StepCard(steps.get(step_name), lab)
    show(widget)
    return widget


def run_for_me(widget) -> None:
    """What the "Run it for me" button does, from code: run, then check; prints the results."""
    widget.run_it_for_me()
    widget.wait()
    for result in widget.results:
        print(result.render_text())


def check(step_name: str, lab: Lab, timeout: float = 120) -> bool:
    """The closing check of a notebook, like a workshop examiner: PASS or FAIL with the fix."""
    result = steps.get(step_name).check(lab, timeout=timeout)
    print(result.render_text())
    return result.ok


def topology(lab: Lab):
    """The live topology view of the project (updates while displayed; call .close() to stop)."""
    from .widgets import TopologyView

    view = TopologyView(lab).start()
    show(view)
    return view
