"""Defaulting and admission: the declared defaults (data/defaults.yaml), the computed ones, and the plugin list
that judges a write before it is stored (SCC for pods, RBAC escalation prevention)."""

from __future__ import annotations

import base64
import copy
import ipaddress
import json
import random
from functools import cache

from .. import scc
from .client import Identity
from .rbac import Attributes, format_rules
from .registry import load_data
from .status import error, forbidden, invalid

SERVICE_NETWORK = ipaddress.ip_network("172.30.0.0/16")  # OpenShift's default service CIDR


@cache
def _declared() -> dict:
    return load_data("defaults.yaml")


def _set_default(obj, path: list[str], value) -> None:
    key = path[0]
    if key.endswith("[]"):
        items = obj.get(key[:-2]) if isinstance(obj, dict) else None
        for item in items or ():
            if isinstance(item, dict):
                _set_default(item, path[1:], value)
        return
    if len(path) == 1:
        if isinstance(obj, dict) and key not in obj:
            obj[key] = copy.deepcopy(value)
        return
    if isinstance(obj, dict):
        nxt = obj.get(key)
        if nxt is None:
            # only create intermediate maps for plain (non-list) paths, as Go's defaulters do for structs
            if any(p.endswith("[]") for p in path[1:]):
                return
            nxt = obj[key] = {}
        _set_default(nxt, path[1:], value)


def _split(path: str) -> list[str]:
    return path.split(".")


def apply_declared_defaults(kind: str, obj: dict) -> None:
    table = _declared()
    for path, value in (table["kinds"].get(kind) or {}).items():
        if path.startswith("@"):
            prefix = _split(value)
            target = obj
            for key in prefix:
                target = target.get(key) if isinstance(target, dict) else None
            if isinstance(target, dict):
                for sub, v in table["blocks"][path[1:]].items():
                    _set_default(target, _split(sub), v)
            continue
        _set_default(obj, _split(path), value)


def _image_pull_policy(image: str) -> str:
    name = image.rsplit("/", 1)[-1]
    if "@" in name:
        return "IfNotPresent"
    tag = name.split(":", 1)[1] if ":" in name else "latest"
    return "Always" if tag == "latest" else "IfNotPresent"


def _pod_spec(spec: dict) -> dict | None:
    return spec if isinstance(spec, dict) else None


def _pod_specs(kind: str, obj: dict) -> list[dict]:
    path = {
        "Pod": ["spec"],
        "Deployment": ["spec", "template", "spec"],
        "ReplicaSet": ["spec", "template", "spec"],
        "StatefulSet": ["spec", "template", "spec"],
        "DaemonSet": ["spec", "template", "spec"],
        "Job": ["spec", "template", "spec"],
        "CronJob": ["spec", "jobTemplate", "spec", "template", "spec"],
    }.get(kind)
    if path is None:
        return []
    cur = obj
    for key in path:
        cur = cur.get(key) if isinstance(cur, dict) else None
    return [cur] if isinstance(cur, dict) else []


