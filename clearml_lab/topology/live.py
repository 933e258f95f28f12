"""The topology of a cluster's namespace, read through ``Kube``: once (``snapshot``), or kept current by watches
(``LiveTopology``: one watch stream per kind, no re-listing per event)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from kubernetes.client import ApiClient

from ..errors import LabError
from ..kube import ApiFailure, Kube, Unreachable, Watch
from .model import KINDS, Topology, build

# Kinds a cluster may not serve (plain Kubernetes has no routes); their absence is not an error.
OPTIONAL_KINDS = ("routes",)
# How long one watch request lasts before the server ends it and the watch goes on from the last version seen.
WATCH_SECONDS = 300


def _kube(client: Kube | ApiClient) -> Kube:
    """A ``Kube``, or a kubernetes ``ApiClient`` wrapped in one (callers that hold an ApiClient keep working)."""
    return client if isinstance(client, Kube) else Kube(client)


def list_kind(kube: Kube, plural: str, namespace: str) -> tuple[list[dict], str | None]:
    """One list call: the items as plain dicts and the list's resourceVersion (to start a watch from).
    A kind the cluster does not serve (routes on plain Kubernetes) gives ([], None)."""
    try:
        data = kube.list(plural, namespace)
    except ApiFailure as err:
        if err.code == 404 and plural in OPTIONAL_KINDS:
            return [], None
        raise LabError(
            f"the cluster refused to list {plural} in namespace {namespace} ({err.code} "
            f"{err.reason}): check that you may view the project (e.g. the view role)."
        ) from None
    except Unreachable as err:
        raise LabError(
            f"cannot reach {err.server} to list {plural} ({err.cause}): check that the "
            f"cluster is running and the kubeconfig points at it."
        ) from None
    return data.get("items") or [], (data.get("metadata") or {}).get("resourceVersion")


def snapshot(client: Kube | ApiClient, namespace: str) -> Topology:
    """The topology of a namespace now: exactly one list call per kind. ``client``: a Kube or an ApiClient."""
    kube = _kube(client)
    return build({plural: list_kind(kube, plural, namespace)[0] for plural in KINDS}, namespace)


class LiveTopology:
    """A topology kept current by one watch stream per kind, each in its own thread.

    Watch events update the stored object lists in place (no re-list per event); a renderer thread rebuilds the
    model whenever something changed and calls ``on_change(topology)`` when the model differs from the last one.
    A stream the server ends goes on from the last resourceVersion seen; 410 Gone lists that kind again; a stream
    that broke otherwise is noted in ``errors`` and listed again after a pause. ``close()`` closes every stream's
    HTTP response and joins all threads.
    """

    def __init__(self, client: Kube | ApiClient, namespace: str, on_change: Callable[[Topology], None] | None = None):
        self.kube, self.namespace, self.on_change = _kube(client), namespace, on_change
        self.errors: list[str] = []
        self._objects: dict[str, dict[str, dict]] = {}
        self._versions: dict[str, str | None] = {}
        self._lock = threading.Lock()
        self._dirty = threading.Condition(self._lock)
        self._changed = False
        self._stop = threading.Event()
        self._streams: dict[str, Watch] = {}  # plural -> its latest watch, for close() to end
        self._threads: list[threading.Thread] = []
        self.refresh()

    @property
    def topology(self) -> Topology:
        return self._topology

    def refresh(self) -> Topology:
        """List every kind once (also done at construction) and rebuild."""
        for plural in KINDS:
            self._relist(plural)
        self._topology = self._build()
        return self._topology

    def _relist(self, plural: str) -> None:
        items, version = list_kind(self.kube, plural, self.namespace)
        with self._lock:
            self._objects[plural] = {_key(obj): obj for obj in items}
            self._versions[plural] = version

    def _build(self) -> Topology:
        with self._lock:
            lists = {plural: list(objs.values()) for plural, objs in self._objects.items()}
        return build(lists, self.namespace)

    def start(self) -> None:
        if self._threads:
            return
        self._stop.clear()
        for plural in KINDS:
            if self._versions.get(plural) is None and plural in OPTIONAL_KINDS:
                continue  # not served by this cluster
            self._threads.append(
                threading.Thread(target=self._watch, args=(plural,), daemon=True, name=f"topology-watch-{plural}")
            )
        self._threads.append(threading.Thread(target=self._render, daemon=True, name="topology-render"))
        for thread in self._threads:
            thread.start()

    @property
    def running(self) -> bool:
        return any(t.is_alive() for t in self._threads)

    def threads(self) -> list[threading.Thread]:
        return list(self._threads)

    def _watch(self, plural: str) -> None:
        while not self._stop.is_set():
            try:
                self._follow(plural)  # returns when the server ends the stream: watch on from the last version
            except Exception as err:  # the stream broke; unless we are closing, start again from a fresh list
                if self._stop.is_set():
                    break
                if not (isinstance(err, ApiFailure) and err.code == 410):
                    self.errors.append(f"watch of {plural} broke ({err.__class__.__name__}); listing again")
                    if self._stop.wait(1.0):  # back off a little before talking to a struggling server
                        break
                try:
                    self._relist(plural)
                except LabError as list_err:
                    self.errors.append(str(list_err))
                    continue
                self._mark_changed()

    def _follow(self, plural: str) -> None:
        """One watch request from the last resourceVersion seen, its events applied until it ends or is closed."""
        stream = self.kube.watch(
            plural, self.namespace, resource_version=self._versions[plural], timeout_seconds=WATCH_SECONDS
        )
        with self._lock:
            self._streams[plural] = stream
        if self._stop.is_set():  # close() came while the request was being made: it may have missed this stream
            stream.close()
        with stream:
            for event in stream:
                if event.get("type") == "ERROR":  # e.g. 410 Gone: the version is too old to watch from
                    status = event.get("object") or {}
                    raise ApiFailure(status.get("code") or 0, status.get("reason") or "", status.get("message") or "")
                self._apply(plural, event)

    def _apply(self, plural: str, event: dict) -> None:
        kind, obj = event.get("type"), event.get("object")
        if not isinstance(obj, dict):
            return
        version = (obj.get("metadata") or {}).get("resourceVersion")
        with self._lock:
            if version:
                self._versions[plural] = version
            if kind == "BOOKMARK":
                return
            if kind == "DELETED":
                self._objects[plural].pop(_key(obj), None)
            else:
                self._objects[plural][_key(obj)] = obj
            self._changed = True
            self._dirty.notify()

    def _mark_changed(self) -> None:
        with self._lock:
            self._changed = True
            self._dirty.notify()

    def _render(self) -> None:
        while True:
            with self._lock:
                while not self._changed and not self._stop.is_set():
                    self._dirty.wait()
                if self._stop.is_set():
                    return
                self._changed = False
            topology = self._build()  # one rebuild for however many events arrived meanwhile
            if topology != self._topology:
                self._topology = topology
                if self.on_change:
                    try:
                        self.on_change(topology)
                    except Exception as err:  # a view that fails to draw must not end the updates
                        self.errors.append(f"updating the view failed ({err.__class__.__name__}: {err})")

    def close(self, timeout: float = 10.0) -> None:
        """Stop every watch stream (shutting its connection) and join the threads."""
        self._stop.set()
        with self._lock:
            self._dirty.notify_all()
            streams = list(self._streams.values())
        for stream in streams:
            stream.close()  # from this thread: the watch threads' blocked reads return at once
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        alive = [t.name for t in self._threads if t.is_alive()]
        self._threads = [t for t in self._threads if t.is_alive()]
        self._streams.clear()
        if alive:
            raise LabError(f"the topology watches did not stop ({', '.join(alive)}): restart the kernel to end them.")


def _key(obj: dict) -> str:
    meta = obj.get("metadata") or {}
    return meta.get("uid") or meta.get("name", "")
