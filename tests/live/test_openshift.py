"""OpenShift behaviour of the practice cluster: SCC admission on pods, the SCC review APIs, the release it
emulates, the apps domain, the published chart repository, watch bookmarks, pod logs, and the CLI lifecycle."""

import json
import subprocess
import sys
import urllib.request
import uuid

import pytest
from kubernetes import client, dynamic
from kubernetes.client.rest import ApiException

from .cluster import temporary_cluster


def _project(practice_cluster, context="developer") -> str:
    name = f"p-{uuid.uuid4().hex[:8]}"
    practice_cluster.run(
        "kubectl",
        "--context",
        context,
        "create",
        "-f",
        "-",
        input=(f"apiVersion: project.openshift.io/v1\nkind: ProjectRequest\nmetadata: {{name: {name}}}\n"),
    )
    return name


def _pod(name, security_context=None):
    return client.V1Pod(
        metadata=client.V1ObjectMeta(name=name),
        spec=client.V1PodSpec(
            containers=[client.V1Container(name="c", image="registry.example/app:1", security_context=security_context)]
        ),
    )


def _wait_for_uid_range(core, project):
    """The namespace controller allocates the SCC ranges; pods are judged only once they are there. A range that
    never comes is a broken controller, so the test fails rather than skipping."""
    import time

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        annotations = core.read_namespace(project).metadata.annotations or {}
        if "openshift.io/sa.scc.uid-range" in annotations:
            return
        time.sleep(0.05)
    pytest.fail(
        f"project {project} got no openshift.io/sa.scc.uid-range in 30 s: the namespace controller is not "
        "allocating SCC ranges"
    )


def test_scc_admission_mutates_and_rejects_pods(practice_cluster):
    project = _project(practice_cluster)
    dev = client.CoreV1Api(practice_cluster.api_client("developer"))
    _wait_for_uid_range(dev, project)
    pod = dev.create_namespaced_pod(project, _pod("plain"))
    assert pod.metadata.annotations["openshift.io/scc"] == "restricted-v2"
    assert pod.spec.containers[0].security_context.run_as_non_root is True
    with pytest.raises(ApiException) as refused:
        dev.create_namespaced_pod(project, _pod("priv", client.V1SecurityContext(privileged=True)))
    status = json.loads(refused.value.body)
    assert refused.value.status == 403 and status["reason"] == "Forbidden"
    assert status["message"].startswith(
        'pods "priv" is forbidden: unable to validate against any security context constraint:'
    )
    assert "Privileged containers are not allowed" in status["message"]


def test_granting_anyuid_to_the_service_account_changes_admission(practice_cluster):
    project = _project(practice_cluster)
    admin = practice_cluster.api_client("kubeadmin")
    core = client.CoreV1Api(admin)
    _wait_for_uid_range(core, project)
    root = client.V1SecurityContext(run_as_user=0)
    with pytest.raises(ApiException):
        client.CoreV1Api(practice_cluster.api_client("developer")).create_namespaced_pod(project, _pod("r", root))
    client.RbacAuthorizationV1Api(admin).create_namespaced_role_binding(
        project,
        client.V1RoleBinding(
            metadata=client.V1ObjectMeta(name="system:openshift:scc:anyuid"),
            role_ref=client.V1RoleRef(
                api_group="rbac.authorization.k8s.io", kind="ClusterRole", name="system:openshift:scc:anyuid"
            ),
            subjects=[client.RbacV1Subject(kind="ServiceAccount", name="default", namespace=project)],
        ),
    )
    pod = client.CoreV1Api(practice_cluster.api_client("developer")).create_namespaced_pod(project, _pod("r", root))
    assert pod.metadata.annotations["openshift.io/scc"] == "anyuid"
    review = (
        dynamic.DynamicClient(admin)
        .resources.get(api_version="security.openshift.io/v1", kind="PodSecurityPolicyReview")
        .create(
            namespace=project,
            body={
                "apiVersion": "security.openshift.io/v1",
                "kind": "PodSecurityPolicyReview",
                "spec": {
                    "template": {
                        "spec": {"containers": [{"name": "c", "image": "x", "securityContext": {"runAsUser": 0}}]}
                    },
                    "serviceAccountNames": ["default"],
                },
            },
        )
    )
    allowed = review.status.allowedServiceAccounts
    assert [(a.name, a.allowedBy.name) for a in allowed] == [("default", "anyuid")]


