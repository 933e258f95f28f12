"""Builders shared by the SCC engine tests."""
from __future__ import annotations

import copy

from clearml_lab.scc import Subject, can_use_from_rbac, default_scc_rbac, scc_grant_binding

NAMESPACE = "lab"
UID_BLOCK = "1000680000/10000"
MCS = "s0:c26,c15"
CONTROLLER = Subject(
    "system:serviceaccount:kube-system:replicaset-controller",
    ("system:serviceaccounts", "system:serviceaccounts:kube-system", "system:authenticated"),
)


def namespace(name=NAMESPACE, **annotations):
    values = {"openshift.io/sa.scc.uid-range": UID_BLOCK, "openshift.io/sa.scc.supplemental-groups": UID_BLOCK,
              "openshift.io/sa.scc.mcs": MCS}
    values.update(annotations)
    return {"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": name, "annotations": {k: v for k, v in values.items() if v is not None}}}


def pod(name="p", *, sa="app", pod_sc=None, containers=None, init=None, volumes=None, annotations=None,
        generate_name=None, **spec_extra):
    meta = {"generateName": generate_name} if generate_name else {"name": name}
    if annotations:
        meta["annotations"] = dict(annotations)
    spec = {"serviceAccountName": sa, "containers": containers or [container()]}
    if pod_sc is not None:
        spec["securityContext"] = pod_sc
    if init:
        spec["initContainers"] = init
    if volumes:
        spec["volumes"] = volumes
    spec.update(spec_extra)
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec}


def container(name="c", image="registry.example/app:1", sc=None, **extra):
    out = {"name": name, "image": image}
    if sc is not None:
        out["securityContext"] = sc
    out.update(extra)
    return out


def can_use(version="4.19", grants=()):
    """RBAC of a fresh cluster plus `oc adm policy add-scc-to-user <scc> -z <sa>` for each (scc, sa)."""
    objects = list(default_scc_rbac(version))
    for scc, sa in grants:
        objects.append(scc_grant_binding(scc, NAMESPACE, [sa]))
    return can_use_from_rbac(objects)


def clone(obj):
    return copy.deepcopy(obj)
