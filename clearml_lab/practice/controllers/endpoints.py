"""Service → Endpoints: the addresses of the pods its selector picks, ready ones under ``addresses`` and the
others under ``notReadyAddresses`` (all of them ready when ``publishNotReadyAddresses``)."""

from __future__ import annotations

from ..client import ControllerContext, WatchEvent
from .base import (
    Cache,
    Create,
    Delete,
    Key,
    Loop,
    Update,
    controller_identity,
    is_terminating,
    key_of,
    matches_service_selector,
    pod_ready,
    rfc3339,
)

SVC = "services"
EP = "endpoints"
IDENTITY = controller_identity("endpoint-controller")
TRIGGER = "endpoints.kubernetes.io/last-change-trigger-time"


def _target_port(port: dict, pod: dict) -> int | None:
    target = port.get("targetPort", port.get("port"))
    if isinstance(target, int) or (isinstance(target, str) and target.isdigit()):
        return int(target)
    for container in (pod.get("spec") or {}).get("containers") or []:
        for p in container.get("ports") or []:
            if p.get("name") == target:
                return int(p["containerPort"])
    return None


def _address(pod: dict) -> dict:
    m = pod["metadata"]
    address = {
        "ip": pod["status"]["podIP"],
        "targetRef": {"kind": "Pod", "namespace": m.get("namespace"), "name": m["name"], "uid": m.get("uid")},
    }
    if (pod.get("spec") or {}).get("nodeName"):
        address["nodeName"] = pod["spec"]["nodeName"]
    if pod["spec"].get("hostname") and pod["spec"].get("subdomain"):
        address["hostname"] = pod["spec"]["hostname"]
    return address


def desired_subsets(service: dict, pods: list[dict]) -> list[dict]:
    selector = (service.get("spec") or {}).get("selector")
    publish_all = bool(service["spec"].get("publishNotReadyAddresses"))
    groups: dict[tuple, dict] = {}
    for pod in sorted(pods, key=lambda p: p["metadata"]["name"]):
        if is_terminating(pod) or not (pod.get("status") or {}).get("podIP"):
            continue
        if not matches_service_selector(selector, pod["metadata"].get("labels")):
            continue
        if (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
            continue
        ports = []
        for port in service["spec"].get("ports") or []:
            number = _target_port(port, pod)
            if number is None:
                continue
            entry = {"port": number, "protocol": port.get("protocol", "TCP")}
            if port.get("name"):
                entry["name"] = port["name"]
            if port.get("appProtocol"):
                entry["appProtocol"] = port["appProtocol"]
            ports.append(entry)
        if not ports:
            continue
        key = tuple(sorted((p.get("name", ""), p["port"], p["protocol"]) for p in ports))
        subset = groups.setdefault(key, {"ports": ports})
        field = "addresses" if publish_all or pod_ready(pod) else "notReadyAddresses"
        subset.setdefault(field, []).append(_address(pod))
    return list(groups.values())


def reconcile_service(
    service: dict | None, endpoints: dict | None, pods: list[dict], name: str, namespace: str, now: float = 0.0
) -> list:
    if service is None or is_terminating(service):
        return [Delete(EP, name, namespace)] if endpoints and _managed(endpoints) else []
    if not (service.get("spec") or {}).get("selector"):
        return []  # a Service without a selector has hand-made Endpoints
    subsets = desired_subsets(service, pods)
    labels = dict(service["metadata"].get("labels") or {})
    if service["spec"].get("clusterIP") == "None":
        labels["service.kubernetes.io/headless"] = ""
    if endpoints is None:
        obj = {
            "apiVersion": "v1",
            "kind": "Endpoints",
            "metadata": {
                "name": name,
                "namespace": namespace,
                "labels": labels,
                "annotations": {TRIGGER: rfc3339(now)},
            },
        }
        if subsets:
            obj["subsets"] = subsets
        return [Create(EP, obj)]
    if (endpoints.get("subsets") or []) != subsets or (endpoints["metadata"].get("labels") or {}) != labels:
        annotations = dict(endpoints["metadata"].get("annotations") or {}, **{TRIGGER: rfc3339(now)})
        updated = dict(endpoints, metadata=dict(endpoints["metadata"], labels=labels, annotations=annotations))
        if subsets:
            updated["subsets"] = subsets
        else:
            updated.pop("subsets", None)
        return [Update(EP, updated)]
    return []


def _managed(endpoints: dict) -> bool:
    """Endpoints this controller wrote (it marks them, as Kubernetes does, with the trigger-time annotation)."""
    return TRIGGER in (endpoints["metadata"].get("annotations") or {})


def keys_for(event: WatchEvent, cache: Cache) -> list[Key]:
    obj = event.object
    ns = obj["metadata"].get("namespace")
    if event.resource in (SVC, EP):
        return [(SVC, ns, obj["metadata"]["name"])]
    labels = obj["metadata"].get("labels")
    return [
        key_of(SVC, s)
        for s in cache.list(SVC, ns)
        if matches_service_selector((s.get("spec") or {}).get("selector"), labels)
    ]


async def run(ctx: ControllerContext) -> None:
    def reconcile(key: Key, cache: Cache, now: float) -> list:
        _, ns, name = key
        return reconcile_service(
            cache.get(SVC, ns, name), cache.get(EP, ns, name), cache.list("pods", ns), name, ns, now
        )

    await Loop(ctx, IDENTITY, [SVC, EP, "pods"], keys_for, reconcile).run()
