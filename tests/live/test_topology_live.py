"""The live topology view against the practice cluster: a scaled Deployment shows in the SVG with no refresh call,
and closing the view ends its watches — no thread left, and no connection left open at the server."""

import threading
from pathlib import Path
from urllib.parse import urlparse

import pytest
from kubernetes import client

from clearml_lab.lab import connect
from clearml_lab.widgets import TopologyView


def _server_side_connections(port: int) -> set[tuple[str, str]] | None:
    """The server's ESTABLISHED TCP connections on `port`, as (local, remote) address pairs, read from /proc."""
    found = set()
    tables = [Path("/proc/net/tcp"), Path("/proc/net/tcp6")]
    if not tables[0].exists():
        return None
    for table in tables:
        if not table.exists():
            continue
        for line in table.read_text().splitlines()[1:]:
            fields = line.split()
            local, remote, state = fields[1], fields[2], fields[3]
            if state == "01" and int(local.rsplit(":", 1)[1], 16) == port:
                found.add((local, remote))
    return found


def _wait_for(predicate, timeout=30.0):
    pause = threading.Event()
    for _ in range(int(timeout / 0.05)):
        if predicate():
            return True
        pause.wait(0.05)
    return predicate()


def _deployment(replicas):
    labels = {"app": "web"}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "annotations": {"meta.helm.sh/release-name": "demo"}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "web", "image": "registry.access.redhat.com/ubi9/httpd-24:latest"}]},
            },
        },
    }


def test_view_follows_a_scaled_deployment_and_closes_its_watches(practice_cluster, namespace):
    port = urlparse(practice_cluster.server).port
    if _server_side_connections(port) is None:
        pytest.skip("needs /proc/net/tcp to see the server's connections")
    admin = client.AppsV1Api(practice_cluster.api_client())
    admin.create_namespaced_deployment(namespace, _deployment(1))
    lab = connect(kubeconfig=str(practice_cluster.kubeconfig), context="kubeadmin", namespace=namespace)

    view = TopologyView(lab)
    assert "release demo:" in view.text.splitlines()
    before_start = _server_side_connections(port)
    view.start()
    assert _wait_for(lambda: "deployment/web 1/1 restricted-v2" in view.text), view.text
    watch_connections = _server_side_connections(port) - before_start
    assert len(watch_connections) >= 5  # one stream per kind (the first may reuse the listing's connection)
    one_replica = view.svg

    admin.patch_namespaced_deployment("web", namespace, {"spec": {"replicas": 3}})
    assert _wait_for(lambda: "deployment/web 3/3 restricted-v2" in view.text), view.text
    assert view.svg != one_replica and 'data-state="running" data-count="3"' in view.svg
    assert view.picture.value == view.svg

    threads = view.live.threads()
    view.close()
    assert not any(thread.is_alive() for thread in threads)
    assert not view.watching
    assert _wait_for(lambda: not (_server_side_connections(port) - before_start), timeout=10), (
        "the server still holds connections the view opened"
    )
