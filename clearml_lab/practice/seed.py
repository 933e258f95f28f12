"""What a fresh practice cluster holds: namespaces, default RBAC, SCCs with their use-roles, the apps domain and
ClusterVersion. Objects are created only when absent, so changes a learner made survive restarts."""

from __future__ import annotations

import copy
import uuid

from .. import scc
from . import admission
from .registry import load_data
from .request import now


def _scc_objects(openshift_version: str) -> list[dict]:
    return list(scc.load_sccs(openshift_version)) + list(scc.default_scc_rbac(openshift_version))


def cluster_version(release) -> dict:
    major_minor = release.openshift
    return {
        "apiVersion": "config.openshift.io/v1",
        "kind": "ClusterVersion",
        # The mark the lab reads to know it talks to a practice cluster (clearml_lab.lab.PRACTICE_ANNOTATION).
        "metadata": {"name": "version", "annotations": {"clearml-lab.io/practice-cluster": "true"}},
        "spec": {"clusterID": str(uuid.uuid4()), "channel": f"stable-{major_minor}"},
        "status": {
            "desired": {"version": release.openshift_full, "channels": [f"stable-{major_minor}"]},
            "history": [
                {
                    "state": "Completed",
                    "version": release.openshift_full,
                    "verified": False,
                    "startedTime": now(),
                    "completionTime": now(),
                    "image": "",
                }
            ],
            "observedGeneration": 1,
            "versionHash": "",
            "conditions": [
                {
                    "type": "Available",
                    "status": "True",
                    "lastTransitionTime": now(),
                    "message": f"Done applying {release.openshift_full}",
                },
                {
                    "type": "Progressing",
                    "status": "False",
                    "lastTransitionTime": now(),
                    "message": f"Cluster version is {release.openshift_full}",
                },
            ],
        },
    }


def seed_objects(release) -> list[dict]:
    data = load_data("seed.yaml")
    namespaces = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": n}} for n in data["namespaces"]]
    return namespaces + data["objects"] + _scc_objects(release.openshift) + [cluster_version(release)]


def seed(api) -> int:
    """Create what is missing; returns how many objects were created."""
    ops = []
    for obj in seed_objects(api.release):
        rt = api.registry.by_kind(obj["apiVersion"], obj["kind"])
        meta = obj["metadata"]
        if api.store.get(rt.name, meta.get("namespace", ""), meta["name"]) is not None:
            continue
        obj = copy.deepcopy(obj)
        obj["metadata"].update(uid=str(uuid.uuid4()), creationTimestamp=now())
        if rt.generation:
            obj["metadata"]["generation"] = 1
        admission.apply_declared_defaults(rt.kind, obj)
        admission.apply_computed_defaults(rt.kind, obj, api.store)
        ops.append(("put", rt.name, obj))
    if ops:
        api.store.commit(ops)
        api.authz.invalidate()
    return len(ops)


def ensure_release(api) -> None:
    """Keep ClusterVersion and the default SCC set in step with --openshift-version when a state dir is reused
    with another release (seed() has already added what the new release has and the old one lacked)."""
    current = api.store.get("clusterversions.config.openshift.io", "", "version")
    if not current or current.get("status", {}).get("desired", {}).get("version") == api.release.openshift_full:
        return
    fresh = cluster_version(api.release)
    updated = copy.deepcopy(current)
    updated["spec"]["channel"] = fresh["spec"]["channel"]
    updated["status"] = fresh["status"]
    ops = [("put", "clusterversions.config.openshift.io", updated)]
    wanted = {(o["kind"], o["metadata"]["name"]) for o in _scc_objects(api.release.openshift)}
    for other in load_data("releases.yaml")["releases"]:
        for obj in _scc_objects(other):
            key = (obj["kind"], obj["metadata"]["name"])
            if key in wanted:
                continue
            rt = api.registry.by_kind(obj["apiVersion"], obj["kind"])
            stored = api.store.get(rt.name, "", obj["metadata"]["name"])
            if stored is not None and (rt.name, key) not in {
                (op[1], (op[2]["kind"], op[2]["metadata"]["name"])) for op in ops
            }:
                ops.append(("delete", rt.name, stored))  # a default of another release only
    api.store.commit(ops)
    api.authz.invalidate()
