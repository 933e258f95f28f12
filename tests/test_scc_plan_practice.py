"""Issue 12's chart on a running practice cluster (OpenShift 4.15): chart 7.3.1 installed with no values runs the
ClearML pods and Elasticsearch as `default`. The planner's grants for it — anyuid and privileged for default, applied
as the RoleBindings `plan-scc --output yaml` prints — make every pod Ready, each admitted where the plan said; the
lab's own undo then finds and removes those bindings. The install moves the Bitnami images to bitnamilegacy (their
tags left docker.io/bitnami, which the practice cluster imitates); that changes no security context, and the plan of
that render is the same."""

import pytest
import yaml

from clearml_lab import chart
from clearml_lab.cli import main
from clearml_lab.kube import Kube, wait_for
from clearml_lab.oc import lab_grants, remove_scc_from_user
from clearml_lab.scc import plan_grants

pytestmark = [pytest.mark.cluster, pytest.mark.helm]
NS = "plain731"
IMAGE_MOVE = {
    "mongodb": {"image": {"repository": "bitnamilegacy/mongodb"}},
    "redis": {"image": {"repository": "bitnamilegacy/redis"}},
}


def _ready(items):
    return bool(items) and all(
        (i.get("status", {}).get("readyReplicas") or 0) >= i["spec"].get("replicas", 1) for i in items
    )


def test_the_planned_role_bindings_make_chart_7_3_1_with_no_values_work(cluster_4_15, tmp_path, capsys):
    manifests = chart.render("7.3.1", profile=None, namespace=NS, kube_version="1.28")
    rendered = tmp_path / "rendered.yaml"
    rendered.write_text(yaml.safe_dump_all(manifests))
    plan = plan_grants(manifests, namespace=NS, openshift_version="4.15")
    assert {(g.scc, g.service_account) for g in plan.grants() if g.service_account == "default"} == {
        ("anyuid", "default"),
        ("privileged", "default"),
    }

    assert main(["plan-scc", "--manifests", str(rendered), "--namespace", NS, "--output", "yaml"]) == 0
    bindings = tmp_path / "bindings.yaml"
    bindings.write_text(capsys.readouterr().out)
    cluster_4_15.run("kubectl", "create", "namespace", NS)
    cluster_4_15.run("kubectl", "apply", "-f", str(bindings))
    moved = chart.render("7.3.1", profile=None, overrides=IMAGE_MOVE, namespace=NS, kube_version="1.28")
    assert plan_grants(moved, namespace=NS, openshift_version="4.15").grants() == plan.grants()
    cluster_4_15.run(
        "helm",
        "install",
        "clearml",
        str(chart.chart_package("7.3.1")),
        "--namespace",
        NS,
        "--set",
        "mongodb.image.repository=bitnamilegacy/mongodb",
        "--set",
        "redis.image.repository=bitnamilegacy/redis",
        timeout=240,
    )

    kube = Kube(cluster_4_15.api_client())
    assert wait_for(kube, "deployments", _ready, namespace=NS, timeout=120)
    assert wait_for(kube, "statefulsets", _ready, namespace=NS, timeout=120)
    planned = {w.name: w.scc_planned for w in plan.workloads}
    pods = kube.list("pods", NS)["items"]
    admitted = {}
    for pod in pods:
        owner = pod["metadata"]["ownerReferences"][0]
        name = owner["name"].rsplit("-", 1)[0] if owner["kind"] == "ReplicaSet" else owner["name"]
        admitted[name] = pod["metadata"]["annotations"]["openshift.io/scc"]
    assert admitted == planned
    assert admitted["clearml-elastic-master"] == "privileged" and admitted["clearml-apiserver"] == "anyuid"

    # the lab's undo sees the applied bindings as its own grants and removes them
    found = lab_grants(kube, NS)
    assert sorted((scc, sa) for scc, sa, _ in found) == sorted((g.scc, g.service_account) for g in plan.grants())
    for scc, sa, namespaced in found:
        changed, line = remove_scc_from_user(kube, scc, sa, NS, namespaced=namespaced)
        assert changed and line == f'clusterrole.rbac.authorization.k8s.io/system:openshift:scc:{scc} removed: "{sa}"'

    left = [
        b["metadata"]["name"]
        for b in kube.list("rolebindings", NS)["items"]
        if b["metadata"]["name"].startswith("system:openshift:scc:")
    ]
    assert left == []
