"""What runs in a project, as the OpenShift console's Developer topology shows it: a model and its renderings.

``snapshot()`` lists each kind once and ``build()`` turns the object lists into a ``Topology`` — one node per
Deployment/StatefulSet, grouped by helm release, with its pods counted by state, the SCC they were admitted with,
the routes that reach it and its claims. ``to_svg()``/``to_text()``/``status_lines()`` render that model, always to
the same bytes for the same model. ``LiveTopology`` keeps the model current from watch streams (no re-listing).
"""
from __future__ import annotations

import json
import math
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields
from html import escape

from .errors import LabError
from .labels import selector_matches

# The kinds one snapshot lists, each with one GET: (group, version, plural). Order is the order of the calls.
KINDS = {
    "deployments": ("apps", "v1", "deployments"),
    "statefulsets": ("apps", "v1", "statefulsets"),
    "pods": ("", "v1", "pods"),
    "services": ("", "v1", "services"),
    "persistentvolumeclaims": ("", "v1", "persistentvolumeclaims"),
    "routes": ("route.openshift.io", "v1", "routes"),
}
# Kinds a cluster may not serve (plain Kubernetes has no routes); their absence is not an error.
OPTIONAL_KINDS = ("routes",)
WORKLOAD_KINDS = {"deployments": "Deployment", "statefulsets": "StatefulSet"}
KIND_BADGES = {"Deployment": "D", "StatefulSet": "SS"}

RELEASE_ANNOTATION = "meta.helm.sh/release-name"
INSTANCE_LABEL = "app.kubernetes.io/instance"
SCC_ANNOTATION = "openshift.io/scc"

# Pod states in ring order, with the colour of their arc and the word a learner reads.
STATES = ("running", "pending", "crash_looping", "failed", "terminating", "not_created")
STATE_LABELS = {"running": "running", "pending": "pending", "crash_looping": "crash-looping", "failed": "failed",
                "terminating": "terminating", "not_created": "not created"}
STATE_COLOURS = {"running": "#0066cc", "pending": "#8bc1f7", "crash_looping": "#7d1007", "failed": "#c9190b",
                 "terminating": "#3c3f42", "not_created": "#d2d2d2"}
# Waiting reasons that mean the container will not start without a change (the console counts them as failed).
FAILED_REASONS = frozenset({"ImagePullBackOff", "ErrImagePull", "InvalidImageName", "CreateContainerConfigError",
                            "CreateContainerError", "RunContainerError"})


@dataclass(frozen=True)
class PodCounts:
    running: int = 0
    pending: int = 0
    crash_looping: int = 0
    failed: int = 0
    terminating: int = 0
    not_created: int = 0

    def items(self) -> list[tuple[str, int]]:
        return [(f.name, getattr(self, f.name)) for f in fields(self)]

    @property
    def total(self) -> int:
        return sum(count for _, count in self.items())


@dataclass(frozen=True)
class PodInfo:
    name: str
    state: str  # one of STATES except not_created
    reason: str  # e.g. Running, ContainerCreating, CrashLoopBackOff, ImagePullBackOff
    scc: str | None


@dataclass(frozen=True)
class Claim:
    name: str
    phase: str  # Bound | Pending | Lost | Missing (named by the workload, not found)


@dataclass(frozen=True)
class RouteLink:
    name: str
    host: str
    url: str
    service: str
    workloads: tuple[str, ...] = ()  # "kind/name" of the workloads behind the service


@dataclass(frozen=True)
class Node:
    kind: str  # Deployment | StatefulSet
    name: str
    release: str | None
    desired: int
    counts: PodCounts
    pods: tuple[PodInfo, ...] = ()
    sccs: tuple[str, ...] = ()
    routes: tuple[RouteLink, ...] = ()
    claims: tuple[Claim, ...] = ()
    problem: str | None = None  # the workload's own failure condition, e.g. pods refused by SCC admission
    rollout: str | None = None  # a rollout in progress: which revision, how many pods are updated, how many old

    @property
    def ref(self) -> str:
        return f"{self.kind.lower()}/{self.name}"

    @property
    def badge(self) -> str:
        return KIND_BADGES[self.kind]

    @property
    def ready(self) -> bool:
        return self.counts.running >= self.desired

    @property
    def scc_label(self) -> str:
        return ",".join(self.sccs) or "-"


