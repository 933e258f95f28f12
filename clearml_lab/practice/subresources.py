"""The subresources that speak another kind than their parent: ``<workload>/scale`` (autoscaling/v1 Scale) and
``pods/binding`` (core/v1 Binding, also posted to the legacy ``bindings`` collection).

Both write the parent through the API's own update path, so resourceVersion conflicts, generation, managedFields
and the watch behave as for any other write to it."""

from __future__ import annotations

import copy

from . import patch as patching
from .status import bad_request, conflict, error

SCALE_API_VERSION, SCALE_KIND = "autoscaling/v1", "Scale"
SCALE_SCHEMA = "io.k8s.api.autoscaling.v1.Scale"
BINDING_KINDS = ("", "Node")  # what a Binding's target may name (Kubernetes' ValidatePodBinding)


# ---- scale -------------------------------------------------------------------------------------------------------


def selector_string(selector: dict | None) -> str:
    """A LabelSelector as apimachinery prints it (``labels.Selector.String()``): requirements sorted by key,
    joined by commas — the form ``Scale.status.selector`` carries for autoscalers."""
    if not isinstance(selector, dict):
        return ""
    requirements: list[tuple[str, str]] = [(k, f"{k}={v}") for k, v in (selector.get("matchLabels") or {}).items()]
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr.get("key", ""), expr.get("operator"), sorted(expr.get("values") or [])
        text = {
            "In": f"{key} in ({','.join(values)})",
            "NotIn": f"{key} notin ({','.join(values)})",
            "Exists": key,
            "DoesNotExist": f"!{key}",
        }.get(op)
        if text is not None:
            requirements.append((key, text))
    return ",".join(text for _, text in sorted(requirements))


def scale_of(parent: dict) -> dict:
    """The Scale a workload shows through its ``scale`` subresource (omitempty fields left out, as Go does)."""
    meta = parent["metadata"]
    spec, status = parent.get("spec") or {}, parent.get("status") or {}
    scale: dict = {
        "kind": SCALE_KIND,
        "apiVersion": SCALE_API_VERSION,
        "metadata": {
            k: meta[k] for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp") if k in meta
        },
        "spec": {},
        "status": {"replicas": int(status.get("replicas") or 0)},
    }
    if spec.get("replicas"):
        scale["spec"]["replicas"] = spec["replicas"]
    selector = selector_string(spec.get("selector"))
    if selector:
        scale["status"]["selector"] = selector
    return scale


def check_scale(name: str, scale) -> int:
    """The replicas a written Scale asks for; refuses a body that is not a valid autoscaling/v1 Scale."""
    if not isinstance(scale, dict):
        raise bad_request("the body of a scale request must be a JSON or YAML object (an autoscaling/v1 Scale)")
    if scale.get("apiVersion") not in (None, SCALE_API_VERSION) or scale.get("kind") not in (None, SCALE_KIND):
        raise bad_request(
            f"the scale subresource takes an {SCALE_API_VERSION} {SCALE_KIND}, not "
            f"{scale.get('apiVersion')} {scale.get('kind')}"
        )
    meta = scale.get("metadata") or {}
    if not isinstance(meta, dict):
        raise bad_request("metadata must be an object")
    if meta.get("name") and meta["name"] != name:
        raise bad_request(f"the name of the object ({meta['name']}) does not match the name on the URL ({name})")
    replicas = (scale.get("spec") or {}).get("replicas", 0)
    if isinstance(replicas, bool) or not isinstance(replicas, int):
        raise bad_request(f"spec.replicas of a Scale must be an integer, not {replicas!r}")
    if replicas < 0:
        why = f"Invalid value: {replicas}: must be greater than or equal to 0"
        raise error(
            422,
            f'Scale.autoscaling "{name}" is invalid: spec.replicas: {why}',
            "Invalid",
            {
                "name": name,
                "group": "autoscaling",
                "kind": "Scale",
                "causes": [{"reason": "FieldValueInvalid", "message": why, "field": "spec.replicas"}],
            },
        )
    return replicas


