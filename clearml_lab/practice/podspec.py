"""A pod's spec is fixed once created, as Kubernetes' ValidatePodUpdate keeps it: an update may change container
images, activeDeadlineSeconds, add tolerations, drop scheduling gates and a negative grace period may become 1.
Everything else — spec.nodeName included, which only the ``pods/binding`` subresource sets — is refused."""

from __future__ import annotations

import copy

from .status import invalid

# The apiserver's own wording of what may change (Kubernetes 1.28+).
MUTABLE = (
    "`spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,"
    "`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` "
    "(allow it to be set to 1 if it was previously negative)"
)


def _without_mutable(spec: dict, old: dict) -> dict:
    """``spec`` with the fields an update may change set to the old spec's values."""
    out = copy.deepcopy(spec)
    for field in ("containers", "initContainers"):
        old_images = [c.get("image") for c in old.get(field) or [] if isinstance(c, dict)]
        for container, image in zip(out.get(field) or [], old_images, strict=False):
            if isinstance(container, dict):
                container["image"] = image
    _copy(out, old, "activeDeadlineSeconds")
    old_tolerations = old.get("tolerations") or []
    if all(t in (out.get("tolerations") or []) for t in old_tolerations):  # additions only
        _copy(out, old, "tolerations")
    if all(g in (old.get("schedulingGates") or []) for g in out.get("schedulingGates") or []):  # removals only
        _copy(out, old, "schedulingGates")
    grace = old.get("terminationGracePeriodSeconds")
    if isinstance(grace, int) and grace < 0 and out.get("terminationGracePeriodSeconds") == 1:
        out["terminationGracePeriodSeconds"] = grace
    return out


def _copy(out: dict, old: dict, field: str) -> None:
    if field in old:
        out[field] = copy.deepcopy(old[field])
    else:
        out.pop(field, None)


def changed_fields(old: dict, new: dict) -> list[str]:
    left = old if isinstance(old, dict) else {}
    right = _without_mutable(new if isinstance(new, dict) else {}, left)
    return sorted(k for k in set(left) | set(right) if left.get(k) != right.get(k))


def check_pod_update(rt, name: str, old: dict, new: dict) -> None:
    """Refuse (422 Invalid) an update of a pod that changes an immutable part of its spec."""
    changed = changed_fields(old.get("spec") or {}, new.get("spec") or {})
    if changed:
        fields = ", ".join(f"spec.{k}" for k in changed)
        raise invalid(
            rt,
            name,
            [
                (
                    "spec",
                    f"Forbidden: pod updates may not change fields other than {MUTABLE} "
                    f"(this update changes {fields}; delete and re-create the pod instead)",
                )
            ],
        )
