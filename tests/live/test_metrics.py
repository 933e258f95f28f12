"""The practice server counts the requests it answers and exposes them at /metrics as a real apiserver does."""

import re

from kubernetes import client


def _totals(cluster) -> dict[tuple[str, ...], int]:
    code, headers, body = cluster.request("GET", "/metrics")
    assert code == 200 and headers["Content-Type"].startswith("text/plain")
    totals = {}
    for line in body.decode().splitlines():
        match = re.fullmatch(r"apiserver_request_total\{(.*)\} (\d+)", line)
        if match:
            labels = dict(re.findall(r'(\w+)="([^"]*)"', match[1]))
            key = (
                labels["verb"],
                labels["group"],
                labels["resource"],
                labels["subresource"],
                labels["scope"],
                labels["code"],
            )
            totals[key] = int(match[2])
    return totals


def _delta(before: dict, after: dict) -> dict:
    return {key: after[key] - before.get(key, 0) for key in after if after[key] != before.get(key, 0)}


def test_each_answered_request_is_counted_once_by_verb_resource_scope_and_code(practice_cluster, namespace):
    api = practice_cluster.api_client()
    core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
    before = _totals(practice_cluster)
    core.list_namespaced_config_map(namespace)
    core.list_namespaced_config_map(namespace)
    apps.list_deployment_for_all_namespaces()
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "one"}})
    core.read_namespaced_config_map("one", namespace)
    try:
        core.read_namespaced_config_map("missing", namespace)
    except client.ApiException as err:
        assert err.status == 404
    core.list_namespaced_config_map(namespace, watch=True, timeout_seconds=1, _preload_content=False).read()
    assert _delta(before, _totals(practice_cluster)) == {
        ("LIST", "", "configmaps", "", "namespace", "200"): 2,
        ("LIST", "apps", "deployments", "", "cluster", "200"): 1,
        ("POST", "", "configmaps", "", "namespace", "201"): 1,
        ("GET", "", "configmaps", "", "resource", "200"): 1,
        ("GET", "", "configmaps", "", "resource", "404"): 1,
        ("WATCH", "", "configmaps", "", "namespace", "200"): 1,
    }


def test_server_side_apply_is_reported_as_apply_and_metrics_need_permission(practice_cluster, namespace):
    before = _totals(practice_cluster)
    practice_cluster.run(
        "kubectl",
        "apply",
        "--server-side",
        "-n",
        namespace,
        "-f",
        "-",
        input="apiVersion: v1\nkind: ConfigMap\nmetadata: {name: applied}\n",
    )
    delta = _delta(before, _totals(practice_cluster))
    assert delta[("APPLY", "", "configmaps", "", "resource", "201")] == 1

    assert practice_cluster.request("GET", "/metrics", token=None)[0] == 401
    assert practice_cluster.request("GET", "/metrics", token=practice_cluster.token("developer"))[0] == 403
