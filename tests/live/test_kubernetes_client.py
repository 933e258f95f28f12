"""The kubernetes Python client (typed and dynamic) against a running practice cluster, over HTTPS."""

import json
import threading
import time

import pytest
from kubernetes import client, dynamic, watch
from kubernetes.client.rest import ApiException
from kubernetes.dynamic.exceptions import ConflictError


@pytest.fixture(scope="module")
def core(practice_cluster):
    return client.CoreV1Api(practice_cluster.api_client())


@pytest.fixture(scope="module")
def apps(practice_cluster):
    return client.AppsV1Api(practice_cluster.api_client())


def _cm(name, labels=None, data=None):
    return client.V1ConfigMap(metadata=client.V1ObjectMeta(name=name, labels=labels), data=data or {"k": "v"})


def test_create_get_read_back_server_defaults(core, namespace):
    made = core.create_namespaced_config_map(namespace, _cm("one"))
    assert made.metadata.uid and made.metadata.creation_timestamp and made.metadata.resource_version
    got = core.read_namespaced_config_map("one", namespace)
    assert got.data == {"k": "v"} and got.metadata.uid == made.metadata.uid


def test_pod_and_service_read_back_with_real_defaults(core, namespace):
    pod = client.V1Pod(
        metadata=client.V1ObjectMeta(name="p"),
        spec=client.V1PodSpec(containers=[client.V1Container(name="c", image="busybox")]),
    )
    got = core.create_namespaced_pod(namespace, pod)
    assert got.spec.restart_policy == "Always" and got.spec.dns_policy == "ClusterFirst"
    assert got.spec.termination_grace_period_seconds == 30 and got.spec.service_account_name == "default"
    assert got.spec.containers[0].image_pull_policy == "Always"  # no tag means :latest
    svc = client.V1Service(
        metadata=client.V1ObjectMeta(name="s"),
        spec=client.V1ServiceSpec(selector={"a": "b"}, ports=[client.V1ServicePort(port=80)]),
    )
    got = core.create_namespaced_service(namespace, svc)
    assert got.spec.cluster_ip.startswith("172.30.") and got.spec.ports[0].target_port == 80
    assert got.spec.type == "ClusterIP"


def test_errors_are_status_objects_with_reasons(core, namespace):
    with pytest.raises(ApiException) as missing:
        core.read_namespaced_config_map("nope", namespace)
    assert missing.value.status == 404 and '"reason":"NotFound"' in missing.value.body.replace(" ", "")
    core.create_namespaced_config_map(namespace, _cm("dup"))
    with pytest.raises(ApiException) as dup:
        core.create_namespaced_config_map(namespace, _cm("dup"))
    assert dup.value.status == 409 and "AlreadyExists" in dup.value.body
    with pytest.raises(ApiException) as bad:
        core.create_namespaced_config_map(namespace, _cm("Not_A_Name"))
    assert bad.value.status == 422 and "Invalid" in bad.value.body


def test_list_with_label_and_field_selectors_and_pages(core, namespace):
    for i in range(5):
        core.create_namespaced_config_map(namespace, _cm(f"c{i}", labels={"tier": "a" if i % 2 else "b", "n": str(i)}))
    names = lambda items: sorted(o.metadata.name for o in items)  # noqa: E731
    assert names(core.list_namespaced_config_map(namespace, label_selector="tier=a").items) == ["c1", "c3"]
    assert names(core.list_namespaced_config_map(namespace, label_selector="tier!=a,n in (0,4)").items) == ["c0", "c4"]
    assert names(core.list_namespaced_config_map(namespace, field_selector="metadata.name=c2").items) == ["c2"]
    seen, token = [], None
    while True:
        page = core.list_namespaced_config_map(namespace, limit=2, _continue=token, label_selector="n")
        assert len(page.items) <= 2
        seen += [o.metadata.name for o in page.items]
        token = page.metadata._continue
        if not token:
            break
    assert seen == ["c0", "c1", "c2", "c3", "c4"]


def test_update_with_stale_resource_version_conflicts(core, namespace):
    made = core.create_namespaced_config_map(namespace, _cm("u"))
    made.data = {"k": "new"}
    updated = core.replace_namespaced_config_map("u", namespace, made)
    assert int(updated.metadata.resource_version) > int(made.metadata.resource_version)
    made.data = {"k": "stale"}  # still carries the old resourceVersion
    with pytest.raises(ApiException) as stale:
        core.replace_namespaced_config_map("u", namespace, made)
    assert stale.value.status == 409 and "the object has been modified" in stale.value.body


