"""Who may `use` an SCC, answered from RBAC objects with the evaluator the practice cluster uses too.

The practice cluster passes its own authorizer to ``admit``; the planner and the review helpers, which have no
cluster, build one here from the default SCC roles plus the grants they are told about.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..rbac import SA_PREFIX, Attributes, Rbac


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


def can_use_from_rbac(objects):
    """A ``can_use(subject, scc_name, namespace)`` callback over ClusterRoles/Roles and their bindings."""
    rbac = Rbac.from_objects(objects)

    def can_use(subject: Subject, scc_name: str, namespace: str) -> bool:
        use = Attributes(
            "use", "security.openshift.io", "securitycontextconstraints", namespace=namespace, name=scc_name
        )
        return rbac.allowed(subject.name, subject.groups, use)

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
