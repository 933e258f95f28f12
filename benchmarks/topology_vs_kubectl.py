"""One topology snapshot of a namespace the lab's recipe filled, against the kubectl call a learner would type:
wall time of each (median), and the API calls a snapshot makes from a cold client, counted at the server."""

from __future__ import annotations

import time
from pathlib import Path

from cluster import PracticeCluster, cli, delta, lab_home_for, request_totals
from figures import Figure, median_seconds

from clearml_lab import topology

NAMESPACE = "clearml-bench"
KUBECTL_KINDS = "deploy,sts,pods,svc,routes,pvc"


def install_clearml(cluster: PracticeCluster, home: Path) -> float:
    """Runs `clearml-lab run all` into NAMESPACE, waits for the topology to be ready; returns the recipe's time."""
    lab_home_for(cluster, home)
    start = time.perf_counter()
    done = cli(home, "run", "all", "--namespace", NAMESPACE, timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"clearml-lab run all failed ({done.returncode}): {(done.stdout + done.stderr)[-600:]}")
    elapsed = time.perf_counter() - start
    client, deadline = cluster.api_client(), time.monotonic() + 120
    while not topology.snapshot(client, NAMESPACE).ready and time.monotonic() < deadline:
        time.sleep(0.5)  # the timings below are of a settled namespace, as a learner looks at it after install
    return elapsed


def measure(cluster: PracticeCluster, home: Path, runs: int = 9) -> list[Figure]:
    recipe_s = install_clearml(cluster, home)
    kubectl = ["kubectl", "get", KUBECTL_KINDS, "-n", NAMESPACE, "-o", "json"]
    cluster.run(*kubectl)  # warms kubectl's discovery cache, as any learner's second call finds it
    warm_client = cluster.api_client()
    nodes = len(topology.snapshot(warm_client, NAMESPACE).nodes)
    snapshot_s, snapshot_samples = median_seconds(lambda: topology.snapshot(warm_client, NAMESPACE), runs)
    kubectl_s, kubectl_samples = median_seconds(lambda: cluster.run(*kubectl), runs)

    before = request_totals(cluster)
    cluster.run(*kubectl)
    kubectl_calls = delta(before, request_totals(cluster))

    before = request_totals(cluster)
    topology.snapshot(cluster.api_client(), NAMESPACE)  # a cold client: new connection pool, nothing cached
    snapshot_calls = delta(before, request_totals(cluster))
    per_kind = sum(snapshot_calls.values()) / len(topology.KINDS)
    lists = {resource for (verb, resource, _), n in snapshot_calls.items() if verb == "LIST" and n == 1}

    return [
        Figure(
            "topology_vs_kubectl_ratio",
            snapshot_s / kubectl_s,
            "",
            "≤ 1.0",
            f"snapshot {snapshot_s * 1000:.1f} ms vs kubectl {kubectl_s * 1000:.1f} ms (medians of {runs}; "
            f"ranges {_range(snapshot_samples)} / {_range(kubectl_samples)} ms); {nodes} topology nodes after "
            f"`clearml-lab run all` ({recipe_s:.0f} s)",
        ),
        Figure(
            "snapshot_list_calls_per_kind",
            per_kind,
            "calls",
            "1 list call per kind",
            f"server saw {_calls(snapshot_calls)} for {len(topology.KINDS)} kinds"
            f"{'' if lists >= set(topology.KINDS) else ' (some kind was not listed exactly once)'}; "
            f"kubectl get made {sum(kubectl_calls.values())} resource calls, discovery not counted ({_calls(kubectl_calls)})",
        ),
    ]


def _range(samples: list[float]) -> str:
    return f"{min(samples) * 1000:.0f}–{max(samples) * 1000:.0f}"


def _calls(counts) -> str:
    return ", ".join(
        f"{n}× {verb} {resource}" + ("" if code.startswith("2") else f" ({code})")
        for (verb, resource, code), n in sorted(counts.items())
    )
