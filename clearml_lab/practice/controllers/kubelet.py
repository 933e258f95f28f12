"""The practice node's scheduler and kubelet: feeds each pod through ``lifecycle.advance`` and writes what
it returns (status, events, logs) back through the client. Timers come from the lifecycle's due times; init
containers that wait for Services are woken by Endpoints changes."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from ..client import ControllerContext, WatchEvent
from ..lifecycle import World, advance, event_text, record_from_status, world_settings
from ..records import PodRecord
from .base import (
    Cache,
    Call,
    Delete,
    Event,
    Key,
    Log,
    Loop,
    Patch,
    UpdateStatus,
    Wake,
    controller_identity,
    is_terminating,
    key_of,
    pod_ready,
)
from .volume import free_by_class

PODS = "pods"
WATCHED = [
    PODS,
    "endpoints",
    "services",
    "configmaps",
    "persistentvolumeclaims",
    "storageclasses.storage.k8s.io",
    "persistentvolumes",
    "csistoragecapacities.storage.k8s.io",
]
IDENTITY = controller_identity("practice-node")
SELECTED_NODE = "volume.kubernetes.io/selected-node"


@dataclass(frozen=True)
class Bind:
    """The scheduler's decision: bind the pod to ``node`` through pods/<pod>/binding, as kube-scheduler does
    (never by writing spec.nodeName, which the API refuses on an existing pod)."""

    namespace: str
    pod: str
    uid: str | None
    node: str


def binding_call(bind: Bind, cache: Cache) -> Call:
    """``bind`` as the loop's one impure step. The bound pod goes into the cache at once, so the status write that
    follows in the same batch carries its new resourceVersion instead of meeting a 409."""

    async def post(client) -> list:
        await client.bind(bind.pod, bind.namespace, bind.node, uid=bind.uid)
        bound = await client.get(PODS, bind.pod, bind.namespace)
        if bound is not None:
            cache.put(PODS, bound)
        return []

    return Call(post)


def node_facts(cache: Cache, settings: dict) -> tuple[set, set, dict, dict]:
    """(Services with ready endpoints, images already on the node, free bytes per StorageClass, every Service's
    cluster IP and ports), from the whole cache. Waits and clients may name a Service in another namespace
    (svc.other-ns), so every namespace counts."""
    ready = {
        (ep["metadata"].get("namespace"), ep["metadata"]["name"])
        for ep in cache.list("endpoints")
        if any(s.get("addresses") for s in ep.get("subsets") or [])
    }
    present = {
        cs.get("image")
        for p in cache.list(PODS)
        for cs in ((p.get("status") or {}).get("containerStatuses") or [])
        + ((p.get("status") or {}).get("initContainerStatuses") or [])
        if cs.get("imageID")
    }
    free = free_by_class(
        cache.list("storageclasses.storage.k8s.io"),
        cache.list("persistentvolumes"),
        cache.list("csistoragecapacities.storage.k8s.io"),
        settings,
    )
    services = {
        (svc["metadata"].get("namespace"), svc["metadata"]["name"]): {
            "ip": None if (svc.get("spec") or {}).get("clusterIP") in (None, "", "None") else svc["spec"]["clusterIP"],
            "ports": [p.get("port") for p in (svc.get("spec") or {}).get("ports") or []],
        }
        for svc in cache.list("services")
    }
    return ready, present, free, services


def build_world(
    pod: dict, cache: Cache, now: float, scale: float, settings: dict, facts: tuple[set, set, dict] | None = None
) -> World:
    node, sysctls = world_settings(settings)
    ns = pod["metadata"].get("namespace")
    ready, present, free, services = facts or node_facts(cache, settings)
    uid = pod["metadata"].get("uid") or pod["metadata"]["name"]
    return World(
        now=now,
        scale=scale,
        node=node,
        node_sysctls=sysctls,
        ready_services=ready,
        services=services,
        configmaps={(ns, c["metadata"]["name"]): c for c in cache.list("configmaps", ns)},
        claims={(ns, c["metadata"]["name"]): c for c in cache.list("persistentvolumeclaims", ns)},
        storage_classes={c["metadata"]["name"]: c for c in cache.list("storageclasses.storage.k8s.io")},
        images_present=present,
        storage_free=free,
        pod_index=int(hashlib.sha256(uid.encode()).hexdigest()[:6], 16),
    )


def reconcile_pod(pod: dict, record: PodRecord | None, world: World) -> tuple[list, PodRecord | None]:
    """Actions for one pod, and the record to remember (None: forget the pod)."""
    if record is None:
        record = record_from_status(pod)
    step = advance(pod, record, world)
    actions: list = []
    meta = pod["metadata"]
    ns, name = meta.get("namespace"), meta["name"]
    if step.bind_node and not (pod.get("spec") or {}).get("nodeName"):
        actions.append(Bind(ns, name, meta.get("uid"), world.node))
    for claim in step.select_claims:
        actions.append(
            Patch("persistentvolumeclaims", claim, ns, {"metadata": {"annotations": {SELECTED_NODE: world.node}}})
        )
    current = pod.get("status") or {}
    if step.status and step.status != current:
        actions.append(UpdateStatus(PODS, dict(pod, status=step.status)))
    for event_name, fields in step.events:
        reason, message, etype, component = event_text(event_name, pod, fields, world)
        actions.append(Event(pod, reason, message, component, type=etype))
    for container, lines in step.logs:
        actions.append(Log(ns, name, container, tuple(lines)))
    if step.finished:
        actions.append(Delete(PODS, name, ns))
        return actions, None
    if step.wake_at is not None:
        actions.append(Wake(key_of(PODS, pod), step.wake_at))
    return actions, step.record


def keys_for(event: WatchEvent, cache: Cache) -> list[Key]:
    obj = event.object
    ns = obj["metadata"].get("namespace")
    if event.resource == PODS:
        return [key_of(PODS, obj)]
    if event.resource == "persistentvolumeclaims":
        claim = obj["metadata"]["name"]
        return [
            key_of(PODS, p)
            for p in cache.list(PODS, ns)
            if any(
                (v.get("persistentVolumeClaim") or {}).get("claimName") == claim
                for v in (p.get("spec") or {}).get("volumes") or []
            )
        ]
    if event.resource == "services":
        return []  # what a client finds is read when it starts; waits are released by the endpoints
    if event.resource in ("storageclasses.storage.k8s.io", "persistentvolumes", "csistoragecapacities.storage.k8s.io"):
        return [key_of(PODS, p) for p in cache.list(PODS) if not (p.get("spec") or {}).get("nodeName")]
    # Endpoints and ConfigMaps matter to pods still on their way to Ready (waits, config files); a wait may
    # name a Service in another namespace, so endpoints wake every not-ready pod with init containers.
    if event.resource == "endpoints":
        return [
            key_of(PODS, p)
            for p in cache.list(PODS)
            if (p.get("spec") or {}).get("initContainers") and not pod_ready(p) and not is_terminating(p)
        ]
    return [key_of(PODS, p) for p in cache.list(PODS, ns) if not pod_ready(p)]


async def run(ctx: ControllerContext) -> None:
    records: dict[str, PodRecord] = {}  # the node's memory of each pod, by UID
    memo: dict = {"version": -1}

    def reconcile(key: Key, cache: Cache, now: float) -> list:
        _, ns, name = key
        if memo["version"] != cache.version:  # derive node-wide facts once per cache change, not per pod
            memo.update(version=cache.version, facts=node_facts(cache, ctx.settings))
            live = {p["metadata"].get("uid") for p in cache.list(PODS)}
            for gone in [u for u in records if u not in live]:
                records.pop(gone)
        pod = cache.get(PODS, ns, name)
        if pod is None:
            return []
        uid = pod["metadata"].get("uid")
        world = build_world(pod, cache, now, ctx.time_scale, ctx.settings, memo["facts"])
        actions, record = reconcile_pod(pod, records.get(uid), world)
        if record is None:
            records.pop(uid, None)
        else:
            records[uid] = record
        return [binding_call(a, cache) if isinstance(a, Bind) else a for a in actions]

    await Loop(ctx, IDENTITY, WATCHED, keys_for, reconcile).run()
