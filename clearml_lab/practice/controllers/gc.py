"""Garbage collection by ownerReferences: a dependent whose owners are all gone is deleted (Background), the
way kube-controller-manager's garbage collector does it. The API server already cascades most deletions; this
catches what was created after its owner went (e.g. a pod a ReplicaSet made a moment before it was deleted)."""

from __future__ import annotations

from ..client import ApiError, ControllerContext, WatchEvent
from .base import Cache, Call, Delete, Key, Loop, controller_identity, is_terminating, key_of

IDENTITY = controller_identity("generic-garbage-collector")

# (apiVersion group, kind) of owners → resource name; dependents are watched in the same list.
OWNERS = {
    ("apps", "Deployment"): "deployments.apps",
    ("apps", "ReplicaSet"): "replicasets.apps",
    ("apps", "StatefulSet"): "statefulsets.apps",
    ("apps", "DaemonSet"): "daemonsets.apps",
    ("batch", "Job"): "jobs.batch",
    ("batch", "CronJob"): "cronjobs.batch",
    ("", "Pod"): "pods",
    ("", "Service"): "services",
    ("", "ConfigMap"): "configmaps",
    ("", "Secret"): "secrets",
    ("", "PersistentVolumeClaim"): "persistentvolumeclaims",
    ("", "ServiceAccount"): "serviceaccounts",
}
DEPENDENTS = [
    "pods",
    "replicasets.apps",
    "jobs.batch",
    "persistentvolumeclaims",
    "controllerrevisions.apps",
    "endpoints",
    "configmaps",
    "secrets",
    "services",
    "routes.route.openshift.io",
]
WATCHED = sorted(set(OWNERS.values()) | set(DEPENDENTS))


def owner_resource(ref: dict) -> str | None:
    group = ref.get("apiVersion", "").rpartition("/")[0]
    return OWNERS.get((group, ref.get("kind")))


def missing_owners(obj: dict, cache: Cache) -> list[tuple[str, dict]]:
    """The owner references (with their resource) that point at nothing in the cache, if *all* of them do."""
    ns = obj["metadata"].get("namespace")
    refs = obj["metadata"].get("ownerReferences") or []
    gone = []
    for ref in refs:
        resource = owner_resource(ref)
        if resource is None:
            return []  # an owner kind we do not track: leave the object alone
        owner = cache.get(resource, ns, ref.get("name")) or cache.get(resource, None, ref.get("name"))
        if owner is not None and owner["metadata"].get("uid") == ref.get("uid"):
            return []
        gone.append((resource, ref))
    return gone


def reconcile_dependent(resource: str, obj: dict, cache: Cache) -> list:
    if is_terminating(obj) or not obj["metadata"].get("ownerReferences"):
        return []
    gone = missing_owners(obj, cache)
    if not gone:
        return []
    ns, name = obj["metadata"].get("namespace"), obj["metadata"]["name"]

    async def confirm(client) -> list:
        # The cache may simply not have seen the owner yet: ask the server before deleting anything.
        for owner_res, ref in gone:
            try:
                owner = await client.get(owner_res, ref["name"], ns)
            except ApiError:
                owner = None
            if owner is not None and owner["metadata"].get("uid") == ref.get("uid"):
                return []
        return [Delete(resource, name, ns)]

    return [Call(confirm)]


def keys_for(event: WatchEvent, cache: Cache) -> list[Key]:
    obj = event.object
    keys: list[Key] = []
    if event.resource in DEPENDENTS and event.type != "DELETED":
        keys.append(key_of(event.resource, obj))
    if event.type == "DELETED":  # everything that named this object as an owner
        uid = obj["metadata"].get("uid")
        for resource in DEPENDENTS:
            for dep in cache.list(resource, obj["metadata"].get("namespace")):
                if any(r.get("uid") == uid for r in dep["metadata"].get("ownerReferences") or []):
                    keys.append(key_of(resource, dep))
    return keys


async def run(ctx: ControllerContext) -> None:
    def reconcile(key: Key, cache: Cache, now: float) -> list:
        obj = cache.get(*key)
        return reconcile_dependent(key[0], obj, cache) if obj else []

    await Loop(ctx, IDENTITY, WATCHED, keys_for, reconcile).run()
