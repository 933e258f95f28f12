"""One practice cluster for the benchmarks, reached the way the tests reach it, plus its request counter."""

from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.live.cluster import PracticeCluster, temporary_cluster  # noqa: E402
from tests.live.recipe_helpers import cli, lab_home_for  # noqa: E402

__all__ = ["PracticeCluster", "temporary_cluster", "cli", "lab_home_for", "request_totals", "delta"]

_SAMPLE = re.compile(r"apiserver_request_total\{(.*)\} (\d+)")


def request_totals(cluster: PracticeCluster) -> Counter:
    """The server's apiserver_request_total, keyed by (verb, resource, code); /metrics itself is not counted."""
    code, _, body = cluster.request("GET", "/metrics")
    if code != 200:
        raise RuntimeError(f"the practice cluster answered /metrics with {code}")
    totals = Counter()
    for line in body.decode().splitlines():
        match = _SAMPLE.fullmatch(line)
        if match:
            labels = dict(re.findall(r'(\w+)="([^"]*)"', match[1]))
            resource = f"{labels['resource']}/{labels['subresource']}" if labels["subresource"] else labels["resource"]
            totals[(labels["verb"], resource, labels["code"])] += int(match[2])
    return totals


def delta(before: Counter, after: Counter) -> Counter:
    return Counter({key: after[key] - before[key] for key in after if after[key] > before[key]})
