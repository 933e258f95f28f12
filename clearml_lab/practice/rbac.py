"""RBAC evaluated from the stored Role/ClusterRole/(Cluster)RoleBinding objects, and escalation prevention."""
from __future__ import annotations

from dataclasses import dataclass

from .client import Identity

RBAC_RESOURCES = ("roles.rbac.authorization.k8s.io", "rolebindings.rbac.authorization.k8s.io",
                  "clusterroles.rbac.authorization.k8s.io", "clusterrolebindings.rbac.authorization.k8s.io")


@dataclass(frozen=True)
class Attributes:
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


def _subject_matches(subject: dict, who: Identity, binding_namespace: str) -> bool:
    kind = subject.get("kind")
    if kind == "User":
        return subject.get("name") == who.username
    if kind == "Group":
        return subject.get("name") in who.groups
    if kind == "ServiceAccount":
        ns = subject.get("namespace") or binding_namespace
        return who.username == f"system:serviceaccount:{ns}:{subject.get('name')}"
    return False


def _has(values, wanted: str) -> bool:
    return "*" in (values or ()) or wanted in (values or ())


def rule_allows(rule: dict, attrs: Attributes) -> bool:
    if not _has(rule.get("verbs"), attrs.verb):
        return False
    if not attrs.is_resource:
        return any(u == attrs.path or u == "*" or (u.endswith("*") and attrs.path.startswith(u[:-1]))
                   for u in rule.get("nonResourceURLs") or ())
    if not _has(rule.get("apiGroups"), attrs.group):
        return False
    full = f"{attrs.resource}/{attrs.subresource}" if attrs.subresource else attrs.resource
    resources = rule.get("resources") or ()
    if not ("*" in resources or full in resources or (attrs.subresource and (
            f"*/{attrs.subresource}" in resources or f"{attrs.resource}/*" in resources))):
        return False
    names = rule.get("resourceNames")
    return not names or attrs.name in names


class Authorizer:
    """Reads RBAC objects from the store, cached until an RBAC object changes (``invalidate``)."""

    def __init__(self, store):
        self.store = store
        self._cache: dict | None = None

    def invalidate(self) -> None:
        self._cache = None

    def _objects(self) -> dict:
        if self._cache is None:
            s = self.store
            self._cache = {
                "roles": {(r["metadata"]["namespace"], r["metadata"]["name"]): r.get("rules") or []
                          for r in s.list("roles.rbac.authorization.k8s.io")},
                "clusterroles": {r["metadata"]["name"]: r.get("rules") or []
                                 for r in s.list("clusterroles.rbac.authorization.k8s.io")},
                "rolebindings": s.list("rolebindings.rbac.authorization.k8s.io"),
                "clusterrolebindings": s.list("clusterrolebindings.rbac.authorization.k8s.io"),
            }
        return self._cache

    def rules_for(self, who: Identity, namespace: str = "") -> list[dict]:
        """Every rule that applies to ``who`` in ``namespace`` (cluster-wide ones always)."""
        objs = self._objects()
        rules: list[dict] = []
        for b in objs["clusterrolebindings"]:
            if any(_subject_matches(s, who, "") for s in b.get("subjects") or ()):
                if b.get("roleRef", {}).get("kind") == "ClusterRole":
                    rules += objs["clusterroles"].get(b["roleRef"]["name"], [])
        if namespace:
            for b in objs["rolebindings"]:
                ns = b["metadata"].get("namespace")
                if ns != namespace or not any(_subject_matches(s, who, ns) for s in b.get("subjects") or ()):
                    continue
                ref = b.get("roleRef", {})
                if ref.get("kind") == "ClusterRole":
                    rules += objs["clusterroles"].get(ref.get("name"), [])
                else:
                    rules += objs["roles"].get((ns, ref.get("name")), [])
        return rules

    def allowed(self, who: Identity, attrs: Attributes) -> bool:
        return any(rule_allows(r, attrs) for r in self.rules_for(who, attrs.namespace))

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
                            a = Attributes(verb=verb, group=group, resource=resource, subresource=sub,
                                           namespace=namespace, name=name)
                            if not any(rule_allows(h, a) for h in held):
                                entry = {"verbs": [verb], "apiGroups": [group], "resources": [res]}
                                if name:
                                    entry["resourceNames"] = [name]
                                missing.append(entry)
        return missing

    def role_rules(self, ref: dict, namespace: str) -> list[dict] | None:
        objs = self._objects()
        if ref.get("kind") == "ClusterRole":
            return objs["clusterroles"].get(ref.get("name"))
        return objs["roles"].get((namespace, ref.get("name")))


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
