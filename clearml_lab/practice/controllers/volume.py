"""PersistentVolumeClaims: bind to the default StorageClass, provision a PV when the driver has room for it (its
total is --storage-capacity, default 8Ti), reclaim the PV when its claim goes, and release the protection
finalizer once no pod uses a deleted claim. Like the CSI external-provisioner, it keeps the driver's
CSIStorageCapacity saying what is still free (the total less its volumes), which the scheduler and the lab's
storage prerequisite read."""

from __future__ import annotations

import copy

from ..client import ControllerContext, WatchEvent
from ..lifecycle import lifecycle_data, quantity
from .base import (
    Cache,
    Create,
    Delete,
    Event,
    Key,
    Loop,
    Update,
    UpdateStatus,
    Wake,
    controller_identity,
    is_terminating,
    key_of,
    parse_time,
    pod_active,
)
from .timing import retry_at

PVC = "persistentvolumeclaims"
PV = "persistentvolumes"
SC = "storageclasses.storage.k8s.io"
CAP = "csistoragecapacities.storage.k8s.io"
IDENTITY = controller_identity("persistent-volume-binder")
COMPONENT = "persistentvolume-controller"
DEFAULT_CLASS = "storageclass.kubernetes.io/is-default-class"
SELECTED_NODE = "volume.kubernetes.io/selected-node"
PROTECTION = "kubernetes.io/pvc-protection"
# The labels external-provisioner puts on the CSIStorageCapacity objects it maintains; only those are rewritten.
MANAGED_BY, PUBLISHER, DRIVER = "csi.storage.k8s.io/managed-by", "external-provisioner", "csi.storage.k8s.io/drivername"
BINARY_UNITS = (("Ei", 2**60), ("Pi", 2**50), ("Ti", 2**40), ("Gi", 2**30), ("Mi", 2**20), ("Ki", 2**10))


def default_class(classes: list[dict]) -> dict | None:
    defaults = [c for c in classes if (c["metadata"].get("annotations") or {}).get(DEFAULT_CLASS) == "true"]
    return max(defaults, key=lambda c: c["metadata"].get("creationTimestamp", "")) if defaults else None


def total_capacity(settings: dict) -> int:
    """What the practice driver's storage holds in all (--storage-capacity)."""
    return quantity(settings.get("storage_capacity") or lifecycle_data()["storage"]["default_capacity"])


def used_by_class(class_name: str, volumes: list[dict]) -> int:
    """Bytes the class's volumes take. Every PersistentVolume counts, a Released one kept by reclaimPolicy Retain
    too: its disk stays allocated until the volume is deleted."""
    return sum(
        quantity((v.get("spec") or {}).get("capacity", {}).get("storage", "0"))
        for v in volumes
        if (v.get("spec") or {}).get("storageClassName") == class_name
    )


def provisionable(class_name: str, volumes: list[dict], settings: dict) -> int:
    """Bytes the driver itself can still provision for the class (its own, always current, view)."""
    return total_capacity(settings) - used_by_class(class_name, volumes)


def free_by_class(classes: list[dict], volumes: list[dict], capacities: list[dict], settings: dict) -> dict[str, int]:
    """Bytes each StorageClass can still provision as the scheduler sees it: the free capacity published in
    CSIStorageCapacity when there is any (it may lag a provisioning by a moment, as on a real cluster), else the
    driver's own count."""
    free = {}
    for sc in classes:
        name = sc["metadata"]["name"]
        published = [c for c in capacities if c.get("storageClassName") == name and c.get("capacity")]
        free[name] = (
            sum(quantity(c["capacity"]) for c in published) if published else provisionable(name, volumes, settings)
        )
    return free


def format_quantity(count: int) -> str:
    """Bytes in the canonical binary form the apiserver prints (``8037Gi``; plain bytes when no unit divides)."""
    count = max(0, count)
    for suffix, unit in BINARY_UNITS:
        if count and count % unit == 0:
            return f"{count // unit}{suffix}"
    return str(count)


def published_capacity(class_name: str, volumes: list[dict], settings: dict) -> str:
    """The ``capacity`` the driver publishes for a class: what is still free, never below zero."""
    return format_quantity(provisionable(class_name, volumes, settings))


def reconcile_capacity(cap: dict, classes: list[dict], volumes: list[dict], settings: dict) -> list:
    """Keep a CSIStorageCapacity this driver publishes equal to its free space."""
    labels = cap["metadata"].get("labels") or {}
    sc = next((c for c in classes if c["metadata"]["name"] == cap.get("storageClassName")), None)
    if labels.get(MANAGED_BY) != PUBLISHER or sc is None or labels.get(DRIVER) != sc.get("provisioner"):
        return []  # someone else's object: not ours to rewrite
    wanted = published_capacity(sc["metadata"]["name"], volumes, settings)
    if cap.get("capacity") and quantity(cap["capacity"]) == quantity(wanted):
        return []
    return [Update(CAP, dict(cap, capacity=wanted))]


