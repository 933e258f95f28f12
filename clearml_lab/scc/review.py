"""What the SCC review APIs answer (security.openshift.io/v1, namespaced, create-only):

- PodSecurityPolicySubjectReview: may this user/groups (and the template's service account) run this pod, and
  under which SCC? (`oc adm policy scc-subject-review -u/-g/-z`)
- PodSecurityPolicySelfSubjectReview: the same for the requesting user.
- PodSecurityPolicyReview: which of these service accounts may run it, and under which SCC?
  (`oc adm policy scc-review -z`)

Each function returns the object's ``status``; a namespace without the openshift.io/sa.scc.* annotations raises
``NamespaceNotReady``, and one whose annotations an SCC cannot use raises ``ProviderError`` (texts are OpenShift's). Unlike pod admission, a review tries only the SCCs the subjects may
use, in admission order, and reports the first that admits the template (mutated as admission would).
"""

from __future__ import annotations

from .admission import applies_to
from .provider import Allocation, Provider
from .rbac import Subject, service_account_subject
from .sccs import SCC_API_VERSION, sort_sccs


def _reference(scc: dict) -> dict:
    meta = scc.get("metadata") or {}
    ref = {"kind": "SecurityContextConstraints", "apiVersion": SCC_API_VERSION, "name": meta.get("name")}
    for key in ("uid", "resourceVersion"):
        if meta.get(key):
            ref[key] = meta[key]
    return ref


def _first_admitting(template: dict, allocation: Allocation, sccs, subjects, namespace, can_use):
    """(scc, mutated template) for the first usable SCC that admits the template's pod, else (None, None)."""
    pod = {"metadata": dict(template.get("metadata") or {}), "spec": template.get("spec") or {}}
    for scc in sort_sccs(sccs):
        if not any(applies_to(scc, subject, namespace, can_use) for subject in subjects):
            continue
        mutated, errors = Provider(scc, allocation).assign(pod)
        if not errors:
            return scc, {"metadata": template.get("metadata") or {}, "spec": mutated["spec"]}
    return None, None


def _status(template, namespace_obj, sccs, subjects, can_use) -> dict:
    namespace = (namespace_obj.get("metadata") or {}).get("name", "")
    allocation = Allocation.from_namespace(namespace_obj)
    scc, filled = _first_admitting(template, allocation, sccs, subjects, namespace, can_use)
    if scc is None:
        return {"template": template}
    return {"allowedBy": _reference(scc), "template": filled}


def subject_review(template, namespace_obj, sccs, *, user="", groups=(), can_use=None) -> dict:
    """Status of a PodSecurityPolicySubjectReview for spec {template, user, groups}."""
    namespace = (namespace_obj.get("metadata") or {}).get("name", "")
    subjects = [Subject(user, tuple(groups))]
    sa = (template.get("spec") or {}).get("serviceAccountName")
    if sa:
        subjects.append(service_account_subject(namespace, sa))
    return _status(template, namespace_obj, sccs, subjects, can_use)


def self_subject_review(template, namespace_obj, sccs, *, requester: Subject, can_use=None) -> dict:
    """Status of a PodSecurityPolicySelfSubjectReview: the requesting user (and the template's SA) asks."""
    return subject_review(template, namespace_obj, sccs, user=requester.name, groups=requester.groups, can_use=can_use)


def review(template, namespace_obj, sccs, *, service_account_names=(), can_use=None) -> dict:
    """Status of a PodSecurityPolicyReview: one allowedServiceAccounts entry per SA that some SCC admits."""
    namespace = (namespace_obj.get("metadata") or {}).get("name", "")
    names = list(service_account_names) or [(template.get("spec") or {}).get("serviceAccountName") or "default"]
    allowed = []
    for name in names:
        spec = dict(template.get("spec") or {}, serviceAccountName=name)
        sa_template = {"metadata": template.get("metadata") or {}, "spec": spec}
        status = _status(sa_template, namespace_obj, sccs, [service_account_subject(namespace, name)], can_use)
        if "allowedBy" in status:
            allowed.append({"name": name, **status})
    return {"allowedServiceAccounts": allowed}


# ---- the same questions for a real cluster: the objects to POST to security.openshift.io/v1 ---------------------


def subject_review_request(template, *, user: str = "", groups=()) -> dict:
    """A PodSecurityPolicySubjectReview to create in the pod's namespace (`oc adm policy scc-subject-review -u/-g`)."""
    spec = {"template": template}
    if user:
        spec["user"] = user
    if groups:
        spec["groups"] = list(groups)
    return {"apiVersion": SCC_API_VERSION, "kind": "PodSecurityPolicySubjectReview", "spec": spec}


def self_subject_review_request(template) -> dict:
    """A PodSecurityPolicySelfSubjectReview: the same question for whoever sends it."""
    return {"apiVersion": SCC_API_VERSION, "kind": "PodSecurityPolicySelfSubjectReview", "spec": {"template": template}}


def review_request(template, service_account_names=()) -> dict:
    """A PodSecurityPolicyReview (`oc adm policy scc-review -z sa1,sa2`)."""
    spec = {"template": template}
    if service_account_names:
        spec["serviceAccountNames"] = list(service_account_names)
    return {"apiVersion": SCC_API_VERSION, "kind": "PodSecurityPolicyReview", "spec": spec}
