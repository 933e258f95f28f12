"""The ``Client`` of client.py for controllers: the same request chain as HTTP, under the controller's identity."""

from __future__ import annotations

import copy
import secrets
from collections.abc import AsyncIterator, Iterable
from typing import Any

from .api import Api, Request, now
from .client import ApiError, Identity, WatchEvent
from .registry import ResourceType
from .status import error

PATCH_TYPES = ("merge", "json", "strategic", "apply")


def authenticated(identity: Identity) -> Identity:
    """Groups the token authenticator would give: service accounts get their two SA groups, everyone
    ``system:authenticated``."""
    groups = list(identity.groups)
    parts = identity.username.split(":")
    if identity.username.startswith("system:serviceaccount:") and len(parts) == 4:
        groups += ["system:serviceaccounts", f"system:serviceaccounts:{parts[2]}"]
    groups.append("system:authenticated")
    return Identity(identity.username, tuple(dict.fromkeys(groups)))


class InternalClient:
    def __init__(self, api: Api, identity: Identity, user_agent: str = ""):
        self.api = api
        self.identity = authenticated(identity)
        self.user_agent = user_agent or identity.username.rsplit(":", 1)[-1]
        self._events: dict[tuple, str] = {}

    def _rt(self, resource: str) -> ResourceType:
        rt = self.api.registry.by_name(resource)
        if rt is None:
            raise error(404, f'the server does not serve "{resource}"', "NotFound")
        return rt

    def _req(
        self, verb: str, resource: str, namespace: str | None, name: str = "", sub: str = "", params: dict | None = None
    ) -> Request:
        rt = self._rt(resource)
        return Request(
            self.identity,
            verb,
            rt,
            (namespace or "") if rt.namespaced else "",
            name,
            sub,
            dict(params or {}),
            self.user_agent,
        )

    async def get(self, resource: str, name: str, namespace: str | None = None) -> dict | None:
        try:
            return self.api.get(self._req("get", resource, namespace, name))
        except ApiError as err:
            if err.code == 404:
                return None
            raise

    async def list(
        self,
        resource: str,
        namespace: str | None = None,
        *,
        label_selector: str | None = None,
        field_selector: str | None = None,
    ) -> list[dict]:
        params = {k: v for k, v in (("labelSelector", label_selector), ("fieldSelector", field_selector)) if v}
        return self.api.list(self._req("list", resource, namespace, params=params))["items"]

    async def create(self, resource: str, obj: dict, namespace: str | None = None) -> dict:
        namespace = namespace or obj.get("metadata", {}).get("namespace")
        return self.api.create(self._req("create", resource, namespace), obj)

    async def update(self, resource: str, obj: dict) -> dict:
        meta = obj.get("metadata", {})
        return self.api.update(self._req("update", resource, meta.get("namespace"), meta.get("name", "")), obj)

    async def update_status(self, resource: str, obj: dict) -> dict:
        meta = obj.get("metadata", {})
        return self.api.update(
            self._req("update", resource, meta.get("namespace"), meta.get("name", ""), "status"), obj
        )

    async def patch(
        self, resource: str, name: str, patch: Any, namespace: str | None = None, *, patch_type: str = "merge"
    ) -> dict:
        if patch_type not in PATCH_TYPES:
            raise ValueError(f"patch_type must be one of {PATCH_TYPES}")
        params = {"fieldManager": self.user_agent} if patch_type == "apply" else {}
        return self.api.patch(self._req("patch", resource, namespace, name, params=params), patch, patch_type)

    async def bind(self, pod: str, namespace: str, node: str, *, uid: str | None = None) -> dict:
        """POST a v1 Binding to pods/<pod>/binding, as the scheduler binds (409 if the pod is already bound)."""
        body = {
            "apiVersion": "v1",
            "kind": "Binding",
            "metadata": {"name": pod, "namespace": namespace},
            "target": {"apiVersion": "v1", "kind": "Node", "name": node},
        }
        if uid:
            body["metadata"]["uid"] = uid
        return self.api.create(self._req("create", "pods", namespace, pod, "binding"), body)

    async def delete(
        self, resource: str, name: str, namespace: str | None = None, *, propagation: str = "Background"
    ) -> dict | None:
        try:
            return self.api.delete(self._req("delete", resource, namespace, name), {"propagationPolicy": propagation})
        except ApiError as err:
            if err.code == 404:
                return None
            raise

    async def watch(self, resources: Iterable[str], *, since: int | None = None) -> AsyncIterator[WatchEvent]:
        names = tuple(resources)
        for name in names:
            self.api.authorize(self._req("watch", name, None), "watch", "")
        store = self.api.store
        if since is None:
            start = store.current_rv()
            for name in names:
                for obj in store.list(name):
                    yield WatchEvent("ADDED", name, obj, int(obj["metadata"]["resourceVersion"]))
        else:
            start = since
        while True:
            changes = store.changes_since(start, names)
            if not changes:
                start = max(start, store.current_rv())
                await store.wait_for_change(start, None)
                continue
            for c in changes:
                start = c.rv
                yield WatchEvent(c.type, c.resource, c.object, c.rv)

    async def record_event(
        self, involved: dict, reason: str, message: str, *, type: str = "Normal", component: str
    ) -> None:
        meta = involved.get("metadata", {})
        namespace = meta.get("namespace") or "default"
        key = (namespace, meta.get("uid") or meta.get("name"), reason, message, component, type)
        stamp = now()
        name = self._events.get(key)
        existing = await self.get("events", name, namespace) if name else None
        if existing is not None:
            bumped = copy.deepcopy(existing)
            bumped["count"] = int(bumped.get("count") or 1) + 1
            bumped["lastTimestamp"] = stamp
            try:
                await self.update("events", bumped)
                return
            except ApiError as err:
                if err.code != 409:
                    raise
        name = f"{meta.get('name', 'unknown')}.{secrets.token_hex(8)}"
        event = {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": name, "namespace": namespace},
            "involvedObject": {
                k: v
                for k, v in (
                    ("kind", involved.get("kind")),
                    ("namespace", meta.get("namespace")),
                    ("name", meta.get("name")),
                    ("uid", meta.get("uid")),
                    ("apiVersion", involved.get("apiVersion")),
                    ("resourceVersion", meta.get("resourceVersion")),
                )
                if v
            },
            "reason": reason,
            "message": message,
            "type": type,
            "count": 1,
            "source": {"component": component},
            "firstTimestamp": stamp,
            "lastTimestamp": stamp,
            "reportingComponent": component,
            "reportingInstance": "",
        }
        await self.create("events", event, namespace)
        self._events[key] = name

    async def append_log(self, namespace: str, pod: str, container: str, lines: list[str]) -> None:
        self.api.store.append_log(namespace, pod, container, list(lines))