def _request(pvc: dict) -> str:
    return ((pvc.get("spec") or {}).get("resources") or {}).get("requests", {}).get("storage", "1Gi")


def _event(pvc: dict, name: str, component: str | None = None, **fields) -> Event:
    spec = lifecycle_data()["storage"][name]
    return Event(
        pvc,
        spec["reason"],
        spec["message"].format(**fields),
        component or spec.get("component", COMPONENT),
        type=spec.get("type", "Normal"),
    )


def new_volume(pvc: dict, sc: dict) -> dict:
    m = pvc["metadata"]
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {
            "name": f"pvc-{m['uid']}",
            "annotations": {
                "pv.kubernetes.io/provisioned-by": sc["provisioner"],
                "volume.kubernetes.io/provisioner-deletion-secret-name": "",
                "volume.kubernetes.io/provisioner-deletion-secret-namespace": "",
            },
        },
        "spec": {
            "capacity": {"storage": _request(pvc)},
            "accessModes": pvc["spec"].get("accessModes") or ["ReadWriteOnce"],
            "persistentVolumeReclaimPolicy": sc.get("reclaimPolicy", "Delete"),
            "storageClassName": sc["metadata"]["name"],
            "volumeMode": pvc["spec"].get("volumeMode", "Filesystem"),
            "claimRef": {
                "kind": "PersistentVolumeClaim",
                "apiVersion": "v1",
                "namespace": m["namespace"],
                "name": m["name"],
                "uid": m["uid"],
                "resourceVersion": m.get("resourceVersion"),
            },
            "csi": {"driver": sc["provisioner"], "volumeHandle": f"pvc-{m['uid']}", "fsType": "ext4"},
        },
        "status": {"phase": "Bound"},
    }


def bind(pvc: dict, pv: dict, provisioner: str | None) -> list:
    bound = copy.deepcopy(pvc)
    bound["spec"]["volumeName"] = pv["metadata"]["name"]
    ann = bound["metadata"].setdefault("annotations", {})
    ann.update({"pv.kubernetes.io/bind-completed": "yes", "pv.kubernetes.io/bound-by-controller": "yes"})
    if provisioner:
        ann.update(
            {
                "volume.beta.kubernetes.io/storage-provisioner": provisioner,
                "volume.kubernetes.io/storage-provisioner": provisioner,
            }
        )
    status = {
        "phase": "Bound",
        "accessModes": pv["spec"].get("accessModes"),
        "capacity": dict(pv["spec"].get("capacity") or {}),
    }
    return [Update(PVC, bound), UpdateStatus(PVC, dict(bound, status=status))]


def reconcile_claim(
    pvc: dict, volumes: list[dict], classes: list[dict], pods: list[dict], settings: dict, now: float, scale: float
) -> list:
    m, spec = pvc["metadata"], pvc.get("spec") or {}
    ns, name = m["namespace"], m["name"]
    if is_terminating(pvc):
        users = [
            p
            for p in pods
            if pod_active(p)
            and any(
                (v.get("persistentVolumeClaim") or {}).get("claimName") == name for v in p["spec"].get("volumes") or []
            )
        ]
        if PROTECTION in (m.get("finalizers") or []) and not users:
            released = copy.deepcopy(pvc)
            released["metadata"]["finalizers"] = [f for f in m["finalizers"] if f != PROTECTION]
            return [Update(PVC, released)]
        return []
    if spec.get("volumeName"):
        pv = next((v for v in volumes if v["metadata"]["name"] == spec["volumeName"]), None)
        if pv and (pvc.get("status") or {}).get("phase") != "Bound":
            return bind(pvc, pv, None)[1:]
        return []

    class_name = spec.get("storageClassName")
    if class_name is None:
        default = default_class(classes)
        if default:  # retroactive default class assignment (Kubernetes 1.28+)
            assigned = copy.deepcopy(pvc)
            assigned["spec"]["storageClassName"] = default["metadata"]["name"]
            return [Update(PVC, assigned)]
        return [_event(pvc, "no_class")]

    request = quantity(_request(pvc))
    modes = set(spec.get("accessModes") or [])
    for pv in volumes:  # a matching pre-provisioned volume first
        pv_spec = pv.get("spec") or {}
        if (
            (pv.get("status") or {}).get("phase") == "Available"
            and not pv_spec.get("claimRef")
            and (pv_spec.get("storageClassName") or "") == class_name
            and quantity((pv_spec.get("capacity") or {}).get("storage", "0")) >= request
            and modes <= set(pv_spec.get("accessModes") or [])
        ):
            claimed = copy.deepcopy(pv)
            claimed["spec"]["claimRef"] = {
                "kind": "PersistentVolumeClaim",
                "apiVersion": "v1",
                "namespace": ns,
                "name": name,
                "uid": m["uid"],
            }
            return [
                Update(PV, claimed),
                UpdateStatus(PV, dict(claimed, status={"phase": "Bound"})),
                *bind(pvc, claimed, None),
            ]
    if class_name == "":
        return [_event(pvc, "no_class")]
    sc = next((c for c in classes if c["metadata"]["name"] == class_name), None)
    if sc is None:
        return [
            Event(
                pvc,
                "ProvisioningFailed",
                f'storageclass.storage.k8s.io "{class_name}" not found',
                COMPONENT,
                type="Warning",
            )
        ]
    if sc.get("volumeBindingMode") == "WaitForFirstConsumer" and not (m.get("annotations") or {}).get(SELECTED_NODE):
        return [_event(pvc, "wait_for_consumer")]
    provisioner = sc["provisioner"]
    free = provisionable(class_name, volumes, settings)
    if request > free:
        failing = parse_time(m.get("creationTimestamp"))
        return [
            _event(
                pvc,
                "provisioning_failed",
                provisioner,
                storage_class=class_name,
                requested=request,
                available=max(0, free),
            ),
            Wake(key_of(PVC, pvc), retry_at(failing, now, scale)),
        ]
    pv = new_volume(pvc, sc)
    return [
        _event(pvc, "provisioning", provisioner, namespace=ns, claim=name),
        Create(PV, pv, on_success=lambda created: [UpdateStatus(PV, dict(created, status={"phase": "Bound"}))]),
        _event(pvc, "provisioned", provisioner, volume=pv["metadata"]["name"]),
        *bind(pvc, pv, provisioner),
    ]


