"""The contract between the practice API server and its controllers.

Controllers never touch the store directly: they act through a ``Client`` bound to their own identity, which runs
the same chain as an HTTP request (authorize with RBAC, decode, admit — SCC included — persist, publish). So a
ReplicaSet controller's pods are judged by SCC admission for their service account *and* for the controller's
identity, exactly as OpenShift judges them.

Resources are named ``<plural>`` for the core group and ``<plural>.<group>`` otherwise: ``pods``,
``deployments.apps``, ``routes.route.openshift.io``. Objects are plain JSON-shaped dicts.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class Identity:
    username: str
    groups: tuple[str, ...] = ()


@dataclass(frozen=True)
class WatchEvent:
    type: str  # ADDED | MODIFIED | DELETED
    resource: str
    object: dict
    resource_version: int


class ApiError(Exception):
    """A request the server refused; ``status`` is the Kubernetes ``Status`` object it would have returned."""

    def __init__(self, status: dict):
        super().__init__(status.get("message", ""))
        self.status = status

    @property
    def code(self) -> int:
        return int(self.status.get("code", 500))

    @property
    def reason(self) -> str:
        return self.status.get("reason", "")


class Client(Protocol):
    identity: Identity

    async def get(self, resource: str, name: str, namespace: str | None = None) -> dict | None: ...

    async def list(
        self,
        resource: str,
        namespace: str | None = None,
        *,
        label_selector: str | None = None,
        field_selector: str | None = None,
    ) -> list[dict]: ...

    async def create(self, resource: str, obj: dict, namespace: str | None = None) -> dict: ...

    async def update(self, resource: str, obj: dict) -> dict: ...  # 409 Conflict on a stale resourceVersion

    async def update_status(self, resource: str, obj: dict) -> dict: ...

    async def patch(
        self, resource: str, name: str, patch: Any, namespace: str | None = None, *, patch_type: str = "merge"
    ) -> dict: ...  # merge | json | strategic

    async def bind(self, pod: str, namespace: str, node: str, *, uid: str | None = None) -> dict: ...

    # POST pods/<pod>/binding: sets spec.nodeName once; 409 Conflict when the pod is already bound

    async def delete(
        self, resource: str, name: str, namespace: str | None = None, *, propagation: str = "Background"
    ) -> dict | None: ...

    def watch(self, resources: Iterable[str], *, since: int | None = None) -> AsyncIterator[WatchEvent]:
        """Every change to these resources after ``since`` (default: now, preceded by ADDED for what exists), in
        order. Woken by the write path; never polls."""
        ...

    async def record_event(
        self, involved: dict, reason: str, message: str, *, type: str = "Normal", component: str
    ) -> None:
        """Create or bump (count, lastTimestamp) a core/v1 Event about ``involved``, like client-go's recorder."""
        ...

    async def append_log(self, namespace: str, pod: str, container: str, lines: list[str]) -> None:
        """Add lines to a container's log, served by ``GET .../pods/<pod>/log?container=``."""
        ...


@dataclass
class ControllerContext:
    """What the controller manager hands each controller."""

    client_for: Callable[[Identity], Client]  # a client acting as the given identity
    time_scale: float  # simulated durations are multiplied by this
    settings: dict = field(default_factory=dict)  # openshift_version, node sysctls, storage capacity, apps domain …

    def scaled(self, seconds: float) -> float:
        return seconds * self.time_scale


# A controller is ``async def run(ctx: ControllerContext) -> None`` that runs until cancelled; the list lives in
# ``clearml_lab.practice.controllers.CONTROLLERS``.
Controller = Callable[[ControllerContext], Awaitable[None]]
