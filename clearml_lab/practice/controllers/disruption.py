"""PodDisruptionBudget status: how many matching pods are healthy and how many may be disrupted."""

from __future__ import annotations

import math

from ..client import ControllerContext, WatchEvent
from .base import (
    Cache,
    Key,
    Loop,
    UpdateStatus,
    controller_identity,
    is_terminating,
    key_of,
    matches_selector,
    pod_ready,
    set_condition,
)

PDB = "poddisruptionbudgets.policy"
IDENTITY = controller_identity("disruption-controller")


def _count(value, total: int) -> int:
    if isinstance(value, str) and value.endswith("%"):
        return math.ceil(int(value[:-1]) * total / 100)
    return int(value)


def reconcile_budget(pdb: dict, pods: list[dict], now: float) -> list:
    spec = pdb.get("spec") or {}
    matching = [
        p for p in pods if not is_terminating(p) and matches_selector(spec.get("selector"), p["metadata"].get("labels"))
    ]
    expected = len(matching)
    healthy = sum(1 for p in matching if pod_ready(p))
    if spec.get("minAvailable") is not None:
        desired = _count(spec["minAvailable"], expected)
    elif spec.get("maxUnavailable") is not None:
        desired = max(0, expected - _count(spec["maxUnavailable"], expected))
    else:
        desired = expected
    allowed = max(0, healthy - desired)
    old = pdb.get("status") or {}
    condition = ("True", "SufficientPods") if allowed > 0 else ("False", "InsufficientPods")
    status = {
        "observedGeneration": pdb["metadata"].get("generation", 1),
        "currentHealthy": healthy,
        "desiredHealthy": desired,
        "expectedPods": expected,
        "disruptionsAllowed": allowed,
        "conditions": set_condition(old.get("conditions") or [], "DisruptionAllowed", *condition, "", now),
    }
    if old.get("disruptedPods"):
        status["disruptedPods"] = old["disruptedPods"]
    return [] if status == old else [UpdateStatus(PDB, dict(pdb, status=status))]


def keys_for(event: WatchEvent, cache: Cache) -> list[Key]:
    if event.resource == PDB:
        return [key_of(PDB, event.object)]
    ns, labels = event.object["metadata"].get("namespace"), event.object["metadata"].get("labels")
    return [
        key_of(PDB, b) for b in cache.list(PDB, ns) if matches_selector((b.get("spec") or {}).get("selector"), labels)
    ]


async def run(ctx: ControllerContext) -> None:
    def reconcile(key: Key, cache: Cache, now: float) -> list:
        pdb = cache.get(*key)
        return reconcile_budget(pdb, cache.list("pods", key[1]), now) if pdb else []

    await Loop(ctx, IDENTITY, [PDB, "pods"], keys_for, reconcile).run()