def reconcile_volume(pv: dict, claims: list[dict]) -> list:
    ref = (pv.get("spec") or {}).get("claimRef")
    if not ref or is_terminating(pv):
        return []
    claim = next(
        (
            c
            for c in claims
            if c["metadata"]["name"] == ref.get("name") and c["metadata"].get("namespace") == ref.get("namespace")
        ),
        None,
    )
    if claim is not None and (not ref.get("uid") or claim["metadata"].get("uid") == ref.get("uid")):
        if (pv.get("status") or {}).get("phase") != "Bound":
            return [UpdateStatus(PV, dict(pv, status={"phase": "Bound"}))]
        return []
    if pv["spec"].get("persistentVolumeReclaimPolicy", "Delete") == "Delete":
        return [Delete(PV, pv["metadata"]["name"], None)]
    if (pv.get("status") or {}).get("phase") != "Released":
        return [UpdateStatus(PV, dict(pv, status={"phase": "Released"}))]
    return []


def keys_for(event: WatchEvent, cache: Cache) -> list[Key]:
    obj = event.object
    if event.resource == PVC:
        keys = [key_of(PVC, obj)]
        if event.type == "DELETED":  # its volume may be reclaimed now
            keys += [
                key_of(PV, v)
                for v in cache.list(PV)
                if ((v.get("spec") or {}).get("claimRef") or {}).get("uid") == obj["metadata"].get("uid")
            ]
        return keys
    if event.resource == PV:  # a volume made or gone changes what is free
        return [key_of(PV, obj)] + [key_of(CAP, c) for c in cache.list(CAP)]
    if event.resource == CAP and event.type != "DELETED":
        return [key_of(CAP, obj)] + [
            key_of(PVC, c) for c in cache.list(PVC) if (c.get("status") or {}).get("phase") != "Bound"
        ]
    if event.resource == "pods":
        if event.type != "DELETED" and pod_active(obj):
            return []
        ns = obj["metadata"].get("namespace")
        names = {
            (v.get("persistentVolumeClaim") or {}).get("claimName")
            for v in (obj.get("spec") or {}).get("volumes") or []
        }
        return [(PVC, ns, n) for n in names if n]
    # a StorageClass or capacity change may unblock pending claims
    return [key_of(PVC, c) for c in cache.list(PVC) if (c.get("status") or {}).get("phase") != "Bound"] + [
        key_of(CAP, c) for c in cache.list(CAP)
    ]


async def run(ctx: ControllerContext) -> None:
    def reconcile(key: Key, cache: Cache, now: float) -> list:
        resource, ns, name = key
        if resource == PV:
            pv = cache.get(PV, None, name)
            return reconcile_volume(pv, cache.list(PVC)) if pv else []
        if resource == CAP:
            cap = cache.get(CAP, ns, name)
            return reconcile_capacity(cap, cache.list(SC), cache.list(PV), ctx.settings) if cap else []
        pvc = cache.get(PVC, ns, name)
        if pvc is None:
            return []
        return reconcile_claim(
            pvc, cache.list(PV), cache.list(SC), cache.list("pods", ns), ctx.settings, now, ctx.time_scale
        )

    await Loop(ctx, IDENTITY, [PVC, PV, SC, CAP, "pods"], keys_for, reconcile).run()
