"""Deployment → ReplicaSets: one ReplicaSet per pod template (named by its pod-template-hash), rolled with the
Deployment's strategy, and the rollout status fields and conditions ``kubectl rollout status`` and
``helm --wait`` read."""

from __future__ import annotations

import copy
import json
import math

from ..client import ControllerContext, WatchEvent
from .base import (
    Cache,
    Create,
    Delete,
    Event,
    Key,
    Loop,
    Patch,
    Update,
    UpdateStatus,
    Wake,
    by_controller,
    controller_identity,
    get_condition,
    is_terminating,
    key_of,
    owned_by,
    owner_ref,
    parse_time,
    pod_active,
    remove_condition,
    rfc3339,
    set_condition,
)

DEPLOY = "deployments.apps"
RS = "replicasets.apps"
COMPONENT = "deployment-controller"
IDENTITY = controller_identity("deployment-controller")
REVISION = "deployment.kubernetes.io/revision"
HASH_LABEL = "pod-template-hash"
_SAFE = "bcdfghjklmnpqrstvwxz2456789"  # the alphabet Kubernetes uses for generated name suffixes


def template_hash(template: dict, collision_count: int | None = None) -> str:
    """FNV-32a of the pod template, rendered in Kubernetes' safe alphabet (so it looks like ``6f56f884d``)."""
    data = json.dumps(template, sort_keys=True, separators=(",", ":")).encode()
    if collision_count:
        data += str(collision_count).encode()
    h = 0x811C9DC5
    for byte in data:
        h = ((h ^ byte) * 0x01000193) & 0xFFFFFFFF
    return "".join(_SAFE[ord(ch) % len(_SAFE)] for ch in str(h))


def _int_or_percent(value, total: int, *, round_up: bool) -> int:
    if value is None:
        value = "25%"
    if isinstance(value, str) and value.endswith("%"):
        exact = int(value[:-1]) * total / 100
        return math.ceil(exact) if round_up else math.floor(exact)
    return int(value)


def surge_and_unavailable(deploy: dict) -> tuple[int, int]:
    desired = int(deploy["spec"].get("replicas", 1))
    rolling = (deploy["spec"].get("strategy") or {}).get("rollingUpdate") or {}
    surge = _int_or_percent(rolling.get("maxSurge"), desired, round_up=True)
    unavailable = _int_or_percent(rolling.get("maxUnavailable"), desired, round_up=False)
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return surge, min(unavailable, desired)


def _revision(rs: dict) -> int:
    try:
        return int(rs["metadata"].get("annotations", {}).get(REVISION, "0"))
    except ValueError:
        return 0


def _replicas(rs: dict) -> int:
    return int(rs.get("spec", {}).get("replicas", 0))


def _st(rs: dict, field: str) -> int:
    return int((rs.get("status") or {}).get(field) or 0)


def _scale(deploy: dict, rs: dict, to: int) -> list:
    old = _replicas(rs)
    if old == to:
        return []
    updated = copy.deepcopy(rs)
    updated["spec"]["replicas"] = to
    ann = updated["metadata"].setdefault("annotations", {})
    ann["deployment.kubernetes.io/desired-replicas"] = str(deploy["spec"].get("replicas", 1))
    direction = "up" if to > old else "down"
    return [
        Update(RS, updated),
        Event(
            deploy,
            "ScalingReplicaSet",
            f"Scaled {direction} replica set {rs['metadata']['name']} from {old} to {to}",
            COMPONENT,
        ),
    ]


