"""topology.build() and its renderings on hand-written object lists."""

import re
import xml.etree.ElementTree as ET

import pytest

from clearml_lab import topology
from clearml_lab.topology import Claim, PodCounts, build, pod_state, status_lines, to_svg, to_text

NS = "clearml"
SCC_DENIED = (
    'pods "clearml-apiserver-5d9c7b6f4-" is forbidden: unable to validate against any security context '
    'constraint: [provider "anyuid": Forbidden: not usable by user or serviceaccount]'
)


def deployment(name, replicas=1, release="clearml", labels=None, conditions=(), claim=None):
    labels = labels or {"app": name}
    volumes = [{"name": "data", "persistentVolumeClaim": {"claimName": claim}}] if claim else []
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": name,
            "namespace": NS,
            "uid": f"uid-{name}",
            "annotations": {"meta.helm.sh/release-name": release} if release else {},
        },
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": {"volumes": volumes}},
        },
        "status": {"conditions": list(conditions)},
    }


def statefulset(name, replicas=1, release=None, instance=None, claim_template="data"):
    labels = {"app": name}
    meta_labels = {"app.kubernetes.io/instance": instance} if instance else {}
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {
            "name": name,
            "namespace": NS,
            "uid": f"uid-{name}",
            "labels": meta_labels,
            "annotations": {"meta.helm.sh/release-name": release} if release else {},
        },
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": {}},
            "volumeClaimTemplates": [{"metadata": {"name": claim_template}}],
        },
    }


def pod(
    name,
    labels,
    owner=None,
    phase="Running",
    ready=True,
    waiting=None,
    scc="restricted-v2",
    init_waiting=None,
    template_hash=None,
):
    meta = {
        "name": name,
        "namespace": NS,
        "uid": f"uid-{name}",
        "labels": dict(labels),
        "annotations": {"openshift.io/scc": scc} if scc else {},
    }
    if template_hash:
        meta["labels"]["pod-template-hash"] = template_hash
    if owner:
        meta["ownerReferences"] = [{"kind": owner[0], "name": owner[1], "controller": True}]
    status = {
        "phase": phase,
        "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
        "containerStatuses": [
            {"name": "main", "ready": ready, "state": {"waiting": {"reason": waiting}} if waiting else {"running": {}}}
        ],
    }
    if init_waiting:
        status["initContainerStatuses"] = [{"name": "init", "state": {"waiting": {"reason": init_waiting}}}]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "status": status}


def service(name, selector):
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name}, "spec": {"selector": selector}}


def route(name, service_name, host, tls=False):
    spec = {"host": host, "to": {"kind": "Service", "name": service_name}}
    if tls:
        spec["tls"] = {"termination": "edge"}
    return {"apiVersion": "route.openshift.io/v1", "kind": "Route", "metadata": {"name": name}, "spec": spec}


def pvc(name, phase):
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": name}, "status": {"phase": phase}}


def sample_objects():
    web = {"app": "web"}
    return {
        "deployments": [
            deployment("web", replicas=2, labels=web, claim="web-data"),
            deployment("api", replicas=2),
            deployment(
                "blocked",
                replicas=2,
                conditions=[
                    {"type": "ReplicaFailure", "status": "True", "reason": "FailedCreate", "message": SCC_DENIED}
                ],
            ),
        ],
        "statefulsets": [statefulset("mongo", replicas=1, instance="clearml")],
        "pods": [
            pod("web-7f9c-aaaaa", web, owner=("ReplicaSet", "web-7f9c"), template_hash="7f9c"),
            pod("web-7f9c-bbbbb", web, owner=("ReplicaSet", "web-7f9c"), template_hash="7f9c"),
            pod("api-5d9-ccccc", {"app": "api"}, owner=("ReplicaSet", "api-5d9"), template_hash="5d9"),
            pod(
                "api-5d9-ddddd",
                {"app": "api"},
                owner=("ReplicaSet", "api-5d9"),
                template_hash="5d9",
                phase="Running",
                ready=False,
                waiting="CrashLoopBackOff",
            ),
            pod(
                "mongo-0",
                {"app": "mongo"},
                owner=("StatefulSet", "mongo"),
                phase="Pending",
                ready=False,
                waiting="ContainerCreating",
                scc="anyuid",
            ),
            pod("stray", {"app": "none"}),
        ],
        "services": [service("web", web), service("api", {"app": "api"})],
        "persistentvolumeclaims": [pvc("web-data", "Bound"), pvc("data-mongo-0", "Pending")],
        "routes": [route("app", "web", "app.apps.example.com"), route("api", "api", "api.apps.example.com", tls=True)],
    }


