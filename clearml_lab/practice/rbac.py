"""RBAC evaluated from the stored Role/ClusterRole/(Cluster)RoleBinding objects, and escalation prevention."""

from __future__ import annotations

from ..rbac import Attributes, Rbac, rule_allows
from .client import Identity

__all__ = ["RBAC_RESOURCES", "Attributes", "Authorizer", "format_rules", "rule_allows"]

RBAC_RESOURCES = (
    "roles.rbac.authorization.k8s.io",
    "rolebindings.rbac.authorization.k8s.io",
    "clusterroles.rbac.authorization.k8s.io",
    "clusterrolebindings.rbac.authorization.k8s.io",
)


class Authorizer:
    """Reads RBAC objects from the store, cached until an RBAC object changes (``invalidate``)."""

    def __init__(self, store):
        self.store = store
        self._cache: Rbac | None = None

    def invalidate(self) -> None:
        self._cache = None

    def _rbac(self) -> Rbac:
        if self._cache is None:
            roles, bindings, cluster_roles, cluster_bindings = (self.store.list(r) for r in RBAC_RESOURCES)
            self._cache = Rbac(roles, cluster_roles, bindings, cluster_bindings)
        return self._cache

    def rules_for(self, who: Identity, namespace: str = "") -> list[dict]:
        """Every rule that applies to ``who`` in ``namespace`` (cluster-wide ones always)."""
        return self._rbac().rules_for(who.username, who.groups, namespace)

    def allowed(self, who: Identity, attrs: Attributes) -> bool:
        return self._rbac().allowed(who.username, who.groups, attrs)

    def missing_rules(self, who: Identity, rules: list[dict], namespace: str = "") -> list[dict]:
        """The parts of ``rules`` that ``who`` does not hold (Kubernetes' escalation check: a literal ``*`` is
        covered only by ``*``)."""
        held = self.rules_for(who, namespace)
        missing = []
        for rule in rules:
            for verb in rule.get("verbs") or ():
                if rule.get("nonResourceURLs"):
                    for url in rule["nonResourceURLs"]:
                        if not any(rule_allows(h, Attributes(verb=verb, path=url)) for h in held):
                            missing.append({"verbs": [verb], "nonResourceURLs": [url]})
                    continue
                for group in rule.get("apiGroups") or ():
                    for res in rule.get("resources") or ():
                        resource, _, sub = res.partition("/")
                        for name in rule.get("resourceNames") or [""]:
                            a = Attributes(
                                verb=verb,
                                group=group,
                                resource=resource,
                                subresource=sub,
                                namespace=namespace,
                                name=name,
                            )
                            if not any(rule_allows(h, a) for h in held):
                                entry = {"verbs": [verb], "apiGroups": [group], "resources": [res]}
                                if name:
                                    entry["resourceNames"] = [name]
                                missing.append(entry)
        return missing

    def role_rules(self, ref: dict, namespace: str) -> list[dict] | None:
        return self._rbac().role_rules(ref, namespace)


def format_rules(rules: list[dict]) -> str:
    """Kubernetes' compact rule rendering, used in escalation messages."""
    parts = []
    for r in rules:
        if r.get("nonResourceURLs"):
            parts.append(f"{{NonResourceURLs:{r['nonResourceURLs']}, Verbs:{r['verbs']}}}")
        else:
            names = f", ResourceNames:{r['resourceNames']}" if r.get("resourceNames") else ""
            parts.append(f"{{APIGroups:{r['apiGroups']}, Resources:{r['resources']}{names}, Verbs:{r['verbs']}}}")
    return "[" + " ".join(parts).replace("'", '"') + "]"
