"""Events, pod statuses, logs and helm output -> plain-language causes, each with the step that fixes it.

The patterns are data (data/diagnoses.yaml). ``explain()`` is pure: give it what was read from the cluster and it
returns diagnoses; ``gather()`` reads a namespace with one list call per kind and the logs of crashing containers.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import yaml

from .scc import plan_grants


@dataclass(frozen=True)
class Diagnosis:
    rule: str
    cause: str
    fix: str
    step: str
    subject: str  # the object it is about, kind/name

    def render(self) -> str:
        return f"{self.subject}: {self.cause} Fix: {self.fix}"


def _revision(replica_set: dict) -> int:
    return int(((replica_set["metadata"].get("annotations") or {}).get("deployment.kubernetes.io/revision")) or 0)


@lru_cache(maxsize=1)
def rules() -> tuple[dict, ...]:
    text = resources.files("clearml_lab").joinpath("data/diagnoses.yaml").read_text()
    return tuple(yaml.safe_load(text)["rules"])


class _Fields(dict):
    def __missing__(self, key):  # a placeholder the evidence cannot fill stays readable
        return f"<{key}>"


def _fill(rule: dict, fields: dict) -> tuple[str, str]:
    values = _Fields(fields)
    return rule["cause"].format_map(values), rule["fix"].format_map(values)


def _container_states(pod: dict):
    status = pod.get("status", {})
    for entry in status.get("initContainerStatuses", []) + status.get("containerStatuses", []):
        waiting = (entry.get("state") or {}).get("waiting") or {}
        yield entry["name"], entry.get("image", ""), waiting.get("reason", "")


def _all_created(workload: dict) -> bool:
    if not workload:
        return False
    wanted = workload.get("spec", {}).get("replicas", 1)
    return (workload.get("status", {}).get("replicas") or 0) >= wanted


def _pod_sa(pod: dict) -> str:
    return pod.get("spec", {}).get("serviceAccountName") or "default"


def _settled(kind: str, name: str, pods: dict, claims: dict | None, uid: str | None = None) -> bool:
    """An event about an object that is gone, or has since got what it lacked, is history, not a cause — so is one
    about an earlier pod of the same name (a StatefulSet's pod, recreated: another uid)."""
    if kind == "Pod":
        pod = pods.get(name)
        if pod is not None and uid and pod.get("metadata", {}).get("uid") not in (None, uid):
            return True
        return pod is None or any(
            c.get("type") == "Ready" and c.get("status") == "True" for c in pod.get("status", {}).get("conditions", [])
        )
    if kind == "PersistentVolumeClaim" and claims is not None:
        claim = claims.get(name)
        return claim is None or claim.get("status", {}).get("phase") == "Bound"
    return False


def _ready(pod: dict) -> bool:
    return any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in (pod.get("status") or {}).get("conditions") or []
    )


def _owner(obj: dict, by_name: dict) -> dict | None:
    for ref in (obj.get("metadata") or {}).get("ownerReferences") or []:
        if ref.get("controller"):
            return by_name.get((ref.get("kind"), ref.get("name")))
    return None


def _images(spec: dict) -> dict[str, str]:
    return {c["name"]: c.get("image", "") for c in (spec.get("initContainers") or []) + (spec.get("containers") or [])}


def _not_ready_reason(pod: dict) -> str:
    for _container, _image, state in _container_states(pod):
        if state and state != "PodInitializing":
            return state
    for entry in (pod.get("status") or {}).get("initContainerStatuses") or []:
        if "running" in (entry.get("state") or {}):
            return f"its init container {entry['name']} is still running"
    status = pod.get("status") or {}
    waiting = [
        c.get("reason") for c in status.get("conditions") or [] if c.get("status") == "False" and c.get("reason")
    ]
    return waiting[0] if waiting else status.get("phase", "Pending")