@dataclass(frozen=True)
class Group:
    release: str | None  # None: not part of a helm release
    nodes: tuple[Node, ...]

    @property
    def title(self) -> str:
        return f"release {self.release}" if self.release else "not in a helm release"


@dataclass(frozen=True)
class Topology:
    namespace: str
    groups: tuple[Group, ...] = ()
    routes: tuple[RouteLink, ...] = ()

    @property
    def nodes(self) -> tuple[Node, ...]:
        return tuple(node for group in self.groups for node in group.nodes)

    @property
    def ready(self) -> bool:
        """True when there is at least one workload and every workload has all its pods ready."""
        return bool(self.nodes) and all(node.ready for node in self.nodes)

    def node(self, kind: str, name: str) -> Node | None:
        return next((n for n in self.nodes if n.kind.lower() == kind.lower() and n.name == name), None)

    def status_lines(self) -> list[str]:
        return status_lines(self)

    def to_text(self) -> str:
        return to_text(self)

    def to_svg(self) -> str:
        return to_svg(self)


# ---------------------------------------------------------------------------------------------------------------
# Model building (pure)

def _meta(obj: dict) -> dict:
    return obj.get("metadata") or {}


def _labels(obj: dict) -> dict:
    return _meta(obj).get("labels") or {}


def pod_state(pod: dict) -> tuple[str, str] | None:
    """(state, reason) of a pod as the topology ring counts it; None for a pod that has completed."""
    status = pod.get("status") or {}
    phase = status.get("phase") or "Pending"
    if _meta(pod).get("deletionTimestamp"):
        return "terminating", "Terminating"
    if phase == "Failed":
        return "failed", status.get("reason") or "Failed"
    if phase == "Succeeded":
        return None
    containers = (status.get("initContainerStatuses") or []) + (status.get("containerStatuses") or [])
    waiting = [((c.get("state") or {}).get("waiting") or {}).get("reason") for c in containers]
    waiting = [reason for reason in waiting if reason]
    if "CrashLoopBackOff" in waiting:
        return "crash_looping", "CrashLoopBackOff"
    if failed := next((reason for reason in waiting if reason in FAILED_REASONS), None):
        return "failed", failed
    conditions = {c.get("type"): c for c in status.get("conditions") or []}
    if phase == "Running" and (conditions.get("Ready") or {}).get("status") == "True":
        return "running", "Running"
    scheduled = conditions.get("PodScheduled") or {}
    if scheduled.get("status") == "False" and scheduled.get("reason"):
        return "pending", scheduled["reason"]
    if waiting:
        return "pending", waiting[0]
    return "pending", "NotReady" if phase == "Running" else phase


def _controller_owner(pod: dict) -> dict | None:
    owners = _meta(pod).get("ownerReferences") or []
    return next((o for o in owners if o.get("controller")), owners[0] if owners else None)


def _deployment_of_replicaset(rs_name: str, pod: dict) -> str:
    # A Deployment's ReplicaSet is named <deployment>-<pod-template-hash>; the pod carries that hash as a label.
    template_hash = _labels(pod).get("pod-template-hash")
    if template_hash and rs_name.endswith(f"-{template_hash}"):
        return rs_name[: -len(template_hash) - 1]
    return rs_name.rsplit("-", 1)[0]


