"""The scale and binding subresources, pod spec immutability and the published free storage, on a running practice
cluster through kubectl and the kubernetes client."""

import json
import uuid

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from .recipe_helpers import eventually
from .test_controllers_live import deployment, events

pytestmark = pytest.mark.cluster


def _request(practice_cluster, method, path, body=None, content_type="application/json", token="default"):
    data = json.dumps(body).encode() if body is not None else None
    code, _, raw = practice_cluster.request(
        method, path, body=data, content_type=content_type if data else None, token=token
    )
    return code, json.loads(raw) if raw else None


# ---- scale ---------------------------------------------------------------------------------------------------------


def test_discovery_advertises_scale_as_autoscaling_v1_and_binding_as_create_only(practice_cluster):
    _, apps = _request(practice_cluster, "GET", "/apis/apps/v1")
    by_name = {r["name"]: r for r in apps["resources"]}
    for workload in ("deployments", "replicasets", "statefulsets"):
        scale = by_name[f"{workload}/scale"]
        assert (scale["kind"], scale["group"], scale["version"]) == ("Scale", "autoscaling", "v1")
        assert sorted(scale["verbs"]) == ["get", "patch", "update"]
    assert "daemonsets/scale" not in by_name  # a DaemonSet has no replicas to scale
    _, core = _request(practice_cluster, "GET", "/api/v1")
    by_name = {r["name"]: r for r in core["resources"]}
    assert (by_name["pods/binding"]["kind"], by_name["pods/binding"]["verbs"]) == ("Binding", ["create"])
    assert (by_name["bindings"]["kind"], by_name["bindings"]["verbs"]) == ("Binding", ["create"])


def test_kubectl_scale_changes_replicas_and_the_replicaset_follows(api, ns, kubectl):
    apps, core = api["apps"], api["core"]
    apps.create_namespaced_deployment(ns, deployment("web", "nginx:1.27"))
    eventually(
        lambda: (apps.read_namespaced_deployment("web", ns).status.ready_replicas or 0) == 2,
        timeout=60,
        what="two ready replicas",
    )
    before = apps.read_namespaced_deployment("web", ns).metadata.generation

    assert "scaled" in kubectl("scale", "deployment/web", "--replicas=4", "-n", ns).stdout
    dep = apps.read_namespaced_deployment("web", ns)
    assert dep.spec.replicas == 4 and dep.metadata.generation == before + 1  # a spec change, as any other

    def four_pods():
        [rs] = apps.list_namespaced_replica_set(ns).items
        pods = [
            p for p in core.list_namespaced_pod(ns, label_selector="app=web").items if not p.metadata.deletion_timestamp
        ]
        return rs.spec.replicas == 4 and len(pods) == 4

    eventually(four_pods, timeout=60, what="the ReplicaSet to follow the scale")

    scale = json.loads(kubectl("get", "deployment", "web", "--subresource=scale", "-n", ns, "-o", "json").stdout)
    assert (scale["apiVersion"], scale["kind"]) == ("autoscaling/v1", "Scale")
    assert scale["spec"]["replicas"] == 4 and scale["status"]["selector"] == "app=web"
    assert scale["metadata"]["resourceVersion"] == apps.read_namespaced_deployment("web", ns).metadata.resource_version
    table = kubectl("get", "deployment", "web", "--subresource=scale", "-n", ns).stdout.split("\n")
    assert table[0].split() == ["NAME", "DESIRED", "AVAILABLE"] and table[1].split()[:2] == ["web", "4"]

    # kubectl scale with a precondition reads the Scale and writes it back (GET then PUT)
    kubectl("scale", "deployment/web", "--replicas=1", "--current-replicas=4", "-n", ns)
    eventually(
        lambda: (
            len(
                [
                    p
                    for p in core.list_namespaced_pod(ns, label_selector="app=web").items
                    if not p.metadata.deletion_timestamp
                ]
            )
            == 1
        ),
        timeout=60,
        what="scale down to one pod",
    )