def patched_scale(current: dict, body, patch_type: str, schema: dict | None, schemas) -> dict:
    """``body`` applied to the Scale ``current`` (JSON, merge or strategic merge patch)."""
    if patch_type == "json":
        return patching.json_patch(current, body)
    if patch_type == "merge":
        if not isinstance(body, dict):
            raise bad_request("a merge patch must be a JSON object")
        return patching.merge_patch(current, body)
    if patch_type == "strategic":
        return patching.strategic_merge_patch(current, body, schema, schemas)
    raise error(
        415,
        f"the practice cluster does not take {patch_type} patches of the scale subresource; send a "
        "merge, strategic merge or JSON patch of spec.replicas (as kubectl scale does)",
        "UnsupportedMediaType",
    )


def with_replicas(parent: dict, replicas: int, resource_version: str | None) -> dict:
    """The parent as the scale write leaves it; ``resource_version`` (the Scale's) guards it like the parent's."""
    new = copy.deepcopy(parent)
    new.setdefault("spec", {})["replicas"] = replicas
    if resource_version:
        new["metadata"]["resourceVersion"] = resource_version
    else:
        new["metadata"].pop("resourceVersion", None)
    return new


# ---- binding -----------------------------------------------------------------------------------------------------


def binding_target(body, pod_name: str | None) -> tuple[str, str, dict]:
    """(pod name, node name, annotations to copy) from a Binding body; ``pod_name`` is the one on the URL of
    ``pods/NAME/binding`` (None for the legacy ``bindings`` collection, where the Binding's own name says it)."""
    if not isinstance(body, dict):
        raise bad_request("the body of a binding request must be a JSON or YAML object (a v1 Binding)")
    if body.get("apiVersion") not in (None, "v1") or body.get("kind") not in (None, "Binding"):
        raise bad_request(f"a pod is bound with a v1 Binding, not {body.get('apiVersion')} {body.get('kind')}")
    meta = body.get("metadata") or {}
    name = meta.get("name") or ""
    if pod_name is not None:
        if name and name != pod_name:
            raise bad_request("name in URL does not match name in Binding object")
        name = pod_name
    causes = []
    if not name:
        causes.append(("metadata.name", "Required value: name or generateName is required"))
    target = body.get("target") or {}
    if target.get("kind", "") not in BINDING_KINDS:
        causes.append(("target.kind", "Not supported value: must be empty or 'Node'"))
    if not target.get("name"):
        causes.append(("target.name", "Required value"))
    if causes:
        raise error(
            422,
            f'Binding "{name}" is invalid: ' + "; ".join(f"{f}: {m}" for f, m in causes),
            "Invalid",
            {
                "name": name,
                "kind": "Binding",
                "causes": [{"reason": "FieldValueInvalid", "message": m, "field": f} for f, m in causes],
            },
        )
    return name, target["name"], dict(meta.get("annotations") or {})


def bound_pod(pods_rt, pod: dict, node: str, annotations: dict, uid: str | None, now: str) -> dict:
    """The pod once bound to ``node``; 409 as the apiserver answers when it is already bound or going away."""
    meta, name = pod["metadata"], pod["metadata"]["name"]
    if uid and uid != meta.get("uid"):
        raise conflict(
            pods_rt, name, f"Precondition failed: UID in precondition: {uid}, UID in object meta: {meta.get('uid')}"
        )
    if meta.get("deletionTimestamp"):
        raise _binding_conflict(name, f"pod {name} is being deleted, cannot be assigned to a host")
    current = (pod.get("spec") or {}).get("nodeName")
    if current:
        raise _binding_conflict(name, f'pod {name} is already assigned to node "{current}"')
    new = copy.deepcopy(pod)
    new.setdefault("spec", {})["nodeName"] = node
    if annotations:
        new["metadata"].setdefault("annotations", {}).update(annotations)
    conditions = new.setdefault("status", {}).setdefault("conditions", [])
    scheduled = next((c for c in conditions if c.get("type") == "PodScheduled"), None)
    if scheduled is None:
        conditions.append({"type": "PodScheduled", "status": "True", "lastProbeTime": None, "lastTransitionTime": now})
    elif scheduled.get("status") != "True":
        scheduled.update(status="True", lastTransitionTime=now)
        scheduled.pop("reason", None)
        scheduled.pop("message", None)
    return new


def _binding_conflict(name: str, why: str):
    return error(
        409,
        f'Operation cannot be fulfilled on pods/binding "{name}": {why}',
        "Conflict",
        {"name": name, "kind": "pods/binding"},
    )


def binding_success() -> dict:
    """What a binding POST answers (the apiserver returns a Status, not the Binding)."""
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}
