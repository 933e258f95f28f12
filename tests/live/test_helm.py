"""The real helm 4 (protobuf release Secrets, server-side apply, OpenAPI from the server) against a running practice
cluster, with a tiny chart written by the test."""

import json
import uuid
from pathlib import Path

import pytest

pytestmark = pytest.mark.helm


def _chart(root: Path, kube_version: str = ">=1.25.0-0") -> Path:
    chart = root / "demo"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text(f'apiVersion: v2\nname: demo\nversion: 0.1.0\nkubeVersion: "{kube_version}"\n')
    (chart / "values.yaml").write_text("greeting: hello\n")
    (chart / "templates" / "cm.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: '{{ .Release.Name }}-cm'}\n"
        "data: {greeting: {{ .Values.greeting | quote }}}\n"
    )
    (chart / "templates" / "svc.yaml").write_text(
        "apiVersion: v1\nkind: Service\nmetadata: {name: '{{ .Release.Name }}-svc'}\n"
        "spec:\n  selector: {app: demo}\n  ports: [{port: 80, targetPort: 8080, name: http}]\n"
    )
    return chart


@pytest.fixture
def helm(practice_cluster, namespace):
    def run(*args, check=True):
        return practice_cluster.run("helm", *args, "--namespace", namespace, check=check)

    return run


def test_install_upgrade_list_status_uninstall(helm, practice_cluster, namespace, tmp_path):
    chart = _chart(tmp_path)
    release = f"r{uuid.uuid4().hex[:6]}"
    assert "STATUS: deployed" in helm("install", release, str(chart)).stdout
    core = practice_cluster.api_client()
    from kubernetes import client

    v1 = client.CoreV1Api(core)
    assert v1.read_namespaced_config_map(f"{release}-cm", namespace).data == {"greeting": "hello"}
    secret = v1.read_namespaced_secret(f"sh.helm.release.v1.{release}.v1", namespace)
    assert secret.type == "helm.sh/release.v1" and secret.metadata.labels["status"] == "deployed"
    managers = {m.manager for m in v1.read_namespaced_config_map(f"{release}-cm", namespace).metadata.managed_fields}
    assert "helm" in managers  # helm 4 applies server-side
    helm("upgrade", release, str(chart), "--set", "greeting=yo")
    assert v1.read_namespaced_config_map(f"{release}-cm", namespace).data == {"greeting": "yo"}
    listed = json.loads(helm("list", "-o", "json").stdout)
    assert [(r["name"], r["revision"], r["status"]) for r in listed] == [(release, "2", "deployed")]
    assert "REVISION: 2" in helm("status", release).stdout
    helm("uninstall", release)
    assert json.loads(helm("list", "-o", "json").stdout) == []
    assert [c.metadata.name for c in v1.list_namespaced_config_map(namespace).items] == []
    assert v1.list_namespaced_service(namespace).items == []


def test_install_wait_returns_for_a_chart_without_workloads(helm, tmp_path):
    assert "STATUS: deployed" in helm("install", "waited", str(_chart(tmp_path)), "--wait", "--timeout", "60s").stdout


def test_helm_refuses_a_chart_whose_kube_version_excludes_the_cluster(helm, tmp_path):
    result = helm("install", "old", str(_chart(tmp_path, "<1.30.0-0")), check=False)
    assert result.returncode != 0
    assert "chart requires kubeVersion: <1.30.0-0 which is incompatible with Kubernetes v1.32.5" in result.stderr
