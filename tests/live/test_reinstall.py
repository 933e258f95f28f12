"""Uninstall and reinstall with helm 4 and helm 3, as on a real cluster: helm uninstall deletes what the release owns
and leaves the StatefulSets' volume claims (made from volumeClaimTemplates, owned by nobody); a reinstall binds the
same volumes again; the lab's cleanup step still removes everything and proves it."""

from __future__ import annotations

import pytest

from .recipe_helpers import cli, eventually, lab_home_for
from .test_rollouts import HELMS, get, helm, install, kubectl, new_project, ready_pods, values_file

pytestmark = [pytest.mark.cluster, pytest.mark.helm]

TEMPLATE_CLAIMS = {"clearml-elastic-master-clearml-elastic-master-0", "redis-data-clearml-redis-master-0"}


def claims(cluster, ns) -> dict[str, str]:
    """Claim name -> the volume it is bound to."""
    return {
        c["metadata"]["name"]: c["spec"].get("volumeName")
        for c in get(cluster, ns, "pvc")["items"]
        if not c["metadata"].get("deletionTimestamp")
    }


@pytest.mark.parametrize("binary", HELMS)
def test_uninstall_keeps_statefulset_claims_reinstall_binds_them_and_cleanup_removes_all(cluster, binary, tmp_path):
    ns = new_project(cluster)
    values = values_file(tmp_path)
    install(cluster, binary, ns, values)
    before = claims(cluster, ns)
    assert TEMPLATE_CLAIMS < set(before)  # and the chart's own claims (fileserver, mongodb)
    for name in TEMPLATE_CLAIMS:
        assert not get(cluster, ns, "pvc", name)["metadata"].get("ownerReferences")

    helm(cluster, binary, "uninstall", "clearml", "-n", ns, "--wait", "--timeout", "60s")
    eventually(lambda: set(claims(cluster, ns)) == TEMPLATE_CLAIMS, what="only the StatefulSets' claims left")
    for kind in ("deployments", "statefulsets", "services", "secrets", "serviceaccounts"):
        left = [
            o["metadata"]["name"]
            for o in get(cluster, ns, kind)["items"]
            if (o["metadata"].get("labels") or {}).get("app.kubernetes.io/managed-by") == "Helm"
        ]
        assert left == [], f"{kind} of the release left: {left}"
    eventually(
        lambda: not [p for p in get(cluster, ns, "pods")["items"] if not p["metadata"]["name"].endswith("-test")],
        what="the release's pods gone",
    )

    install(cluster, binary, ns, values)
    after = claims(cluster, ns)
    for name in TEMPLATE_CLAIMS:
        assert after[name] == before[name]  # the same volumes, bound again
    for name in set(before) - TEMPLATE_CLAIMS:
        assert after[name] != before[name]  # the chart's own claims were deleted and made anew
    assert ready_pods(cluster, ns, "clearml-redis-master-0") and ready_pods(cluster, ns, "clearml-elastic-master-0")

    # The lab's cleanup: release, claims and volumes, grants, the project — and the proof nothing is left.
    home = lab_home_for(cluster, tmp_path / "home")
    done = cli(home, "run", "cleanup", "--namespace", ns)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "nothing of the lab is left on the cluster." in done.stdout
    assert kubectl(cluster, "get", "namespace", ns, check=False).returncode != 0
    volumes = {v["metadata"]["name"] for v in get(cluster, "default", "pv")["items"]}
    assert not volumes & {v for v in after.values() if v}
