"""helm 3, which the lab supports beside helm 4: the pinned helm 3 that scripts/install-tools.sh puts off PATH at
.venv/libexec/helm3/helm, driving the lab the way a learner with helm 3 first on PATH would, and the practice cluster
the way helm 3 talks to an apiserver (create with POST, upgrade with client-side three-way strategic merge patches,
`--force` with PUT, `--wait` by polling) rather than helm 4's server-side apply."""

import json
import os
import uuid
from pathlib import Path

import pytest

from clearml_lab import steps, workshop
from clearml_lab.helm import Helm, find_helm
from clearml_lab.lab import connect

from .recipe_helpers import BIN, HELM3, cli

pytestmark = [pytest.mark.helm]


def _helm3_first_on_path() -> str:
    return os.pathsep.join([str(HELM3.parent), str(BIN), os.environ["PATH"]])


def test_the_test_helm3_is_supported_and_stays_off_path(tmp_path):
    major, minor, _ = Helm(kubeconfig=None, context=None, state_dir=tmp_path, binary=str(HELM3)).version()
    assert major == 3 and (major, minor) >= (3, 14)
    # The lab's default stays the helm of PATH / the venv: the helm 3 is only used when put first on PATH.
    assert Path(find_helm()).parent != HELM3.parent


# ---- a learner with helm 3 on PATH -----------------------------------------------------------------------------


