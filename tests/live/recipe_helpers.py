"""Helpers for tests that run the lab's own steps and CLI against a practice cluster."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

BIN = Path(sys.executable).parent
HELM3 = BIN.parent / "libexec" / "helm3" / "helm"  # `make tools` keeps helm 3 off PATH, here


def lab_home_for(cluster, home: Path) -> Path:
    """A CLEARML_LAB_HOME whose practice cluster is ``cluster`` (as `clearml-lab practice up` would leave it)."""
    (home / "practice").mkdir(parents=True, exist_ok=True)
    shutil.copy(cluster.kubeconfig, home / "practice" / "kubeconfig")
    return home


def cli(home: Path, *args: str, timeout: float = 600, env: dict | None = None) -> subprocess.CompletedProcess:
    # The practice cluster's own chart repository unless a test names another (not the developer's setting).
    inherited = {key: value for key, value in os.environ.items() if key != "CLEARML_LAB_CHART_REPO"}
    environment = {
        **inherited,
        "CLEARML_LAB_HOME": str(home),
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
        **(env or {}),
    }
    environment.pop("KUBECONFIG", None)
    return subprocess.run(
        [str(BIN / "clearml-lab"), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=environment,
        stdin=subprocess.DEVNULL,
    )


def ok_stdout(result: subprocess.CompletedProcess) -> str:
    """The stdout of a command that must have succeeded (else its exit code and both outputs)."""
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result.stdout


def eventually(check, timeout=30.0, what="the condition"):
    """Ask again until ``check()`` returns something truthy (the cluster works at --time-scale 0.05)."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)