def _revision_case(pod: dict, by_name: dict, rule: dict) -> dict | None:
    """Fields for pod-on-old-revision: the pod belongs to a StatefulSet with the rule's policy, was made from an
    older revision than the spec's, and is not Ready."""
    sts = _owner(pod, by_name)
    if not sts or sts.get("kind") != "StatefulSet" or _ready(pod):
        return None
    if (sts.get("spec") or {}).get("podManagementPolicy", "OrderedReady") != rule["policy"]:
        return None
    update = (sts.get("status") or {}).get("updateRevision")
    revision = ((pod.get("metadata") or {}).get("labels") or {}).get("controller-revision-hash")
    if not update or not revision or revision == update:
        return None
    now = _images((sts.get("spec") or {}).get("template", {}).get("spec") or {})
    was = _images(pod.get("spec") or {})
    changed = [f"{was[c]} → {now[c]}" for c in was if c in now and was[c] != now[c]]
    change = "image " + ", ".join(changed) if changed else f"revision {revision}, the spec is at {update}"
    return {"pod": pod["metadata"]["name"], "name": sts["metadata"]["name"], "change": change}


def _release_of(obj: dict) -> str:
    meta = obj.get("metadata") or {}
    return (
        (meta.get("annotations") or {}).get("meta.helm.sh/release-name")
        or (meta.get("labels") or {}).get("app.kubernetes.io/instance")
        or "<release>"
    )


def _rollout_cases(workloads: list[dict], pods: list[dict], by_name: dict, namespace: str) -> list[tuple[str, dict]]:
    """(subject, fields) for each Deployment or StatefulSet whose rollout waits on a new pod that is not Ready."""
    cases = []
    for w in workloads:
        kind, name = w.get("kind"), w["metadata"]["name"]
        if kind == "Deployment":
            sets = [
                r
                for r in workloads
                if r.get("kind") == "ReplicaSet"
                and (_owner(r, by_name) or {}).get("metadata", {}).get("name") == name
                and (_owner(r, by_name) or {}).get("kind") == "Deployment"
            ]
            if len(sets) < 2:
                continue
            newest = max(sets, key=_revision)
            old = [r for r in sets if r is not newest and ((r.get("status") or {}).get("replicas") or 0)]
            if not old:
                continue
            waiting = [
                p
                for p in pods
                if (_owner(p, by_name) or {}).get("metadata", {}).get("name") == newest["metadata"]["name"]
                and not _ready(p)
            ]
            serving = sum((r.get("status") or {}).get("readyReplicas") or 0 for r in old)
            rev, old_rev = _revision(newest), max(_revision(r) for r in old)
            back = (
                f"helm rollback {_release_of(w)} -n {namespace} (or oc rollout undo deployment/{name} -n {namespace})"
            )
        elif kind == "StatefulSet":
            owned = [p for p in pods if _owner(p, by_name) is w]
            status = w.get("status") or {}
            update, current = status.get("updateRevision"), status.get("currentRevision")
            if not update or update == current:
                continue
            waiting = [
                p
                for p in owned
                if not _ready(p) and (p["metadata"].get("labels") or {}).get("controller-revision-hash") == update
            ]
            serving = sum(1 for p in owned if _ready(p))
            rev, old_rev = update, current
            back = f"helm rollback {_release_of(w)} -n {namespace}"
        else:
            continue
        if not waiting:
            continue
        pod = waiting[0]
        cases.append(
            (
                f"{kind}/{name}",
                {
                    "kind": kind,
                    "name": name,
                    "revision": rev,
                    "pod": pod["metadata"]["name"],
                    "reason": _not_ready_reason(pod),
                    "back_command": back,
                    "serving": f"; the old revision {old_rev} keeps serving with {serving} ready pod(s)"
                    if serving
                    else "",
                },
            )
        )
    return cases


