"""Applying the same manifest again changes nothing: whatever a chart renders (ports with or without protocol,
env vars, containers, labels, Service ports), the second, third ... apply over the stored, defaulted object gives
back the object of the first apply — managedFields and their timestamps included."""

import copy

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clearml_lab.practice import admission
from clearml_lab.practice.apply import server_side_apply
from clearml_lab.practice.schemas import Schemas

SCHEMAS = Schemas("1.32")
KINDS = {
    "Deployment": ("apps/v1", SCHEMAS.get("io.k8s.api.apps.v1.Deployment")),
    "Service": ("v1", SCHEMAS.get("io.k8s.api.core.v1.Service")),
}


class _NoServices:
    """The computed defaults look for cluster IPs and node ports in use: none here."""

    def list(self, *args, **kwargs):
        return []


def _unique_ports(ports, key):
    seen, out = set(), []
    for port in ports:
        ident = (port[key], port.get("protocol", "TCP"))
        if ident not in seen:
            seen.add(ident)
            out.append(port)
    return out


names = st.sampled_from(["a", "b", "c", "db", "web"])
protocol = st.sampled_from([None, "TCP", "UDP"])
container_port = st.builds(
    lambda port, proto, name: {
        k: v for k, v in (("containerPort", port), ("protocol", proto), ("name", name)) if v is not None
    },
    st.sampled_from([80, 443, 6379, 27017]),
    protocol,
    st.sampled_from([None, "http", "db"]),
)
container = st.builds(
    lambda name, image, ports, env, args: {
        k: v
        for k, v in (
            ("name", name),
            ("image", image),
            ("ports", _unique_ports(ports, "containerPort") or None),
            ("env", [{"name": n, "value": v} for n, v in dict(env).items()] or None),
            ("args", args or None),
        )
        if v is not None
    },
    names,
    st.sampled_from(["mongo:5", "redis:7", "nginx"]),
    st.lists(container_port, max_size=4),
    st.lists(st.tuples(st.sampled_from(["A", "B", "C", "D"]), st.sampled_from(["1", "2"])), max_size=4),
    st.lists(st.sampled_from(["--x", "--y"]), max_size=2),
)
labels = st.dictionaries(st.sampled_from(["app", "tier", "release"]), st.sampled_from(["x", "y"]), min_size=1)


def _deployment(containers, metadata_labels, replicas, empty_affinity):
    unique = list({c["name"]: c for c in containers}.values())
    spec = {
        "selector": {"matchLabels": {"app": "x"}},
        "template": {"metadata": {"labels": {"app": "x"}}, "spec": {"containers": unique}},
    }
    if empty_affinity:  # what a chart renders for `podAffinity: {{- with ... }}` with nothing: nulls
        spec["template"]["spec"]["affinity"] = {"podAffinity": None, "nodeAffinity": None}
    if replicas is not None:
        spec["replicas"] = replicas
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "w", "namespace": "ns", "labels": metadata_labels},
        "spec": spec,
    }


service_port = st.builds(
    lambda port, proto, target, name: {
        k: v for k, v in (("port", port), ("protocol", proto), ("targetPort", target), ("name", name)) if v is not None
    },
    st.sampled_from([80, 443, 6379]),
    protocol,
    st.sampled_from([None, 8080, "http"]),
    st.sampled_from([None, "p"]),
)


def _service(ports, metadata_labels):
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "s", "namespace": "ns", "labels": metadata_labels},
        "spec": {"selector": {"app": "x"}, "ports": _unique_ports(ports, "port")},
    }


manifests = st.one_of(
    st.builds(
        _deployment, st.lists(container, min_size=1, max_size=3), labels, st.sampled_from([None, 1, 2]), st.booleans()
    ),
    st.builds(_service, st.lists(service_port, min_size=1, max_size=3), labels),
)


def _server_apply(stored: dict, manifest: dict) -> dict:
    """What the server keeps after an apply: the merge, then the declared and computed defaults."""
    api_version, schema = KINDS[manifest["kind"]]
    out = server_side_apply(
        copy.deepcopy(stored),
        copy.deepcopy(manifest),
        manager="helm",
        force=False,
        schema=schema,
        schemas=SCHEMAS,
        api_version=api_version,
        rt_name=manifest["kind"],
    )
    admission.apply_declared_defaults(manifest["kind"], out)
    admission.apply_computed_defaults(manifest["kind"], out, _NoServices())
    return out


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(manifests, st.integers(min_value=1, max_value=4))
def test_applying_the_same_manifest_n_times_gives_the_object_of_the_first_apply(manifest, times):
    first = _server_apply({"metadata": {}}, manifest)
    current = first
    for _ in range(times):
        current = _server_apply(current, manifest)
        assert current == first
    # and no list item of a keyed list was added twice
    for item in _keyed_lists(first):
        assert len(item) == len({_ident(x) for x in item})


def _keyed_lists(obj):
    spec = obj["spec"]
    if obj["kind"] == "Service":
        yield spec["ports"]
        return
    for c in spec["template"]["spec"]["containers"]:
        yield c.get("ports") or []
        yield c.get("env") or []


def _ident(item):
    if "containerPort" in item:
        return item["containerPort"], item["protocol"]
    if "port" in item:
        return item["port"], item["protocol"]
    return item["name"]
