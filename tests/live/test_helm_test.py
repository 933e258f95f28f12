"""`helm test clearml` on the practice cluster, with helm 4 and helm 3: the chart's test pod runs curl in the
Elasticsearch image, so it is a client of the Elasticsearch Service — it passes on a healthy install and fails
with curl's own exit code and message when the Service has no ready endpoint. Read back through kubectl."""

from __future__ import annotations

import pytest

from .recipe_helpers import eventually
from .test_rollouts import HELMS, get, helm, install, kubectl, new_project, values_file

pytestmark = [pytest.mark.cluster, pytest.mark.helm]


def hook_pods(cluster, ns):
    return [p for p in get(cluster, ns, "pods")["items"] if p["metadata"]["name"].endswith("-test")]


@pytest.mark.parametrize("binary", HELMS)
def test_helm_test_passes_on_a_healthy_install_and_fails_with_curls_reason_without_endpoints(cluster, binary, tmp_path):
    ns = new_project(cluster)
    install(cluster, binary, ns, values_file(tmp_path))

    passed = helm(cluster, binary, "test", "clearml", "-n", ns, "--timeout", "60s")
    assert "Phase:          Succeeded" in passed.stdout
    assert hook_pods(cluster, ns) == []  # hook-delete-policy hook-succeeded: helm deleted it

    # No ready endpoint behind the Elasticsearch Service.
    kubectl(cluster, "scale", "statefulset/clearml-elastic-master", "--replicas=0", "-n", ns)
    eventually(
        lambda: (
            not any(
                s.get("addresses") for s in get(cluster, ns, "endpoints", "clearml-elastic-master").get("subsets") or []
            )
        ),
        what="the Elasticsearch Service without ready endpoints",
    )
    failed = helm(cluster, binary, "test", "clearml", "-n", ns, "--logs", "--timeout", "60s", check=False)
    assert failed.returncode != 0
    assert "Phase:          Failed" in failed.stdout
    message = "curl: (7) Failed to connect to clearml-elastic-master port 9200: Connection refused"
    assert message in failed.stdout  # helm test --logs prints the pod's log
    [pod] = hook_pods(cluster, ns)
    assert pod["status"]["phase"] == "Failed"
    [state] = pod["status"]["containerStatuses"]
    assert state["state"]["terminated"]["exitCode"] == 7
    # Its whole log is curl's: it ran as a client, not as an Elasticsearch node (no bootstrap check).
    assert kubectl(cluster, "logs", pod["metadata"]["name"], "-n", ns).stdout.strip() == message
