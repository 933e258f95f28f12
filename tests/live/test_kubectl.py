"""kubectl 1.35 with no extra flags: discovery, OpenAPI-backed validation, client- and server-side apply, protobuf
typed clients (create deployment, auth can-i), against a running practice cluster."""

import json
import uuid


def _get(kubectl, *args):
    return json.loads(kubectl("get", *args, "-o", "json").stdout)


def test_get_uses_discovery_and_short_names(kubectl, namespace):
    out = kubectl("get", "ns").stdout
    assert "default" in out.split() and namespace in out.split()
    kubectl("create", "configmap", "c1", "--from-literal=a=b", "-n", namespace)
    assert _get(kubectl, "cm", "c1", "-n", namespace)["data"] == {"a": "b"}
    missing = kubectl("get", "widgets", check=False)
    assert missing.returncode != 0 and 'the server doesn\'t have a resource type "widgets"' in missing.stderr


DEPLOYMENT = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, labels: {app: web}}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: %s
        env: [{name: A, value: "1"}]
        ports: [{containerPort: 8080}]
"""


def test_client_side_apply_creates_then_patches(kubectl, namespace):
    assert "created" in kubectl("apply", "-n", namespace, "-f", "-", input=DEPLOYMENT % "nginx:1.25").stdout
    assert "configured" in kubectl("apply", "-n", namespace, "-f", "-", input=DEPLOYMENT % "nginx:1.27").stdout
    dep = _get(kubectl, "deployment", "web", "-n", namespace)
    assert dep["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.27"
    assert dep["metadata"]["generation"] == 2
    assert "kubectl.kubernetes.io/last-applied-configuration" in dep["metadata"]["annotations"]
    assert "unchanged" in kubectl("apply", "-n", namespace, "-f", "-", input=DEPLOYMENT % "nginx:1.27").stdout


def test_apply_rejects_unknown_fields_as_the_server_validates(kubectl, namespace):
    bad = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bad}\ndata: {a: b}\nspecial: 1\n"
    result = kubectl("apply", "-n", namespace, "-f", "-", input=bad, check=False)
    assert result.returncode != 0 and 'unknown field "special"' in result.stderr


def test_server_side_apply_records_kubectl_as_manager(kubectl, namespace):
    cm = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ssa}\ndata: {a: '1'}\n"
    assert "serverside-applied" in kubectl("apply", "--server-side", "-n", namespace, "-f", "-", input=cm).stdout
    got = _get(kubectl, "cm", "ssa", "-n", namespace, "--show-managed-fields")
    assert [(m["manager"], m["operation"]) for m in got["metadata"]["managedFields"]] == [("kubectl", "Apply")]
    kubectl("patch", "cm", "ssa", "-n", namespace, "-p", '{"data":{"a":"2"}}')
    clash = kubectl("apply", "--server-side", "-n", namespace, "-f", "-", input=cm, check=False)
    assert clash.returncode != 0 and "conflict" in clash.stderr.lower()
    kubectl("apply", "--server-side", "--force-conflicts", "-n", namespace, "-f", "-", input=cm)
    assert _get(kubectl, "cm", "ssa", "-n", namespace)["data"] == {"a": "1"}


def test_patch_strategic_merges_containers_by_name(kubectl, namespace):
    kubectl("apply", "-n", namespace, "-f", "-", input=DEPLOYMENT % "nginx:1.25")
    kubectl(
        "patch",
        "deployment",
        "web",
        "-n",
        namespace,
        "-p",
        '{"spec":{"template":{"spec":{"containers":[{"name":"side","image":"busybox"}]}}}}',
    )
    names = [
        c["name"] for c in _get(kubectl, "deployment", "web", "-n", namespace)["spec"]["template"]["spec"]["containers"]
    ]
    assert names == ["web", "side"]
    kubectl(
        "patch",
        "deployment",
        "web",
        "-n",
        namespace,
        "--type",
        "json",
        "-p",
        '[{"op":"remove","path":"/spec/template/spec/containers/1"}]',
    )
    assert len(_get(kubectl, "deployment", "web", "-n", namespace)["spec"]["template"]["spec"]["containers"]) == 1


def test_typed_protobuf_clients_work(kubectl, namespace):
    kubectl(
        "create",
        "deployment",
        "hello",
        "--image=registry.k8s.io/e2e-test-images/agnhost:2.43",
        "--replicas=0",
        "-n",
        namespace,
    )
    dep = _get(kubectl, "deployment", "hello", "-n", namespace)
    assert dep["spec"]["replicas"] == 0 and dep["spec"]["selector"] == {"matchLabels": {"app": "hello"}}
    container = dep["spec"]["template"]["spec"]["containers"][0]
    assert container["image"].endswith("agnhost:2.43") and "stdin" not in container
    kubectl("create", "service", "clusterip", "hello", "--tcp=80:8080", "-n", namespace)
    port = _get(kubectl, "service", "hello", "-n", namespace)["spec"]["ports"][0]
    assert (port["port"], port["targetPort"], port["protocol"]) == (80, 8080, "TCP")
    assert kubectl("auth", "can-i", "create", "pods", "-n", namespace).stdout.strip() == "yes"
    assert (
        kubectl("auth", "can-i", "create", "pods", "-n", namespace, context="developer", check=False).stdout.strip()
        == "no"
    )


def test_developer_self_provisions_a_project_with_create_f(kubectl, practice_cluster):
    name = f"p-{uuid.uuid4().hex[:8]}"
    request = (
        f"apiVersion: project.openshift.io/v1\nkind: ProjectRequest\nmetadata: {{name: {name}}}\n"
        "displayName: My Project\n"
    )
    out = kubectl("create", "-f", "-", input=request, context="developer").stdout
    assert f"project.project.openshift.io/{name} created" in out
    ns = _get(kubectl, "namespace", name)
    assert ns["metadata"]["annotations"]["openshift.io/requester"] == "developer"
    assert ns["metadata"]["annotations"]["openshift.io/display-name"] == "My Project"
    binding = _get(kubectl, "rolebinding", "admin", "-n", name)
    assert binding["roleRef"]["name"] == "admin" and binding["subjects"][0]["name"] == "developer"
    assert kubectl("auth", "can-i", "create", "deployments", "-n", name, context="developer").stdout.strip() == "yes"
    projects = kubectl("get", "projects", "-o", "name", context="developer").stdout.split()
    assert f"project.project.openshift.io/{name}" in projects and "project.project.openshift.io/default" not in projects
    again = kubectl("create", "-f", "-", input=request, context="developer", check=False)
    assert again.returncode != 0 and "AlreadyExists" in again.stderr


def test_delete_removes_and_reports_not_found_after(kubectl, namespace):
    kubectl("create", "configmap", "gone", "--from-literal=a=b", "-n", namespace)
    assert 'configmap "gone" deleted' in kubectl("delete", "configmap", "gone", "-n", namespace).stdout
    after = kubectl("get", "configmap", "gone", "-n", namespace, check=False)
    assert after.returncode != 0 and 'configmaps "gone" not found' in after.stderr


def test_get_prints_the_columns_a_real_cluster_prints(kubectl, namespace):
    kubectl("create", "service", "clusterip", "web", "--tcp=80:8080", "-n", namespace)
    lines = kubectl("get", "svc", "-n", namespace).stdout.splitlines()
    assert lines[0].split() == ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"]
    cells = lines[1].split()
    assert cells[:2] == ["web", "ClusterIP"] and cells[2].startswith("172.30.") and cells[3:5] == ["<none>", "80/TCP"]
    kubectl("run", "one", "--image=busybox", "-n", namespace, check=False)
    header = kubectl("get", "pods", "-n", namespace).stdout.splitlines()[0].split()
    assert header == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert kubectl("get", "ns", namespace).stdout.splitlines()[1].split()[:2] == [namespace, "Active"]
    kubectl("create", "rolebinding", "viewers", "--clusterrole=view", "--group=team", "-n", namespace)
    wide = kubectl("get", "rolebinding", "viewers", "-n", namespace, "-o", "wide").stdout.splitlines()
    assert wide[0].split() == ["NAME", "ROLE", "AGE", "USERS", "GROUPS", "SERVICEACCOUNTS"]
    assert wide[1].split()[:2] == ["viewers", "ClusterRole/view"] and wide[1].split()[-1] == "team"


def test_exec_says_there_are_no_containers(kubectl, namespace):
    kubectl("run", "box", "--image=busybox", "-n", namespace)
    result = kubectl("exec", "box", "-n", namespace, "--", "ls", check=False)
    assert result.returncode != 0 and "the practice cluster runs no containers" in result.stderr