def _workload_of_pod(pod: dict, workloads: dict[tuple[str, str], dict]) -> tuple[str, str] | None:
    owner = _controller_owner(pod)
    if owner:
        if owner.get("kind") == "ReplicaSet":
            key = ("Deployment", _deployment_of_replicaset(owner.get("name", ""), pod))
        else:
            key = (owner.get("kind"), owner.get("name"))
        if key in workloads:
            return key
    labels = _labels(pod)
    return next((key for key, obj in sorted(workloads.items())
                 if selector_matches((obj.get("spec") or {}).get("selector"), labels)), None)


def _release_of(obj: dict) -> str | None:
    return (_meta(obj).get("annotations") or {}).get(RELEASE_ANNOTATION) or _labels(obj).get(INSTANCE_LABEL)


def _problem_of(obj: dict) -> str | None:
    for condition in (obj.get("status") or {}).get("conditions") or []:
        failing = (condition.get("type") == "ReplicaFailure" and condition.get("status") == "True") or \
                  (condition.get("type") == "Progressing" and condition.get("reason") == "ProgressDeadlineExceeded")
        if failing:
            return f"{condition.get('reason') or condition['type']}: {condition.get('message', '')}".rstrip(": ")
    return None


def _rollout_of(kind: str, obj: dict, desired: int) -> str | None:
    """``kubectl rollout status`` in one phrase while a new pod template is rolling out, else None."""
    status = obj.get("status") or {}
    updated = int(status.get("updatedReplicas") or 0)
    if kind == "Deployment":
        total = int(status.get("replicas") or 0)
        revision = (_meta(obj).get("annotations") or {}).get("deployment.kubernetes.io/revision")
        if (status.get("observedGeneration") or 0) < (_meta(obj).get("generation") or 0):
            return "rolling out: the controller has not seen the new spec yet"
        if updated >= desired and total <= updated:
            return None
        old = max(0, total - updated)
        label = f"revision {revision}" if revision else "a new revision"
        return f"rolling out {label}: {updated} of {desired} updated" + (f", {old} old" if old else "")
    update, current = status.get("updateRevision"), status.get("currentRevision")
    if not update or update == current:
        return None
    return f"rolling out {update}: {updated} of {desired} updated (from the highest ordinal down)"


def _claim_names(kind: str, obj: dict, desired: int, existing: Iterable[str]) -> list[str]:
    spec = obj.get("spec") or {}
    volumes = ((spec.get("template") or {}).get("spec") or {}).get("volumes") or []
    names = {v["persistentVolumeClaim"]["claimName"] for v in volumes if (v.get("persistentVolumeClaim") or {})
             .get("claimName")}
    if kind == "StatefulSet":
        # The StatefulSet controller names claims <template>-<statefulset>-<ordinal>.
        for template in spec.get("volumeClaimTemplates") or []:
            prefix = f"{_meta(template).get('name')}-{_meta(obj).get('name')}-"
            names |= {f"{prefix}{i}" for i in range(desired)}
            names |= {name for name in existing if name.startswith(prefix) and name[len(prefix):].isdigit()}
    return sorted(names)


def _route_link(route: dict, services: dict[str, dict], workloads: dict[tuple[str, str], dict]) -> RouteLink:
    spec = route.get("spec") or {}
    ingress = (route.get("status") or {}).get("ingress") or [{}]
    host = spec.get("host") or ingress[0].get("host") or ""
    scheme = "https" if spec.get("tls") else "http"
    service = (spec.get("to") or {}).get("name", "")
    selector = ((services.get(service) or {}).get("spec") or {}).get("selector") or {}
    targets = []
    if selector:
        for (kind, name), obj in sorted(workloads.items()):
            template_labels = _labels((obj.get("spec") or {}).get("template") or {})
            if all(template_labels.get(k) == v for k, v in selector.items()):
                targets.append(f"{kind.lower()}/{name}")
    return RouteLink(_meta(route).get("name", ""), host, f"{scheme}://{host}" if host else "", service,
                     tuple(targets))


