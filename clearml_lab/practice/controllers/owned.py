"""The wiring the pod-owning controllers (ReplicaSet, StatefulSet, Job) share: an event on the object itself or on a
pod it controls wakes that object, and each reconcile sees the object with one create back-off per controller."""

from __future__ import annotations

from collections.abc import Callable

from ..client import ControllerContext, WatchEvent
from .base import Cache, Key, Loop, Wake, by_controller, key_of
from .timing import Backoff, available_since

# reconcile_one(obj, cache, now, backoff) -> actions; called only for objects that exist
Reconcile = Callable[[dict, Cache, float, Backoff], list]


def pod_owner_loop(
    ctx: ControllerContext,
    identity: dict,
    resource: str,
    kind: str,
    reconcile_one: Reconcile,
    also_watch: tuple[str, ...] = (),
) -> Loop:
    backoff = Backoff()

    def keys_for(event: WatchEvent, cache: Cache) -> list[Key]:
        if event.resource == resource:
            return [key_of(resource, event.object)]
        return by_controller(resource, kind, event)

    def reconcile(key: Key, cache: Cache, now: float) -> list:
        obj = cache.get(*key)
        return reconcile_one(obj, cache, now, backoff) if obj else []

    return Loop(ctx, identity, [resource, "pods", *also_watch], keys_for, reconcile)


def count_available(pods: list[dict], min_ready: int, scale: float, now: float, key: Key) -> tuple[int, list]:
    """How many pods have been ready for minReadySeconds now, and a Wake of ``key`` for each that will be later
    (availability changes with time alone, with no event to wake the owner)."""
    available, wakes = 0, []
    for pod in pods:
        since = available_since(pod, min_ready, scale)
        if since is not None and since <= now:
            available += 1
        elif since is not None:
            wakes.append(Wake(key, since))
    return available, wakes
