"""StatefulSet → ordered pods ``<sts>-0 …`` with their PersistentVolumeClaims ``<template>-<sts>-<i>``, and one
ControllerRevision per pod template (what ``kubectl rollout history|undo`` read).
OrderedReady: a pod is created only when every lower ordinal is Running and Ready, and nothing else happens while
one is not — so a pod that never became Ready blocks a rolling update until someone deletes it, as upstream
(kubernetes#67250). Parallel: pods are created and replaced without waiting for each other, so a stale pod that
never became Ready is replaced. Scale-down and rolling updates go from the highest ordinal down, one pod at a
time. Claims made from volumeClaimTemplates are not owned by the StatefulSet (the default Retain policy): they
outlive it and the next StatefulSet of that name binds them again."""

from __future__ import annotations

import copy

from ..client import ControllerContext
from .base import (
    Abort,
    Cache,
    Create,
    Delete,
    Event,
    Update,
    UpdateStatus,
    Wake,
    controller_identity,
    is_terminating,
    key_of,
    owned_by,
    owner_ref,
    pod_ready,
)
from .deployment import template_hash
from .owned import count_available, pod_owner_loop
from .replicaset import pod_from_template
from .timing import Backoff

STS = "statefulsets.apps"
CR = "controllerrevisions.apps"
HASH_LABEL = "controller.kubernetes.io/hash"
COMPONENT = "statefulset-controller"
IDENTITY = controller_identity("statefulset-controller")
REVISION_LABEL = "controller-revision-hash"


def claim_name(template: dict, sts: dict, ordinal: int) -> str:
    return f"{template['metadata']['name']}-{sts['metadata']['name']}-{ordinal}"


def update_revision(sts: dict) -> str:
    collisions = (sts.get("status") or {}).get("collisionCount")
    return f"{sts['metadata']['name']}-{template_hash(sts['spec']['template'], collisions)}"


def revision_object(sts: dict, number: int) -> dict:
    """The ControllerRevision of the StatefulSet's current pod template: the strategic merge patch that puts that
    template back (what ``kubectl rollout undo`` sends), numbered ``number``."""
    name = update_revision(sts)
    template = dict(copy.deepcopy(sts["spec"]["template"]), **{"$patch": "replace"})
    labels = dict((sts["spec"]["template"].get("metadata") or {}).get("labels") or {})
    labels[HASH_LABEL] = name.rsplit("-", 1)[-1]
    return {
        "apiVersion": "apps/v1",
        "kind": "ControllerRevision",
        "metadata": {
            "name": name,
            "namespace": sts["metadata"]["namespace"],
            "labels": labels,
            "ownerReferences": [owner_ref(sts)],
        },
        "data": {"spec": {"template": template}},
        "revision": number,
    }


def revision_actions(sts: dict, revisions: list[dict], pods: list[dict]) -> list:
    """Create the ControllerRevision of the current template, or renumber it as the newest when the template went
    back to an earlier one (a rollback); drop the oldest beyond revisionHistoryLimit that no pod still runs."""
    owned = [r for r in revisions if owned_by(r, sts) and not is_terminating(r)]
    name = update_revision(sts)
    newest = max((int(r.get("revision") or 0) for r in owned), default=0)
    current = next((r for r in owned if r["metadata"]["name"] == name), None)
    actions: list = []
    if current is None:
        actions.append(Create(CR, revision_object(sts, newest + 1)))
    elif int(current.get("revision") or 0) < newest:
        actions.append(Update(CR, dict(current, revision=newest + 1)))
    in_use = {name, (sts.get("status") or {}).get("currentRevision")}
    in_use |= {p["metadata"].get("labels", {}).get(REVISION_LABEL) for p in pods if owned_by(p, sts)}
    idle = sorted((r for r in owned if r["metadata"]["name"] not in in_use), key=lambda r: int(r.get("revision") or 0))
    limit = int(sts["spec"].get("revisionHistoryLimit", 10))
    for r in idle[: max(0, len(idle) - limit)]:
        actions.append(Delete(CR, r["metadata"]["name"], r["metadata"]["namespace"]))
    return actions


def _ordinal(pod: dict, sts: dict) -> int | None:
    prefix = sts["metadata"]["name"] + "-"
    name = pod["metadata"]["name"]
    if name.startswith(prefix) and name[len(prefix) :].isdigit():
        return int(name[len(prefix) :])
    return None


