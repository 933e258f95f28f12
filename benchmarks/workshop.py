"""A 30-learner workshop: provision the learners, then every learner runs the recipe with their own kubeconfig.
Runs at most one learner per core at a time, as a workshop host would not run more recipes than it has cores."""

from __future__ import annotations

import importlib.util
import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from cluster import PracticeCluster, cli, lab_home_for
from figures import Figure

TARGET = "—"


def _na(why: str) -> list[Figure]:
    return [Figure("workshop_30_learners_s", None, "s", TARGET, why)]


def measure(cluster: PracticeCluster, work: Path, learners: int = 30, budget_s: float = 300) -> list[Figure]:
    if importlib.util.find_spec("clearml_lab.workshop") is None:
        return _na("workshop mode is not there yet (no clearml_lab/workshop.py), so nothing was measured")
    home = lab_home_for(cluster, work / "workshop-home")
    out = home / "learners"
    start = time.perf_counter()
    provisioned = cli(home, "workshop", "provision", "--learners", str(learners), "--out", str(out), timeout=budget_s)
    if provisioned.returncode != 0:
        return _na(f"`workshop provision` failed (exit {provisioned.returncode}): {_last_line(provisioned)}")
    provision_s = time.perf_counter() - start
    kubeconfigs = sorted(out.glob("*.kubeconfig"))
    if len(kubeconfigs) != learners:
        return _na(f"`workshop provision --learners {learners}` wrote {len(kubeconfigs)} kubeconfigs in {out}")

    deadline = time.monotonic() + budget_s

    def run_learner(kubeconfig: Path):
        if time.monotonic() > deadline:
            return None
        return cli(home, "--kubeconfig", str(kubeconfig), "run", "all", timeout=budget_s)

    workers = os.cpu_count() or 2
    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(run_learner, kubeconfigs))
    elapsed = time.perf_counter() - start
    skipped = sum(result is None for result in results)
    failed = [
        (path.stem, result) for path, result in zip(kubeconfigs, results, strict=True) if result and result.returncode
    ]
    if skipped:
        return _na(f"only {learners - skipped} of {learners} learners ran within the {budget_s:.0f} s budget")
    if failed:
        name, result = failed[0]
        return _na(f"{len(failed)} of {learners} learners' `run all` failed; first, {name}: {_last_line(result)}")
    return [
        Figure(
            "workshop_30_learners_s",
            elapsed,
            "s",
            TARGET,
            f"provisioning {provision_s:.1f} s, then {learners} × `run all`, {workers} at a time",
        )
    ]


def _last_line(result) -> str:
    lines = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    return lines[-1].strip()[:200] if lines else "no output"