def build(objects_by_kind: dict[str, list[dict]], namespace: str) -> Topology:
    """The topology of one namespace from its object lists (keys as in ``KINDS``; missing keys mean none)."""
    workloads = {(WORKLOAD_KINDS[plural], _meta(obj).get("name")): obj
                 for plural in WORKLOAD_KINDS for obj in objects_by_kind.get(plural) or []}
    pods_of: dict[tuple[str, str], list[dict]] = {key: [] for key in workloads}
    for pod in objects_by_kind.get("pods") or []:
        if (key := _workload_of_pod(pod, workloads)) is not None:
            pods_of[key].append(pod)
    services = {_meta(s).get("name"): s for s in objects_by_kind.get("services") or []}
    claims = {_meta(c).get("name"): (c.get("status") or {}).get("phase") or "Pending"
              for c in objects_by_kind.get("persistentvolumeclaims") or []}
    routes = tuple(sorted((_route_link(r, services, workloads) for r in objects_by_kind.get("routes") or []),
                          key=lambda r: r.name))

    groups: dict[str | None, list[Node]] = {}
    for (kind, name), obj in workloads.items():
        desired = (obj.get("spec") or {}).get("replicas")
        desired = 1 if desired is None else int(desired)
        pods = []
        for pod in sorted(pods_of[(kind, name)], key=lambda p: _meta(p).get("name", "")):
            state = pod_state(pod)
            if state is not None:
                scc = (_meta(pod).get("annotations") or {}).get(SCC_ANNOTATION)
                pods.append(PodInfo(_meta(pod).get("name", ""), state[0], state[1], scc))
        tally = {state: sum(p.state == state for p in pods) for state in STATES}
        tally["not_created"] = max(0, desired - sum(p.state != "terminating" for p in pods))
        ref = f"{kind.lower()}/{name}"
        node = Node(
            kind=kind, name=name, release=_release_of(obj), desired=desired, counts=PodCounts(**tally),
            pods=tuple(pods), sccs=tuple(sorted({p.scc for p in pods if p.scc})),
            routes=tuple(r for r in routes if ref in r.workloads),
            claims=tuple(Claim(c, claims.get(c, "Missing")) for c in _claim_names(kind, obj, desired, claims)),
            problem=_problem_of(obj), rollout=_rollout_of(kind, obj, desired),
        )
        groups.setdefault(node.release, []).append(node)
    ordered = sorted(groups.items(), key=lambda item: (item[0] is None, item[0] or ""))
    return Topology(
        namespace=namespace,
        groups=tuple(Group(release, tuple(sorted(nodes, key=lambda n: (n.name, n.kind)))) for release, nodes in ordered),
        routes=routes,
    )


# ---------------------------------------------------------------------------------------------------------------
# Reading the cluster

def _path(plural: str, namespace: str) -> str:
    group, version, _ = KINDS[plural]
    prefix = f"/apis/{group}/{version}" if group else f"/api/{version}"
    return f"{prefix}/namespaces/{namespace}/{plural}"


def _get(api_client, path: str, query: dict | None = None):
    """One GET of a known path, no discovery; the raw urllib3 response (streamable), ApiException unless 2xx.
    Plain requests rather than the typed API classes: no model objects to build, no per-call validation."""
    from kubernetes.client.exceptions import ApiException

    method, url, headers, _, _ = api_client.param_serialize(
        "GET", path, query_params=[(k, v) for k, v in (query or {}).items() if v is not None],
        header_params={"Accept": "application/json"}, auth_settings=["BearerToken"])
    response = api_client.call_api(method, url, headers)
    if not 200 <= response.status <= 299:
        response.read()
        raise ApiException(http_resp=response)
    return response.response


def _list_call(api_client, plural: str):
    """A list function shaped as ``kubernetes.watch.Watch.stream`` expects (it adds watch, resource_version,
    _preload_content), so lists and watches send the same plain GET."""
    def list_or_watch(namespace: str, *, watch: bool = False, resource_version: str | None = None,
                      allow_watch_bookmarks: bool | None = None, _preload_content: bool = True):
        return _get(api_client, _path(plural, namespace), {
            "watch": "true" if watch else None, "resourceVersion": resource_version,
            "allowWatchBookmarks": "true" if allow_watch_bookmarks else None})
    list_or_watch.plural = plural
    return list_or_watch


