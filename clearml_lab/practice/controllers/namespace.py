"""Namespaces: OpenShift's UID/MCS/supplemental-group allocation, the default service accounts, and deletion
through Terminating to gone with everything inside."""

from __future__ import annotations

import copy
import time

from ..client import ApiError, ControllerContext, WatchEvent
from .base import Cache, Call, Create, Key, Loop, Update, Wake, controller_identity, is_terminating, key_of

NS = "namespaces"
SA = "serviceaccounts"
UID_RANGE = "openshift.io/sa.scc.uid-range"
SUPPLEMENTAL = "openshift.io/sa.scc.supplemental-groups"
MCS = "openshift.io/sa.scc.mcs"
# cluster-policy-controller defaults: uidAllocatorRange 1000000000-1999999999/10000, mcsAllocatorRange s0:/2,
# mcsLabelsPerProject 5.
UID_START, UID_BLOCK, UID_END = 1_000_000_000, 10_000, 1_999_999_999
MCS_PER_PROJECT = 5
DEFAULT_SERVICE_ACCOUNTS = ("default", "builder", "deployer")

ALLOCATOR = controller_identity("namespace-security-allocation-controller", "openshift-infra")
SA_CONTROLLER = controller_identity("serviceaccount-controller")
NS_CONTROLLER = controller_identity("namespace-controller")

# What the namespace controller empties before a namespace may go (everything namespaced the practice
# cluster serves; unknown ones are skipped).
NAMESPACED = (
    "deployments.apps",
    "statefulsets.apps",
    "daemonsets.apps",
    "replicasets.apps",
    "controllerrevisions.apps",
    "cronjobs.batch",
    "jobs.batch",
    "pods",
    "services",
    "endpoints",
    "endpointslices.discovery.k8s.io",
    "persistentvolumeclaims",
    "configmaps",
    "secrets",
    "serviceaccounts",
    "resourcequotas",
    "limitranges",
    "poddisruptionbudgets.policy",
    "ingresses.networking.k8s.io",
    "routes.route.openshift.io",
    "rolebindings.rbac.authorization.k8s.io",
    "roles.rbac.authorization.k8s.io",
    "csistoragecapacities.storage.k8s.io",
    "events",
    "events.events.k8s.io",
    "leases.coordination.k8s.io",
)


def mcs_label(block_index: int) -> str:
    """The MCS level OpenShift gives the namespace holding UID block ``block_index``: two categories picked by
    the combinatorial number system at offset index × labels-per-project (block 0 → ``s0:c1,c0``, block 68 →
    ``s0:c26,c15``)."""
    offset = block_index * MCS_PER_PROJECT
    high = 1
    while (high + 1) * high // 2 <= offset:
        high += 1
    low = offset - high * (high - 1) // 2
    return f"s0:c{high},c{low}"


def block_index(annotation: str | None) -> int | None:
    if not annotation:
        return None
    try:
        start = int(annotation.split("/")[0].split("-")[0])
    except ValueError:
        return None
    if start < UID_START or (start - UID_START) % UID_BLOCK:
        return None
    return (start - UID_START) // UID_BLOCK


def allocation_for(index: int) -> dict[str, str]:
    block = f"{UID_START + index * UID_BLOCK}/{UID_BLOCK}"
    return {UID_RANGE: block, SUPPLEMENTAL: block, MCS: mcs_label(index)}


def reconcile_allocation(namespace: dict, all_namespaces: list[dict]) -> list:
    """Give a namespace without a UID range the lowest free block."""
    ann = namespace["metadata"].get("annotations") or {}
    if is_terminating(namespace) or (ann.get(UID_RANGE) and ann.get(MCS) and ann.get(SUPPLEMENTAL)):
        return []
    index = block_index(ann.get(UID_RANGE))
    if index is None:
        used = {block_index((n["metadata"].get("annotations") or {}).get(UID_RANGE)) for n in all_namespaces}
        index = next(i for i in range((UID_END - UID_START + 1) // UID_BLOCK) if i not in used)
    updated = copy.deepcopy(namespace)
    updated["metadata"]["annotations"] = {**allocation_for(index), **ann}
    return [Update(NS, updated)]


def reconcile_service_accounts(namespace: dict, accounts: list[dict]) -> list:
    if is_terminating(namespace) or namespace.get("status", {}).get("phase") == "Terminating":
        return []
    have = {a["metadata"]["name"] for a in accounts}
    name = namespace["metadata"]["name"]
    return [
        Create(SA, {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": sa, "namespace": name}})
        for sa in DEFAULT_SERVICE_ACCOUNTS
        if sa not in have
    ]


def reconcile_deletion(namespace: dict, now: float, scale: float) -> list:
    """A Terminating namespace: delete what is inside; once empty, drop the ``kubernetes`` finalizer."""
    if not is_terminating(namespace):
        return []
    name = namespace["metadata"]["name"]

    async def drain(client) -> list:
        remaining = 0
        for resource in NAMESPACED:
            try:
                items = await client.list(resource, name)
            except ApiError:
                continue  # a kind this server does not serve
            for item in items:
                remaining += 1
                if not is_terminating(item):
                    try:
                        await client.delete(resource, item["metadata"]["name"], name)
                    except ApiError as err:
                        if err.code != 404:
                            raise
        if remaining:  # wait for graceful deletions (pods, finalizers) before looking again
            return [Wake(key_of(NS, namespace), time.time() + max(0.05, 1.0 * scale))]
        finalized = copy.deepcopy(namespace)
        finalized.setdefault("spec", {})["finalizers"] = [
            f for f in finalized["spec"].get("finalizers") or [] if f != "kubernetes"
        ]
        return [Update(NS, finalized)]

    if "kubernetes" not in (namespace.get("spec", {}).get("finalizers") or []):
        return []
    return [Call(drain)]


def _namespace_key(event: WatchEvent) -> list[Key]:
    if event.resource == NS:
        return [(NS, None, event.object["metadata"]["name"])]
    ns = event.object["metadata"].get("namespace")
    return [(NS, None, ns)] if ns else []


async def run_allocation(ctx: ControllerContext) -> None:
    def reconcile(key: Key, cache: Cache, now: float) -> list:
        ns = cache.get(NS, None, key[2])
        return reconcile_allocation(ns, cache.list(NS)) if ns else []

    await Loop(ctx, ALLOCATOR, [NS], lambda e, c: _namespace_key(e), reconcile).run()


async def run_service_accounts(ctx: ControllerContext) -> None:
    def reconcile(key: Key, cache: Cache, now: float) -> list:
        ns = cache.get(NS, None, key[2])
        return reconcile_service_accounts(ns, cache.list(SA, key[2])) if ns else []

    await Loop(ctx, SA_CONTROLLER, [NS, SA], lambda e, c: _namespace_key(e), reconcile).run()


async def run_deletion(ctx: ControllerContext) -> None:
    def reconcile(key: Key, cache: Cache, now: float) -> list:
        ns = cache.get(NS, None, key[2])
        return reconcile_deletion(ns, now, ctx.time_scale) if ns else []

    await Loop(ctx, NS_CONTROLLER, [NS], lambda e, c: _namespace_key(e), reconcile).run()
