"""Server-side tables (``Accept: application/json;as=Table;g=meta.k8s.io;v=v1``), so ``kubectl get`` prints the
columns a real cluster prints. Column definitions are data (data/tables.yaml); the cells that need logic are the
small functions below, each following the upstream printer of the same column."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import cache

from .registry import load_data


def wants_table(accept: str | None) -> bool:
    """True when the first acceptable representation is a meta.k8s.io Table (kubectl get asks this way)."""
    first = (accept or "").split(",")[0]
    params = {p.split("=")[0].strip(): p.split("=", 1)[1].strip() for p in first.split(";")[1:] if "=" in p}
    return params.get("as") == "Table" and params.get("g") == "meta.k8s.io"


def _parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.strptime(text[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
    except ValueError:
        return None


def human_duration(seconds: float) -> str:
    """apimachinery's duration.HumanDuration."""
    if seconds < -1:
        return "<invalid>"
    if seconds < 0:
        return "0s"
    s = int(seconds)
    if s < 120:
        return f"{s}s"
    minutes = s // 60
    if minutes < 10:
        return f"{minutes}m" if s % 60 == 0 else f"{minutes}m{s % 60}s"
    if minutes < 180:
        return f"{minutes}m"
    hours = s // 3600
    if hours < 8:
        return f"{hours}h" if minutes % 60 == 0 else f"{hours}h{minutes % 60}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        return f"{hours // 24}d" if hours % 24 == 0 else f"{hours // 24}d{hours % 24}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        days = (hours // 24) % 365
        return f"{hours // 24 // 365}y" if days == 0 else f"{hours // 24 // 365}y{days}d"
    return f"{hours // 24 // 365}y"


def _since(text: str | None) -> str:
    when = _parse_time(text)
    if when is None:
        return "<unknown>"
    return human_duration((datetime.now(UTC) - when).total_seconds())


def _path(obj, path: str):
    cur = obj
    for key in path.strip(".").split("."):
        cur = cur.get(key) if isinstance(cur, dict) else None
    return cur


def _pod_spec(obj: dict) -> dict:
    return ((obj.get("spec") or {}).get("template") or {}).get("spec") or {}


# ---- cells ---------------------------------------------------------------------------------------------------------


def _pod_ready(pod):
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    total = len((pod.get("spec") or {}).get("containers") or [])
    return f"{sum(1 for s in statuses if s.get('ready'))}/{total}"


def _pod_status(pod):
    status = pod.get("status") or {}
    reason = status.get("reason") or status.get("phase") or ""
    init_statuses = status.get("initContainerStatuses") or []
    init_total = len((pod.get("spec") or {}).get("initContainers") or [])
    initializing = False
    for i, s in enumerate(init_statuses):
        term, wait = (s.get("state") or {}).get("terminated"), (s.get("state") or {}).get("waiting")
        if term and term.get("exitCode") == 0:
            continue
        initializing = True
        if term:
            reason = "Init:" + (
                term.get("reason")
                or (f"Signal:{term['signal']}" if term.get("signal") else f"ExitCode:{term.get('exitCode')}")
            )
        elif wait and wait.get("reason") and wait.get("reason") != "PodInitializing":
            reason = "Init:" + wait["reason"]
        else:
            reason = f"Init:{i}/{init_total}"
        break
    if not initializing:
        running = False
        for s in reversed(status.get("containerStatuses") or []):
            state = s.get("state") or {}
            if (state.get("waiting") or {}).get("reason"):
                reason = state["waiting"]["reason"]
            elif state.get("terminated"):
                term = state["terminated"]
                reason = term.get("reason") or (
                    f"Signal:{term['signal']}" if term.get("signal") else f"ExitCode:{term.get('exitCode')}"
                )
            elif s.get("ready") and state.get("running") is not None:
                running = True
        if reason == "Completed" and running:
            ready = any(c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions") or [])
            reason = "Running" if ready else "NotReady"
    if (pod.get("metadata") or {}).get("deletionTimestamp"):
        reason = "Unknown" if status.get("reason") == "NodeLost" else "Terminating"
    return reason


def _pod_restarts(pod):
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    count = sum(int(s.get("restartCount") or 0) for s in statuses)
    last = max(
        (_parse_time(((s.get("lastState") or {}).get("terminated") or {}).get("finishedAt")) for s in statuses),
        default=None,
        key=lambda t: t or datetime.min.replace(tzinfo=UTC),
    )
    if count and last:
        return f"{count} ({human_duration((datetime.now(UTC) - last).total_seconds())} ago)"
    return str(count)


def _readiness_gates(pod):
    gates = (pod.get("spec") or {}).get("readinessGates") or []
    if not gates:
        return None
    conditions = {c.get("type"): c.get("status") for c in (pod.get("status") or {}).get("conditions") or []}
    return f"{sum(1 for g in gates if conditions.get(g.get('conditionType')) == 'True')}/{len(gates)}"


def _selector(obj):
    sel = (obj.get("spec") or {}).get("selector") or {}
    parts = [f"{k}={v}" for k, v in (sel.get("matchLabels") or {}).items()]
    for e in sel.get("matchExpressions") or []:
        parts.append(f"{e.get('key')} {e.get('operator', '').lower()} ({','.join(e.get('values') or [])})")
    return ",".join(parts) or "<none>"


def _service_ports(svc):
    ports = (svc.get("spec") or {}).get("ports") or []
    out = [
        f"{p.get('port')}:{p['nodePort']}/{p.get('protocol', 'TCP')}"
        if p.get("nodePort")
        else f"{p.get('port')}/{p.get('protocol', 'TCP')}"
        for p in ports
    ]
    return ",".join(out) or "<none>"


def _service_external_ip(svc):
    spec = svc.get("spec") or {}
    if spec.get("type") == "ExternalName":
        return spec.get("externalName") or "<none>"
    ips = list(spec.get("externalIPs") or [])
    if spec.get("type") == "LoadBalancer":
        ips += [
            i.get("ip") or i.get("hostname")
            for i in ((svc.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
        ]
        return ",".join(ips) or "<pending>"
    return ",".join(ips) or "<none>"


def _endpoints(ep):
    out = []
    for subset in ep.get("subsets") or []:
        for address in subset.get("addresses") or []:
            for port in subset.get("ports") or [{}]:
                out.append(f"{address.get('ip')}:{port.get('port')}" if port else address.get("ip"))
    if not out:
        return "<none>"
    return ",".join(out[:3]) + (f" + {len(out) - 3} more..." if len(out) > 3 else "")


def _access_modes(obj):
    short = {"ReadWriteOnce": "RWO", "ReadOnlyMany": "ROX", "ReadWriteMany": "RWX", "ReadWriteOncePod": "RWOP"}
    modes = (obj.get("status") or {}).get("accessModes") or (obj.get("spec") or {}).get("accessModes") or []
    return ",".join(short.get(m, m) for m in modes)


def _job_status(job):
    conditions = {c.get("type"): c.get("status") for c in (job.get("status") or {}).get("conditions") or []}
    for kind in ("Complete", "Failed", "Suspended"):
        if conditions.get(kind) == "True":
            return kind
    return "FailureTarget" if conditions.get("FailureTarget") == "True" else "Running"


def _job_completions(job):
    completions = (job.get("spec") or {}).get("completions")
    succeeded = (job.get("status") or {}).get("succeeded") or 0
    if completions is not None:
        return f"{succeeded}/{completions}"
    return f"{succeeded}/1 of {(job.get('spec') or {}).get('parallelism', 1)}"


def _job_duration(job):
    status = job.get("status") or {}
    start, end = _parse_time(status.get("startTime")), _parse_time(status.get("completionTime"))
    if start is None:
        return ""
    return human_duration(((end or datetime.now(UTC)) - start).total_seconds())


def _event_object(ev):
    inv = ev.get("involvedObject") or {}
    return f"{(inv.get('kind') or '').lower()}/{inv.get('name', '')}"


def _storage_class_name(sc):
    default = (sc.get("metadata", {}).get("annotations") or {}).get("storageclass.kubernetes.io/is-default-class")
    return sc["metadata"]["name"] + (" (default)" if default == "true" else "")


def _route_host(route):
    return (route.get("spec") or {}).get("host") or "<none>"


def _route_services(route):
    spec = route.get("spec") or {}
    names = [spec.get("to", {}).get("name")] + [b.get("name") for b in spec.get("alternateBackends") or []]
    return ",".join(n for n in names if n)


def _route_termination(route):
    tls = (route.get("spec") or {}).get("tls") or {}
    if not tls.get("termination"):
        return ""
    policy = tls.get("insecureEdgeTerminationPolicy")
    return tls["termination"] + (f"/{policy}" if policy else "")


def _subjects(kind: str):
    def cell(binding):
        subjects = [s for s in binding.get("subjects") or [] if s.get("kind") == kind]
        if kind == "ServiceAccount":
            return ", ".join(f"{s.get('namespace', '')}/{s.get('name')}" for s in subjects)
        return ", ".join(s.get("name", "") for s in subjects)

    return cell


CELLS = {
    "name": lambda o: o["metadata"]["name"],
    "age": lambda o: _since(o["metadata"].get("creationTimestamp")),
    "pod_ready": _pod_ready,
    "pod_status": _pod_status,
    "pod_restarts": _pod_restarts,
    "readiness_gates": _readiness_gates,
    "ready_of_replicas": lambda o: (
        f"{(o.get('status') or {}).get('readyReplicas') or 0}/{(o.get('spec') or {}).get('replicas', 1)}"
    ),
    "containers": lambda o: ",".join(c.get("name", "") for c in _pod_spec(o).get("containers") or []),
    "images": lambda o: ",".join(c.get("image", "") for c in _pod_spec(o).get("containers") or []),
    "selector": _selector,
    "service_ports": _service_ports,
    "service_external_ip": _service_external_ip,
    "service_selector": lambda o: (
        ",".join(f"{k}={v}" for k, v in ((o.get("spec") or {}).get("selector") or {}).items()) or "<none>"
    ),
    "endpoints": _endpoints,
    "access_modes": _access_modes,
    "pv_claim": lambda o: "/".join(
        filter(None, [((o.get("spec") or {}).get("claimRef") or {}).get(k) for k in ("namespace", "name")])
    ),
    "job_status": _job_status,
    "job_completions": _job_completions,
    "job_duration": _job_duration,
    "event_last_seen": lambda o: _since(
        o.get("lastTimestamp") or o.get("eventTime") or o["metadata"].get("creationTimestamp")
    ),
    "event_object": _event_object,
    "data_count": lambda o: len(o.get("data") or {}) + len(o.get("binaryData") or {}),
    "secret_count": lambda o: len(o.get("secrets") or []),
    "storage_class_name": _storage_class_name,
    "role_ref": lambda o: f"{(o.get('roleRef') or {}).get('kind')}/{(o.get('roleRef') or {}).get('name')}",
    "subjects_users": _subjects("User"),
    "subjects_groups": _subjects("Group"),
    "subjects_service_accounts": _subjects("ServiceAccount"),
    "route_host": _route_host,
    "route_services": _route_services,
    "route_termination": _route_termination,
    "scc_caps": lambda o: json.dumps(o.get("allowedCapabilities")) if o.get("allowedCapabilities") else "<no value>",
    "scc_priority": lambda o: "<no value>" if o.get("priority") is None else o["priority"],
    "scc_volumes": lambda o: json.dumps(o.get("volumes") or []).replace(", ", ","),
}


@cache
def _columns() -> dict:
    return load_data("tables.yaml")


def columns_for(resource: str) -> list[dict]:
    table = _columns()
    return table["resources"].get(resource) or table["default"]


def _cell(obj: dict, column: dict):
    spec = column["cell"]
    value = _path(obj, spec) if spec.startswith(".") else CELLS[spec](obj)
    if value is None or value == "":
        if column.get("type") == "integer":
            return 0
        return "<none>" if column.get("none") else ""
    return value


def _row_object(obj: dict, include: str):
    if include == "None":
        return None
    if include == "Object":
        return obj
    return {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": obj.get("metadata", {})}


def table(
    resource: str,
    objects: list[dict],
    *,
    resource_version: str = "",
    include: str = "Metadata",
    with_columns: bool = True,
    list_meta: dict | None = None,
) -> dict:
    cols = columns_for(resource)
    out = {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": dict(list_meta or {})}
    if resource_version:
        out["metadata"].setdefault("resourceVersion", resource_version)
    if with_columns:
        out["columnDefinitions"] = [
            {
                "name": c["name"],
                "type": c.get("type", "string"),
                "format": "name" if c["cell"] == "name" else "",
                "description": "",
                "priority": c.get("priority", 0),
            }
            for c in cols
        ]
    out["rows"] = [{"cells": [_cell(o, c) for c in cols], "object": _row_object(o, include)} for o in objects]
    return out