def list_kind(api_client, plural: str, namespace: str) -> tuple[list[dict], str | None]:
    """One list call: the items as plain dicts and the list's resourceVersion (to start a watch from).
    A kind the cluster does not serve (routes on plain Kubernetes) gives ([], None)."""
    from kubernetes.client.exceptions import ApiException
    from urllib3.exceptions import HTTPError

    try:
        data = json.loads(_get(api_client, _path(plural, namespace)).data)
    except ApiException as err:
        if err.status == 404 and plural in OPTIONAL_KINDS:
            return [], None
        raise LabError(f"the cluster refused to list {plural} in namespace {namespace} ({err.status} "
                       f"{err.reason}): check that you may view the project (e.g. the view role).") from None
    except (HTTPError, OSError) as err:
        host = getattr(getattr(api_client, "configuration", None), "host", "the cluster")
        raise LabError(f"cannot reach {host} to list {plural} ({err.__class__.__name__}): check that the "
                       f"cluster is running and the kubeconfig points at it.") from None
    return data.get("items") or [], (data.get("metadata") or {}).get("resourceVersion")


def snapshot(api_client, namespace: str) -> Topology:
    """The topology of a namespace now: exactly one list call per kind."""
    return build({plural: list_kind(api_client, plural, namespace)[0] for plural in KINDS}, namespace)


class LiveTopology:
    """A topology kept current by one watch stream per kind, each in its own thread.

    Watch events update the stored object lists in place (no re-list per event); a renderer thread rebuilds the
    model whenever something changed and calls ``on_change(topology)`` when the model differs from the last one.
    ``close()`` closes every stream's HTTP response and joins all threads.
    """

    def __init__(self, api_client, namespace: str, on_change: Callable[[Topology], None] | None = None):
        self.api_client, self.namespace, self.on_change = api_client, namespace, on_change
        self.errors: list[str] = []
        self._objects: dict[str, dict[str, dict]] = {}
        self._versions: dict[str, str | None] = {}
        self._lock = threading.Lock()
        self._dirty = threading.Condition(self._lock)
        self._changed = False
        self._stop = threading.Event()
        self._watches: dict[str, object] = {}
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
        items, version = list_kind(self.api_client, plural, self.namespace)
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
        from kubernetes import watch

        for plural in KINDS:
            if self._versions.get(plural) is None and plural in OPTIONAL_KINDS:
                continue  # not served by this cluster
            # return_type "object": events carry plain dicts, and the Watch tracks resourceVersion itself.
            self._watches[plural] = watch.Watch(return_type="object")
            self._threads.append(threading.Thread(target=self._watch, args=(plural,), daemon=True,
                                                  name=f"topology-watch-{plural}"))
        self._threads.append(threading.Thread(target=self._render, daemon=True, name="topology-render"))
        for thread in self._threads:
            thread.start()

    @property
    def running(self) -> bool:
        return any(t.is_alive() for t in self._threads)

    def threads(self) -> list[threading.Thread]:
        return list(self._threads)

    def _watch(self, plural: str) -> None:
        from kubernetes.client.exceptions import ApiException

        stream = self._watches[plural]
        while not self._stop.is_set():
            try:
                for event in stream.stream(_list_call(self.api_client, plural), self.namespace,
                                           resource_version=self._versions[plural],
                                           allow_watch_bookmarks=True):
                    self._apply(plural, event)
                    if self._stop.is_set():
                        break
            except Exception as err:  # the stream broke; unless we are closing, start again from a fresh list
                if self._stop.is_set():
                    break
                if not (isinstance(err, ApiException) and err.status == 410):
                    self.errors.append(f"watch of {plural} broke ({err.__class__.__name__}); listing again")
                    if self._stop.wait(1.0):  # back off a little before talking to a struggling server
                        break
                try:
                    self._relist(plural)
                except LabError as list_err:
                    self.errors.append(str(list_err))
                    continue
                self._mark_changed()

    def _apply(self, plural: str, event: dict) -> None:
        kind, obj = event.get("type"), event.get("raw_object") or event.get("object")
        if not isinstance(obj, dict):
            return
        version = _meta(obj).get("resourceVersion")
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
        for thread in self._threads:
            plural = thread.name.removeprefix("topology-watch-")
            stream = self._watches.get(plural)
            # A stream may be between requests when asked the first time; ask until its thread has ended.
            while thread.is_alive() and timeout > 0:
                if stream is not None:
                    stream.stop()
                thread.join(0.05)
                timeout -= 0.05
        alive = [t.name for t in self._threads if t.is_alive()]
        self._threads = [t for t in self._threads if t.is_alive()]
        self._watches.clear()
        if alive:
            raise LabError(f"the topology watches did not stop ({', '.join(alive)}): restart the kernel to end them.")


