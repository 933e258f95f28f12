"""Just enough RBAC to answer "may this subject `use` that SCC in this namespace?" from RBAC objects.

The practice cluster passes its own authorizer to ``admit``; the planner and the review helpers, which have no
cluster, build one here from the default SCC roles plus the grants they are told about.
"""
from __future__ import annotations

from dataclasses import dataclass

SA_PREFIX = "system:serviceaccount:"


@dataclass(frozen=True)
class Subject:
    """Who asks: a user name (service accounts as system:serviceaccount:<ns>:<sa>) and its groups."""

    name: str
    groups: tuple[str, ...] = ()

    @property
    def is_service_account(self) -> bool:
        return self.name.startswith(SA_PREFIX)


def service_account_subject(namespace: str, service_account: str) -> Subject:
    """The identity admission builds for a pod's service account: never in system:authenticated."""
    return Subject(
        f"{SA_PREFIX}{namespace}:{service_account}",
        ("system:serviceaccounts", f"system:serviceaccounts:{namespace}"),
    )


def _rule_allows_use(rule: dict, scc_name: str) -> bool:
    def has(key, wanted):
        values = rule.get(key) or []
        return "*" in values or wanted in values

    names = rule.get("resourceNames") or []
    return (
        has("apiGroups", "security.openshift.io")
        and has("resources", "securitycontextconstraints")
        and has("verbs", "use")
        and (not names or scc_name in names)
    )


def _subject_matches(entry: dict, binding_namespace: str | None, subject: Subject) -> bool:
    kind = entry.get("kind")
    if kind == "User":
        return entry.get("name") == subject.name
    if kind == "Group":
        return entry.get("name") in subject.groups
    if kind == "ServiceAccount":
        namespace = entry.get("namespace") or binding_namespace
        return subject.name == f"{SA_PREFIX}{namespace}:{entry.get('name')}"
    return False


def can_use_from_rbac(objects):
    """A ``can_use(subject, scc_name, namespace)`` callback over ClusterRoles/Roles and their bindings."""
    cluster_roles, roles, bindings = {}, {}, []
    for obj in objects:
        kind, meta = obj.get("kind"), obj.get("metadata") or {}
        if kind == "ClusterRole":
            cluster_roles[meta.get("name")] = obj.get("rules") or []
        elif kind == "Role":
            roles[(meta.get("namespace"), meta.get("name"))] = obj.get("rules") or []
        elif kind in ("ClusterRoleBinding", "RoleBinding"):
            bindings.append(obj)

    def rules_of(binding) -> list:
        ref = binding.get("roleRef") or {}
        if ref.get("kind") == "ClusterRole":
            return cluster_roles.get(ref.get("name"), [])
        return roles.get(((binding.get("metadata") or {}).get("namespace"), ref.get("name")), [])

    def can_use(subject: Subject, scc_name: str, namespace: str) -> bool:
        for binding in bindings:
            binding_ns = (binding.get("metadata") or {}).get("namespace")
            if binding.get("kind") == "RoleBinding" and binding_ns != namespace:
                continue
            if not any(_subject_matches(s, binding_ns, subject) for s in binding.get("subjects") or []):
                continue
            if any(_rule_allows_use(rule, scc_name) for rule in rules_of(binding)):
                return True
        return False

    return can_use


def scc_grant_binding(scc_name: str, namespace: str, service_accounts, *, explicit_namespace: bool = False) -> dict:
    """What `oc adm policy add-scc-to-user <scc> -z <sa>...` writes: a ClusterRoleBinding, or with -n a RoleBinding."""
    name = f"system:openshift:scc:{scc_name}"
    metadata = {"name": name}
    if explicit_namespace:
        metadata["namespace"] = namespace
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding" if explicit_namespace else "ClusterRoleBinding",
        "metadata": metadata,
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": name},
        "subjects": [{"kind": "ServiceAccount", "name": sa, "namespace": namespace} for sa in service_accounts],
    }
