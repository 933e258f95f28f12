"""OpenShift's ingress-to-route controller: every path of an Ingress rule that names a host and a Service becomes a
Route owned by the Ingress (named after it, with a generated suffix) and kept in step with it; a Route whose path
left the Ingress is deleted, and deleting the Ingress deletes its Routes (through their owner reference).

Only Ingresses of no class, or of a class whose controller is ``openshift.io/ingress-to-route`` (OpenShift's
``openshift-default``), are OpenShift's. TLS: a host listed in ``spec.tls`` (or a ``tls: [{}]`` entry) makes a
secure Route, terminated as the ``route.openshift.io/termination`` annotation says (edge, passthrough or
reencrypt; anything else, or nothing, is edge). The certificate itself is not copied: nothing here serves traffic.
"""

from __future__ import annotations

from ..client import ControllerContext, WatchEvent
from .base import (
    Cache,
    Create,
    Delete,
    Key,
    Loop,
    Update,
    by_controller,
    controller_identity,
    is_terminating,
    key_of,
    owned_by,
    owner_ref,
)
from .route import ROUTE

INGRESS = "ingresses.networking.k8s.io"
INGRESS_CLASS = "ingressclasses.networking.k8s.io"
SERVICE = "services"
CONTROLLER = "openshift.io/ingress-to-route"
TERMINATION = "route.openshift.io/termination"
TERMINATIONS = ("edge", "passthrough", "reencrypt")
IDENTITY = controller_identity("ingress-to-route-controller", "openshift-infra")


def is_openshifts(ingress: dict, classes: dict[str, dict]) -> bool:
    name = (ingress.get("spec") or {}).get("ingressClassName")
    if not name:
        return True
    return ((classes.get(name) or {}).get("spec") or {}).get("controller") == CONTROLLER


def _target_port(service: dict, port: dict) -> int | str | None:
    """The Route's targetPort for an Ingress backend port: the Service port's name when it has one, else its
    targetPort (the router sends traffic to the endpoints, not to the Service's own port)."""
    for candidate in (service.get("spec") or {}).get("ports") or []:
        if candidate.get("port") == port.get("number") or (port.get("name") and candidate.get("name") == port["name"]):
            return candidate.get("name") or candidate.get("targetPort") or candidate.get("port")
    return None


def wanted_routes(ingress: dict, services: dict[str, dict]) -> dict[tuple[str, str], dict]:
    """(host, path) -> the Route spec the Ingress calls for; paths whose Service does not exist yet wait for it."""
    spec = ingress.get("spec") or {}
    tls_hosts = [entry.get("hosts") or None for entry in spec.get("tls") or []]
    termination = (ingress["metadata"].get("annotations") or {}).get(TERMINATION) or "edge"
    termination = termination if termination in TERMINATIONS else "edge"
    wanted = {}
    for rule in spec.get("rules") or []:
        host = rule.get("host")
        for path in ((rule.get("http") or {}).get("paths") or []) if host else []:
            backend = (path.get("backend") or {}).get("service") or {}
            service = services.get(backend.get("name"))
            target = _target_port(service, backend.get("port") or {}) if service else None
            if target is None:
                continue
            route = {
                "host": host,
                "to": {"kind": "Service", "name": backend["name"], "weight": 100},
                "port": {"targetPort": target},
                "wildcardPolicy": "None",
            }
            secure = any(hosts is None or host in hosts for hosts in tls_hosts)
            if secure:
                route["tls"] = {"termination": termination, "insecureEdgeTerminationPolicy": "Redirect"}
            if path.get("path") and not (secure and termination == "passthrough"):
                route["path"] = path["path"]
            wanted[(host, route.get("path", ""))] = route
    return wanted


def reconcile_ingress(ingress: dict, routes: list[dict], services: dict[str, dict], classes: dict[str, dict]) -> list:
    if is_terminating(ingress):
        return []  # the garbage collector deletes the Routes it owns
    mine = [r for r in routes if owned_by(r, ingress)]
    wanted = wanted_routes(ingress, services) if is_openshifts(ingress, classes) else {}
    actions: list = []
    for route in mine:
        spec = route.get("spec") or {}
        want = wanted.pop((spec.get("host"), spec.get("path", "")), None)
        if want is None:
            actions.append(Delete(ROUTE, route["metadata"]["name"], route["metadata"]["namespace"]))
        elif any(spec.get(field) != value for field, value in want.items()):
            # Only the fields the Ingress defines are managed; a user's other changes to the Route stay.
            actions.append(Update(ROUTE, dict(route, spec={**spec, **want})))
    m = ingress["metadata"]
    for spec in wanted.values():
        actions.append(
            Create(
                ROUTE,
                {
                    "apiVersion": "route.openshift.io/v1",
                    "kind": "Route",
                    "metadata": {
                        "generateName": f"{m['name']}-",
                        "namespace": m["namespace"],
                        "ownerReferences": [owner_ref(ingress)],
                    },
                    "spec": spec,
                },
            )
        )
    return actions


def keys_for(event: WatchEvent, cache: Cache) -> list[Key]:
    if event.resource == INGRESS:
        return [key_of(INGRESS, event.object)]
    if event.resource == ROUTE:
        return by_controller(INGRESS, "Ingress", event)
    if event.resource == SERVICE:  # a backend Service appeared, changed its ports, or went
        name, ns = event.object["metadata"]["name"], event.object["metadata"].get("namespace")
        return [key_of(INGRESS, i) for i in cache.list(INGRESS, ns) if name in _backends(i)]
    return [key_of(INGRESS, i) for i in cache.list(INGRESS)]  # an IngressClass changed


def _backends(ingress: dict) -> set[str]:
    return {
        ((p.get("backend") or {}).get("service") or {}).get("name")
        for rule in (ingress.get("spec") or {}).get("rules") or []
        for p in (rule.get("http") or {}).get("paths") or []
    }


async def run(ctx: ControllerContext) -> None:
    def reconcile(key: Key, cache: Cache, now: float) -> list:
        ingress = cache.get(*key)
        if ingress is None:
            return []
        ns = key[1]
        services = {s["metadata"]["name"]: s for s in cache.list(SERVICE, ns)}
        classes = {c["metadata"]["name"]: c for c in cache.list(INGRESS_CLASS)}
        return reconcile_ingress(ingress, cache.list(ROUTE, ns), services, classes)

    await Loop(ctx, IDENTITY, [INGRESS, ROUTE, SERVICE, INGRESS_CLASS], keys_for, reconcile).run()
