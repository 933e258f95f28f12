"""Recovery after a good install, with helm 4 and helm 3, as `clearml-lab diagnose` tells it: the advice is read
from the spec and state each time, so a fix already in place is never advised again and the real next action is
named — here the Redis StatefulSet (OrderedReady) that does not replace a pod that never became Ready."""

from __future__ import annotations

import json

import pytest

from .recipe_helpers import cli, eventually, lab_home_for
from .test_rollouts import (
    BIN,
    HELMS,
    get,
    image_of,
    install,
    kubectl,
    new_project,
    ready_pods,
    values_file,
)

pytestmark = [pytest.mark.cluster, pytest.mark.helm]


@pytest.fixture
def diagnose(cluster, tmp_path):
    home = lab_home_for(cluster, tmp_path / "home")
    return lambda ns: cli(home, "diagnose", "--namespace", ns).stdout


@pytest.mark.parametrize("binary", HELMS)
def test_after_the_image_fix_the_advice_is_to_delete_the_pod_the_statefulset_will_not_replace(
    cluster, binary, tmp_path, diagnose
):
    ns = new_project(cluster)
    good = values_file(tmp_path)
    install(cluster, binary, ns, good)
    # Break it: the Bitnami repository without the legacy move (its versioned tags no longer pull).
    broken = values_file(tmp_path, redis={"image": {"repository": "bitnami/redis"}})
    assert install(cluster, binary, ns, broken, verb="upgrade", wait=False).returncode == 0
    eventually(
        lambda: any(
            s["state"].get("waiting", {}).get("reason") in ("ErrImagePull", "ImagePullBackOff")
            for s in get(cluster, ns, "pod", "clearml-redis-master-0")["status"].get("containerStatuses", [])
        ),
        what="the Redis pod failing to pull",
    )
    first = diagnose(ns)
    assert "set redis.image.repository: bitnamilegacy/redis" in first

    # The fix, in the spec: helm upgrade with the good values. The StatefulSet keeps the pod that never became Ready.
    assert install(cluster, binary, ns, good, verb="upgrade", wait=False).returncode == 0
    sts = eventually(
        lambda: (
            (s := get(cluster, ns, "statefulset", "clearml-redis-master"))["metadata"]["generation"]
            == s["status"].get("observedGeneration")
            and s
        ),
        what="the StatefulSet to see the fix",
    )
    assert image_of(sts, "redis").endswith("bitnamilegacy/redis:7.0.9-debian-11-r1")
    pod = get(cluster, ns, "pod", "clearml-redis-master-0")
    assert pod["metadata"]["labels"]["controller-revision-hash"] != sts["status"]["updateRevision"]
    assert image_of(pod, "redis").endswith("/bitnami/redis:7.0.9-debian-11-r1")
    second = diagnose(ns)
    assert "bitnamilegacy/redis in values.yaml" not in second  # never repeat a fix already in place
    assert "still runs the old revision of StatefulSet clearml-redis-master" in second
    assert f"oc delete pod clearml-redis-master-0 -n {ns}" in second

    # The action it names, then verify.
    kubectl(cluster, "delete", "pod", "clearml-redis-master-0", "-n", ns)
    kubectl(cluster, "rollout", "status", "statefulset/clearml-redis-master", "-n", ns, "--timeout=60s")
    assert ready_pods(cluster, ns, "clearml-redis-master-0")
    eventually(lambda: "no known problem found." in diagnose(ns), what="a clean diagnosis")


def test_a_rollout_undone_by_kubectl_makes_helm4s_next_apply_conflict_and_diagnose_says_why(
    cluster, tmp_path, diagnose
):
    ns = new_project(cluster)
    install(cluster, BIN / "helm", ns, values_file(tmp_path))
    newer = values_file(tmp_path, apiserver={"image": {"tag": "2.0.0-614"}})
    install(cluster, BIN / "helm", ns, newer, verb="upgrade")
    kubectl(cluster, "rollout", "undo", "deployment/clearml-apiserver", "-n", ns)
    kubectl(cluster, "rollout", "status", "deployment/clearml-apiserver", "-n", ns, "--timeout=60s")
    shown = kubectl(cluster, "get", "deployment", "clearml-apiserver", "-n", ns, "-o", "json", "--show-managed-fields")
    managers = {(m["manager"], m["operation"]) for m in json.loads(shown.stdout)["metadata"]["managedFields"]}
    assert ("kubectl", "Update") in managers  # kubectl rollout undo sends no fieldManager: its user agent's

    again = install(cluster, BIN / "helm", ns, newer, verb="upgrade", wait=False)
    assert again.returncode != 0 and 'with "kubectl" using apps/v1' in again.stderr
    advice = diagnose(ns)
    assert "Deployment/clearml-apiserver" in advice and 'last written by "kubectl" outside helm' in advice
    assert "--force-conflicts" in advice
    # The way out it names: helm takes the fields back.
    install(cluster, BIN / "helm", ns, newer, "--force-conflicts", verb="upgrade")
    assert image_of(get(cluster, ns, "deployment", "clearml-apiserver"), "clearml-apiserver").endswith(":2.0.0-614")
    assert 'last written by "kubectl"' not in diagnose(ns)
