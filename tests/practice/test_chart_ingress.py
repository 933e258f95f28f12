"""The chart's per-component Ingress on a running practice cluster: discovery offers networking.k8s.io/v1
ingresses, the real helm creates them, kubectl shows them, and uninstall removes them."""
import json

import pytest
import yaml
from kubernetes import client

from clearml_lab import chart, profiles

pytestmark = [pytest.mark.cluster, pytest.mark.helm]

COMPONENTS = {"apiserver": "api.apps.example.test", "fileserver": "files.apps.example.test",
              "webserver": "app.apps.example.test"}


def test_discovery_offers_ingresses(practice_cluster):
    resources = client.NetworkingV1Api(practice_cluster.api_client()).get_api_resources().resources
    ingresses = next(r for r in resources if r.name == "ingresses")
    assert ingresses.kind == "Ingress" and ingresses.namespaced
    assert {"create", "get", "list", "delete"} <= set(ingresses.verbs)


def test_helm_installs_the_enabled_ingresses(practice_cluster, namespace, tmp_path):
    values = profiles.merge_values(profiles.profile_values("hardened", "7.14.4"), {
        component: {"ingress": {"enabled": True, "hostName": host, "tlsSecretName": f"{component}-tls"}}
        for component, host in COMPONENTS.items()})
    path = tmp_path / "values.yaml"
    path.write_text(yaml.safe_dump(values))
    practice_cluster.run("helm", "install", "clearml", str(chart.chart_package("7.14.4")), "--namespace", namespace,
                         "-f", str(path), timeout=240)

    found = client.NetworkingV1Api(practice_cluster.api_client()).list_namespaced_ingress(namespace).items
    services = {s.metadata.name: s for s in client.CoreV1Api(practice_cluster.api_client())
                .list_namespaced_service(namespace).items}
    assert {i.metadata.name for i in found} == {f"clearml-{c}" for c in COMPONENTS}
    for ingress in found:
        (rule,) = ingress.spec.rules
        backend = rule.http.paths[0].backend.service
        assert rule.host == COMPONENTS[ingress.metadata.name.removeprefix("clearml-")]
        assert backend.port.number == services[backend.name].spec.ports[0].port
        assert ingress.spec.tls[0].hosts == [rule.host]

    listed = json.loads(practice_cluster.run("kubectl", "get", "ingress", "-n", namespace, "-o", "json").stdout)
    assert sorted(i["spec"]["rules"][0]["host"] for i in listed["items"]) == sorted(COMPONENTS.values())

    practice_cluster.run("helm", "uninstall", "clearml", "--namespace", namespace, timeout=240)
    assert client.NetworkingV1Api(practice_cluster.api_client()).list_namespaced_ingress(namespace).items == []
