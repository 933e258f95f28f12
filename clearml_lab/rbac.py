"""Kubernetes RBAC evaluation over plain Role/ClusterRole/(Cluster)RoleBinding objects.

One evaluator serves both sides: the practice cluster's authorizer (over its store) and the SCC planner's "may this
service account `use` that SCC here?" (over the default SCC roles plus the grants it is told about).
"""

from __future__ import annotations

from dataclasses import dataclass

SA_PREFIX = "system:serviceaccount:"


@dataclass(frozen=True)
class Attributes:
    """What a request asks to do, as the authorizer sees it."""

    verb: str
    group: str = ""
    resource: str = ""
    subresource: str = ""
    namespace: str = ""
    name: str = ""
    path: str = ""  # a non-resource URL when resource is empty

    @property
    def is_resource(self) -> bool:
        return bool(self.resource)


def subject_matches(entry: dict, username: str, groups, binding_namespace: str | None) -> bool:
    """Whether one subject entry of a binding names this user (a service account subject without a namespace
    means the binding's own)."""
    kind = entry.get("kind")
    if kind == "User":
        return entry.get("name") == username
    if kind == "Group":
        return entry.get("name") in groups
    if kind == "ServiceAccount":
        namespace = entry.get("namespace") or binding_namespace
        return username == f"{SA_PREFIX}{namespace}:{entry.get('name')}"
    return False


def _has(values, wanted: str) -> bool:
    return "*" in (values or ()) or wanted in (values or ())


def rule_allows(rule: dict, attrs: Attributes) -> bool:
    if not _has(rule.get("verbs"), attrs.verb):
        return False
    if not attrs.is_resource:
        return any(
            u == attrs.path or u == "*" or (u.endswith("*") and attrs.path.startswith(u[:-1]))
            for u in rule.get("nonResourceURLs") or ()
        )
    if not _has(rule.get("apiGroups"), attrs.group):
        return False
    full = f"{attrs.resource}/{attrs.subresource}" if attrs.subresource else attrs.resource
    resources = rule.get("resources") or ()
    if not (
        "*" in resources
        or full in resources
        or (attrs.subresource and (f"*/{attrs.subresource}" in resources or f"{attrs.resource}/*" in resources))
    ):
        return False
    names = rule.get("resourceNames")
    return not names or attrs.name in names


class Rbac:
    """Roles and bindings indexed for lookups: which rules apply to whom, where."""

    def __init__(
        self, roles: list[dict], cluster_roles: list[dict], role_bindings: list[dict], cluster_role_bindings: list[dict]
    ):
        self.roles = {(r["metadata"].get("namespace"), r["metadata"]["name"]): r.get("rules") or [] for r in roles}
        self.cluster_roles = {r["metadata"]["name"]: r.get("rules") or [] for r in cluster_roles}
        self.role_bindings = role_bindings
        self.cluster_role_bindings = cluster_role_bindings

    @classmethod
    def from_objects(cls, objects) -> Rbac:
        """From a mixed list of RBAC objects (other kinds are ignored)."""
        by_kind: dict[str, list] = {"Role": [], "ClusterRole": [], "RoleBinding": [], "ClusterRoleBinding": []}
        for obj in objects:
            if obj.get("kind") in by_kind and obj.get("metadata", {}).get("name"):
                by_kind[obj["kind"]].append(obj)
        return cls(by_kind["Role"], by_kind["ClusterRole"], by_kind["RoleBinding"], by_kind["ClusterRoleBinding"])

    def role_rules(self, ref: dict, namespace: str | None) -> list[dict] | None:
        if ref.get("kind") == "ClusterRole":
            return self.cluster_roles.get(ref.get("name"))
        return self.roles.get((namespace, ref.get("name")))

    def rules_for(self, username: str, groups, namespace: str = "") -> list[dict]:
        """Every rule that applies to the user in ``namespace`` (cluster-wide ones always)."""
        rules: list[dict] = []
        for binding in self.cluster_role_bindings:
            ref = binding.get("roleRef") or {}
            if ref.get("kind") == "ClusterRole" and any(
                subject_matches(s, username, groups, "") for s in binding.get("subjects") or ()
            ):
                rules += self.cluster_roles.get(ref.get("name"), [])
        if namespace:
            for binding in self.role_bindings:
                ns = binding["metadata"].get("namespace")
                if ns == namespace and any(
                    subject_matches(s, username, groups, ns) for s in binding.get("subjects") or ()
                ):
                    rules += self.role_rules(binding.get("roleRef") or {}, ns) or []
        return rules

    def allowed(self, username: str, groups, attrs: Attributes) -> bool:
        return any(rule_allows(rule, attrs) for rule in self.rules_for(username, groups, attrs.namespace))
