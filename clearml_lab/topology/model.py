"""The topology as a model: what runs in a project, built from its object lists. Pure: no HTTP, no drawing.

``build()`` turns one namespace's object lists into a ``Topology`` — one node per Deployment/StatefulSet, grouped by
helm release, with its pods counted by state, the SCC they were admitted with, the routes that reach it and its
claims.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields

from ..labels import selector_matches

# The kinds a topology is built from, by their plural (kube.RESOURCES names them); the order of the list calls.
KINDS = ("deployments", "statefulsets", "pods", "services", "persistentvolumeclaims", "routes")
WORKLOAD_KINDS = {"deployments": "Deployment", "statefulsets": "StatefulSet"}
KIND_BADGES = {"Deployment": "D", "StatefulSet": "SS"}

RELEASE_ANNOTATION = "meta.helm.sh/release-name"
INSTANCE_LABEL = "app.kubernetes.io/instance"
SCC_ANNOTATION = "openshift.io/scc"

# Pod states in ring order, with the colour of their arc and the word a learner reads.
STATES = ("running", "pending", "crash_looping", "failed", "terminating", "not_created")
STATE_LABELS = {
    "running": "running",
    "pending": "pending",
    "crash_looping": "crash-looping",
    "failed": "failed",
    "terminating": "terminating",
    "not_created": "not created",
}
STATE_COLOURS = {
    "running": "#0066cc",
    "pending": "#8bc1f7",
    "crash_looping": "#7d1007",
    "failed": "#c9190b",
    "terminating": "#3c3f42",
    "not_created": "#d2d2d2",
}
# Waiting reasons that mean the container will not start without a change (the console counts them as failed).
FAILED_REASONS = frozenset(
    {
        "ImagePullBackOff",
        "ErrImagePull",
        "InvalidImageName",
        "CreateContainerConfigError",
        "CreateContainerError",
        "RunContainerError",
    }
)


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


def workload_of_pod(pod: dict, workloads: dict[tuple[str, str], dict]) -> tuple[str, str] | None:
    """The (kind, name) key of ``workloads`` whose pod this is: by its controller (a ReplicaSet stands for its
    Deployment), else by the first workload whose selector matches its labels; None if no workload has it."""
    owner = _controller_owner(pod)
    if owner:
        if owner.get("kind") == "ReplicaSet":
            key = ("Deployment", _deployment_of_replicaset(owner.get("name", ""), pod))
        else:
            key = (owner.get("kind"), owner.get("name"))
        if key in workloads:
            return key
    labels = _labels(pod)
    return next(
        (
            key
            for key, obj in sorted(workloads.items())
            if selector_matches((obj.get("spec") or {}).get("selector"), labels)
        ),
        None,
    )


def _release_of(obj: dict) -> str | None:
    return (_meta(obj).get("annotations") or {}).get(RELEASE_ANNOTATION) or _labels(obj).get(INSTANCE_LABEL)


def _problem_of(obj: dict) -> str | None:
    for condition in (obj.get("status") or {}).get("conditions") or []:
        failing = (condition.get("type") == "ReplicaFailure" and condition.get("status") == "True") or (
            condition.get("type") == "Progressing" and condition.get("reason") == "ProgressDeadlineExceeded"
        )
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
    names = {
        v["persistentVolumeClaim"]["claimName"]
        for v in volumes
        if (v.get("persistentVolumeClaim") or {}).get("claimName")
    }
    if kind == "StatefulSet":
        # The StatefulSet controller names claims <template>-<statefulset>-<ordinal>.
        for template in spec.get("volumeClaimTemplates") or []:
            prefix = f"{_meta(template).get('name')}-{_meta(obj).get('name')}-"
            names |= {f"{prefix}{i}" for i in range(desired)}
            names |= {name for name in existing if name.startswith(prefix) and name[len(prefix) :].isdigit()}
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
    return RouteLink(_meta(route).get("name", ""), host, f"{scheme}://{host}" if host else "", service, tuple(targets))


def build(objects_by_kind: dict[str, list[dict]], namespace: str) -> Topology:
    """The topology of one namespace from its object lists (keys as in ``KINDS``; missing keys mean none)."""
    workloads = {
        (WORKLOAD_KINDS[plural], _meta(obj).get("name")): obj
        for plural in WORKLOAD_KINDS
        for obj in objects_by_kind.get(plural) or []
    }
    pods_of: dict[tuple[str, str], list[dict]] = {key: [] for key in workloads}
    for pod in objects_by_kind.get("pods") or []:
        if (key := workload_of_pod(pod, workloads)) is not None:
            pods_of[key].append(pod)
    services = {_meta(s).get("name"): s for s in objects_by_kind.get("services") or []}
    claims = {
        _meta(c).get("name"): (c.get("status") or {}).get("phase") or "Pending"
        for c in objects_by_kind.get("persistentvolumeclaims") or []
    }
    routes = tuple(
        sorted((_route_link(r, services, workloads) for r in objects_by_kind.get("routes") or []), key=lambda r: r.name)
    )

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
            kind=kind,
            name=name,
            release=_release_of(obj),
            desired=desired,
            counts=PodCounts(**tally),
            pods=tuple(pods),
            sccs=tuple(sorted({p.scc for p in pods if p.scc})),
            routes=tuple(r for r in routes if ref in r.workloads),
            claims=tuple(Claim(c, claims.get(c, "Missing")) for c in _claim_names(kind, obj, desired, claims)),
            problem=_problem_of(obj),
            rollout=_rollout_of(kind, obj, desired),
        )
        groups.setdefault(node.release, []).append(node)
    ordered = sorted(groups.items(), key=lambda item: (item[0] is None, item[0] or ""))
    return Topology(
        namespace=namespace,
        groups=tuple(
            Group(release, tuple(sorted(nodes, key=lambda n: (n.name, n.kind)))) for release, nodes in ordered
        ),
        routes=routes,
    )
