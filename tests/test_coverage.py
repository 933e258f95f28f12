"""Issue 14, item 6: a diagnosis covers every workload — also pods admitted under restricted-v2 whose image must
run as root (ClearML's fileserver and webserver), which will crash as soon as they start."""

from types import SimpleNamespace

from clearml_lab import coverage


def _workload(name, replicas=1, ready=0):
    return {"metadata": {"name": name}, "spec": {"replicas": replicas}, "status": {"readyReplicas": ready}}


def _pod(name, image, *, scc="restricted-v2", uid=None):
    context = {"runAsUser": uid} if uid is not None else {}
    return {
        "metadata": {"name": name, "annotations": {"openshift.io/scc": scc}},
        "spec": {"containers": [{"name": "main", "image": image, "securityContext": context}]},
    }


class FakeKube:
    def __init__(self, **lists):
        self.lists = lists

    def list(self, resource, namespace):
        return {"items": self.lists.get(resource, [])}


def test_every_workload_gets_a_verdict_and_a_root_image_under_restricted_v2_is_bound_to_fail():
    kube = FakeKube(
        deployments=[
            _workload("clearml-apiserver"),
            _workload("clearml-fileserver"),
            _workload("clearml-mongodb", ready=1),
        ],
        statefulsets=[_workload("clearml-redis-master")],
        pods=[
            _pod("clearml-fileserver-5d9f8-abcde", "allegroai/clearml:2.0", uid=1000650000),
            _pod("clearml-mongodb-77c-xyz12", "docker.io/bitnamilegacy/mongodb:7.0", scc="anyuid", uid=1001),
        ],
    )
    refused = SimpleNamespace(subject="ReplicaSet/clearml-apiserver-7f9c", rule="scc-rejected")
    verdicts = {v.subject: v for v in coverage.workloads(kube, "clearml", [refused])}
    assert set(verdicts) == {
        "deployment/clearml-fileserver",
        "deployment/clearml-mongodb",
        "statefulset/clearml-redis-master",
    }  # the apiserver is the diagnosis's
    doomed = verdicts["deployment/clearml-fileserver"]
    assert doomed.ok is False
    assert "restricted-v2" in doomed.text and "UID 1000650000" in doomed.text and "must run as UID 0" in doomed.text
    assert "`clearml-lab run scc` (notebook 04)" in doomed.text
    assert verdicts["deployment/clearml-mongodb"].ok is True
    assert verdicts["statefulset/clearml-redis-master"].ok is None
    assert "no pod yet" in verdicts["statefulset/clearml-redis-master"].text


def test_a_root_image_granted_root_is_not_flagged():
    kube = FakeKube(
        deployments=[_workload("clearml-webserver")],
        pods=[_pod("clearml-webserver-1-abcde", "allegroai/clearml:2.0", scc="anyuid")],
    )
    [verdict] = coverage.workloads(kube, "clearml")
    assert verdict.ok is None and "starting" in verdict.text  # no runAsUser: the image's own user, root
