"""ReplicaSet → Pods: keep ``spec.replicas`` pods alive, report counts, and surface refused creations (SCC
admission) as ``FailedCreate`` events and a ``ReplicaFailure`` condition, as the replicaset-controller does."""

from __future__ import annotations

import copy

from ..client import ApiError, ControllerContext
from .base import (
    Abort,
    Cache,
    Create,
    Delete,
    Event,
    UpdateStatus,
    Wake,
    controller_identity,
    is_terminating,
    key_of,
    owned_by,
    owner_ref,
    parse_time,
    pod_active,
    pod_ready,
    remove_condition,
    set_condition,
)
from .owned import count_available, pod_owner_loop
from .timing import Backoff

RS = "replicasets.apps"
COMPONENT = "replicaset-controller"
IDENTITY = controller_identity("replicaset-controller")


def pod_from_template(
    owner: dict, template: dict, *, generate_name: str | None = None, name: str | None = None
) -> dict:
    t = copy.deepcopy(template)
    m = t.get("metadata") or {}
    pod_meta = {
        "namespace": owner["metadata"]["namespace"],
        "labels": m.get("labels") or {},
        "ownerReferences": [owner_ref(owner)],
    }
    if m.get("annotations"):
        pod_meta["annotations"] = m["annotations"]
    if name:
        pod_meta["name"] = name
    else:
        pod_meta["generateName"] = generate_name
    return {"apiVersion": "v1", "kind": "Pod", "metadata": pod_meta, "spec": t.get("spec") or {}}


def _deletion_rank(pod: dict) -> tuple:
    """Pods to delete first: unscheduled, then pending, then not ready, then the youngest."""
    status = pod.get("status", {})
    created = parse_time(pod["metadata"].get("creationTimestamp")) or 0
    return (bool(pod.get("spec", {}).get("nodeName")), status.get("phase") == "Running", pod_ready(pod), -created)


def reconcile_replicaset(rs: dict, pods: list[dict], now: float, scale: float, backoff: Backoff | None = None) -> list:
    """Pods are this namespace's pods; the ones this ReplicaSet controls are picked out here. ``backoff``
    remembers refused creations between calls, so a retry waits its turn."""
    backoff = backoff if backoff is not None else Backoff()
    uid = rs["metadata"].get("uid", "")
    owned = [p for p in pods if owned_by(p, rs)]
    active = [p for p in owned if pod_active(p)]
    want = int(rs.get("spec", {}).get("replicas", 1))
    actions: list = []
    diff = 0 if is_terminating(rs) else want - len(active)
    min_ready = int(rs.get("spec", {}).get("minReadySeconds") or 0)

    status = copy.deepcopy(rs.get("status") or {})
    conditions = status.get("conditions") or []
    if diff <= 0:
        conditions = remove_condition(conditions, "ReplicaFailure")
        backoff.clear(uid)
    template_labels = (rs["spec"].get("template", {}).get("metadata") or {}).get("labels") or {}
    available, wakes = count_available(active, min_ready, scale, now, key_of(RS, rs))
    actions += wakes
    status.update(
        {
            "replicas": len(active),
            "fullyLabeledReplicas": sum(
                1
                for p in active
                if all(p["metadata"].get("labels", {}).get(k) == v for k, v in template_labels.items())
            ),
            "readyReplicas": sum(1 for p in active if pod_ready(p)),
            "availableReplicas": available,
            "observedGeneration": rs["metadata"].get("generation", 1),
        }
    )
    if conditions:
        status["conditions"] = conditions
    else:
        status.pop("conditions", None)
    for k in ("readyReplicas", "availableReplicas", "fullyLabeledReplicas"):
        if not status[k]:
            status.pop(k)  # the API server omits zero counts; kubectl reads absence as 0
    if status != (rs.get("status") or {}):
        actions.insert(0, UpdateStatus(RS, dict(rs, status=status)))

    retry = backoff.due(uid, now) if diff > 0 else None
    if retry is not None:
        actions.append(Wake(key_of(RS, rs), retry))
    elif diff > 0:
        name = rs["metadata"]["name"]
        for _ in range(diff):
            pod = pod_from_template(rs, rs["spec"]["template"], generate_name=f"{name}-")
            actions.append(
                Create(
                    "pods",
                    pod,
                    on_success=lambda created, rs=rs: [
                        Event(rs, "SuccessfulCreate", f"Created pod: {created['metadata']['name']}", COMPONENT)
                    ],
                    on_error=lambda err, rs=rs, status=status: _failed_create(
                        rs, status, err, now, backoff.failed(uid, now, scale)
                    ),
                )
            )
    elif diff < 0:
        for pod in sorted(active, key=_deletion_rank)[:-diff]:
            actions.append(Delete("pods", pod["metadata"]["name"], pod["metadata"]["namespace"]))
            actions.append(Event(rs, "SuccessfulDelete", f"Deleted pod: {pod['metadata']['name']}", COMPONENT))
    return actions


def _failed_create(rs: dict, status: dict, err: ApiError, now: float, retry: float) -> list:
    message = err.status.get("message", str(err))
    status = dict(
        status,
        conditions=set_condition(
            status.get("conditions") or [], "ReplicaFailure", "True", "FailedCreate", message, now
        ),
    )
    return [
        Event(rs, "FailedCreate", f"Error creating: {message}", COMPONENT, type="Warning"),
        UpdateStatus(RS, dict(rs, status=status)),
        Wake(key_of(RS, rs), retry),
        Abort(),
    ]


async def run(ctx: ControllerContext) -> None:
    def reconcile(rs: dict, cache: Cache, now: float, backoff: Backoff) -> list:
        return reconcile_replicaset(rs, cache.list("pods", rs["metadata"]["namespace"]), now, ctx.time_scale, backoff)

    await pod_owner_loop(ctx, IDENTITY, RS, "ReplicaSet", reconcile).run()