def test_the_whole_recipe_with_helm3_on_path(home, practice_cluster, monkeypatch):
    ns = f"h3-{uuid.uuid4().hex[:6]}"
    env = {"PATH": _helm3_first_on_path()}
    done = cli(home, "run", "all", "--namespace", ns, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "✅ helm: v3." in done.stdout, done.stdout
    passed = [line.split()[1] for line in done.stdout.splitlines() if line.startswith("[PASS]")]
    for name in ("helm-repo", "project", "values", "scc", "install", "routes", "verify"):
        assert name in passed, done.stdout
    assert "ClearML is ready" in done.stdout

    from kubernetes import client

    apps = client.AppsV1Api(practice_cluster.api_client())
    managed = apps.read_namespaced_deployment("clearml-apiserver", ns).metadata.managed_fields
    # helm 3 created the objects with POST (an Update entry); helm 4 would have applied them server-side.
    assert {(m.manager, m.operation) for m in managed if m.manager == "helm"} == {("helm", "Update")}

    # The workshop's release listing (every status spelled out) and an upgrade that helm 3 waits for by polling.
    monkeypatch.setenv("PATH", env["PATH"])
    lab = connect(namespace=ns)
    assert Path(lab.helm().binary).parent == HELM3.parent
    release = workshop._release(lab)
    assert (release["status"], release["revision"], release["chart"]) == (
        "deployed",
        "1",
        f"clearml-{lab.chart_version}",
    )
    upgraded = lab.helm().run(
        [
            "upgrade",
            lab.settings.release,
            "clearml/clearml",
            "--version",
            lab.chart_version,
            "--namespace",
            ns,
            "-f",
            str(lab.values_file),
            "--set",
            "apiserver.replicaCount=2",
            "--wait",
            "--timeout",
            "300s",
        ],
        timeout=360,
    )
    assert upgraded.ok, upgraded.stderr
    assert apps.read_namespaced_deployment("clearml-apiserver", ns).status.ready_replicas == 2
    release = workshop._release(lab)
    assert (release["status"], release["revision"]) == ("deployed", "2")
    assert steps.get("install").check(lab, timeout=60).ok

    cleaned = cli(home, "--namespace", ns, "run", "cleanup", env=env)
    assert cleaned.returncode == 0, cleaned.stdout + cleaned.stderr
    assert "nothing of the lab is left" in cleaned.stdout
    assert workshop._release(lab) is None


# ---- helm 3's upgrade requests against the practice cluster ------------------------------------------------------

CHART = {
    "Chart.yaml": "apiVersion: v2\nname: demo\nversion: 0.1.0\n",
    "values.yaml": "second: false\n",
    # Revision 1 renders the first shape, `--set second=true` the second: an env var inserted between two, a
    # ConfigMap key and a Service port dropped, a PodDisruptionBudget selector narrowed.
    "templates/all.yaml": """\
apiVersion: v1
kind: ConfigMap
metadata: {name: demo}
data:
  one: "1"
  {{- if not .Values.second }}
  two: "2"
  {{- end }}
---
apiVersion: v1
kind: Service
metadata: {name: demo}
spec:
  selector: {app: demo}
  ports:
  - {name: http, port: 80, targetPort: 8080}
  {{- if not .Values.second }}
  - {name: https, port: 443, targetPort: 8443}
  {{- end }}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: demo}
spec:
  maxUnavailable: 1
  selector:
    matchLabels:
      app: demo
      {{- if not .Values.second }}
      tier: web
      {{- end }}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: demo}
spec:
  replicas: {{ if .Values.second }}2{{ else }}1{{ end }}
  selector: {matchLabels: {app: demo}}
  template:
    metadata: {labels: {app: demo, tier: web}}
    spec:
      containers:
      - name: web
        image: nginx
        env:
        - {name: A, value: "1"}
        {{- if .Values.second }}
        - {name: B, value: "2"}
        {{- end }}
        - {name: C, value: "3"}
""",
}


@pytest.fixture
def helm3(practice_cluster, namespace, tmp_path):
    chart = tmp_path / "demo"
    for name, text in CHART.items():
        (chart / name).parent.mkdir(parents=True, exist_ok=True)
        (chart / name).write_text(text)

    def run(*args):
        import subprocess

        result = subprocess.run(
            [str(HELM3), *args, "--namespace", namespace],
            env=practice_cluster.env(),
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert result.returncode == 0, f"helm {' '.join(args)}:\n{result.stdout}\n{result.stderr}"
        return result.stdout

    run.chart = str(chart)
    return run


def _live(practice_cluster, namespace) -> dict:
    from kubernetes import client

    api = practice_cluster.api_client()
    core, apps, policy = client.CoreV1Api(api), client.AppsV1Api(api), client.PolicyV1Api(api)
    deployment = apps.read_namespaced_deployment("demo", namespace)
    service = core.read_namespaced_service("demo", namespace)
    return {
        "env": [(e.name, e.value) for e in deployment.spec.template.spec.containers[0].env],
        "replicas": deployment.spec.replicas,
        "data": core.read_namespaced_config_map("demo", namespace).data,
        "ports": [p.port for p in service.spec.ports],
        "cluster_ip": service.spec.cluster_ip,
        "pdb": policy.read_namespaced_pod_disruption_budget("demo", namespace).spec.selector.match_labels,
    }


def test_helm3_upgrade_rollback_and_force_leave_what_the_chart_renders(helm3, practice_cluster, namespace):
    first = {
        "env": [("A", "1"), ("C", "3")],
        "replicas": 1,
        "data": {"one": "1", "two": "2"},
        "ports": [80, 443],
        "pdb": {"app": "demo", "tier": "web"},
    }
    second = {
        "env": [("A", "1"), ("B", "2"), ("C", "3")],
        "replicas": 2,
        "data": {"one": "1"},
        "ports": [80],
        "pdb": {"app": "demo"},
    }
    assert "STATUS: deployed" in helm3("install", "demo", helm3.chart, "--wait", "--timeout", "60s")
    installed = _live(practice_cluster, namespace)
    address = installed.pop("cluster_ip")
    assert installed == first

    # A three-way strategic merge patch per object: B comes between A and C by $setElementOrder, the port and the
    # key go by $patch: delete and null, and the selector (patch strategy "replace") is replaced, not merged.
    helm3("upgrade", "demo", helm3.chart, "--set", "second=true", "--wait", "--timeout", "60s")
    assert _live(practice_cluster, namespace) == {**second, "cluster_ip": address}

    helm3("rollback", "demo", "1", "--wait", "--timeout", "60s")
    assert _live(practice_cluster, namespace) == {**first, "cluster_ip": address}

    # --force replaces each object with a PUT of its bare manifest: the Service keeps the address it was given.
    helm3("upgrade", "demo", helm3.chart, "--set", "second=true", "--force", "--wait", "--timeout", "60s")
    assert _live(practice_cluster, namespace) == {**second, "cluster_ip": address}
    history = json.loads(helm3("history", "demo", "-o", "json"))
    assert [(h["revision"], h["status"]) for h in history] == [
        (1, "superseded"),
        (2, "superseded"),
        (3, "superseded"),
        (4, "deployed"),
    ]


def test_a_set_cluster_ip_cannot_change(practice_cluster, namespace):
    from kubernetes import client
    from kubernetes.client.rest import ApiException

    core = client.CoreV1Api(practice_cluster.api_client())
    service = core.create_namespaced_service(
        namespace,
        client.V1Service(
            metadata=client.V1ObjectMeta(name="fixed"),
            spec=client.V1ServiceSpec(selector={"app": "x"}, ports=[client.V1ServicePort(port=80)]),
        ),
    )
    taken = service.spec.cluster_ip
    service.spec.cluster_ip = service.spec.cluster_ips[0] = "172.30.0.9" if taken != "172.30.0.9" else "172.30.0.10"
    with pytest.raises(ApiException) as refused:
        core.replace_namespaced_service("fixed", namespace, service)
    assert refused.value.status == 422 and "may not change once set" in refused.value.body
    assert core.read_namespaced_service("fixed", namespace).spec.cluster_ip == taken