def _field_paths(fields: dict, prefix: str = "") -> list[str]:
    """Readable leaf paths of a managedFields fieldsV1 tree: .spec.template.spec.containers[name="x"].image."""
    paths = []
    for key, sub in fields.items():
        if key == ".":
            continue
        if key.startswith("f:"):
            path = f"{prefix}.{key[2:]}"
        elif key.startswith("k:"):
            try:
                item = json.loads(key[2:])
                path = prefix + "[" + ",".join(f'{k}="{v}"' for k, v in item.items()) + "]"
            except ValueError:
                path = f"{prefix}[{key[2:]}]"
        elif key.startswith("v:"):
            path = f"{prefix}[{key[2:]}]"
        else:
            continue
        paths += _field_paths(sub, path) if sub else [path]
    return paths


def _managed_cases(workloads: list[dict], rule: dict) -> list[tuple[str, dict]]:
    cases = []
    for w in workloads:
        if w.get("kind") not in ("Deployment", "StatefulSet"):
            continue
        meta = w.get("metadata") or {}
        if (meta.get("labels") or {}).get("app.kubernetes.io/managed-by") != "Helm":
            continue
        for entry in meta.get("managedFields") or []:
            manager = entry.get("manager", "")
            if (
                entry.get("operation") != "Update"
                or not re.search(rule["manager"], manager)
                or entry.get("subresource")
            ):
                continue
            spec = (entry.get("fieldsV1") or {}).get("f:spec")
            if not spec:
                continue
            paths = _field_paths(spec, ".spec")
            shown = ", ".join(paths[:3]) + (f" and {len(paths) - 3} more" if len(paths) > 3 else "")
            cases.append(
                (
                    f"{w['kind']}/{meta['name']}",
                    {
                        "kind": w["kind"],
                        "name": meta["name"],
                        "manager": manager,
                        "fields": shown,
                        "release": _release_of(w),
                    },
                )
            )
    return cases


def explain(
    namespace: str,
    *,
    events: list[dict] = (),
    pods: list[dict] | None = None,
    workloads: list[dict] = (),
    logs: dict[tuple[str, str], str] | None = None,
    helm_output: str = "",
    grant_hint: Callable[[dict], str | None] | None = None,
    claims: list[dict] | None = None,
) -> list[Diagnosis]:
    """Diagnoses for one namespace, most specific first, one per cause and object.

    ``workloads`` are the ReplicaSets/StatefulSets/Deployments events may be about (their pod template names the
    service account); ``grant_hint(workload)`` may return the `oc adm policy …` command that would admit its pods.
    """
    logs = logs or {}
    found: dict[tuple[str, str], Diagnosis] = {}
    by_name = {(w.get("kind"), w["metadata"]["name"]): w for w in workloads}
    pods_by_name = None if pods is None else {p["metadata"]["name"]: p for p in pods}
    claims_by_name = None if claims is None else {c["metadata"]["name"]: c for c in claims}

    def add(rule, subject, fields):
        cause, fix = _fill(rule, {"namespace": namespace, **fields})
        found.setdefault((rule["id"], subject), Diagnosis(rule["id"], cause, fix, rule["step"], subject))

    for event in events:
        involved = event.get("involvedObject", {})
        kind, name = involved.get("kind", ""), involved.get("name", "")
        if pods_by_name is not None and _settled(kind, name, pods_by_name, claims_by_name, involved.get("uid")):
            continue
        for rule in rules():
            if rule["evidence"] != "event" or event.get("reason") != rule["reason"]:
                continue
            match = re.search(rule["message"], event.get("message", ""))
            if not match:
                continue
            workload = by_name.get((kind, name), {})
            if rule.get("until_created") and _all_created(workload):
                break  # an old refusal: the controller has since created every pod it wanted
            template = workload.get("spec", {}).get("template", {})
            fields = {
                "kind": kind,
                "name": name,
                "message": event.get("message", ""),
                **match.groupdict(),
                "sa": _pod_sa(template) if template else "<unknown>",
            }
            fields["grant_command"] = (
                grant_hint(workload) if grant_hint and workload else None
            ) or f"oc adm policy add-scc-to-user <scc> -z {fields['sa']}"
            add(rule, f"{kind}/{name}", fields)
            break

    revision_rules = [r for r in rules() if r["evidence"] == "revision"]
    for pod in pods or ():
        pod_name = pod["metadata"]["name"]
        stale = next(((r, f) for r in revision_rules if (f := _revision_case(pod, by_name, r))), None)
        if stale:
            # The spec has moved past this pod: what its containers show is old news, and the fix is in place.
            add(stale[0], f"Pod/{pod_name}", stale[1])
            continue
        for container, image, state in _container_states(pod):
            fields = {"pod": pod_name, "container": container, "image": image, "sa": _pod_sa(pod)}
            log = logs.get((pod_name, container), "")
            for rule in rules():
                if rule["evidence"] == "log":
                    match = re.search(rule["message"], log) if log else None
                elif rule["evidence"] == "container":
                    match = re.search(rule["image"], image) if re.fullmatch(rule["state"], state or "-") else None
                else:
                    continue
                if match:
                    add(rule, f"Pod/{pod_name}", {**fields, **match.groupdict()})
                    break

    for rule in rules():
        if rule["evidence"] == "rollout" and pods is not None:
            for subject, fields in _rollout_cases(list(workloads), list(pods), by_name, namespace):
                add(rule, subject, fields)
        elif rule["evidence"] == "managed":
            for subject, fields in _managed_cases(list(workloads), rule):
                add(rule, subject, fields)
    for rule in rules():
        if rule["evidence"] == "helm" and helm_output:
            match = re.search(rule["message"], helm_output)
            if match:
                add(rule, "helm release", {k: v or "" for k, v in match.groupdict().items()})
    order = {rule["id"]: i for i, rule in enumerate(rules())}
    return sorted(found.values(), key=lambda d: (order[d.rule], d.subject))