def test_scale_writes_check_the_resource_version_and_the_replicas(api, ns, practice_cluster):
    apps = api["apps"]
    apps.create_namespaced_deployment(ns, deployment("api", "nginx:1.27"))
    # the deployment controller writes its revision annotation right after creation; the stale read must come after
    eventually(
        lambda: (apps.read_namespaced_deployment("api", ns).metadata.annotations or {}).get(
            "deployment.kubernetes.io/revision"
        ),
        what="the deployment's revision annotation",
    )
    scale = apps.read_namespaced_deployment_scale("api", ns)
    assert scale.spec.replicas == 2
    stale = scale.metadata.resource_version
    apps.patch_namespaced_deployment("api", ns, {"metadata": {"labels": {"touched": "yes"}}})
    scale.spec.replicas = 3
    with pytest.raises(ApiException) as refused:
        apps.replace_namespaced_deployment_scale("api", ns, scale)
    assert refused.value.status == 409 and "the object has been modified" in refused.value.body
    assert apps.read_namespaced_deployment("api", ns).spec.replicas == 2  # nothing written

    fresh = apps.read_namespaced_deployment_scale("api", ns)
    fresh.spec.replicas = 3
    assert apps.replace_namespaced_deployment_scale("api", ns, fresh).spec.replicas == 3
    assert fresh.metadata.resource_version != stale

    path = f"/apis/apps/v1/namespaces/{ns}/deployments/api/scale"
    code, body = _request(
        practice_cluster,
        "PATCH",
        path,
        [{"op": "replace", "path": "/spec/replicas", "value": 5}],
        "application/json-patch+json",
    )
    assert code == 200 and body["spec"]["replicas"] == 5
    code, body = _request(practice_cluster, "PATCH", path, {"spec": {"replicas": -1}}, "application/merge-patch+json")
    assert code == 422 and "spec.replicas: Invalid value: -1: must be greater than or equal to 0" in body["message"]
    code, body = _request(
        practice_cluster, "PATCH", path, {"spec": {"replicas": 0}}, "application/strategic-merge-patch+json"
    )
    assert code == 200 and "replicas" not in body["spec"]  # omitempty, as the apiserver writes a zero
    assert apps.read_namespaced_deployment("api", ns).spec.replicas == 0
    code, _ = _request(practice_cluster, "POST", path, {"spec": {"replicas": 1}})
    assert code == 405


def test_statefulset_and_replicaset_scale(api, ns):
    apps = api["apps"]
    template = deployment("db", "nginx:1.27").spec.template
    apps.create_namespaced_stateful_set(
        ns,
        client.V1StatefulSet(
            metadata=client.V1ObjectMeta(name="db"),
            spec=client.V1StatefulSetSpec(
                replicas=1,
                service_name="db",
                template=template,
                selector=client.V1LabelSelector(match_labels={"app": "db"}),
            ),
        ),
    )
    scaled = apps.patch_namespaced_stateful_set_scale("db", ns, {"spec": {"replicas": 2}})
    assert scaled.spec.replicas == 2 and scaled.status.selector == "app=db"
    eventually(
        lambda: apps.read_namespaced_stateful_set("db", ns).status.replicas == 2,
        timeout=60,
        what="the StatefulSet to follow its scale",
    )
    rs_template = deployment("solo", "nginx:1.27").spec.template
    apps.create_namespaced_replica_set(
        ns,
        client.V1ReplicaSet(
            metadata=client.V1ObjectMeta(name="solo"),
            spec=client.V1ReplicaSetSpec(
                replicas=1,
                template=rs_template,
                selector=client.V1LabelSelector(
                    match_labels={"app": "solo"},
                    match_expressions=[
                        client.V1LabelSelectorRequirement(key="tier", operator="NotIn", values=["web", "cache"])
                    ],
                ),
            ),
        ),
    )
    scale = apps.read_namespaced_replica_set_scale("solo", ns)
    assert scale.status.selector == "app=solo,tier notin (cache,web)"


def test_scale_is_authorized_as_the_subresource(api, ns, kubectl):
    apps, rbac = api["apps"], api["rbac"]
    apps.create_namespaced_deployment(ns, deployment("web", "nginx:1.27"))
    rbac.create_namespaced_role(
        ns,
        client.V1Role(
            metadata=client.V1ObjectMeta(name="read-deployments"),
            rules=[client.V1PolicyRule(api_groups=["apps"], resources=["deployments"], verbs=["get", "list", "patch"])],
        ),
    )
    rbac.create_namespaced_role_binding(
        ns,
        client.V1RoleBinding(
            metadata=client.V1ObjectMeta(name="developer-reads"),
            role_ref=client.V1RoleRef(api_group="rbac.authorization.k8s.io", kind="Role", name="read-deployments"),
            subjects=[client.RbacV1Subject(api_group="rbac.authorization.k8s.io", kind="User", name="developer")],
        ),
    )
    refused = kubectl("scale", "deployment/web", "--replicas=3", "-n", ns, context="developer", check=False)
    assert refused.returncode != 0
    assert 'cannot patch resource "deployments/scale" in API group "apps"' in refused.stderr
    rbac.create_namespaced_role(
        ns,
        client.V1Role(
            metadata=client.V1ObjectMeta(name="scaler"),
            rules=[client.V1PolicyRule(api_groups=["apps"], resources=["deployments/scale"], verbs=["get", "patch"])],
        ),
    )
    rbac.create_namespaced_role_binding(
        ns,
        client.V1RoleBinding(
            metadata=client.V1ObjectMeta(name="developer-scales"),
            role_ref=client.V1RoleRef(api_group="rbac.authorization.k8s.io", kind="Role", name="scaler"),
            subjects=[client.RbacV1Subject(api_group="rbac.authorization.k8s.io", kind="User", name="developer")],
        ),
    )
    kubectl("scale", "deployment/web", "--replicas=3", "-n", ns, context="developer")
    assert apps.read_namespaced_deployment("web", ns).spec.replicas == 3


