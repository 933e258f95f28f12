"""The wiring the pod-owning controllers (ReplicaSet, StatefulSet, Job) share: an event on the object itself or on a
pod it controls wakes that object, and each reconcile sees the object with one create back-off per controller."""
from __future__ import annotations

from typing import Callable

from ..client import ControllerContext, WatchEvent
from .base import Cache, Key, Loop, by_controller, key_of
from .timing import Backoff

# reconcile_one(obj, cache, now, backoff) -> actions; called only for objects that exist
Reconcile = Callable[[dict, Cache, float, Backoff], list]


def pod_owner_loop(ctx: ControllerContext, identity: dict, resource: str, kind: str, reconcile_one: Reconcile,
                   also_watch: tuple[str, ...] = ()) -> Loop:
    backoff = Backoff()

    def keys_for(event: WatchEvent, cache: Cache) -> list[Key]:
        if event.resource == resource:
            return [key_of(resource, event.object)]
        return by_controller(resource, kind, event)

    def reconcile(key: Key, cache: Cache, now: float) -> list:
        obj = cache.get(*key)
        return reconcile_one(obj, cache, now, backoff) if obj else []

    return Loop(ctx, identity, [resource, "pods", *also_watch], keys_for, reconcile)