def _key(obj: dict) -> str:
    meta = _meta(obj)
    return meta.get("uid") or meta.get("name", "")


# ---------------------------------------------------------------------------------------------------------------
# Renderings

def _state_summary(counts: PodCounts) -> str:
    parts = [f"{count} {STATE_LABELS[state]}" for state, count in counts.items() if count and state != "running"]
    return f" ({', '.join(parts)})" if parts else ""


def status_lines(topology: Topology) -> list[str]:
    """One line per workload: ``KIND/NAME READY/TOTAL SCC``, then the pods that are not running, if any."""
    return [f"{n.ref} {n.counts.running}/{n.desired} {n.scc_label}{_state_summary(n.counts)}"
            for n in topology.nodes]


def to_text(topology: Topology) -> str:
    nodes = topology.nodes
    ready = sum(n.ready for n in nodes)
    lines = [f"namespace {topology.namespace}: {ready} of {len(nodes)} workloads ready"]
    if not nodes:
        lines.append("  no Deployments or StatefulSets")
    line_of = dict(zip(nodes, status_lines(topology), strict=True))
    for group in topology.groups:
        lines.append(f"{group.title}:")
        for node in group.nodes:
            lines.append(f"  {line_of[node]}")
            lines += [f"    pvc {c.name} {c.phase}" for c in node.claims]
            if node.rollout:
                lines.append(f"    {node.rollout}")
            if node.problem:
                lines.append(f"    {node.problem}")
    if topology.routes:
        lines.append("routes:")
        for route in topology.routes:
            target = ", ".join(route.workloads) or "no workload"
            lines.append(f"  {route.name} {route.url or '(no host yet)'} -> service {route.service} -> {target}")
    return "\n".join(lines)


# SVG layout, in pixels.
CELL_W, CELL_H, COLUMNS = 200, 190, 4
RING_R, RING_W, NODE_R = 42.0, 10.0, 34.0
GROUP_PAD, GROUP_TITLE_H, MARGIN, HEADER_H, LEGEND_H = 12, 30, 16, 34, 40