def apply_computed_defaults(kind: str, obj: dict, store) -> None:
    for spec in _pod_specs(kind, obj):
        spec.setdefault("serviceAccount", spec.get("serviceAccountName", "default"))
        for c in (spec.get("containers") or []) + (spec.get("initContainers") or []):
            if isinstance(c, dict) and c.get("image"):
                c.setdefault("imagePullPolicy", _image_pull_policy(c["image"]))
    spec = obj.get("spec") if isinstance(obj.get("spec"), dict) else {}
    if kind == "Deployment" and (spec.get("strategy") or {}).get("type") == "RollingUpdate":
        spec["strategy"].setdefault("rollingUpdate", {"maxSurge": "25%", "maxUnavailable": "25%"})
    if kind == "StatefulSet" and (spec.get("updateStrategy") or {}).get("type") == "RollingUpdate":
        spec["updateStrategy"].setdefault("rollingUpdate", {"partition": 0})
    if kind == "Service":
        for port in spec.get("ports") or []:
            if isinstance(port, dict) and "port" in port:
                port.setdefault("targetPort", port["port"])
        if spec.get("type") != "ExternalName" and not spec.get("clusterIP"):
            spec["clusterIP"] = _free_cluster_ip(store)
        if spec.get("clusterIP"):
            spec.setdefault("clusterIPs", [spec["clusterIP"]])
    if kind == "Secret" and isinstance(obj.get("stringData"), dict):
        # stringData is write-only: the server folds it into data (base64) and never stores it
        data = obj.setdefault("data", {}) or {}
        for key, value in obj.pop("stringData").items():
            data[key] = base64.b64encode(str(value).encode()).decode()
        obj["data"] = data
    if kind == "Service" and spec.get("type") in ("NodePort", "LoadBalancer"):
        used = {p.get("nodePort") for s in store.list("services") for p in (s.get("spec") or {}).get("ports") or []}
        for port in spec.get("ports") or []:
            if isinstance(port, dict) and not port.get("nodePort"):
                port["nodePort"] = next(n for n in range(30000, 32768) if n not in used)
                used.add(port["nodePort"])
    if kind == "Namespace":
        obj["metadata"].setdefault("labels", {})["kubernetes.io/metadata.name"] = obj["metadata"]["name"]
    if kind == "PersistentVolumeClaim" and "storageClassName" not in spec:
        default = next(
            (
                sc
                for sc in store.list("storageclasses.storage.k8s.io")
                if (sc["metadata"].get("annotations") or {}).get("storageclass.kubernetes.io/is-default-class")
                == "true"
            ),
            None,
        )
        if default:
            spec["storageClassName"] = default["metadata"]["name"]


def keep_allocated(rt, name: str, old: dict, new: dict) -> None:
    """A Service's cluster IP and node ports, once allocated, survive an update that leaves them out, as the
    apiserver carries them over: a PUT of the bare manifest (helm 3's `upgrade --force`, `kubectl replace`) must not
    move the Service to a new address. Changing a cluster IP that is set is refused, as it is immutable."""
    if rt.kind != "Service" or not isinstance(new.get("spec"), dict):
        return
    old_spec, spec = old.get("spec") or {}, new["spec"]
    if "ExternalName" in (old_spec.get("type"), spec.get("type")):
        return
    old_ip = old_spec.get("clusterIP")
    if old_ip and not spec.get("clusterIP"):
        spec["clusterIP"] = old_ip
        spec.setdefault("clusterIPs", copy.deepcopy(old_spec.get("clusterIPs") or [old_ip]))
    elif old_ip and spec["clusterIP"] != old_ip:
        raise invalid(
            rt, name, [("spec.clusterIPs[0]", f'Invalid value: ["{spec["clusterIP"]}"]: may not change once set')]
        )
    allocated = {
        (p.get("port"), p.get("protocol", "TCP")): p["nodePort"]
        for p in old_spec.get("ports") or []
        if isinstance(p, dict) and p.get("nodePort")
    }
    if spec.get("type") in ("NodePort", "LoadBalancer"):
        for port in spec.get("ports") or []:
            if isinstance(port, dict) and not port.get("nodePort"):
                node_port = allocated.get((port.get("port"), port.get("protocol", "TCP")))
                if node_port:
                    port["nodePort"] = node_port


def _free_cluster_ip(store) -> str:
    used = {s.get("spec", {}).get("clusterIP") for s in store.list("services")}
    hosts = SERVICE_NETWORK.num_addresses - 2
    for _ in range(1000):
        ip = str(SERVICE_NETWORK.network_address + random.randint(10, hosts))
        if ip not in used:
            return ip
    raise error(500, "the service IP range 172.30.0.0/16 is exhausted", "InternalError")


# ---- admission plugins -------------------------------------------------------------------------------------------


