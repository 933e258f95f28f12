"""OpenShift's SCC admission of one pod (plugin security.openshift.io/SecurityContextConstraint).

Try every SCC in admission order; the first one the pod's service account (or the requesting user) may use and
that validates the pod wins. On create it may mutate the pod; on update it must not.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

from .fielderrors import FieldError, aggregate
from .provider import Allocation, NamespaceNotReady, Provider, ProviderError
from .rbac import Subject, service_account_subject
from .sccs import has_feature, releases, scc_name, sort_sccs

SCC_ANNOTATION = "openshift.io/scc"
SUBJECT_TYPE_ANNOTATION = "security.openshift.io/validated-scc-subject-type"
REQUIRED_SCC_ANNOTATION = "openshift.io/required-scc"
IGNORED_ANNOTATION_CHANGES = {"k8s.ovn.org/pod-networks"}
RESTRICTED_HINT = FieldError(
    "no access to scc/restricted",
    "Forbidden",
    "the pod fails to validate against the `restricted-v2` security context constraint, "
    "but would validate successfully against the `restricted` security context constraint",
    rule="restricted_hint",
)


@dataclass
class AdmissionResult:
    allowed: bool
    pod: dict
    scc: str | None = None
    subject_type: str | None = None  # "serviceaccount" | "user"
    message: str = ""
    errors: list[FieldError] = field(default_factory=list)


def pod_display_name(pod: dict) -> str:
    """The name in `pods "<name>" is forbidden`: names are generated after admission, so the prefix stands in."""
    meta = pod.get("metadata") or {}
    return meta.get("name") or meta.get("generateName") or "Unknown"


def forbidden(pod: dict, reason: str) -> str:
    return f'pods "{pod_display_name(pod)}" is forbidden: {reason}'


def _rejected(pod, reason, errors=()) -> AdmissionResult:
    return AdmissionResult(False, pod, message=forbidden(pod, reason), errors=list(errors))


def applies_to(scc: dict, subject: Subject | None, namespace: str, can_use) -> bool:
    """ConstraintAppliesTo: listed user, listed group, or RBAC `use` in the pod's namespace."""
    if subject is None:
        return False
    if subject.name in (scc.get("users") or []):
        return True
    if set(subject.groups) & set(scc.get("groups") or []):
        return True
    return bool(can_use and can_use(subject, scc_name(scc), namespace))


def _unchanged_for_scc(pod: dict, old_pod: dict) -> bool:
    """Updates that only touch ignored annotations or garbage-collector fields are not re-admitted."""

    def relevant(p):
        meta = dict(p.get("metadata") or {})
        annotations = {k: v for k, v in (meta.get("annotations") or {}).items() if k not in IGNORED_ANNOTATION_CHANGES}
        meta["annotations"] = annotations
        for key in ("ownerReferences", "finalizers"):
            meta.pop(key, None)
        return {**p, "metadata": meta}

    return relevant(pod) == relevant(old_pod)


