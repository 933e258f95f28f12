"""SCC planning time for the rendered 7.14.4 chart: rendered once, then only plan_grants is timed."""

from __future__ import annotations

import tempfile

from figures import Figure, median_seconds

from clearml_lab.chart import render
from clearml_lab.practice.chartrepo import LoopbackRepository, build_repository
from clearml_lab.scc import plan_grants

CHART_VERSION = "7.14.4"


def measure(runs: int = 21) -> list[Figure]:
    with tempfile.TemporaryDirectory(prefix="clearml-lab-bench-charts-") as tmp:
        with LoopbackRepository(tmp) as repo:  # the practice charts from a loopback Helm repository
            build_repository(tmp, repo.url)
            manifests = render(CHART_VERSION, repo=repo.url)
    plans = []
    median, samples = median_seconds(lambda: plans.append(plan_grants(manifests, namespace="clearml")), runs)
    plan = plans[-1]
    note = (
        f"chart {CHART_VERSION}, {len(manifests)} manifests, {len(plan.workloads)} workloads, "
        f"{len(plan.grants())} grants; median of {runs}, first (cold) "
        f"{samples[0] * 1000:.1f} ms, max {max(samples) * 1000:.1f} ms"
    )
    return [Figure("plan_scc_ms", median * 1000, "ms", "< 100 ms", note)]