def new_pod(sts: dict, ordinal: int, revision: str) -> dict:
    name = f"{sts['metadata']['name']}-{ordinal}"
    pod = pod_from_template(sts, sts["spec"]["template"], name=name)
    labels = pod["metadata"].setdefault("labels", {})
    labels.update(
        {
            REVISION_LABEL: revision,
            "statefulset.kubernetes.io/pod-name": name,
            "apps.kubernetes.io/pod-index": str(ordinal),
        }
    )
    spec = pod["spec"]
    spec["hostname"] = name
    if sts["spec"].get("serviceName"):
        spec["subdomain"] = sts["spec"]["serviceName"]
    claims = {t["metadata"]["name"]: claim_name(t, sts, ordinal) for t in sts["spec"].get("volumeClaimTemplates") or []}
    volumes = [v for v in spec.get("volumes") or [] if v.get("name") not in claims]
    volumes += [{"name": t, "persistentVolumeClaim": {"claimName": c}} for t, c in claims.items()]
    if volumes:
        spec["volumes"] = volumes
    return pod


def new_claim(sts: dict, template: dict, ordinal: int) -> dict:
    t = copy.deepcopy(template)
    labels = dict((t.get("metadata") or {}).get("labels") or {})
    labels.update((sts["spec"].get("selector") or {}).get("matchLabels") or {})
    claim = {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": claim_name(t, sts, ordinal), "namespace": sts["metadata"]["namespace"], "labels": labels},
        "spec": t.get("spec") or {},
    }
    if (t.get("metadata") or {}).get("annotations"):
        claim["metadata"]["annotations"] = t["metadata"]["annotations"]
    return claim


def _failed(sts: dict, message: str, retry: float) -> list:
    return [Event(sts, "FailedCreate", message, COMPONENT, type="Warning"), Wake(key_of(STS, sts), retry), Abort()]


