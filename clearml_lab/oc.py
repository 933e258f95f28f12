"""What the `oc` commands of the recipe do, done through the API with the kubernetes client.

Each function writes the same objects `oc` writes and returns the line `oc` would print, so a learner who has `oc`
can copy the command and see the same result. The lab itself never needs the `oc` binary.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from .errors import LabError
from .kube import ApiFailure, Kube

SCC_ROLE = "system:openshift:scc:{}"
RECORD_ANNOTATION = "clearml-lab.io/added-subjects"  # which subjects of a binding the lab added, kept on the cluster


@dataclass(frozen=True)
class Identity:
    username: str
    groups: tuple[str, ...]

    @property
    def is_service_account(self) -> bool:
        return self.username.startswith("system:serviceaccount:")


def whoami(kube: Kube) -> Identity:
    """`oc whoami`: the OpenShift user API, else the Kubernetes SelfSubjectReview."""
    try:
        user = kube.request("GET", "/apis/user.openshift.io/v1/users/~")
        return Identity(user["metadata"]["name"], tuple(user.get("groups") or ()))
    except ApiFailure as err:
        if err.code not in (404, 403):
            raise
    review = kube.request(
        "POST",
        "/apis/authentication.k8s.io/v1/selfsubjectreviews",
        body={"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"},
    )
    info = review.get("status", {}).get("userInfo", {})
    return Identity(info.get("username", "?"), tuple(info.get("groups") or ()))


def visible_project(kube: Kube, name: str) -> dict | None:
    """The project if this user can see it. OpenShift answers 403, not 404, for a project you cannot see —
    including one that does not exist — so both mean "not yours (yet)"."""
    try:
        return kube.get("projects", name)
    except ApiFailure as err:
        if err.code in (403, 404):
            return None
        raise


def new_project(kube: Kube, name: str, *, display_name: str = "", description: str = "") -> tuple[bool, str]:
    """`oc new-project NAME`: (created?, the line oc prints). An existing project the user can see is kept."""
    if visible_project(kube, name) is not None:
        return False, f'Already on project "{name}" on server "{kube.server}".'
    try:
        kube.request("GET", "/apis/project.openshift.io/v1/projectrequests")  # oc's self-provisioning check
        kube.create(
            "projectrequests",
            {
                "apiVersion": "project.openshift.io/v1",
                "kind": "ProjectRequest",
                "metadata": {"name": name},
                "displayName": display_name,
                "description": description,
            },
        )
    except ApiFailure as err:
        if err.code == 409:
            raise LabError(
                f'project "{name}" already exists but you cannot see it: choose another name with '
                f"--namespace, or ask its owner for access."
            ) from None
        if err.code == 403:
            raise LabError(
                f"you may not create projects on this cluster ({err.message}); ask your cluster admin "
                f"to run: oc new-project {name} and give you admin on it."
            ) from None
        raise
    return True, f'Now using project "{name}" on server "{kube.server}".'


def _binding_resource(namespaced: bool) -> str:
    return "rolebindings" if namespaced else "clusterrolebindings"


def _sa_subject(sa: str, namespace: str) -> dict:
    return {"kind": "ServiceAccount", "name": sa, "namespace": namespace}


def _recorded(binding: dict) -> list[str]:
    return json.loads(binding.get("metadata", {}).get("annotations", {}).get(RECORD_ANNOTATION, "[]"))


def _subject_key(subject: dict) -> str:
    return f"{subject['kind']}:{subject.get('namespace', '')}:{subject['name']}"


def add_scc_to_user(kube: Kube, scc: str, sa: str, namespace: str, *, namespaced: bool = False) -> tuple[bool, str]:
    """`oc adm policy add-scc-to-user SCC -z SA [-n NS]`.

    Without an explicit -n, oc writes the ClusterRoleBinding `system:openshift:scc:<scc>`; with it, a RoleBinding of
    that name in the namespace. The ClusterRole is created if missing. The subjects the lab added are recorded in an
    annotation on the binding itself, so cleanup removes only those — even when the local machine is gone.
    """
    role = SCC_ROLE.format(scc)
    if kube.get_or_none("securitycontextconstraints", scc) is None:
        raise LabError(
            f'securitycontextconstraints "{scc}" does not exist on this cluster: check the SCC name (`oc get scc`).'
        )
    if kube.get_or_none("clusterroles", role) is None:
        kube.create(
            "clusterroles",
            {
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "ClusterRole",
                "metadata": {"name": role},
                "rules": [
                    {
                        "apiGroups": ["security.openshift.io"],
                        "resources": ["securitycontextconstraints"],
                        "resourceNames": [scc],
                        "verbs": ["use"],
                    }
                ],
            },
        )
    resource = _binding_resource(namespaced)
    ns = namespace if namespaced else None
    subject = _sa_subject(sa, namespace)
    line = f'clusterrole.rbac.authorization.k8s.io/{role} added: "{sa}"'
    binding = kube.get_or_none(resource, role, ns)
    if binding is None:
        kube.create(
            resource,
            {
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "RoleBinding" if namespaced else "ClusterRoleBinding",
                "metadata": {
                    "name": role,
                    **({"namespace": ns} if ns else {}),
                    "annotations": {RECORD_ANNOTATION: json.dumps([_subject_key(subject)])},
                },
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
                "subjects": [subject],
            },
            ns,
        )
        return True, line
    subjects = binding.get("subjects") or []
    if any(_subject_key(s) == _subject_key(subject) for s in subjects):
        return False, line
    recorded = sorted(set(_recorded(binding)) | {_subject_key(subject)})
    binding.setdefault("metadata", {}).setdefault("annotations", {})[RECORD_ANNOTATION] = json.dumps(recorded)
    binding["subjects"] = subjects + [subject]
    kube.replace(resource, binding, ns)  # resourceVersion kept: a concurrent change gives 409, not a lost update
    return True, line


def remove_scc_from_user(
    kube: Kube, scc: str, sa: str, namespace: str, *, namespaced: bool = False, only_if_recorded: bool = True
) -> tuple[bool, str]:
    """`oc adm policy remove-scc-from-user SCC -z SA [-n NS]`; deletes the binding when no subject is left."""
    role = SCC_ROLE.format(scc)
    resource = _binding_resource(namespaced)
    ns = namespace if namespaced else None
    line = f'clusterrole.rbac.authorization.k8s.io/{role} removed: "{sa}"'
    key = _subject_key(_sa_subject(sa, namespace))
    binding = _binding_for(kube, resource, ns, role, key)
    if binding is None:
        return False, line
    recorded = _recorded(binding)
    if only_if_recorded and key not in recorded:
        return False, f"{role}: {sa} was granted by someone else, not by the lab; left as it is"
    subjects = [s for s in binding["subjects"] if _subject_key(s) != key]
    if not subjects:
        kube.delete(resource, binding["metadata"]["name"], ns)
    else:
        binding["subjects"] = subjects
        binding["metadata"].setdefault("annotations", {})[RECORD_ANNOTATION] = json.dumps(
            [k for k in recorded if k != key]
        )
        kube.replace(resource, binding, ns)
    return True, line


def _binding_for(kube: Kube, resource: str, ns: str | None, role: str, key: str) -> dict | None:
    """The binding of ROLE that holds the subject: the one `oc adm policy` names after the role, else any binding of
    that role (a reviewed bundle or `plan-scc --output yaml` names one per grant)."""

    def holds(binding: dict | None) -> bool:
        return (
            binding is not None
            and binding.get("roleRef", {}).get("name") == role
            and any(_subject_key(s) == key for s in binding.get("subjects") or [])
        )

    named = kube.get_or_none(resource, role, ns)
    if holds(named):
        return named
    return next((b for b in kube.list(resource, ns).get("items", []) if holds(b)), None)


def lab_grants(kube: Kube, namespace: str) -> list[tuple[str, str, bool]]:
    """(scc, service account, namespaced?) for every grant the lab recorded for this namespace's accounts."""
    grants = []
    prefix = SCC_ROLE.format("")
    for resource, ns in (("clusterrolebindings", None), ("rolebindings", namespace)):
        try:
            items = kube.list(resource, ns).get("items", [])
        except ApiFailure as err:
            if err.code == 403:
                continue
            raise
        for binding in items:
            role = binding.get("roleRef", {}).get("name", "")  # the SCC is the role's; bindings may be named freely
            if not role.startswith(prefix):
                continue
            for key in _recorded(binding):
                kind, ns_, sa = key.split(":", 2)
                if kind == "ServiceAccount" and ns_ == namespace:
                    grants.append((role[len(prefix) :], sa, resource == "rolebindings"))
    return sorted(grants)