@pytest.fixture
def objects():
    return sample_objects()


def test_model_counts_states_and_groups(objects):
    topo = build(objects, NS)
    assert [g.release for g in topo.groups] == ["clearml"]  # annotation and instance label both group
    assert [n.ref for n in topo.nodes] == [
        "deployment/api",
        "deployment/blocked",
        "statefulset/mongo",
        "deployment/web",
    ]
    web, api, blocked, mongo = (
        topo.node("Deployment", "web"),
        topo.node("Deployment", "api"),
        topo.node("Deployment", "blocked"),
        topo.node("StatefulSet", "mongo"),
    )
    assert web.counts == PodCounts(running=2) and web.ready
    assert api.counts == PodCounts(running=1, crash_looping=1) and not api.ready
    assert blocked.counts == PodCounts(not_created=2) and blocked.pods == () and not blocked.ready
    assert blocked.problem == f"FailedCreate: {SCC_DENIED}"
    assert mongo.counts == PodCounts(pending=1) and mongo.pods[0].reason == "ContainerCreating"
    assert mongo.sccs == ("anyuid",) and web.sccs == ("restricted-v2",) and blocked.sccs == ()
    assert mongo.claims == (Claim("data-mongo-0", "Pending"),)
    assert web.claims == (Claim("web-data", "Bound"),)
    assert not topo.ready


def test_routes_decorate_the_workload_behind_their_service(objects):
    topo = build(objects, NS)
    web = topo.node("deployment", "web")
    assert [(r.name, r.url) for r in web.routes] == [("app", "http://app.apps.example.com")]
    assert topo.node("deployment", "api").routes[0].url == "https://api.apps.example.com"
    assert topo.node("deployment", "blocked").routes == ()
    assert [r.workloads for r in topo.routes] == [("deployment/api",), ("deployment/web",)]


def test_ungrouped_workloads_and_selector_fallback():
    orphan = pod("db-x", {"app": "db"})  # no ownerReferences: attached by the selector
    topo = build({"deployments": [deployment("db", release=None)], "pods": [orphan]}, NS)
    assert [g.release for g in topo.groups] == [None]
    assert topo.groups[0].title == "not in a helm release"
    assert topo.node("deployment", "db").counts == PodCounts(running=1)
    assert topo.ready


def test_deployment_pods_found_by_replicaset_name_even_with_dashes():
    labels = {"app": "clearml-apiserver"}
    objs = {
        "deployments": [deployment("clearml-apiserver", labels={"x": "y"}), deployment("clearml")],
        "pods": [
            pod(
                "clearml-apiserver-6c4f-abcde",
                labels,
                owner=("ReplicaSet", "clearml-apiserver-6c4f"),
                template_hash="6c4f",
            )
        ],
    }
    topo = build(objs, NS)
    assert topo.node("deployment", "clearml-apiserver").counts.running == 1
    assert topo.node("deployment", "clearml").counts == PodCounts(not_created=1)


@pytest.mark.parametrize(
    "kwargs, expected",
    [
        (dict(phase="Running", ready=True), ("running", "Running")),
        (dict(phase="Running", ready=False), ("pending", "NotReady")),
        (dict(phase="Pending", ready=False, init_waiting="PodInitializing"), ("pending", "PodInitializing")),
        (dict(phase="Pending", ready=False, waiting="ImagePullBackOff"), ("failed", "ImagePullBackOff")),
        (dict(phase="Pending", ready=False, waiting="ErrImagePull"), ("failed", "ErrImagePull")),
        (dict(phase="Failed", ready=False), ("failed", "Failed")),
        (dict(phase="Running", ready=False, init_waiting="CrashLoopBackOff"), ("crash_looping", "CrashLoopBackOff")),
    ],
)
def test_pod_state(kwargs, expected):
    assert pod_state(pod("p", {}, **kwargs)) == expected


