"""What every controller shares: actions, an informer-like cache, selectors, owner references and the watch loop.

A controller is a pure ``reconcile`` function (objects in, actions out) plus a ``Loop`` that feeds it from one
watch and applies what it returns through the client. Timed transitions are ``Wake`` actions: the loop sets one
asyncio timer per object instead of polling.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ...labels import selector_matches
from ...timestamps import parse_rfc3339 as parse_time  # noqa: F401  (the controllers' names for these three)
from ...timestamps import rfc3339  # noqa: F401
from ..client import ApiError, ControllerContext, Identity, WatchEvent
from ..conditions import set_condition  # noqa: F401

log = logging.getLogger(__name__)

Key = tuple[str, str | None, str]  # (resource, namespace, name)


# --- actions -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Create:
    resource: str
    obj: dict
    # Pure follow-up when the server refuses (e.g. SCC admission): ApiError -> more actions.
    on_error: Callable[[ApiError], list] | None = None
    # Pure follow-up with the created object (e.g. an event naming the generated pod).
    on_success: Callable[[dict], list] | None = None


@dataclass(frozen=True)
class Update:
    resource: str
    obj: dict


@dataclass(frozen=True)
class UpdateStatus:
    resource: str
    obj: dict


@dataclass(frozen=True)
class Patch:
    resource: str
    name: str
    namespace: str | None
    patch: Any
    patch_type: str = "merge"


@dataclass(frozen=True)
class Delete:
    resource: str
    name: str
    namespace: str | None
    propagation: str = "Background"


@dataclass(frozen=True)
class Event:
    involved: dict
    reason: str
    message: str
    component: str
    type: str = "Normal"


@dataclass(frozen=True)
class Log:
    namespace: str
    pod: str
    container: str
    lines: tuple[str, ...]


@dataclass(frozen=True)
class Call:
    """The one impure step: await ``fn(client)`` and apply the actions it returns (e.g. list a namespace's
    contents to delete them, confirm an owner is really gone)."""

    fn: Callable[[Any], Any]


@dataclass(frozen=True)
class Abort:
    """Drop the actions still pending in this batch (e.g. stop creating pods after the first refusal)."""


@dataclass(frozen=True)
class Wake:
    """Reconcile ``key`` again at wall-clock time ``at`` (seconds since the epoch)."""

    key: Key
    at: float


# --- time ----------------------------------------------------------------------------------------------------

matches_selector = selector_matches  # the controllers' name for it


# --- object helpers ------------------------------------------------------------------------------------------


def meta(obj: dict) -> dict:
    return obj.setdefault("metadata", {})


def key_of(resource: str, obj: dict) -> Key:
    m = obj.get("metadata", {})
    return resource, m.get("namespace"), m["name"]


def is_terminating(obj: dict) -> bool:
    return bool(obj.get("metadata", {}).get("deletionTimestamp"))


def owner_ref(owner: dict, *, controller: bool = True) -> dict:
    m = owner["metadata"]
    return {
        "apiVersion": owner["apiVersion"],
        "kind": owner["kind"],
        "name": m["name"],
        "uid": m["uid"],
        "controller": controller,
        "blockOwnerDeletion": True,
    }


def controller_of(obj: dict) -> dict | None:
    for ref in obj.get("metadata", {}).get("ownerReferences") or []:
        if ref.get("controller"):
            return ref
    return None


def owned_by(obj: dict, owner: dict) -> bool:
    ref = controller_of(obj)
    return bool(ref) and ref.get("uid") == owner["metadata"].get("uid")


def matches_service_selector(selector: dict | None, labels: dict | None) -> bool:
    labels = labels or {}
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def remove_condition(conditions: list[dict], ctype: str) -> list[dict]:
    return [c for c in conditions if c.get("type") != ctype]


def get_condition(obj: dict, ctype: str) -> dict | None:
    for c in obj.get("status", {}).get("conditions") or []:
        if c.get("type") == ctype:
            return c
    return None


def pod_ready(pod: dict) -> bool:
    c = get_condition(pod, "Ready")
    return bool(c) and c.get("status") == "True"


def pod_active(pod: dict) -> bool:
    return not is_terminating(pod) and pod.get("status", {}).get("phase") not in ("Succeeded", "Failed")


def controller_identity(name: str, namespace: str = "kube-system") -> Identity:
    """The token identity a controller runs as on OpenShift: a service account that *does* carry
    ``system:authenticated`` (unlike the identity SCC admission builds for a pod's service account)."""
    return Identity(
        f"system:serviceaccount:{namespace}:{name}",
        ("system:serviceaccounts", f"system:serviceaccounts:{namespace}", "system:authenticated"),
    )


# --- cache ---------------------------------------------------------------------------------------------------


def _rv(obj: dict) -> int:
    try:
        return int(obj.get("metadata", {}).get("resourceVersion") or 0)
    except ValueError:
        return 0


class Cache:
    """The latest object per key as seen by the watch or returned by our own writes; never goes backwards."""

    def __init__(self):
        self._by_resource: dict[str, dict[tuple[str | None, str], dict]] = {}
        self.version = 0  # bumped on every change, so callers can memoize what they derive from the cache

    def put(self, resource: str, obj: dict) -> None:
        m = obj.get("metadata", {})
        table = self._by_resource.setdefault(resource, {})
        k = (m.get("namespace"), m.get("name"))
        old = table.get(k)
        if old is None or _rv(obj) >= _rv(old) or old["metadata"].get("uid") != m.get("uid"):
            table[k] = obj
            self.version += 1

    def remove(self, resource: str, namespace: str | None, name: str) -> None:
        if self._by_resource.get(resource, {}).pop((namespace, name), None) is not None:
            self.version += 1

    def apply(self, event: WatchEvent) -> None:
        if event.type == "DELETED":
            m = event.object.get("metadata", {})
            current = self.get(event.resource, m.get("namespace"), m.get("name"))
            if current is None or current["metadata"].get("uid") == m.get("uid"):
                self.remove(event.resource, m.get("namespace"), m.get("name"))
        else:
            self.put(event.resource, event.object)

    def get(self, resource: str, namespace: str | None, name: str) -> dict | None:
        return self._by_resource.get(resource, {}).get((namespace, name))

    def list(self, resource: str, namespace: str | None = None) -> list[dict]:
        table = self._by_resource.get(resource, {})
        if namespace is None:
            return list(table.values())
        return [o for (ns, _), o in table.items() if ns == namespace]


# --- the loop ------------------------------------------------------------------------------------------------


@dataclass
class Loop:
    """Watch ``resources``, map each change to the keys it affects, reconcile those keys, apply the actions."""

    ctx: ControllerContext
    identity: Identity
    resources: list[str]
    keys_for: Callable[[WatchEvent, Cache], Iterable[Key]]
    reconcile: Callable[[Key, Cache, float], list]
    settle_seconds: float = 0.05
    cache: Cache = field(default_factory=Cache)

    def __post_init__(self):
        self.client = self.ctx.client_for(self.identity)
        self._queue: asyncio.Queue = asyncio.Queue()
        self._timers: dict[Key, tuple[float, asyncio.TimerHandle]] = {}

    async def run(self) -> None:
        reader = asyncio.create_task(self._read())
        try:
            await self._settle()
            while True:
                item = await self._queue.get()
                dirty: dict[Key, None] = {}
                self._take(item, dirty)
                while not self._queue.empty():
                    self._take(self._queue.get_nowait(), dirty)
                for key in dirty:
                    await self.sync(key)
                    await asyncio.sleep(0)  # the in-process client never suspends: let HTTP requests in
        finally:
            reader.cancel()
            for _, handle in self._timers.values():
                handle.cancel()

    async def _settle(self) -> None:
        """Let the initial ADDED burst land in the cache before deciding anything, so that e.g. a ReplicaSet is
        never judged before its existing pods are known. Waits for a short quiet spell, once, at start."""
        seen = -1
        while self._queue.qsize() != seen:
            seen = self._queue.qsize()
            await asyncio.sleep(self.settle_seconds)

    async def _read(self) -> None:
        delay = 0.5
        while True:
            try:
                async for event in self.client.watch(self.resources):
                    delay = 0.5
                    self._queue.put_nowait(event)
            except asyncio.CancelledError:
                raise
            except Exception:  # the stream broke: reopen it (it replays what exists as ADDED)
                log.exception("watch of %s failed; reopening", self.resources)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10)

    def _take(self, item, dirty: dict) -> None:
        if isinstance(item, WatchEvent):
            self.cache.apply(item)
            try:
                for key in self.keys_for(item, self.cache):
                    dirty[key] = None
            except Exception:
                log.exception("mapping %s %s failed", item.type, item.resource)
        else:  # a timer fired
            self._timers.pop(item, None)
            dirty[item] = None

    def wake(self, key: Key, at: float) -> None:
        current = self._timers.get(key)
        if current and current[0] <= at:
            return
        if current:
            current[1].cancel()
        delay = max(0.0, at - time.time())
        handle = asyncio.get_running_loop().call_later(delay, self._queue.put_nowait, key)
        self._timers[key] = (at, handle)

    async def sync(self, key: Key) -> None:
        try:
            actions = self.reconcile(key, self.cache, time.time())
        except Exception:
            log.exception("reconciling %s failed", key)
            return
        await self.apply(actions, key)

    async def apply(self, actions: list, key: Key) -> None:
        pending = list(actions)
        while pending:
            action = pending.pop(0)
            if isinstance(action, Abort):
                break
            try:
                pending[:0] = await self._apply_one(action) or []
            except ApiError as err:
                if isinstance(action, Create) and action.on_error:
                    pending[:0] = action.on_error(err)
                elif err.code == 409:  # someone wrote first: read again and redo this key
                    await self._refresh(action)
                    self.wake(key, time.time())
                elif err.code != 404:
                    log.warning("%s on %s refused: %s", type(action).__name__, key, err)
            except Exception:
                log.exception("applying %s for %s failed", type(action).__name__, key)

    async def _refresh(self, action) -> None:
        obj = getattr(action, "obj", None)
        if obj is None:
            return
        m = obj["metadata"]
        fresh = await self.client.get(action.resource, m["name"], m.get("namespace"))
        if fresh is not None:
            self.cache.put(action.resource, fresh)

    async def _apply_one(self, action) -> list | None:
        c = self.client
        if isinstance(action, Create):
            created = await c.create(action.resource, action.obj, action.obj.get("metadata", {}).get("namespace"))
            self.cache.put(action.resource, created)
            return action.on_success(created) if action.on_success else None
        if isinstance(action, Update):
            self.cache.put(action.resource, await c.update(action.resource, action.obj))
        elif isinstance(action, UpdateStatus):
            # Status belongs to the controller alone: write it over the freshest copy we know, not a stale one.
            obj, m = action.obj, action.obj["metadata"]
            latest = self.cache.get(action.resource, m.get("namespace"), m["name"])
            if latest and latest["metadata"].get("uid") == m.get("uid"):
                obj = dict(obj, metadata=dict(m, resourceVersion=latest["metadata"].get("resourceVersion")))
            self.cache.put(action.resource, await c.update_status(action.resource, obj))
        elif isinstance(action, Patch):
            self.cache.put(
                action.resource,
                await c.patch(
                    action.resource, action.name, action.patch, action.namespace, patch_type=action.patch_type
                ),
            )
        elif isinstance(action, Delete):
            try:
                result = await c.delete(action.resource, action.name, action.namespace, propagation=action.propagation)
            except ApiError as err:
                if err.code == 404:
                    self.cache.remove(action.resource, action.namespace, action.name)
                    return None
                raise
            if result and result.get("kind") not in (None, "Status") and is_terminating(result):
                self.cache.put(action.resource, result)
            else:
                self.cache.remove(action.resource, action.namespace, action.name)
        elif isinstance(action, Event):
            await c.record_event(
                action.involved, action.reason, action.message, type=action.type, component=action.component
            )
        elif isinstance(action, Log):
            await c.append_log(action.namespace, action.pod, action.container, list(action.lines))
        elif isinstance(action, Call):
            return await action.fn(c)
        elif isinstance(action, Wake):
            self.wake(action.key, action.at)
        else:
            raise TypeError(f"unknown action {action!r}")
        return None


def by_self(resource: str) -> Callable[[WatchEvent], list[Key]]:
    """keys_for helper: an event on the primary kind affects that object itself."""

    def keys(event: WatchEvent) -> list[Key]:
        return [key_of(resource, event.object)] if event.resource == resource else []

    return keys


def by_controller(resource: str, kind: str, event: WatchEvent) -> list[Key]:
    """keys_for helper: an event on a dependent affects its controlling owner of ``kind``."""
    ref = controller_of(event.object)
    if ref and ref.get("kind") == kind:
        return [(resource, event.object["metadata"].get("namespace"), ref["name"])]
    return []