def expose_service(kube: Kube, namespace: str, service: str) -> tuple[bool, str]:
    """`oc expose svc/NAME`: a Route named after the service, to its first TCP port (by name if it has one)."""
    line = f"route.route.openshift.io/{service} exposed"
    if kube.get_or_none("routes", service, namespace) is not None:
        return False, line
    svc = kube.get_or_none("services", service, namespace)
    if svc is None:
        raise LabError(
            f'service "{service}" does not exist in project {namespace}: install ClearML first (step install).'
        )
    tcp = [p for p in svc["spec"].get("ports", []) if p.get("protocol", "TCP") == "TCP"]
    if not tcp:
        raise LabError(f'service "{service}" doesn\'t support TCP, so it cannot be exposed as a Route.')
    target_port = tcp[0].get("name") or tcp[0].get("targetPort", tcp[0]["port"])
    kube.create(
        "routes",
        {
            "apiVersion": "route.openshift.io/v1",
            "kind": "Route",
            "metadata": {"name": service, "namespace": namespace, "labels": svc["metadata"].get("labels", {})},
            "spec": {
                "to": {"kind": "Service", "name": service, "weight": 100},
                "port": {"targetPort": target_port},
                "wildcardPolicy": "None",
            },
        },
        namespace,
    )
    return True, line