class SecurityContextConstraintsPlugin:
    """OpenShift's SCC admission for pods, through the shared engine in ``clearml_lab.scc``."""

    def __init__(self, api):
        self.api = api

    def __call__(self, request, obj: dict, old: dict | None) -> dict:
        if request.rt.name != "pods" or request.subresource:
            return obj
        api = self.api
        namespace = api.store.get("namespaces", "", request.namespace) or {}
        sccs = api.store.list("securitycontextconstraints.security.openshift.io")
        sa_name = obj.get("spec", {}).get("serviceAccountName") or "default"
        who = request.identity

        def can_use(subject, scc_name: str, ns: str) -> bool:
            identity = Identity(subject.name, tuple(subject.groups))
            return api.authz.allowed(
                identity,
                Attributes(
                    verb="use",
                    group="security.openshift.io",
                    resource="securitycontextconstraints",
                    namespace=ns or "",
                    name=scc_name,
                ),
            )

        result = scc.admit(
            obj,
            namespace,
            sccs,
            sa_subject=scc.service_account_subject(request.namespace, sa_name),
            user=scc.Subject(who.username, tuple(who.groups)),
            can_use=can_use,
            operation="UPDATE" if old else "CREATE",
            old_pod=old,
            openshift_version=api.release.openshift,
        )
        if not result.allowed:
            raise error(403, result.message, "Forbidden", {"name": obj["metadata"].get("name", ""), "kind": "pods"})
        return result.pod


def _escalation(who: Identity, what: str) -> str:
    return (
        f'user "{who.username}" (groups={json.dumps(list(who.groups))}) is attempting to grant RBAC permissions '
        f"not currently held:\n{what}"
    )


class RBACEscalationPlugin:
    """Nobody creates a role granting, or a binding to a role holding, more than they hold themselves, unless they
    may ``escalate`` roles / ``bind`` that role (Kubernetes' rbac/v1 storage checks)."""

    def __init__(self, api):
        self.api = api

    def __call__(self, request, obj: dict, old: dict | None) -> dict:
        rt = request.rt
        if rt.group != "rbac.authorization.k8s.io" or request.subresource:
            return obj
        authz = self.api.authz
        who = request.identity
        namespace = request.namespace if rt.namespaced else ""
        name = obj["metadata"].get("name", "")
        if rt.plural in ("roles", "clusterroles"):
            if authz.allowed(who, Attributes("escalate", rt.group, rt.plural, namespace=namespace, name=name)):
                return obj
            missing = authz.missing_rules(who, obj.get("rules") or [], namespace)
            if missing:
                raise forbidden(rt, name, _escalation(who, format_rules(missing)))
            return obj
        ref = obj.get("roleRef") or {}
        if not ref.get("name") or ref.get("kind") not in ("Role", "ClusterRole"):
            raise error(
                422,
                f'{rt.kind}.rbac.authorization.k8s.io "{name}" is invalid: roleRef.kind: Unsupported '
                f'value: "{ref.get("kind")}": supported values: "ClusterRole", "Role"',
                "Invalid",
            )
        if rt.plural == "clusterrolebindings" and ref.get("kind") != "ClusterRole":
            raise error(
                422,
                f'ClusterRoleBinding.rbac.authorization.k8s.io "{name}" is invalid: roleRef.kind: '
                'Unsupported value: "Role": supported values: "ClusterRole"',
                "Invalid",
            )
        if old and old.get("roleRef") != ref:
            raise error(
                422,
                f'{rt.kind}.rbac.authorization.k8s.io "{name}" is invalid: roleRef: Invalid value: '
                "cannot change roleRef",
                "Invalid",
            )
        role_resource = "clusterroles" if ref["kind"] == "ClusterRole" else "roles"
        if authz.allowed(who, Attributes("bind", rt.group, role_resource, namespace=namespace, name=ref["name"])):
            return obj
        rules = authz.role_rules(ref, namespace)
        if rules is None:
            raise forbidden(rt, name, _escalation(who, f'{ref["kind"].lower()}s "{ref["name"]}" not found'))
        missing = authz.missing_rules(who, rules, namespace)
        if missing:
            raise forbidden(rt, name, _escalation(who, format_rules(missing)))
        return obj


PLUGINS = (RBACEscalationPlugin, SecurityContextConstraintsPlugin)
