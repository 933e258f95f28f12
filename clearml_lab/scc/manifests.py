"""Rendered manifests in, the pods their controllers would create out; planned grants out as RoleBindings."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import yaml

from ..errors import UsageError
from .rbac import Subject

# Who creates the pods of each kind (the controller's own token identity is in system:authenticated).
CONTROLLERS = {
    "Deployment": "replicaset-controller",
    "ReplicaSet": "replicaset-controller",
    "StatefulSet": "statefulset-controller",
    "DaemonSet": "daemon-set-controller",
    "Job": "job-controller",
    "CronJob": "job-controller",
}
POD_BEARING = ("Pod", *CONTROLLERS)
# A bare Pod is created by whoever applies it; the plan assumes an ordinary authenticated user.
APPLYING_USER = Subject("developer", ("system:authenticated", "system:authenticated:oauth"))


def controller_subject(kind: str) -> Subject:
    if kind == "Pod":
        return APPLYING_USER
    return Subject(
        f"system:serviceaccount:kube-system:{CONTROLLERS[kind]}",
        ("system:serviceaccounts", "system:serviceaccounts:kube-system", "system:authenticated"),
    )


def load_manifests(text: str, source: str = "the manifests") -> list[dict]:
    """Parse multi-document YAML; a syntax error names the document and line."""
    documents = []
    try:
        for document in yaml.safe_load_all(text):
            documents.append(document)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise UsageError(
            f"Document {len(documents) + 1} of {source} is not valid YAML{where} ({problem}); "
            "fix it or render the chart again with helm template."
        ) from None
    objects = []
    for index, document in enumerate(documents, start=1):
        if document is None:
            continue
        if not isinstance(document, dict):
            raise UsageError(
                f"Document {index} of {source} is a {type(document).__name__}, not a Kubernetes object; "
                "pass the output of helm template or kubectl get -o yaml."
            )
        if document.get("kind") == "List" or (str(document.get("kind", "")).endswith("List") and "items" in document):
            objects.extend(item for item in document.get("items") or [] if isinstance(item, dict))
        else:
            objects.append(document)
    return objects


def _template_hash(template: dict) -> str:
    """A stable stand-in for pod-template-hash (10 characters from Kubernetes' safe alphabet)."""
    alphabet = "bcdfghjklmnpqrstvwxz2456789"
    digest = int.from_bytes(hashlib.sha256(json.dumps(template, sort_keys=True).encode()).digest()[:8], "big")
    chars = []
    for _ in range(10):
        digest, rest = divmod(digest, len(alphabet))
        chars.append(alphabet[rest])
    return "".join(chars)


@dataclass
class Workload:
    """One pod-bearing object and the pod its controller would create."""

    kind: str
    name: str
    namespace: str | None
    pod: dict

    @property
    def label(self) -> str:
        return f"{self.kind}/{self.name}"

    @property
    def service_account(self) -> str:
        spec = self.pod.get("spec") or {}
        return spec.get("serviceAccountName") or spec.get("serviceAccount") or "default"

    @property
    def creator(self) -> Subject:
        return controller_subject(self.kind)


def is_test_hook(obj: dict) -> bool:
    """Helm test hooks are rendered by helm template but only created by `helm test`."""
    hooks = ((obj.get("metadata") or {}).get("annotations") or {}).get("helm.sh/hook", "")
    return any(h.strip() in ("test", "test-success", "test-failure") for h in hooks.split(","))


def workload_of(obj: dict) -> Workload | None:
    """The pod a controller would create from obj, or None if obj runs no pods."""
    kind = obj.get("kind")
    meta = obj.get("metadata") or {}
    name = meta.get("name") or meta.get("generateName") or ""
    if kind not in POD_BEARING:
        return None
    if kind == "Pod":
        pod = {"metadata": dict(meta), "spec": obj.get("spec") or {}}
        return Workload(kind, name, meta.get("namespace"), pod)
    spec = obj.get("spec") or {}
    if kind == "CronJob":
        spec = ((spec.get("jobTemplate") or {}).get("spec")) or {}
    template = spec.get("template") or {}
    pod_meta = dict(template.get("metadata") or {})
    if kind == "StatefulSet":
        pod_meta["name"] = f"{name}-0"
    elif kind == "Deployment":
        pod_meta["generateName"] = f"{name}-{_template_hash(template)}-"
    else:
        pod_meta["generateName"] = f"{name}-"
    pod_meta.pop("namespace", None)
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": pod_meta, "spec": template.get("spec") or {}}
    return Workload(kind, name, meta.get("namespace"), pod)


@lru_cache(maxsize=1)
def grant_binding_marks() -> dict:
    """data/grant-bindings.yaml: the name, role, label and annotations of a grant written as a RoleBinding."""
    text = resources.files(__package__).joinpath("data", "grant-bindings.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def grant_role_bindings(grants, namespace: str) -> list[dict]:
    """One RoleBinding per grant (objects with ``scc``, ``service_account`` and optionally ``reason``, such as
    ``Plan.grants()``), sorted by name: the ClusterRole system:openshift:scc:<scc> bound to the service account in
    ``namespace``, labelled with the SCC and annotated with the reason and with the subject the lab records for the
    grants it adds (data/grant-bindings.yaml)."""
    if not namespace:
        raise UsageError("RoleBindings need a namespace: pass the project the grants are for.")
    marks = grant_binding_marks()
    bindings = {}
    for grant in grants:
        scc, sa = grant.scc, grant.service_account
        reason = " ".join(str(getattr(grant, "reason", "") or "").split()) or f"{sa} needs {scc}."
        name = marks["name"].format(scc=scc, service_account=sa)
        bindings[name] = {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": {
                "name": name,
                "namespace": namespace,
                "labels": {marks["label"]: scc},
                "annotations": {
                    marks["added_subjects_annotation"]: json.dumps([f"ServiceAccount:{namespace}:{sa}"]),
                    marks["reason_annotation"]: reason,
                },
            },
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": marks["role"].format(scc=scc),
            },
            "subjects": [{"kind": "ServiceAccount", "name": sa, "namespace": namespace}],
        }
    return [bindings[name] for name in sorted(bindings)]


def dump_yaml_stream(objects) -> str:
    """Objects as one multi-document YAML stream (keys in the order given, long strings not folded): the same
    objects always give the same text."""
    return "".join(
        "---\n" + yaml.safe_dump(obj, sort_keys=False, width=1_000_000, allow_unicode=True) for obj in objects
    )
