"""practice_install_s: how long a learner waits at `clearml-lab run install` (notebook 05) until ClearML is Ready, on
a practice cluster at its default pace (`clearml-lab practice up`, DEFAULT_TIME_SCALE), after the steps before it."""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

from cluster import PracticeCluster, cli, lab_home_for
from figures import Figure

from clearml_lab.practice.cli import DEFAULT_TIME_SCALE

TARGET = "≤ 60 s"


def _na(why: str) -> list[Figure]:
    return [Figure("practice_install_s", None, "s", TARGET, why)]


def measure(budget_s: float = 600) -> list[Figure]:
    work = Path(tempfile.mkdtemp(prefix="clearml-lab-bench-install-"))
    cluster = PracticeCluster(work / "practice", time_scale=DEFAULT_TIME_SCALE)  # as `practice up` starts it
    try:
        cluster.start()
        home = lab_home_for(cluster, work / "home")
        for step in ("helm-repo", "project", "values", "scc"):
            done = cli(home, "run", step, timeout=budget_s)
            if done.returncode != 0:
                return _na(f"`clearml-lab run {step}` failed before the install: {_last_line(done)}")
        start = time.perf_counter()
        done = cli(home, "run", "install", timeout=budget_s)
        elapsed = time.perf_counter() - start
        if done.returncode != 0:
            return _na(f"`clearml-lab run install` did not reach Ready: {_last_line(done)}")
        return [
            Figure(
                "practice_install_s",
                elapsed,
                "s",
                TARGET,
                "`clearml-lab run install` (helm install, then the wait until every workload is Ready) on a "
                f"practice cluster at its default --time-scale {DEFAULT_TIME_SCALE}",
            )
        ]
    finally:
        cluster.stop()
        shutil.rmtree(work, ignore_errors=True)


def _last_line(result) -> str:
    lines = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    return lines[-1].strip()[:200] if lines else "no output"