def test_json_merge_and_strategic_patches(apps, namespace):
    dep = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "d"},
        "spec": {
            "selector": {"matchLabels": {"a": "b"}},
            "template": {
                "metadata": {"labels": {"a": "b"}},
                "spec": {
                    "containers": [
                        {"name": "main", "image": "img:1", "env": [{"name": "A", "value": "1"}]},
                        {"name": "side", "image": "side:1"},
                    ]
                },
            },
        },
    }
    apps.create_namespaced_deployment(namespace, dep)
    # strategic: the container list merges by name, env by name
    got = apps.patch_namespaced_deployment(
        "d",
        namespace,
        {"spec": {"template": {"spec": {"containers": [{"name": "main", "env": [{"name": "B", "value": "2"}]}]}}}},
    )
    containers = {c.name: c for c in got.spec.template.spec.containers}
    assert set(containers) == {"main", "side"} and containers["main"].image == "img:1"
    assert [e.name for e in containers["main"].env] == ["A", "B"]
    assert got.metadata.generation == 2
    # JSON patch
    got = apps.patch_namespaced_deployment(
        "d",
        namespace,
        [{"op": "replace", "path": "/spec/replicas", "value": 3}],
        _content_type="application/json-patch+json",
    )
    assert got.spec.replicas == 3
    # merge patch replaces lists wholesale
    got = apps.patch_namespaced_deployment(
        "d",
        namespace,
        {"spec": {"template": {"spec": {"containers": [{"name": "only", "image": "x:1"}]}}}},
        _content_type="application/merge-patch+json",
    )
    assert [c.name for c in got.spec.template.spec.containers] == ["only"]


def test_status_subresource_is_separate_from_the_main_resource(practice_cluster, namespace):
    # A kind no controller writes status for, so the test sees only its own writes.
    repos = dynamic.DynamicClient(practice_cluster.api_client()).resources.get(
        api_version="helm.openshift.io/v1beta1", kind="HelmChartRepository"
    )
    name = f"status-{namespace}"
    repos.create(
        body={
            "apiVersion": "helm.openshift.io/v1beta1",
            "kind": "HelmChartRepository",
            "metadata": {"name": name},
            "spec": {"connectionConfig": {"url": "http://a"}},
            "status": {"conditions": [{"type": "Ignored", "status": "True"}]},
        }
    )
    assert "status" not in repos.get(name=name).to_dict()  # create ignores status
    repos.status.patch(
        name=name,
        body={"status": {"conditions": [{"type": "Ready", "status": "True"}]}},
        content_type="application/merge-patch+json",
    )
    got = repos.get(name=name)
    assert got.status.conditions[0].type == "Ready"
    generation = got.metadata.generation
    repos.patch(
        name=name,
        body={"status": {"conditions": []}, "spec": {"disabled": True}},
        content_type="application/merge-patch+json",
    )
    got = repos.get(name=name)
    assert got.status.conditions[0].type == "Ready" and got.spec.disabled is True
    assert got.metadata.generation == generation + 1
    repos.delete(name=name)


def test_watch_sees_changes_in_order_from_a_resource_version(core, namespace):
    start = core.list_namespaced_config_map(namespace).metadata.resource_version
    seen = []

    def follow():
        for event in watch.Watch().stream(
            core.list_namespaced_config_map, namespace, resource_version=start, timeout_seconds=10
        ):
            seen.append((event["type"], event["object"].metadata.name))
            if len(seen) == 3:
                return

    t = threading.Thread(target=follow)
    t.start()
    time.sleep(0.3)
    core.create_namespaced_config_map(namespace, _cm("w"))
    core.patch_namespaced_config_map("w", namespace, {"data": {"k": "2"}})
    core.delete_namespaced_config_map("w", namespace)
    t.join(15)
    assert seen == [("ADDED", "w"), ("MODIFIED", "w"), ("DELETED", "w")]


def test_watch_with_label_selector_reports_leaving_the_selection_as_deleted(core, namespace):
    start = core.list_namespaced_config_map(namespace).metadata.resource_version
    core.create_namespaced_config_map(namespace, _cm("sel", labels={"pick": "yes"}))
    core.patch_namespaced_config_map("sel", namespace, {"metadata": {"labels": {"pick": "no"}}})
    events = [
        (e["type"], e["object"].metadata.name)
        for e in watch.Watch().stream(
            core.list_namespaced_config_map,
            namespace,
            resource_version=start,
            label_selector="pick=yes",
            timeout_seconds=1,
        )
    ]
    assert events == [("ADDED", "sel"), ("DELETED", "sel")]


def test_namespace_deletion_goes_terminating_and_finalizers_hold_objects(core, namespace):
    cm = _cm("held")
    cm.metadata.finalizers = ["example.com/hold"]
    core.create_namespaced_config_map(namespace, cm)
    core.delete_namespaced_config_map("held", namespace)
    held = core.read_namespaced_config_map("held", namespace)
    assert held.metadata.deletion_timestamp is not None
    core.patch_namespaced_config_map("held", namespace, {"metadata": {"finalizers": None}})
    with pytest.raises(ApiException) as gone:
        core.read_namespaced_config_map("held", namespace)
    assert gone.value.status == 404
    core.delete_namespace(namespace)
    ns = core.read_namespace(namespace)
    assert ns.status.phase == "Terminating" and ns.metadata.deletion_timestamp is not None
    with pytest.raises(ApiException) as refused:
        core.create_namespaced_config_map(namespace, _cm("late"))
    assert refused.value.status == 403 and "being terminated" in refused.value.body