def planner_hint(namespace: str, annotations: dict | None, openshift_version: str = "4.19"):
    """A grant_hint that asks the SCC planner which grant would admit a refused workload's pods."""

    def hint(workload: dict) -> str | None:
        manifest = {**workload, "metadata": {**workload["metadata"], "namespace": namespace}}
        plan = plan_grants(
            [manifest], namespace=namespace, namespace_annotations=annotations, openshift_version=openshift_version
        )
        commands = plan.commands(namespace)
        return "; ".join(commands) if commands else None

    return hint


def gather(kube, namespace: str, *, helm_output: str = "", grant_hint=None) -> list[Diagnosis]:
    """Read the namespace (one list per kind, logs only of failing containers) and explain it."""
    if grant_hint is None:
        ns = kube.get_or_none("projects", namespace) or {}  # a project admin may read it; the namespace not
        grant_hint = planner_hint(namespace, (ns.get("metadata") or {}).get("annotations"))
    events = kube.list("events", namespace).get("items", [])
    pods = kube.list("pods", namespace).get("items", [])
    claims = kube.list("persistentvolumeclaims", namespace).get("items", [])
    workloads = []
    for resource, kind in (
        ("replicasets", "ReplicaSet"),
        ("statefulsets", "StatefulSet"),
        ("deployments", "Deployment"),
    ):
        for item in kube.list(resource, namespace).get("items", []):
            workloads.append({**item, "kind": kind})
    logs = {}
    for pod in pods:
        for container, _image, state in _container_states(pod):
            if state == "CrashLoopBackOff":
                response = kube.request(
                    "GET",
                    f"/api/v1/namespaces/{namespace}/pods/{pod['metadata']['name']}/log",
                    query={"container": container, "tailLines": 50},
                    stream=True,
                )
                logs[(pod["metadata"]["name"], container)] = response.data.decode("utf-8", "replace")
    return explain(
        namespace,
        events=events,
        pods=pods,
        workloads=workloads,
        logs=logs,
        helm_output=helm_output,
        grant_hint=grant_hint,
        claims=claims,
    )