def new_replicaset(deploy: dict, pod_hash: str, revision: int, replicas: int) -> dict:
    template = copy.deepcopy(deploy["spec"]["template"])
    template.setdefault("metadata", {}).setdefault("labels", {})[HASH_LABEL] = pod_hash
    selector = copy.deepcopy(deploy["spec"].get("selector") or {})
    selector.setdefault("matchLabels", {})[HASH_LABEL] = pod_hash
    annotations = {
        k: v
        for k, v in (deploy["metadata"].get("annotations") or {}).items()
        if k not in (REVISION, "kubectl.kubernetes.io/last-applied-configuration")
    }
    surge, _ = surge_and_unavailable(deploy)
    desired = int(deploy["spec"].get("replicas", 1))
    annotations.update(
        {
            REVISION: str(revision),
            "deployment.kubernetes.io/desired-replicas": str(desired),
            "deployment.kubernetes.io/max-replicas": str(desired + surge),
        }
    )
    spec = {"replicas": replicas, "selector": selector, "template": template}
    if deploy["spec"].get("minReadySeconds"):
        spec["minReadySeconds"] = deploy["spec"]["minReadySeconds"]
    return {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            "name": f"{deploy['metadata']['name']}-{pod_hash}",
            "namespace": deploy["metadata"]["namespace"],
            "labels": dict(template["metadata"]["labels"]),
            "annotations": annotations,
            "ownerReferences": [owner_ref(deploy)],
        },
        "spec": spec,
    }


def _rolling_steps(deploy: dict, new: dict, olds: list[dict]) -> list:
    """One step of a rolling update, after Kubernetes' rolling.go: grow the new ReplicaSet within maxSurge,
    then shrink the old ones without going below the minimum availability."""
    desired = int(deploy["spec"].get("replicas", 1))
    surge, max_unavailable = surge_and_unavailable(deploy)
    all_rs = [new, *olds]
    total = sum(_replicas(r) for r in all_rs)
    if _replicas(new) > desired:
        return _scale(deploy, new, desired)
    if _replicas(new) < desired:
        room = min(desired + surge - total, desired - _replicas(new))
        if room > 0:
            return _scale(deploy, new, _replicas(new) + room)
    min_available = desired - max_unavailable
    new_unavailable = _replicas(new) - _st(new, "availableReplicas")
    budget = total - min_available - new_unavailable
    actions: list = []
    planned = {id(r): _replicas(r) for r in olds}
    # Unhealthy old pods first: removing them costs no availability.
    for r in sorted(olds, key=_created):
        if budget <= 0:
            break
        unhealthy = _replicas(r) - _st(r, "availableReplicas")
        cut = min(unhealthy, budget)
        if cut > 0:
            planned[id(r)] -= cut
            budget -= cut
    available_budget = sum(_st(r, "availableReplicas") for r in all_rs) - min_available
    for r in sorted(olds, key=_created):
        if available_budget <= 0:
            break
        cut = min(planned[id(r)], available_budget)
        if cut > 0:
            planned[id(r)] -= cut
            available_budget -= cut
    for r in olds:
        actions += _scale(deploy, r, planned[id(r)])
    return actions


def _created(rs: dict) -> float:
    return parse_time(rs["metadata"].get("creationTimestamp")) or 0.0


