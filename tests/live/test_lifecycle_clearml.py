"""The image model on the practice ClearML chart, installed by the real helm: start-up order, SCC refusals and
the hardened profile, as a learner would live them."""

import time

import pytest
import yaml
from kubernetes import client

from clearml_lab import chart, profiles

pytestmark = [pytest.mark.cluster, pytest.mark.helm]


def grant(rbac, namespace, scc, *accounts):
    rbac.create_namespaced_role_binding(
        namespace,
        client.V1RoleBinding(
            metadata=client.V1ObjectMeta(name=f"system:openshift:scc:{scc}"),
            role_ref=client.V1RoleRef(
                api_group="rbac.authorization.k8s.io", kind="ClusterRole", name=f"system:openshift:scc:{scc}"
            ),
            subjects=[client.RbacV1Subject(kind="ServiceAccount", name=a, namespace=namespace) for a in accounts],
        ),
    )


def install(practice_cluster, namespace, profile, tmp_path, *, wait):
    values = tmp_path / "values.yaml"
    values.write_text(yaml.safe_dump(profiles.profile_values(profile, "7.14.4")))
    args = [
        "helm",
        "install",
        "clearml",
        str(chart.chart_package("7.14.4")),
        "--namespace",
        namespace,
        "-f",
        str(values),
    ]
    if wait:
        args += ["--wait", "--timeout", "120s"]
    return practice_cluster.run(*args, timeout=180)


@pytest.fixture
def kube(practice_cluster):
    c = practice_cluster.api_client()
    return client.CoreV1Api(c), client.AppsV1Api(c), client.RbacAuthorizationV1Api(c)


def test_hardened_values_need_anyuid_for_the_three_clearml_accounts_only(practice_cluster, namespace, kube, tmp_path):
    core, apps, rbac = kube
    grant(rbac, namespace, "anyuid", "clearml-apiserver", "clearml-fileserver", "clearml-webserver")
    install(practice_cluster, namespace, "hardened", tmp_path, wait=True)
    pods = core.list_namespaced_pod(namespace).items
    assert pods and all(p.status.phase == "Running" and all(s.ready for s in p.status.container_statuses) for p in pods)
    scc = {p.metadata.name: p.metadata.annotations["openshift.io/scc"] for p in pods}
    assert {n.rsplit("-", 2)[0] for n, s in scc.items() if s == "anyuid"} == {
        "clearml-apiserver",
        "clearml-apiserver-asyncdelete",
        "clearml-fileserver",
        "clearml-webserver",
    }
    assert "privileged" not in scc.values()
    ready_at = {
        p.metadata.name: next(c.last_transition_time for c in p.status.conditions if c.type == "Ready") for p in pods
    }
    es = next(t for n, t in ready_at.items() if n.startswith("clearml-elastic-master"))
    apiserver = next(t for n, t in ready_at.items() if n.startswith("clearml-apiserver-") and "asyncdelete" not in n)
    assert apiserver >= es  # its init container waited for Elasticsearch's endpoints


def test_seed_grants_on_7_14_leave_the_apiserver_refused_and_the_others_waiting(
    practice_cluster, namespace, kube, tmp_path
):
    core, apps, rbac = kube
    grant(rbac, namespace, "anyuid", "default", "clearml-mongodb", "clearml-redis")
    grant(rbac, namespace, "privileged", "clearml-elastic")
    install(practice_cluster, namespace, "seed", tmp_path, wait=False)
    deadline = time.monotonic() + 30
    while True:
        d = apps.read_namespaced_deployment("clearml-apiserver", namespace)
        failure = next((c for c in d.status.conditions or [] if c.type == "ReplicaFailure"), None)
        es = apps.read_namespaced_stateful_set("clearml-elastic-master", namespace)
        if failure and es.status.ready_replicas:
            break
        assert time.monotonic() < deadline, "the apiserver refusal or Elasticsearch readiness did not show"
        time.sleep(0.2)
    assert "unable to validate against any security context constraint" in failure.message
    assert "runAsUser: Invalid value: 0" in failure.message
    for component in ("fileserver", "webserver"):
        [pod] = [
            p for p in core.list_namespaced_pod(namespace).items if p.metadata.name.startswith(f"clearml-{component}-")
        ]
        init = pod.status.init_container_statuses[0]
        assert init.state.running, f"{component}'s init container should still be waiting for the apiserver"
        initialized = next(c for c in pod.status.conditions if c.type == "Initialized")
        assert initialized.status == "False"