def test_terminating_pods_do_not_count_towards_replicas():
    gone = pod("web-1", {"app": "web"})
    gone["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    topo = build({"deployments": [deployment("web", replicas=1)], "pods": [gone]}, NS)
    assert topo.node("deployment", "web").counts == PodCounts(terminating=1, not_created=1)


def test_text_and_status_lines(objects):
    topo = build(objects, NS)
    assert status_lines(topo) == [
        "deployment/api 1/2 restricted-v2 (1 crash-looping)",
        "deployment/blocked 0/2 - (2 not created)",
        "statefulset/mongo 0/1 anyuid (1 pending)",
        "deployment/web 2/2 restricted-v2",
    ]
    text = to_text(topo)
    lines = text.splitlines()
    assert lines[0] == "namespace clearml: 1 of 4 workloads ready"
    assert lines[1] == "release clearml:"
    assert "  deployment/web 2/2 restricted-v2" in lines
    assert "    pvc data-mongo-0 Pending" in lines
    assert f"    FailedCreate: {SCC_DENIED}" in lines
    assert "  app http://app.apps.example.com -> service web -> deployment/web" in lines
    assert to_text(build(objects, NS)) == text


def test_svg_arcs_legend_and_determinism(objects):
    svg = to_svg(build(objects, NS))
    root = ET.fromstring(svg)  # well-formed, self-contained XML
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert "<image" not in svg and "http://" not in svg.replace("http://www.w3.org", "").replace(
        "http://app.apps.example.com", ""
    )  # nothing fetched from elsewhere
    arcs = {
        (m[0], m[1], m[2])
        for m in re.findall(
            r'stroke="(#[0-9a-f]{6})" stroke-dasharray="[^"]+" stroke-dashoffset="[^"]+" '
            r'transform="[^"]+" data-state="(\w+)" data-count="(\d+)"',
            svg,
        )
    }
    colours = topology.STATE_COLOURS
    assert (colours["running"], "running", "2") in arcs  # web
    assert (colours["crash_looping"], "crash_looping", "1") in arcs  # api
    assert (colours["not_created"], "not_created", "2") in arcs  # blocked
    assert (colours["pending"], "pending", "1") in arcs  # mongo
    for state in topology.STATES:
        assert f'data-legend="{state}"' in svg
    assert 'href="http://app.apps.example.com"' in svg and 'data-decorator="route"' in svg
    assert ">D</text>" in svg and ">SS</text>" in svg and "scc anyuid" in svg
    assert 'data-decorator="problem"' in svg
    assert to_svg(build(objects, NS)) == svg


def test_svg_arc_lengths_are_proportional(objects):
    svg = to_svg(build(objects, NS))
    api = svg[svg.index('data-workload="deployment/api"') :]
    api = api[: api.index("</g>")]
    lengths = [float(x) for x in re.findall(r'stroke-dasharray="([\d.]+) ', api)]
    assert len(lengths) == 2 and lengths[0] == pytest.approx(lengths[1], abs=0.02)  # 1 running, 1 crash-looping


def test_svg_changes_with_the_model(objects):
    before = to_svg(build(objects, NS))
    objects["deployments"][0]["spec"]["replicas"] = 3
    after = to_svg(build(objects, NS))
    assert before != after and 'data-state="not_created" data-count="1"' in after


def test_empty_namespace():
    topo = build({}, "empty")
    assert not topo.ready and topo.nodes == ()
    assert to_text(topo) == "namespace empty: 0 of 0 workloads ready\n  no Deployments or StatefulSets"
    assert "no Deployments or StatefulSets in namespace empty" in to_svg(topo)


def test_escaping_of_names_in_svg():
    evil = deployment("web", release='a<b>&"c')
    svg = to_svg(build({"deployments": [evil]}, NS))
    ET.fromstring(svg)
    assert "release a&lt;b&gt;&amp;" in svg