def reconcile_statefulset(
    sts: dict,
    pods: list[dict],
    claims: list[dict],
    now: float,
    scale: float,
    backoff: Backoff | None = None,
    revisions: list[dict] | None = None,
) -> list:
    backoff = backoff if backoff is not None else Backoff()
    uid = sts["metadata"].get("uid", "")
    name, ns = sts["metadata"]["name"], sts["metadata"]["namespace"]
    spec = sts["spec"]
    replicas = int(spec.get("replicas", 1))
    ordered = spec.get("podManagementPolicy", "OrderedReady") == "OrderedReady"
    revision = update_revision(sts)
    owned = {o: p for p in pods if owned_by(p, sts) and (o := _ordinal(p, sts)) is not None}
    have_claims = {c["metadata"]["name"] for c in claims}
    actions: list = []
    min_ready = int(spec.get("minReadySeconds") or 0)

    def healthy(p: dict) -> bool:
        return (p.get("status") or {}).get("phase") == "Running" and pod_ready(p) and not is_terminating(p)

    if not is_terminating(sts) and revisions is not None:
        actions += revision_actions(sts, revisions, pods)
    if not is_terminating(sts):
        for i in range(replicas):
            pod = owned.get(i)
            if pod is None:
                retry = backoff.due(uid, now)
                if retry is not None:
                    actions.append(Wake(key_of(STS, sts), retry))
                    break
                for t in spec.get("volumeClaimTemplates") or []:
                    cname = claim_name(t, sts, i)
                    if cname in have_claims:
                        continue
                    pod_name = f"{name}-{i}"
                    actions.append(
                        Create(
                            "persistentvolumeclaims",
                            new_claim(sts, t, i),
                            on_success=lambda c, pod_name=pod_name: [
                                Event(
                                    sts,
                                    "SuccessfulCreate",
                                    f"create Claim {c['metadata']['name']} Pod {pod_name} in StatefulSet "
                                    f"{name} success",
                                    COMPONENT,
                                )
                            ],
                            on_error=lambda err, cname=cname, pod_name=pod_name: _failed(
                                sts,
                                f"create Claim {cname} for Pod {pod_name} in StatefulSet {name} "
                                f"failed error: {err.status.get('message', err)}",
                                backoff.failed(uid, now, scale),
                            ),
                        )
                    )
                pod_name = f"{name}-{i}"
                actions.append(
                    Create(
                        "pods",
                        new_pod(sts, i, revision),
                        on_success=lambda p, pod_name=pod_name: [
                            Event(
                                sts,
                                "SuccessfulCreate",
                                f"create Pod {pod_name} in StatefulSet {name} successful",
                                COMPONENT,
                            )
                        ],
                        on_error=lambda err, pod_name=pod_name: _failed(
                            sts,
                            f"create Pod {pod_name} in StatefulSet {name} failed error: "
                            f"{err.status.get('message', err)}",
                            backoff.failed(uid, now, scale),
                        ),
                    )
                )
                if ordered:
                    break
            elif (pod.get("status") or {}).get("phase") in ("Failed", "Succeeded") and not is_terminating(pod):
                actions.append(Delete("pods", pod["metadata"]["name"], ns))
                actions.append(
                    Event(
                        sts,
                        "SuccessfulDelete",
                        f"delete Pod {pod['metadata']['name']} in StatefulSet {name} successful",
                        COMPONENT,
                    )
                )
                if ordered:
                    break
            elif ordered and not healthy(pod):
                break
        else:
            backoff.clear(uid)
            extra = sorted((o for o in owned if o >= replicas), reverse=True)
            everyone_ok = all(healthy(owned[o]) for o in owned if o < replicas)
            if extra and (everyone_ok or not ordered):
                victims = extra[:1] if ordered else extra
                for o in victims:
                    pod = owned[o]
                    if not is_terminating(pod):
                        actions.append(Delete("pods", pod["metadata"]["name"], ns))
                        actions.append(
                            Event(
                                sts,
                                "SuccessfulDelete",
                                f"delete Pod {pod['metadata']['name']} in StatefulSet {name} successful",
                                COMPONENT,
                            )
                        )
            elif (
                not extra
                and (everyone_ok or not ordered)
                and (spec.get("updateStrategy") or {}).get("type", "RollingUpdate") == "RollingUpdate"
            ):
                # From the highest ordinal down: replace the first stale pod, or wait while an updated one is not
                # yet healthy (upstream's rolling update; with OrderedReady it is only reached when all are).
                partition = int(((spec.get("updateStrategy") or {}).get("rollingUpdate") or {}).get("partition") or 0)
                for o in sorted((o for o in owned if partition <= o < replicas), reverse=True):
                    pod = owned[o]
                    if pod["metadata"].get("labels", {}).get(REVISION_LABEL) != revision and not is_terminating(pod):
                        actions.append(Delete("pods", pod["metadata"]["name"], ns))
                        actions.append(
                            Event(
                                sts,
                                "SuccessfulDelete",
                                f"delete Pod {pod['metadata']['name']} in StatefulSet {name} successful",
                                COMPONENT,
                            )
                        )
                        break
                    if not healthy(pod):
                        break

    # Status, from the pods as they are now.
    live = [p for p in owned.values() if not is_terminating(p)]
    old_status = sts.get("status") or {}
    updated = [p for p in live if p["metadata"].get("labels", {}).get(REVISION_LABEL) == revision]
    current_revision = old_status.get("currentRevision") or revision
    if len(updated) == replicas and all(pod_ready(p) for p in updated):
        current_revision = revision
    available, wakes = count_available(live, min_ready, scale, now, key_of(STS, sts))
    actions += wakes
    status = {
        "observedGeneration": sts["metadata"].get("generation", 1),
        "replicas": len(live),
        "readyReplicas": sum(1 for p in live if pod_ready(p)),
        "currentReplicas": sum(
            1 for p in live if p["metadata"].get("labels", {}).get(REVISION_LABEL) == current_revision
        ),
        "updatedReplicas": len(updated),
        "availableReplicas": available,
        "currentRevision": current_revision,
        "updateRevision": revision,
        "collisionCount": old_status.get("collisionCount", 0),
    }
    for k in ("readyReplicas", "currentReplicas", "updatedReplicas"):
        if not status[k]:
            status.pop(k)
    if old_status.get("conditions"):
        status["conditions"] = old_status["conditions"]
    if status != old_status:
        actions.insert(0, UpdateStatus(STS, dict(sts, status=status)))
    return actions


async def run(ctx: ControllerContext) -> None:
    def reconcile(sts: dict, cache: Cache, now: float, backoff: Backoff) -> list:
        ns = sts["metadata"]["namespace"]
        return reconcile_statefulset(
            sts,
            cache.list("pods", ns),
            cache.list("persistentvolumeclaims", ns),
            now,
            ctx.time_scale,
            backoff,
            revisions=cache.list(CR, ns),
        )

    await pod_owner_loop(ctx, IDENTITY, STS, "StatefulSet", reconcile, also_watch=("persistentvolumeclaims", CR)).run()
