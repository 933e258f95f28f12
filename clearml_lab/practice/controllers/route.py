"""Routes: the default host ``<name>-<namespace>.<apps domain>`` and the router's ``Admitted`` status."""

from __future__ import annotations

import copy

from ..client import ControllerContext, WatchEvent
from .base import Cache, Key, Loop, Update, UpdateStatus, controller_identity, is_terminating, key_of, rfc3339

ROUTE = "routes.route.openshift.io"
INGRESS_CONFIG = "ingresses.config.openshift.io"
IDENTITY = controller_identity("ingress-to-route-controller", "openshift-infra")
ROUTER = "default"


def apps_domain(settings: dict, ingress_configs: list[dict]) -> str:
    if settings.get("apps_domain"):
        return settings["apps_domain"]
    cluster = next((c for c in ingress_configs if c["metadata"]["name"] == "cluster"), None)
    spec = (cluster or {}).get("spec") or {}
    # OpenShift uses spec.appsDomain when set, else spec.domain; with neither the suffix below
    return spec.get("appsDomain") or spec.get("domain") or "router.default.svc.cluster.local"


def reconcile_route(route: dict, domain: str, now: float) -> list:
    if is_terminating(route):
        return []
    m = route["metadata"]
    if not (route.get("spec") or {}).get("host"):
        named = copy.deepcopy(route)
        named.setdefault("spec", {})["host"] = f"{m['name'].replace('.', '-')}-{m['namespace']}.{domain}"
        named["metadata"].setdefault("annotations", {})["openshift.io/host.generated"] = "true"
        return [Update(ROUTE, named)]
    host = route["spec"]["host"]
    old = (route.get("status") or {}).get("ingress") or []
    mine = next((i for i in old if i.get("routerName") == ROUTER), None)
    if (
        mine
        and mine.get("host") == host
        and any(c.get("type") == "Admitted" and c.get("status") == "True" for c in mine.get("conditions") or [])
    ):
        return []
    entry = {
        "host": host,
        "routerName": ROUTER,
        "wildcardPolicy": route["spec"].get("wildcardPolicy", "None"),
        "routerCanonicalHostname": f"router-default.{domain}",
        "conditions": [{"type": "Admitted", "status": "True", "lastTransitionTime": rfc3339(now)}],
    }
    others = [i for i in old if i.get("routerName") != ROUTER]
    return [UpdateStatus(ROUTE, dict(route, status={"ingress": [entry, *others]}))]


def keys_for(event: WatchEvent, cache: Cache) -> list[Key]:
    if event.resource == ROUTE:
        return [key_of(ROUTE, event.object)]
    return [key_of(ROUTE, r) for r in cache.list(ROUTE) if not (r.get("spec") or {}).get("host")]


async def run(ctx: ControllerContext) -> None:
    def reconcile(key: Key, cache: Cache, now: float) -> list:
        route = cache.get(*key)
        if route is None:
            return []
        return reconcile_route(route, apps_domain(ctx.settings, cache.list(INGRESS_CONFIG)), now)

    await Loop(ctx, IDENTITY, [ROUTE, INGRESS_CONFIG], keys_for, reconcile).run()