def _bind_cluster_role(rbac, ns, role, user="developer"):
    rbac.create_namespaced_role_binding(
        ns,
        client.V1RoleBinding(
            metadata=client.V1ObjectMeta(name=f"{user}-{role}"),
            role_ref=client.V1RoleRef(api_group="rbac.authorization.k8s.io", kind="ClusterRole", name=role),
            subjects=[client.RbacV1Subject(api_group="rbac.authorization.k8s.io", kind="User", name=user)],
        ),
    )


def test_the_default_roles_scale_as_openshift_does(api, ns, kubectl):
    """view may read a workload's scale but not change it; edit may change it (as the bootstrap roles allow)."""
    apps, rbac = api["apps"], api["rbac"]
    apps.create_namespaced_deployment(ns, deployment("web", "nginx:1.27"))
    _bind_cluster_role(rbac, ns, "view")
    shown = kubectl("get", "deployment/web", "--subresource=scale", "-n", ns, "-o", "json", context="developer")
    scale = json.loads(shown.stdout)
    assert (scale["kind"], scale["metadata"]["name"], scale["spec"]["replicas"]) == ("Scale", "web", 2)
    refused = kubectl("scale", "deployment/web", "--replicas=3", "-n", ns, context="developer", check=False)
    assert refused.returncode != 0 and 'cannot patch resource "deployments/scale"' in refused.stderr
    _bind_cluster_role(rbac, ns, "edit")
    kubectl("scale", "deployment/web", "--replicas=3", "-n", ns, context="developer")
    assert apps.read_namespaced_deployment("web", ns).spec.replicas == 3


# ---- binding -------------------------------------------------------------------------------------------------------


def _unschedulable_pod(core, ns, name):
    """A pod the practice scheduler leaves alone: its claim does not exist."""
    core.create_namespaced_pod(
        ns,
        client.V1Pod(
            metadata=client.V1ObjectMeta(name=name),
            spec=client.V1PodSpec(
                containers=[client.V1Container(name="c", image="busybox:1.36")],
                volumes=[
                    client.V1Volume(
                        name="d",
                        persistent_volume_claim=client.V1PersistentVolumeClaimVolumeSource(claim_name="absent"),
                    )
                ],
            ),
        ),
    )
    eventually(
        lambda: [e for e in events(core, ns, name) if e.reason == "FailedScheduling"],
        what="the scheduler to give up on the pod",
    )


def _binding(pod, node="practice-node-0", **meta):
    return {
        "apiVersion": "v1",
        "kind": "Binding",
        "metadata": {"name": pod, **meta},
        "target": {"apiVersion": "v1", "kind": "Node", "name": node},
    }


def test_a_pod_is_bound_once_and_a_second_binding_is_a_conflict(api, ns, practice_cluster):
    core = api["core"]
    _unschedulable_pod(core, ns, "manual")
    path = f"/api/v1/namespaces/{ns}/pods/manual/binding"
    code, body = _request(practice_cluster, "POST", path, _binding("manual", annotations={"bound-by": "test"}))
    assert code == 201 and body["status"] == "Success"
    pod = core.read_namespaced_pod("manual", ns)
    assert pod.spec.node_name == "practice-node-0" and pod.metadata.annotations["bound-by"] == "test"
    assert any(c.type == "PodScheduled" and c.status == "True" for c in pod.status.conditions)

    code, body = _request(practice_cluster, "POST", path, _binding("manual", node="elsewhere"))
    assert code == 409 and body["reason"] == "Conflict"
    assert body["message"] == (
        'Operation cannot be fulfilled on pods/binding "manual": pod manual is already '
        'assigned to node "practice-node-0"'
    )
    assert core.read_namespaced_pod("manual", ns).spec.node_name == "practice-node-0"

    code, body = _request(practice_cluster, "POST", path, _binding("other"))
    assert code == 400 and "does not match" in body["message"]
    code, body = _request(practice_cluster, "POST", f"/api/v1/namespaces/{ns}/pods/ghost/binding", _binding("ghost"))
    assert code == 404
    code, _ = _request(practice_cluster, "GET", path)
    assert code == 405