def test_background_propagation_deletes_dependents_and_orphan_keeps_them(core, namespace):
    owner = core.create_namespaced_config_map(namespace, _cm("owner"))
    ref = client.V1OwnerReference(api_version="v1", kind="ConfigMap", name="owner", uid=owner.metadata.uid)
    for name in ("dep1", "dep2"):
        cm = _cm(name)
        cm.metadata.owner_references = [ref]
        core.create_namespaced_config_map(namespace, cm)
    core.delete_namespaced_config_map("dep2", namespace)  # make sure deleting a dependent alone works
    core.delete_namespaced_config_map("owner", namespace, propagation_policy="Background")
    assert [c.metadata.name for c in core.list_namespaced_config_map(namespace).items] == []
    owner = core.create_namespaced_config_map(namespace, _cm("owner2"))
    cm = _cm("kept")
    cm.metadata.owner_references = [
        client.V1OwnerReference(api_version="v1", kind="ConfigMap", name="owner2", uid=owner.metadata.uid)
    ]
    core.create_namespaced_config_map(namespace, cm)
    core.delete_namespaced_config_map("owner2", namespace, propagation_policy="Orphan")
    kept = core.read_namespaced_config_map("kept", namespace)
    assert not kept.metadata.owner_references


def test_dynamic_client_discovers_and_uses_openshift_kinds(practice_cluster, namespace):
    dyn = dynamic.DynamicClient(practice_cluster.api_client())
    routes = dyn.resources.get(api_version="route.openshift.io/v1", kind="Route")
    made = routes.create(
        body={
            "apiVersion": "route.openshift.io/v1",
            "kind": "Route",
            "metadata": {"name": "r"},
            "spec": {"to": {"name": "svc"}},
        },
        namespace=namespace,
    )
    assert made.spec.to.kind == "Service" and made.spec.to.weight == 100
    assert [r.metadata.name for r in routes.get(namespace=namespace).items] == ["r"]
    ingress = dyn.resources.get(api_version="config.openshift.io/v1", kind="Ingress").get(name="cluster")
    assert ingress.spec.domain
    version = dyn.resources.get(api_version="config.openshift.io/v1", kind="ClusterVersion").get(name="version")
    assert version.status.desired.version.startswith("4.19.")
    with pytest.raises(dynamic.exceptions.ResourceNotFoundError):
        dyn.resources.get(api_version="example.com/v1", kind="Nothing")


def test_unknown_resource_paths_are_404_status(practice_cluster):
    code, _, body = practice_cluster.request("GET", "/apis/example.com/v1/widgets")
    assert code == 404 and b'"kind":"Status"' in body and b'"reason":"NotFound"' in body
    code, _, body = practice_cluster.request("GET", "/api/v1/namespaces/default/widgets")
    assert code == 404 and b'"code":404' in body


def test_server_side_apply_creates_merges_and_reports_conflicts(practice_cluster, namespace):
    configmaps = dynamic.DynamicClient(practice_cluster.api_client()).resources.get(api_version="v1", kind="ConfigMap")

    def apply(body, manager, force=False):
        return configmaps.server_side_apply(
            body=body, name="ssa", namespace=namespace, field_manager=manager, force_conflicts=force
        ).to_dict()

    made = apply({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "ssa"}, "data": {"a": "1"}}, "one")
    assert made["data"] == {"a": "1"}
    merged = apply({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "ssa"}, "data": {"b": "2"}}, "two")
    assert merged["data"] == {"a": "1", "b": "2"}
    assert sorted(m["manager"] for m in merged["metadata"]["managedFields"]) == ["one", "two"]
    with pytest.raises(ConflictError) as clash:
        apply({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "ssa"}, "data": {"a": "9"}}, "two")
    status = json.loads(clash.value.body)
    assert clash.value.status == 409 and status["reason"] == "Conflict"
    # An applier is named alone; only an updater comes with the version it wrote ("kubectl-edit" using v1).
    assert status["message"] == 'Apply failed with 1 conflict: conflict with "one": .data.a'
    forced = apply(
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "ssa"}, "data": {"a": "9"}}, "two", force=True
    )
    assert forced["data"] == {"a": "9"}
    owners = {m["manager"]: m["fieldsV1"] for m in forced["metadata"]["managedFields"]}
    assert "one" not in owners and owners["two"] == {"f:data": {"f:a": {}}}
    # a manager that stops applying a field it alone owned removes it
    shrunk = apply({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "ssa"}, "data": {"a": "9"}}, "two")
    assert shrunk["data"] == {"a": "9"}


def test_delete_collection_removes_only_the_selected(core, namespace):
    for name, tier in (("x1", "gone"), ("x2", "gone"), ("x3", "kept")):
        core.create_namespaced_config_map(namespace, _cm(name, labels={"tier": tier}))
    core.delete_collection_namespaced_config_map(namespace, label_selector="tier=gone")
    assert [c.metadata.name for c in core.list_namespaced_config_map(namespace).items] == ["x3"]
