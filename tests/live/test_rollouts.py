"""Rollouts and revisions after the first install, with helm 4 and with helm 3: a changed pod template rolls out per
the Deployment's strategy with old and new ReplicaSets visible, `kubectl rollout status|history|undo` and
`helm rollback` work, `--set apiserver.replicaCount=2` scales, StatefulSets keep ControllerRevisions and a Parallel
one (Elasticsearch) replaces a pod that never became Ready. Everything is read back through kubectl."""

from __future__ import annotations

import json
import subprocess
import uuid
from pathlib import Path

import pytest
import yaml

from clearml_lab import chart, profiles, topology

from .cluster import PracticeCluster
from .recipe_helpers import BIN, HELM3, eventually

pytestmark = [pytest.mark.cluster, pytest.mark.helm]

HELMS = [pytest.param(BIN / "helm", id="helm4"), pytest.param(HELM3, id="helm3")]
CLEARML_ACCOUNTS = ("clearml-apiserver", "clearml-fileserver", "clearml-webserver")


# ---- helpers the other files of this family share (test_helm_test, test_recovery, test_reinstall) ---------------


def helm(cluster: PracticeCluster, binary: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run([str(binary), *args], env=cluster.env(), capture_output=True, text=True, timeout=180)
    if check and done.returncode != 0:
        raise AssertionError(f"helm {' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done


def kubectl(cluster: PracticeCluster, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    return cluster.run("kubectl", *args, check=check)


def get(cluster: PracticeCluster, ns: str, *what: str) -> dict:
    return json.loads(kubectl(cluster, "get", *what, "-n", ns, "-o", "json").stdout)


def values_file(tmp_path: Path, **overrides) -> Path:
    """The lab's hardened profile (what a learner installs), with ``overrides`` merged on top."""
    values = profiles.profile_values("hardened", "7.14.4")
    for key, value in overrides.items():
        values.setdefault(key, {}).update(value)
    path = tmp_path / f"values-{uuid.uuid4().hex[:6]}.yaml"
    path.write_text(yaml.safe_dump(values))
    return path


def new_project(cluster: PracticeCluster) -> str:
    """A namespace whose three ClearML accounts may use anyuid (what the scc step grants for hardened)."""
    ns = f"r-{uuid.uuid4().hex[:6]}"
    kubectl(cluster, "create", "namespace", ns)
    for sa in CLEARML_ACCOUNTS:
        kubectl(
            cluster,
            "create",
            "rolebinding",
            f"anyuid-{sa}",
            "-n",
            ns,
            "--clusterrole=system:openshift:scc:anyuid",
            f"--serviceaccount={ns}:{sa}",
        )
    return ns


def install(
    cluster: PracticeCluster, binary: Path, ns: str, values: Path, *extra: str, verb: str = "install", wait: bool = True
) -> subprocess.CompletedProcess:
    """helm install/upgrade; with ``wait`` until ready (and it must succeed), else it returns once applied."""
    waiting = ("--wait", "--timeout", "120s") if wait else ()
    return helm(
        cluster,
        binary,
        verb,
        "clearml",
        str(chart.chart_package("7.14.4")),
        "-n",
        ns,
        "-f",
        str(values),
        *waiting,
        *extra,
        check=wait,
    )


def replicasets(cluster: PracticeCluster, ns: str, deployment: str) -> dict[int, dict]:
    """The Deployment's ReplicaSets by their revision annotation."""
    items = get(cluster, ns, "replicasets")["items"]
    return {
        int(r["metadata"]["annotations"]["deployment.kubernetes.io/revision"]): r
        for r in items
        if any(o["name"] == deployment for o in r["metadata"].get("ownerReferences", []))
    }


def image_of(obj: dict, container: str) -> str:
    spec = obj["spec"]["template"]["spec"] if "template" in obj["spec"] else obj["spec"]
    return next(c["image"] for c in spec["containers"] if c["name"] == container)


def ready_pods(cluster: PracticeCluster, ns: str, prefix: str) -> list[dict]:
    return [
        p
        for p in get(cluster, ns, "pods")["items"]
        if p["metadata"]["name"].startswith(prefix)
        and not p["metadata"].get("deletionTimestamp")
        and any(c["type"] == "Ready" and c["status"] == "True" for c in p["status"].get("conditions", []))
    ]


# ---- the tests ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("binary", HELMS)
def test_a_changed_template_rolls_out_per_strategy_and_helm_rollback_restores_it(cluster, binary, tmp_path):
    ns = new_project(cluster)
    good = values_file(tmp_path)
    install(cluster, binary, ns, good)
    [first] = replicasets(cluster, ns, "clearml-apiserver").values()
    assert (
        get(cluster, ns, "deployment", "clearml-apiserver")["metadata"]["annotations"][
            "deployment.kubernetes.io/revision"
        ]
        == "1"
    )

    # An image that cannot be pulled: the new ReplicaSet's pod never becomes Ready. maxUnavailable (25 % of one
    # replica, rounded down) is 0, so the old pod keeps serving while maxSurge (rounded up: 1) adds the new one.
    broken = values_file(tmp_path, apiserver={"image": {"repository": "bitnami/clearml", "tag": "2.0.0-613"}})
    assert install(cluster, binary, ns, broken, verb="upgrade", wait=False).returncode == 0
    sets = eventually(
        lambda: (s := replicasets(cluster, ns, "clearml-apiserver")) and len(s) == 2 and s, what="a second ReplicaSet"
    )
    assert sets[1]["metadata"]["name"] == first["metadata"]["name"]
    assert (sets[1]["spec"]["replicas"], sets[2]["spec"]["replicas"]) == (1, 1)
    assert image_of(sets[2], "clearml-apiserver").endswith("bitnami/clearml:2.0.0-613")
    assert len(ready_pods(cluster, ns, first["metadata"]["name"])) == 1  # the old revision still serves
    waiting = kubectl(
        cluster, "rollout", "status", "deployment/clearml-apiserver", "-n", ns, "--timeout=2s", check=False
    )
    assert waiting.returncode != 0 and "1 old replicas are pending termination" in waiting.stdout
    history = kubectl(cluster, "rollout", "history", "deployment/clearml-apiserver", "-n", ns).stdout
    assert [line.split()[0] for line in history.splitlines()[2:] if line.strip()] == ["1", "2"]
    # The topology view says a rollout is under way.
    node = topology.snapshot(cluster.api_client(), ns).node("Deployment", "clearml-apiserver")
    assert node.rollout and node.rollout.startswith("rolling out revision 2: 1 of 1 updated, 1 old")

    # helm rollback: the first template again, so its ReplicaSet becomes the newest revision and the rollout ends.
    helm(cluster, binary, "rollback", "clearml", "1", "-n", ns, "--wait", "--timeout", "60s")
    kubectl(cluster, "rollout", "status", "deployment/clearml-apiserver", "-n", ns, "--timeout=60s")
    sets = replicasets(cluster, ns, "clearml-apiserver")
    assert sets[3]["metadata"]["name"] == first["metadata"]["name"] and sets[3]["spec"]["replicas"] == 1
    assert sorted(sets) == [2, 3] and sets[2]["spec"]["replicas"] == 0  # the broken one stays, scaled down
    assert topology.snapshot(cluster.api_client(), ns).node("Deployment", "clearml-apiserver").rollout is None


@pytest.mark.parametrize("binary", HELMS)
def test_replica_count_scales_without_a_new_revision_and_rollout_undo_goes_back(cluster, binary, tmp_path):
    ns = new_project(cluster)
    install(cluster, binary, ns, values_file(tmp_path))
    install(cluster, binary, ns, values_file(tmp_path), "--set", "apiserver.replicaCount=2", verb="upgrade")
    eventually(
        lambda: (
            len(ready_pods(cluster, ns, "clearml-apiserver-"))
            - len(ready_pods(cluster, ns, "clearml-apiserver-asyncdelete"))
            == 2
        ),
        what="two apiserver pods Ready",
    )
    assert list(replicasets(cluster, ns, "clearml-apiserver")) == [1]

    newer = values_file(tmp_path, apiserver={"image": {"tag": "2.0.0-614"}})
    install(cluster, binary, ns, newer, "--set", "apiserver.replicaCount=2", verb="upgrade")
    kubectl(cluster, "rollout", "status", "deployment/clearml-apiserver", "-n", ns, "--timeout=60s")
    kubectl(cluster, "rollout", "undo", "deployment/clearml-apiserver", "-n", ns)
    kubectl(cluster, "rollout", "status", "deployment/clearml-apiserver", "-n", ns, "--timeout=60s")
    deploy = get(cluster, ns, "deployment", "clearml-apiserver")
    assert image_of(deploy, "clearml-apiserver").endswith("allegroai/clearml:2.0.0-613")
    assert deploy["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "3"
    sets = replicasets(cluster, ns, "clearml-apiserver")
    assert image_of(sets[3], "clearml-apiserver").endswith("allegroai/clearml:2.0.0-613")
    assert sets[3]["spec"]["replicas"] == 2


@pytest.mark.parametrize("binary", HELMS)
def test_statefulsets_keep_revisions_and_a_parallel_one_replaces_a_pod_that_never_became_ready(
    cluster, binary, tmp_path
):
    ns = new_project(cluster)
    install(cluster, binary, ns, values_file(tmp_path))
    es = get(cluster, ns, "statefulset", "clearml-elastic-master")
    assert es["spec"]["podManagementPolicy"] == "Parallel"
    first = es["status"]["currentRevision"]
    # Elasticsearch with mmap on again: on the practice node (vm.max_map_count 65530) it fails its bootstrap check.
    mmap_on = values_file(
        tmp_path, elasticsearch={"esConfig": {"elasticsearch.yml": "xpack.security.enabled: false\n"}}
    )
    assert install(cluster, binary, ns, mmap_on, verb="upgrade", wait=False).returncode == 0
    broken = eventually(
        lambda: (
            (s := get(cluster, ns, "statefulset", "clearml-elastic-master"))["status"]["updateRevision"] != first and s
        ),
        what="a new update revision",
    )["status"]["updateRevision"]
    eventually(
        lambda: (
            get(cluster, ns, "pod", "clearml-elastic-master-0")["metadata"]["labels"]["controller-revision-hash"]
            == broken
        ),
        what="the Elasticsearch pod on the new revision",
    )
    assert not ready_pods(cluster, ns, "clearml-elastic-master-0")
    # The fix: the hardened values again. Parallel: the controller replaces the pod that never became Ready.
    install(cluster, binary, ns, values_file(tmp_path), verb="upgrade")
    kubectl(cluster, "rollout", "status", "statefulset/clearml-elastic-master", "-n", ns, "--timeout=60s")
    pod = get(cluster, ns, "pod", "clearml-elastic-master-0")
    status = get(cluster, ns, "statefulset", "clearml-elastic-master")["status"]
    assert (
        pod["metadata"]["labels"]["controller-revision-hash"] == status["updateRevision"] == status["currentRevision"]
    )
    revisions = {
        r["metadata"]["name"]: r["revision"]
        for r in get(cluster, ns, "controllerrevisions")["items"]
        if r["metadata"]["ownerReferences"][0]["name"] == "clearml-elastic-master"
    }
    assert revisions[broken] < revisions[status["updateRevision"]]
    history = kubectl(cluster, "rollout", "history", "statefulset/clearml-elastic-master", "-n", ns).stdout
    assert len([line for line in history.splitlines()[2:] if line.strip()]) == len(revisions) >= 2
    # kubectl rollout undo puts the previous revision's template back (the ControllerRevision's patch), and that
    # revision becomes the newest.
    kubectl(cluster, "rollout", "undo", "statefulset/clearml-elastic-master", "-n", ns)
    eventually(
        lambda: get(cluster, ns, "statefulset", "clearml-elastic-master")["status"]["updateRevision"] == broken,
        what="the undone StatefulSet back on the previous revision",
    )
    renumbered = {r["metadata"]["name"]: r["revision"] for r in get(cluster, ns, "controllerrevisions")["items"]}
    assert renumbered[broken] == max(revisions.values()) + 1