def test_release_apps_domain_and_chart_repository_are_published(practice_cluster):
    code, _, body = practice_cluster.request("GET", "/version")
    version = json.loads(body)
    assert (version["major"], version["minor"], version["gitVersion"]) == ("1", "32", "v1.32.5")
    dyn = dynamic.DynamicClient(practice_cluster.api_client())
    cv = dyn.resources.get(api_version="config.openshift.io/v1", kind="ClusterVersion").get(name="version")
    assert cv.status.desired.version.startswith("4.19.")
    domain = dyn.resources.get(api_version="config.openshift.io/v1", kind="Ingress").get(name="cluster").spec.domain
    assert domain == "apps.practice.local"
    repo = dyn.resources.get(api_version="helm.openshift.io/v1beta1", kind="HelmChartRepository").get(name="clearml")
    url = repo.spec.connectionConfig.url
    assert url.startswith("http://127.0.0.1:")
    with urllib.request.urlopen(f"{url}/index.yaml", timeout=60) as response:
        assert b"clearml" in response.read()


def test_another_openshift_release_and_switching_release_on_the_same_state(tmp_path):
    cluster = temporary_cluster(extra_args=("--openshift-version", "4.20"))

    def sccs():
        dyn = dynamic.DynamicClient(cluster.api_client())
        return {
            s.metadata.name
            for s in dyn.resources.get(api_version="security.openshift.io/v1", kind="SecurityContextConstraints")
            .get()
            .items
        }

    with cluster:
        assert json.loads(cluster.request("GET", "/version")[2])["gitVersion"].startswith("v1.33.")
        assert "restricted-v3" in sccs()
    cluster.extra_args = ("--openshift-version", "4.14")
    with cluster:
        assert json.loads(cluster.request("GET", "/version")[2])["gitVersion"].startswith("v1.27.")
        dyn = dynamic.DynamicClient(cluster.api_client())
        cv = dyn.resources.get(api_version="config.openshift.io/v1", kind="ClusterVersion").get(name="version")
        assert cv.status.desired.version.startswith("4.14.")
        assert "restricted-v3" not in sccs() and "restricted-v2" in sccs()


def test_watch_initial_events_and_bookmark(practice_cluster, namespace):
    core = client.CoreV1Api(practice_cluster.api_client())
    core.create_namespaced_config_map(namespace, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="a")))
    path = (
        f"/api/v1/namespaces/{namespace}/configmaps?watch=true&sendInitialEvents=true"
        "&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&timeoutSeconds=1"
    )
    code, _, body = practice_cluster.request("GET", path)
    events = [json.loads(line) for line in body.splitlines()]
    assert code == 200 and [e["type"] for e in events] == ["ADDED", "BOOKMARK"]
    assert events[1]["object"]["metadata"]["annotations"] == {"k8s.io/initial-events-end": "true"}
    # resuming from a resourceVersion replays exactly what came after it
    since = core.list_namespaced_config_map(namespace).metadata.resource_version
    core.create_namespaced_config_map(namespace, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="b")))
    code, _, body = practice_cluster.request(
        "GET", f"/api/v1/namespaces/{namespace}/configmaps?watch=true&resourceVersion={since}&timeoutSeconds=1"
    )
    events = [json.loads(line) for line in body.splitlines()]
    assert code == 200 and [(e["type"], e["object"]["metadata"]["name"]) for e in events] == [("ADDED", "b")]


def test_pod_log_needs_a_container_name_when_there_are_several(practice_cluster, namespace):
    core = client.CoreV1Api(practice_cluster.api_client())
    pod = client.V1Pod(
        metadata=client.V1ObjectMeta(name="two"),
        spec=client.V1PodSpec(
            containers=[client.V1Container(name="a", image="x"), client.V1Container(name="b", image="x")]
        ),
    )
    core.create_namespaced_pod(namespace, pod)
    with pytest.raises(ApiException) as which:
        core.read_namespaced_pod_log("two", namespace)
    assert which.value.status == 400 and "a container name must be specified for pod two" in which.value.body
    for container in ("a", "b"):
        assert core.read_namespaced_pod_log("two", namespace, container=container) is not None
    with pytest.raises(ApiException) as wrong:
        core.read_namespaced_pod_log("two", namespace, container="c")
    assert wrong.value.status == 400 and "container c is not valid for pod two" in wrong.value.body
    with pytest.raises(ApiException) as missing:
        core.read_namespaced_pod_log("nope", namespace)
    assert missing.value.status == 404


def test_up_status_down_manage_a_background_cluster(tmp_path):
    state = tmp_path / "bg"

    def cli(*args):
        return subprocess.run(
            [sys.executable, "-m", "clearml_lab", "practice", *args, "--state", str(state)],
            capture_output=True,
            text=True,
            timeout=120,
        )

    assert cli("status").returncode == 3
    up = cli("up")
    assert up.returncode == 0 and "runs at https://127.0.0.1:" in up.stdout
    again = cli("up")
    assert again.returncode == 0 and "already runs" in again.stdout
    assert (state / "kubeconfig").exists() and cli("status").returncode == 0
    down = cli("down")
    assert down.returncode == 0 and "Stopped" in down.stdout
    assert cli("status").returncode == 3
    assert cli("down").returncode == 0  # idempotent
