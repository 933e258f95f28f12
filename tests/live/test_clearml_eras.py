"""Issue 4's end-to-end claims, through the real helm on running practice clusters: the seed recipe works on the
7.3.1 chart (OpenShift 4.15), fails on 7.14.4 until the computed grants are made, and without grants OpenShift's
SCC refusals name MongoDB, Redis and Elasticsearch's privileged init container."""

import time

import pytest
import yaml

from clearml_lab import chart, profiles
from clearml_lab.kube import Kube, wait_for
from clearml_lab.oc import add_scc_to_user
from clearml_lab.scc import plan_grants

pytestmark = [pytest.mark.cluster, pytest.mark.helm]
SEED_GRANTS = (
    ("anyuid", "clearml-mongodb"),
    ("anyuid", "clearml-redis"),
    ("anyuid", "default"),
    ("privileged", "clearml-elastic"),
)


def _install(cluster, namespace, version, tmp_path):
    values = tmp_path / f"values-{namespace}.yaml"
    values.write_text(yaml.safe_dump(profiles.profile_values("seed", version)))
    cluster.run("kubectl", "create", "namespace", namespace)
    return values


def _helm_install(cluster, namespace, version, values, *extra):
    return cluster.run(
        "helm",
        "install",
        "clearml",
        str(chart.chart_package(version)),
        "--namespace",
        namespace,
        "-f",
        str(values),
        *extra,
        timeout=240,
    )


def _all_ready(kube, namespace, timeout=120) -> bool:
    def ready(items):
        return bool(items) and all(
            (i.get("status", {}).get("readyReplicas") or 0) >= i["spec"].get("replicas", 1) for i in items
        )

    return wait_for(kube, "deployments", ready, namespace=namespace, timeout=timeout) and wait_for(
        kube, "statefulsets", ready, namespace=namespace, timeout=timeout
    )


def test_seed_recipe_on_chart_7_3_1_makes_every_pod_ready(cluster_4_15, tmp_path):
    kube = Kube(cluster_4_15.api_client())
    values = _install(cluster_4_15, "seed731", "7.3.1", tmp_path)
    for scc, sa in SEED_GRANTS:
        add_scc_to_user(kube, scc, sa, "seed731")
    _helm_install(cluster_4_15, "seed731", "7.3.1", values)
    assert _all_ready(kube, "seed731")
    pods = kube.list("pods", "seed731")["items"]
    core = [
        p
        for p in pods
        if p["metadata"]["name"].startswith(("clearml-apiserver", "clearml-fileserver", "clearml-webserver"))
    ]
    assert core and all(p["spec"]["serviceAccountName"] == "default" for p in core)
    assert {p["metadata"]["annotations"]["openshift.io/scc"] for p in core} == {"anyuid"}


def test_chart_7_3_1_is_refused_by_helm_on_4_19(practice_cluster, tmp_path):
    values = tmp_path / "v.yaml"
    values.write_text(yaml.safe_dump(profiles.profile_values("seed", "7.3.1")))
    result = practice_cluster.run(
        "helm",
        "install",
        "clearml",
        str(chart.chart_package("7.3.1")),
        "--namespace",
        "default",
        "-f",
        str(values),
        check=False,
    )
    assert result.returncode != 0
    assert (
        "chart requires kubeVersion: >= 1.21.0-0 < 1.29.0-0 which is incompatible with Kubernetes v1.32"
        in result.stderr
    )


def test_without_grants_the_events_show_openshifts_refusals(practice_cluster, tmp_path):
    kube = Kube(practice_cluster.api_client())
    values = _install(practice_cluster, "nogrants", "7.14.4", tmp_path)
    _helm_install(practice_cluster, "nogrants", "7.14.4", values)
    wanted = {"ReplicaSet": "clearml-mongodb-", "StatefulSet": ("clearml-redis-master", "clearml-elastic-master")}
    deadline = time.monotonic() + 60
    while True:
        events = [e for e in kube.list("events", "nogrants")["items"] if e.get("reason") == "FailedCreate"]
        text = {e["involvedObject"]["name"]: e["message"] for e in events}
        if any(n.startswith("clearml-mongodb-") for n in text) and all(n in text for n in wanted["StatefulSet"]):
            break
        assert time.monotonic() < deadline, f"refusals not all seen: {sorted(text)}"
        time.sleep(0.3)
    mongo = next(m for n, m in text.items() if n.startswith("clearml-mongodb-"))
    assert (
        mongo.startswith('Error creating: pods "clearml-mongodb-')
        and '-" is forbidden: unable to validate against any security context constraint: [provider "anyuid": '
        "Forbidden: not usable by user or serviceaccount, provider restricted-v2: "
        in mongo
    )
    assert "Invalid value: 1001: must be in the ranges: [" in mongo
    redis = text["clearml-redis-master"]
    assert redis.startswith(
        "create Pod clearml-redis-master-0 in StatefulSet clearml-redis-master failed error: "
        'pods "clearml-redis-master-0" is forbidden: unable to validate against any security '
        "context constraint"
    )
    es = text["clearml-elastic-master"]
    assert ".initContainers[0].privileged: Invalid value: true: Privileged containers are not allowed" in es


def test_seed_grants_fail_on_7_14_4_and_the_computed_grants_fix_it(practice_cluster, tmp_path):
    kube = Kube(practice_cluster.api_client())
    values = _install(practice_cluster, "era714", "7.14.4", tmp_path)
    for scc, sa in SEED_GRANTS:
        add_scc_to_user(kube, scc, sa, "era714", namespaced=True)
    _helm_install(practice_cluster, "era714", "7.14.4", values)
    assert not _all_ready(kube, "era714", timeout=8), "the seed grants must not be enough on 7.14.4"
    apiserver = kube.get("deployments", "clearml-apiserver", "era714")
    assert any(c["type"] == "ReplicaFailure" for c in apiserver["status"].get("conditions", []))
    annotations = kube.get("namespaces", "era714")["metadata"]["annotations"]
    plan = plan_grants(
        chart.render("7.14.4", values_file=str(values), profile=None, namespace="era714"),
        namespace="era714",
        namespace_annotations=annotations,
    )
    for grant in plan.grants():
        add_scc_to_user(kube, grant.scc, grant.service_account, "era714", namespaced=True)
    for pod in kube.list("pods", "era714")["items"]:  # pods admitted before the grants keep their SCC
        if pod["metadata"].get("ownerReferences"):
            kube.delete("pods", pod["metadata"]["name"], "era714")
    assert _all_ready(kube, "era714", timeout=120)
