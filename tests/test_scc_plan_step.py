"""The scc step and the plan table with plans that grant one service account several SCCs."""

from clearml_lab.scc import plan_grants
from clearml_lab.steps.scc import recreate_pods_admitted_before
from clearml_lab.widgets import PlanTable

ROOTFUL = {"images": [{"repositories": ["example/rootful"], "image_user": 0, "needs_uid": 0, "why": "it writes /etc"}]}


def _deployment(name, sa, image="registry.example/app:1", **spec):
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "template": {"spec": {"serviceAccountName": sa, "containers": [{"name": "c", "image": image}], **spec}}
        },
    }


def _pod(name, sa, scc, owner=None):
    meta = {"name": name, "annotations": {"openshift.io/scc": scc}}
    if owner:
        meta["ownerReferences"] = [{"kind": owner[0], "name": owner[1], "controller": True}]
    return {"metadata": meta, "spec": {"serviceAccountName": sa}}


class Pods:
    def __init__(self, pods):
        self.pods, self.deleted = pods, []

    def list(self, resource, namespace=None):
        assert resource == "pods"
        return {"items": self.pods}

    def delete(self, resource, name, namespace=None):
        self.deleted.append(name)


def test_pods_are_recreated_only_where_the_plan_moves_them():
    kube = Pods(
        [
            _pod("api-7d9f-x1", "shared", "restricted-v2", ("ReplicaSet", "api-7d9f")),  # planned on anyuid
            _pod("worker-5c6b-x2", "shared", "restricted-v2", ("ReplicaSet", "worker-5c6b")),  # stays on restricted-v2
            _pod("search-0", "shared", "nonroot-v2", ("StatefulSet", "search")),  # planned on privileged
            _pod("other-0", "other", "restricted-v2", ("StatefulSet", "other")),  # no new grant
            _pod("bare", "shared", "restricted-v2"),  # no controller
        ]
    )
    planned = {
        ("Deployment", "api"): "anyuid",
        ("Deployment", "worker"): "restricted-v2",
        ("StatefulSet", "search"): "privileged",
        ("StatefulSet", "other"): "restricted-v2",
    }
    lines = recreate_pods_admitted_before(kube, "ns", {"shared": {"anyuid", "privileged"}}, planned)
    assert kube.deleted == ["api-7d9f-x1", "search-0"]
    assert lines[0] == (
        'pod "api-7d9f-x1" deleted: admitted under restricted-v2 before the grant; its controller '
        "recreates it under anyuid"
    )
    # a sibling the new grant captures is recreated too, or it would keep running under its old SCC
    kube = Pods([_pod("worker-5c6b-x2", "shared", "restricted-v2", ("ReplicaSet", "worker-5c6b"))])
    recreate_pods_admitted_before(kube, "ns", {"shared": {"anyuid"}}, {("Deployment", "worker"): "anyuid"})
    assert kube.deleted == ["worker-5c6b-x2"]


def test_without_the_plan_any_granted_scc_counts():
    kube = Pods(
        [
            _pod("a-1-x", "shared", "anyuid", ("ReplicaSet", "a-1")),
            _pod("b-1-x", "shared", "restricted-v2", ("ReplicaSet", "b-1")),
        ]
    )
    lines = recreate_pods_admitted_before(kube, "ns", {"shared": {"anyuid", "privileged"}})
    assert kube.deleted == ["b-1-x"] and lines[0].endswith("recreates it under anyuid or privileged")


def test_plan_table_rows_carry_each_grants_own_reason_and_the_plans_warnings():
    root = _deployment("api", "shared", image="example/rootful:1")
    init = {"name": "sysctl", "image": "example/rootful:1", "securityContext": {"privileged": True}}
    search = _deployment("search", "shared", initContainers=[init])
    worker = _deployment("worker", "shared")
    plan = plan_grants([root, search, worker], namespace="lab", image_requirements=ROOTFUL)
    table = PlanTable(plan, on_apply=lambda grant: None)
    assert [(r.scc, r.service_account) for r in table.rows] == [("anyuid", "shared"), ("privileged", "shared")]
    anyuid, privileged = table.rows
    assert anyuid.reason.startswith("api runs example/rootful") and "privileged" not in anyuid.reason
    assert "runs container sysctl privileged" in privileged.reason
    assert anyuid.command == "oc adm policy add-scc-to-user anyuid -z shared -n lab"
    assert table.warnings == plan.warnings and any("also takes Deployment/worker" in w for w in table.warnings)
    assert any(w.startswith("no requirements known for image registry.example/app:1") for w in table.warnings)
    assert table.text.splitlines() == [
        f"anyuid -> shared: {anyuid.reason} [not applied]",
        f"privileged -> shared: {privileged.reason} [not applied]",
    ]
    assert table.warnings_text.splitlines() == [f"Note: {w}" for w in plan.warnings]
    assert "also takes Deployment/worker" in table.children[1].value