def test_the_legacy_bindings_collection_binds_too(api, ns, practice_cluster):
    core = api["core"]
    _unschedulable_pod(core, ns, "legacy")
    code, body = _request(
        practice_cluster, "POST", f"/api/v1/namespaces/{ns}/bindings", _binding("legacy", uid=str(uuid.uuid4()))
    )
    assert code == 409 and "Precondition failed: UID in precondition" in body["message"]
    uid = core.read_namespaced_pod("legacy", ns).metadata.uid
    code, _ = _request(practice_cluster, "POST", f"/api/v1/namespaces/{ns}/bindings", _binding("legacy", uid=uid))
    assert code == 201 and core.read_namespaced_pod("legacy", ns).spec.node_name == "practice-node-0"
    code, body = _request(practice_cluster, "POST", f"/api/v1/namespaces/{ns}/bindings", _binding("legacy"))
    assert code == 409 and 'already assigned to node "practice-node-0"' in body["message"]


def test_binding_needs_the_right_to_create_pods_binding(api, ns, practice_cluster):
    _unschedulable_pod(api["core"], ns, "guarded")
    code, body = _request(
        practice_cluster,
        "POST",
        f"/api/v1/namespaces/{ns}/pods/guarded/binding",
        _binding("guarded"),
        token=practice_cluster.token("developer"),
    )
    assert code == 403 and 'cannot create resource "pods/binding"' in body["message"]


def test_the_scheduler_binds_through_the_binding_subresource(api, ns):
    core = api["core"]
    core.create_namespaced_pod(
        ns,
        client.V1Pod(
            metadata=client.V1ObjectMeta(name="placed"),
            spec=client.V1PodSpec(containers=[client.V1Container(name="c", image="busybox:1.36")]),
        ),
    )
    pod = eventually(
        lambda: (p := core.read_namespaced_pod("placed", ns)).spec.node_name and p, what="the scheduler to bind the pod"
    )
    assert pod.spec.node_name == "practice-node-0"
    scheduled = eventually(
        lambda: [e for e in events(core, ns, "placed") if e.reason == "Scheduled"], what="the Scheduled event"
    )
    assert scheduled[0].message == f"Successfully assigned {ns}/placed to practice-node-0"
    # A binding is not an update of the pod: no field manager owns spec.nodeName (a patch would have made one).
    owners = [
        m.manager
        for m in pod.metadata.managed_fields or []
        if "f:nodeName" in json.dumps((m.fields_v1 or {}).get("f:spec", {}))
    ]
    assert owners == []
    eventually(lambda: core.read_namespaced_pod("placed", ns).status.phase == "Running", what="the pod to run")


def test_an_update_may_not_move_a_bound_pod(api, ns):
    core = api["core"]
    core.create_namespaced_pod(
        ns,
        client.V1Pod(
            metadata=client.V1ObjectMeta(name="fixed"),
            spec=client.V1PodSpec(containers=[client.V1Container(name="c", image="busybox:1.36")]),
        ),
    )
    eventually(lambda: core.read_namespaced_pod("fixed", ns).spec.node_name, what="the pod to be bound")
    with pytest.raises(ApiException) as refused:
        core.patch_namespaced_pod("fixed", ns, {"spec": {"nodeName": "elsewhere"}})
    assert refused.value.status == 422
    message = json.loads(refused.value.body)["message"]
    assert message.startswith('Pod "fixed" is invalid: spec: Forbidden: pod updates may not change fields other than')
    assert "spec.nodeName" in message
    assert core.read_namespaced_pod("fixed", ns).spec.node_name == "practice-node-0"
    # what Kubernetes does let an update change still goes through
    changed = core.patch_namespaced_pod(
        "fixed",
        ns,
        {"spec": {"containers": [{"name": "c", "image": "busybox:1.37"}]}, "metadata": {"labels": {"moved": "no"}}},
    )
    assert changed.spec.containers[0].image == "busybox:1.37" and changed.metadata.labels == {"moved": "no"}