def _deployment_status(
    deploy: dict, new: dict | None, all_rs: list[dict], now: float, scale: float, created_new: bool
) -> tuple[dict, float | None]:
    desired = int(deploy["spec"].get("replicas", 1))
    _, max_unavailable = surge_and_unavailable(deploy)
    old_status = deploy.get("status") or {}
    status = {
        "observedGeneration": deploy["metadata"].get("generation", 1),
        "replicas": sum(_st(r, "replicas") for r in all_rs),
        "updatedReplicas": _st(new, "replicas") if new else 0,
        "readyReplicas": sum(_st(r, "readyReplicas") for r in all_rs),
        "availableReplicas": sum(_st(r, "availableReplicas") for r in all_rs),
    }
    status["unavailableReplicas"] = max(0, sum(_replicas(r) for r in all_rs) - status["availableReplicas"])
    if old_status.get("collisionCount"):
        status["collisionCount"] = old_status["collisionCount"]
    conditions = copy.deepcopy(old_status.get("conditions") or [])

    if status["availableReplicas"] >= desired - max_unavailable:
        conditions = set_condition(
            conditions,
            "Available",
            "True",
            "MinimumReplicasAvailable",
            "Deployment has minimum availability.",
            now,
            probe_time=True,
        )
    else:
        conditions = set_condition(
            conditions,
            "Available",
            "False",
            "MinimumReplicasUnavailable",
            "Deployment does not have minimum availability.",
            now,
            probe_time=True,
        )

    wake = None
    rs_name = new["metadata"]["name"] if new else ""
    complete = (
        new is not None
        and status["updatedReplicas"] == desired
        and status["replicas"] == desired
        and status["availableReplicas"] == desired
    )
    progressing = next((c for c in conditions if c.get("type") == "Progressing"), None)

    # Progress as Kubernetes counts it: more updated, ready or available pods, or fewer old ones.
    def old_pods(s: dict) -> int:
        return s.get("replicas", 0) - s.get("updatedReplicas", 0)

    moved = (
        status["updatedReplicas"] > old_status.get("updatedReplicas", 0)
        or old_pods(status) < old_pods(old_status)
        or status["readyReplicas"] > old_status.get("readyReplicas", 0)
        or status["availableReplicas"] > old_status.get("availableReplicas", 0)
    )
    deadline = deploy["spec"].get("progressDeadlineSeconds", 600)
    if complete:
        conditions = set_condition(
            conditions,
            "Progressing",
            "True",
            "NewReplicaSetAvailable",
            f'ReplicaSet "{rs_name}" has successfully progressed.',
            now,
            probe_time=True,
        )
    elif created_new:
        conditions = set_condition(
            conditions,
            "Progressing",
            "True",
            "NewReplicaSetCreated",
            f'Created new replica set "{rs_name}"',
            now,
            probe_time=True,
        )
    elif new is not None and (moved or progressing is None):
        conditions = set_condition(
            conditions,
            "Progressing",
            "True",
            "ReplicaSetUpdated",
            f'ReplicaSet "{rs_name}" is progressing.',
            now,
            probe_time=True,
        )
        if progressing is not None and progressing.get("reason") == "ReplicaSetUpdated":
            # Progress was made: the deadline counts from now.
            conditions = [dict(c, lastUpdateTime=rfc3339(now)) if c["type"] == "Progressing" else c for c in conditions]
    elif progressing is not None and progressing.get("status") == "True" and deadline is not None:
        last = parse_time(progressing.get("lastUpdateTime")) or now
        due = last + deadline * scale
        if due <= now:
            conditions = set_condition(
                conditions,
                "Progressing",
                "False",
                "ProgressDeadlineExceeded",
                f'ReplicaSet "{rs_name}" has timed out progressing.',
                now,
                probe_time=True,
            )
        else:
            wake = due

    failure = next(
        (
            get_condition(r, "ReplicaFailure")
            for r in all_rs
            if (get_condition(r, "ReplicaFailure") or {}).get("status") == "True"
        ),
        None,
    )
    if failure:
        conditions = set_condition(
            conditions,
            "ReplicaFailure",
            "True",
            failure.get("reason", "FailedCreate"),
            failure.get("message", ""),
            now,
            probe_time=True,
        )
    else:
        conditions = remove_condition(conditions, "ReplicaFailure")
    status["conditions"] = conditions
    for k in ("readyReplicas", "availableReplicas", "unavailableReplicas", "updatedReplicas", "replicas"):
        if not status[k]:
            status.pop(k)
    return status, wake


