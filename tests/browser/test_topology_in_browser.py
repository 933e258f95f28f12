"""The live topology view in a real browser: a kernel on the practice cluster shows a namespace, and a Deployment
created from outside appears in the page and turns ready with no refresh — the chain a learner watches in
notebook 05 (cluster → watch in the kernel → widget → page)."""

from __future__ import annotations

import uuid

import nbformat
import pytest
from kubernetes import client
from nbformat.v4 import new_code_cell, new_notebook

pytestmark = pytest.mark.browser

KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}

VIEW_CELL = """\
from clearml_lab.lab import connect
from clearml_lab.widgets import TopologyView

view = TopologyView(connect(namespace={namespace!r})).start()
view
"""


def deployment(name: str, replicas: int) -> dict:
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "annotations": {"meta.helm.sh/release-name": "demo"}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": name, "image": "registry.access.redhat.com/ubi9/httpd-24:latest"}]},
            },
        },
    }


def test_the_topology_view_turns_ready_in_the_page_without_a_refresh(practice_cluster, practice_lab, open_lab):
    namespace = f"browser-{uuid.uuid4().hex[:6]}"
    admin = practice_cluster.api_client()
    client.CoreV1Api(admin).create_namespace({"metadata": {"name": namespace}})
    notebook = new_notebook(
        cells=[new_code_cell(VIEW_CELL.format(namespace=namespace))], metadata={"kernelspec": KERNELSPEC}
    )
    nbformat.write(notebook, practice_lab.root / "topology_probe.ipynb")

    lab = open_lab(practice_lab)
    lab.run_notebook("topology_probe.ipynb")
    lab.wait_for_output(text=f"namespace {namespace}: 0 of 0 workloads ready")
    assert lab.topology_nodes() == {}

    client.AppsV1Api(admin).create_namespaced_deployment(namespace, deployment("web", 2))
    seen = lab.wait_for_topology_ready(["deployment/web"], timeout=60)
    # The page showed the node before it was ready: it turned ready in front of the learner.
    assert seen[0] == {} and {"deployment/web": False} in seen and seen[-1] == {"deployment/web": True}, seen
    node = lab.in_outputs('svg g[data-workload="deployment/web"]')
    assert "2 of 2 ready" in node.locator("title").first.text_content()
    lab.wait_for_output(text=f"namespace {namespace}: 1 of 1 workloads ready")
    lab.screenshot("topology-ready")

    absent = r"did not show deployment/absent ready within 1 s(.|\n)*'deployment/web': True"
    with pytest.raises(AssertionError, match=absent):
        lab.wait_for_topology_ready(["deployment/absent"], timeout=1)