def _f(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _ring(cx: float, cy: float, counts: PodCounts) -> list[str]:
    circumference = 2 * math.pi * RING_R
    common = f'cx="{_f(cx)}" cy="{_f(cy)}" r="{_f(RING_R)}" fill="none" stroke-width="{_f(RING_W)}"'
    if counts.total == 0:
        return [f'<circle {common} stroke="#ededed" data-state="none" data-count="0"><title>scaled to zero'
                f'</title></circle>']
    out, offset = [], 0.0
    for state, count in counts.items():
        if not count:
            continue
        length = circumference * count / counts.total
        out.append(f'<circle {common} stroke="{STATE_COLOURS[state]}" '
                   f'stroke-dasharray="{_f(length)} {_f(circumference - length)}" '
                   f'stroke-dashoffset="{_f(-offset)}" transform="rotate(-90 {_f(cx)} {_f(cy)})" '
                   f'data-state="{state}" data-count="{count}"><title>{count} {STATE_LABELS[state]}</title>'
                   f'</circle>')
        offset += length
    return out


def _scc_caption(node: Node) -> str:
    if node.sccs:
        return f"scc {node.scc_label}"
    return "scc unknown" if node.pods else "no pod admitted"


def _node_svg(node: Node, x: float, y: float) -> list[str]:
    cx, cy = x + CELL_W / 2, y + 62
    out = [f'<g data-workload="{escape(node.ref)}" data-ready="{str(node.ready).lower()}">',
           f'<title>{escape(node.ref)}: {node.counts.running} of {node.desired} ready</title>']
    out += _ring(cx, cy, node.counts)
    out.append(f'<circle cx="{_f(cx)}" cy="{_f(cy)}" r="{_f(NODE_R)}" fill="#ffffff" stroke="#8a8d90" '
               f'stroke-width="1"/>')
    out.append(f'<text x="{_f(cx)}" y="{_f(cy + 6)}" text-anchor="middle" font-size="17" font-weight="bold" '
               f'fill="#151515">{node.counts.running}/{node.desired}</text>')
    # Label: the kind badge, then the name, as the console shows it.
    name = escape(_clip(node.name, 22))
    badge_w = 12 + 8 * len(node.badge)
    label_w = badge_w + 6 + 7 * len(_clip(node.name, 22))
    lx, ly = cx - label_w / 2, cy + RING_R + 26
    out.append(f'<rect x="{_f(lx)}" y="{_f(ly - 13)}" width="{_f(badge_w)}" height="18" rx="9" '
               f'fill="{"#004080" if node.kind == "Deployment" else "#009596"}"/>')
    out.append(f'<text x="{_f(lx + badge_w / 2)}" y="{_f(ly)}" text-anchor="middle" font-size="11" '
               f'font-weight="bold" fill="#ffffff">{node.badge}</text>')
    out.append(f'<text x="{_f(lx + badge_w + 6)}" y="{_f(ly)}" font-size="13" fill="#151515">{name}</text>')
    out.append(f'<text x="{_f(cx)}" y="{_f(ly + 18)}" text-anchor="middle" font-size="11" fill="#6a6e73">'
               f'{escape(_scc_caption(node))}</text>')
    if node.rollout:  # a rollout decorator at the lower right, its text on hover
        rx, ry = cx + NODE_R + 6, cy + NODE_R - 2
        out.append(f'<g data-decorator="rollout"><title>{escape(node.rollout)}</title>'
                   f'<circle cx="{_f(rx)}" cy="{_f(ry)}" r="10" fill="#ffffff" stroke="#0066cc"/>'
                   f'<text x="{_f(rx)}" y="{_f(ry + 5)}" text-anchor="middle" font-size="14" '
                   f'fill="#0066cc">⟳</text></g>')
    if node.problem:  # a warning decorator at the lower left, its text on hover
        px, py = cx - NODE_R - 6, cy + NODE_R - 2
        out.append(f'<g data-decorator="problem"><title>{escape(node.problem)}</title>'
                   f'<circle cx="{_f(px)}" cy="{_f(py)}" r="10" fill="#c9190b"/>'
                   f'<text x="{_f(px)}" y="{_f(py + 5)}" text-anchor="middle" font-size="14" font-weight="bold" '
                   f'fill="#ffffff">!</text></g>')
    for i, route in enumerate(node.routes[:2]):  # the route decorator at the upper right, and the link below
        if not route.url:
            continue
        url = escape(route.url, quote=True)
        dx, dy = cx + NODE_R + 4, cy - NODE_R + 2
        if i == 0:
            out.append(f'<a href="{url}" xlink:href="{url}" target="_blank" data-decorator="route">'
                       f'<title>route {escape(route.name)}: {url}</title>'
                       f'<circle cx="{_f(dx)}" cy="{_f(dy)}" r="11" fill="#ffffff" stroke="#8a8d90"/>'
                       f'<path d="M{_f(dx - 4)} {_f(dy + 4)} L{_f(dx + 4)} {_f(dy - 4)} M{_f(dx - 1)} {_f(dy - 4)} '
                       f'L{_f(dx + 4)} {_f(dy - 4)} L{_f(dx + 4)} {_f(dy + 1)}" stroke="#0066cc" '
                       f'stroke-width="1.6" fill="none"/></a>')
        out.append(f'<a href="{url}" xlink:href="{url}" target="_blank"><text x="{_f(cx)}" '
                   f'y="{_f(ly + 34 + 14 * i)}" text-anchor="middle" font-size="11" fill="#0066cc">'
                   f'↗ {escape(_clip(route.host, 30))}</text></a>')
    out.append("</g>")
    return out


def to_svg(topology: Topology) -> str:
    """A self-contained SVG picture of the topology; the same model always gives the same bytes."""
    columns = max([min(len(g.nodes), COLUMNS) for g in topology.groups] or [1])
    width = max(2 * MARGIN + columns * CELL_W + 2 * GROUP_PAD, 2 * MARGIN + 6 * 110)
    body, y = [], MARGIN + HEADER_H
    for group in topology.groups:
        rows = math.ceil(len(group.nodes) / COLUMNS)
        height = GROUP_TITLE_H + rows * CELL_H + GROUP_PAD
        body.append(f'<g data-group="{escape(group.release or "")}">')
        body.append(f'<rect x="{MARGIN}" y="{y}" width="{width - 2 * MARGIN}" height="{height}" rx="12" '
                    f'fill="#f5f5f5" stroke="#b8bbbe" stroke-dasharray="{"" if group.release else "6 4"}"/>')
        body.append(f'<text x="{MARGIN + GROUP_PAD}" y="{y + 20}" font-size="13" font-weight="bold" '
                    f'fill="#3c3f42">{escape(group.title)}</text>')
        for i, node in enumerate(group.nodes):
            row, col = divmod(i, COLUMNS)
            body += _node_svg(node, MARGIN + GROUP_PAD + col * CELL_W, y + GROUP_TITLE_H + row * CELL_H)
        body.append("</g>")
        y += height + GROUP_PAD
    if not topology.groups:
        body.append(f'<text x="{MARGIN}" y="{y + 20}" font-size="13" fill="#6a6e73">no Deployments or '
                    f'StatefulSets in namespace {escape(topology.namespace)}</text>')
        y += 40
    legend_y, lx = y + 14, MARGIN
    for state in STATES:
        body.append(f'<rect x="{lx}" y="{legend_y - 10}" width="12" height="12" rx="2" '
                    f'fill="{STATE_COLOURS[state]}" data-legend="{state}"/>')
        body.append(f'<text x="{lx + 17}" y="{legend_y}" font-size="12" fill="#3c3f42">'
                    f'{STATE_LABELS[state]}</text>')
        lx += 40 + 7 * len(STATE_LABELS[state])
    height = legend_y + LEGEND_H - 14
    nodes = topology.nodes
    ready = sum(n.ready for n in nodes)
    header = f"namespace {topology.namespace}: {ready} of {len(nodes)} workloads ready"
    head = [f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
            f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" '
            f'role="img" aria-label="{escape(header, quote=True)}">',
            f'<title>{escape(header)}</title>',
            f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
            f'<text x="{MARGIN}" y="{MARGIN + 16}" font-size="15" font-weight="bold" '
            f'fill="{"#3e8635" if topology.ready else "#151515"}">{escape(header)}</text>']
    return "\n".join(head + body + ["</svg>"]) + "\n"