def reconcile_deployment(deploy: dict, replicasets: list[dict], pods: list[dict], now: float, scale: float) -> list:
    if is_terminating(deploy):
        return []
    owned = [r for r in replicasets if owned_by(r, deploy) and not is_terminating(r)]
    collision = (deploy.get("status") or {}).get("collisionCount")
    pod_hash = template_hash(deploy["spec"]["template"], collision)
    new = next((r for r in owned if r["metadata"].get("labels", {}).get(HASH_LABEL) == pod_hash), None)
    olds = [r for r in owned if r is not new]
    desired = int(deploy["spec"].get("replicas", 1))
    max_revision = max((_revision(r) for r in owned), default=0)
    strategy = (deploy["spec"].get("strategy") or {}).get("type", "RollingUpdate")
    paused = bool(deploy["spec"].get("paused"))
    actions: list = []
    created_new = False

    if new is None and not paused:
        if strategy == "Recreate":
            replicas = 0 if any(_replicas(r) or _st(r, "replicas") for r in olds) else desired
        else:
            surge, _ = surge_and_unavailable(deploy)
            total = sum(_replicas(r) for r in olds)
            replicas = desired if not olds else max(0, min(desired, desired + surge - total))
        rs = new_replicaset(deploy, pod_hash, max_revision + 1, replicas)
        actions.append(Create(RS, rs))
        if replicas:
            actions.append(
                Event(
                    deploy,
                    "ScalingReplicaSet",
                    f"Scaled up replica set {rs['metadata']['name']} from 0 to {replicas}",
                    COMPONENT,
                )
            )
        new, created_new = rs, True
    elif new is not None and _revision(new) < max_revision and not paused:
        # Rolled back to an earlier template: that ReplicaSet becomes the newest revision again.
        bumped = copy.deepcopy(new)
        bumped["metadata"].setdefault("annotations", {})[REVISION] = str(max_revision + 1)
        actions.append(Update(RS, bumped))
        new = bumped
    elif new is not None and not paused:
        if strategy == "Recreate":
            if any(_replicas(r) for r in olds):
                for r in olds:
                    actions += _scale(deploy, r, 0)
            elif not any(pod_active(p) and any(owned_by(p, r) for r in olds) for p in pods):
                actions += _scale(deploy, new, desired)
        else:
            actions += _rolling_steps(deploy, new, olds)

    # The Deployment carries its newest revision too (kubectl rollout undo replaces its annotations, so they
    # must exist; `kubectl describe` shows them).
    if new is not None and not paused:
        revision = str(_revision(new)) if not created_new else str(max_revision + 1)
        if (deploy["metadata"].get("annotations") or {}).get(REVISION) != revision:
            actions.append(
                Patch(
                    DEPLOY,
                    deploy["metadata"]["name"],
                    deploy["metadata"]["namespace"],
                    {"metadata": {"annotations": {REVISION: revision}}},
                )
            )

    # Keep at most revisionHistoryLimit scaled-down old ReplicaSets.
    limit = deploy["spec"].get("revisionHistoryLimit", 10)
    idle = sorted((r for r in olds if not _replicas(r) and not _st(r, "replicas")), key=_revision)
    for r in idle[: max(0, len(idle) - limit)]:
        actions.append(Delete(RS, r["metadata"]["name"], r["metadata"]["namespace"]))

    status, wake = _deployment_status(
        deploy, None if created_new else new, owned if not created_new else olds, now, scale, created_new
    )
    if created_new:  # report the new ReplicaSet by name even before it has a status
        status["conditions"] = set_condition(
            status["conditions"],
            "Progressing",
            "True",
            "NewReplicaSetCreated",
            f'Created new replica set "{new["metadata"]["name"]}"',
            now,
            probe_time=True,
        )
    if status != (deploy.get("status") or {}):
        actions.append(UpdateStatus(DEPLOY, dict(deploy, status=status)))
    if wake:
        actions.append(Wake(key_of(DEPLOY, deploy), wake))
    return actions


def keys_for(event: WatchEvent, cache: Cache) -> list[Key]:
    if event.resource == DEPLOY:
        return [key_of(DEPLOY, event.object)]
    if event.resource == RS:
        return by_controller(DEPLOY, "Deployment", event)
    # a pod: its ReplicaSet's Deployment (needed for Recreate, which waits for old pods to go)
    for rs_key in by_controller(RS, "ReplicaSet", event):
        rs = cache.get(*rs_key)
        if rs:
            return by_controller(DEPLOY, "Deployment", WatchEvent("MODIFIED", RS, rs, 0))
    return []


def reconcile(key: Key, cache: Cache, now: float, scale: float) -> list:
    _, ns, name = key
    deploy = cache.get(DEPLOY, ns, name)
    if deploy is None:
        return []
    return reconcile_deployment(deploy, cache.list(RS, ns), cache.list("pods", ns), now, scale)


async def run(ctx: ControllerContext) -> None:
    await Loop(
        ctx,
        IDENTITY,
        [DEPLOY, RS, "pods"],
        keys_for,
        lambda key, cache, now: reconcile(key, cache, now, ctx.time_scale),
    ).run()
