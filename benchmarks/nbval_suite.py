"""Wall time of the whole notebook suite as nbval runs it (its conftest starts and stops its own practice cluster)."""
from __future__ import annotations

import subprocess
import sys
import time

from cluster import ROOT
from figures import Figure


def measure(timeout: float = 900) -> list[Figure]:
    start = time.perf_counter()
    try:
        result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "notebooks"],
                                cwd=ROOT, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return [Figure("nbval_suite_s", None, "s", "≤ 60 s on 2 cores", f"did not finish within {timeout:.0f} s")]
    elapsed = time.perf_counter() - start
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    summary = lines[-1].strip("= ") if lines else "no output"
    verdict = "pass" if result.returncode == 0 else f"FAIL (exit {result.returncode})"
    return [Figure("nbval_suite_s", elapsed, "s", "≤ 60 s on 2 cores", f"{verdict}: {summary}")]