def admit(
    pod,
    namespace_obj,
    sccs,
    *,
    sa_subject=None,
    user=None,
    can_use=None,
    operation="CREATE",
    old_pod=None,
    openshift_version="4.19",
) -> AdmissionResult:
    """Admit one pod as OpenShift does. ``can_use(subject, scc_name, namespace)`` is the caller's RBAC check."""
    namespace = (namespace_obj.get("metadata") or {}).get("name", "")
    spec = pod.get("spec") or {}
    annotations = (pod.get("metadata") or {}).get("annotations") or {}
    mutation_allowed = operation.upper() == "CREATE"
    if sa_subject is None and spec.get("serviceAccountName"):
        sa_subject = service_account_subject(namespace, spec["serviceAccountName"])

    if (spec.get("os") or {}).get("name") == "windows":
        return AdmissionResult(True, pod)
    if not mutation_allowed and old_pod is not None:
        old_annotations = (old_pod.get("metadata") or {}).get("annotations") or {}
        if has_feature(openshift_version, "required_scc_annotation") and annotations.get(
            REQUIRED_SCC_ANNOTATION
        ) != old_annotations.get(REQUIRED_SCC_ANNOTATION):
            return _rejected(
                pod, "invalid change of required security context constraint annotation: " + REQUIRED_SCC_ANNOTATION
            )
        if _unchanged_for_scc(pod, old_pod):
            return AdmissionResult(
                True, pod, scc=annotations.get(SCC_ANNOTATION), subject_type=annotations.get(SUBJECT_TYPE_ANNOTATION)
            )

    if not sccs:
        return _rejected(pod, "no SecurityContextConstraints found in cluster")
    missing = sorted(set(releases()["standard"]) - {scc_name(s) for s in sccs})
    if missing:  # admission waits for the standard SCCs, then gives up naming the missing ones
        return _rejected(pod, f"securitycontextconstraints.security.openshift.io cache is missing {', '.join(missing)}")
    try:
        allocation = Allocation.from_namespace(namespace_obj)
    except NamespaceNotReady as err:
        return _rejected(pod, str(err))

    ordered = sort_sccs(sccs)
    required = (
        annotations.get(REQUIRED_SCC_ANNOTATION) if has_feature(openshift_version, "required_scc_annotation") else None
    )
    if required:
        ordered = [scc for scc in ordered if scc_name(scc) == required]
        if not ordered:
            return _rejected(
                pod,
                f'failed to retrieve the required SCC "{required}": '
                f'securitycontextconstraints.security.openshift.io "{required}" not found',
            )
    hint = annotations.get(SCC_ANNOTATION) if not mutation_allowed else None
    if hint:  # on update the previously chosen SCC is tried first; the rest keep their order
        ordered = [s for s in ordered if scc_name(s) == hint] + [s for s in ordered if scc_name(s) != hint]

    plain = has_feature(openshift_version, "plain_slice_values")
    providers, broken = {}, []
    for scc in ordered:
        try:
            providers[scc_name(scc)] = Provider(scc, allocation, plain_slices=plain)
        except ProviderError as err:
            broken.append(str(err))
    if broken:  # an SCC that cannot be configured for this namespace stops admission of every pod
        return _rejected(pod, aggregate(broken))

    errors: list[FieldError] = []
    denied: set[str] = set()
    for scc in ordered:
        name = scc_name(scc)
        provider = providers[name]
        if applies_to(scc, sa_subject, namespace, can_use):
            subject_type = "serviceaccount"
        elif applies_to(scc, user, namespace, can_use):
            subject_type = "user"
        else:
            denied.add(name)
            errors.append(
                FieldError(
                    f'provider "{name}"',
                    "Forbidden",
                    "not usable by user or serviceaccount",
                    rule="not_usable",
                    scc=name,
                )
            )
            continue
        candidate, problems = provider.assign(pod)
        if problems:
            errors.extend(problems)
            continue
        if not mutation_allowed and candidate != pod:
            continue  # validated, but only by changing the pod: not allowed on update
        return _admitted(candidate, name, subject_type, openshift_version, errors)

    restricted = next((s for s in sccs if scc_name(s) == "restricted"), None)
    if "restricted-v2" in providers and "restricted" in denied and restricted is not None:
        checker = providers.get("restricted") or Provider(restricted, allocation, plain_slices=plain)
        if not checker.assign(pod)[1]:
            errors.append(RESTRICTED_HINT)
    return _rejected(pod, "unable to validate against any security context constraint: " + aggregate(errors), errors)


def _admitted(pod: dict, scc: str, subject_type: str, openshift_version: str, errors) -> AdmissionResult:
    pod = copy.deepcopy(pod)  # the provider's copy shares untouched parts with the input
    meta = pod.setdefault("metadata", {})
    meta["annotations"] = dict(meta.get("annotations") or {})
    meta["annotations"][SCC_ANNOTATION] = scc
    if has_feature(openshift_version, "subject_type_annotation"):
        meta["annotations"][SUBJECT_TYPE_ANNOTATION] = subject_type
    return AdmissionResult(True, pod, scc=scc, subject_type=subject_type, errors=list(errors))
