"""Wall time of the whole notebook suite as nbval runs it: the recorded copies in tests/notebooks/recorded (its conftest
starts and stops its own practice cluster)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from cluster import ROOT
from figures import Figure

TARGET = "≤ 60 s on 2 cores"


def measure(timeout: float = 420) -> list[Figure]:
    start = time.perf_counter()
    # Its own process group, so a run past the timeout can be interrupted as a whole: SIGINT lets pytest's session
    # end stop the practice cluster the notebooks' conftest started; anything still alive after that is killed.
    suite = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/notebooks/recorded"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        output, _ = suite.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _stop_group(suite)
        return [Figure("nbval_suite_s", None, "s", TARGET, f"did not finish within {timeout:.0f} s; interrupted")]
    elapsed = time.perf_counter() - start
    lines = [line for line in output.splitlines() if line.strip()]
    summary = lines[-1].strip("= ") if lines else "no output"
    verdict = "pass" if suite.returncode == 0 else f"FAIL (exit {suite.returncode})"
    return [Figure("nbval_suite_s", elapsed, "s", TARGET, f"{verdict}: {summary}")]


def _stop_group(suite: subprocess.Popen) -> None:
    os.killpg(suite.pid, signal.SIGINT)
    try:
        suite.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        pass
    try:
        os.killpg(suite.pid, signal.SIGKILL)  # whatever the interrupted session left behind
    except ProcessLookupError:
        pass
    suite.communicate()
