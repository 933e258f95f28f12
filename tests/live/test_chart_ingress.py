"""The chart's per-component Ingress on a running practice cluster: discovery offers networking.k8s.io/v1
ingresses, the real helm creates them, kubectl shows them, OpenShift's ingress-to-route controller turns each into a
Route, and uninstall removes both."""

import json

import pytest
import yaml
from kubernetes import client

from clearml_lab import chart, profiles

from .recipe_helpers import eventually

pytestmark = [pytest.mark.cluster, pytest.mark.helm]

COMPONENTS = {
    "apiserver": "api.apps.example.test",
    "fileserver": "files.apps.example.test",
    "webserver": "app.apps.example.test",
}


def test_discovery_offers_ingresses(practice_cluster):
    resources = client.NetworkingV1Api(practice_cluster.api_client()).get_api_resources().resources
    ingresses = next(r for r in resources if r.name == "ingresses")
    assert ingresses.kind == "Ingress" and ingresses.namespaced
    assert {"create", "get", "list", "delete"} <= set(ingresses.verbs)


def test_helm_installs_the_enabled_ingresses(practice_cluster, namespace, tmp_path):
    values = profiles.merge_values(
        profiles.profile_values("hardened", "7.14.4"),
        {
            component: {"ingress": {"enabled": True, "hostName": host, "tlsSecretName": f"{component}-tls"}}
            for component, host in COMPONENTS.items()
        },
    )
    path = tmp_path / "values.yaml"
    path.write_text(yaml.safe_dump(values))
    practice_cluster.run(
        "helm",
        "install",
        "clearml",
        str(chart.chart_package("7.14.4")),
        "--namespace",
        namespace,
        "-f",
        str(path),
        timeout=240,
    )

    found = client.NetworkingV1Api(practice_cluster.api_client()).list_namespaced_ingress(namespace).items
    services = {
        s.metadata.name: s
        for s in client.CoreV1Api(practice_cluster.api_client()).list_namespaced_service(namespace).items
    }
    assert {i.metadata.name for i in found} == {f"clearml-{c}" for c in COMPONENTS}
    for ingress in found:
        (rule,) = ingress.spec.rules
        backend = rule.http.paths[0].backend.service
        assert rule.host == COMPONENTS[ingress.metadata.name.removeprefix("clearml-")]
        assert backend.port.number == services[backend.name].spec.ports[0].port
        assert ingress.spec.tls[0].hosts == [rule.host]

    listed = json.loads(practice_cluster.run("kubectl", "get", "ingress", "-n", namespace, "-o", "json").stdout)
    assert sorted(i["spec"]["rules"][0]["host"] for i in listed["items"]) == sorted(COMPONENTS.values())

    # As on OpenShift, each Ingress becomes a Route owned by it, secure (edge) because its host is in spec.tls,
    # admitted by the router under the Ingress's own host.
    custom = client.CustomObjectsApi(practice_cluster.api_client())

    def routes():
        return custom.list_namespaced_custom_object("route.openshift.io", "v1", namespace, "routes")["items"]

    def admitted():
        found = routes()
        return len(found) == 3 and all((r.get("status") or {}).get("ingress") for r in found) and found

    made = eventually(admitted, what="a Route per Ingress, admitted")
    by_owner = {r["metadata"]["ownerReferences"][0]["name"]: r for r in made}
    assert set(by_owner) == {f"clearml-{c}" for c in COMPONENTS}
    for owner, route in by_owner.items():
        assert route["metadata"]["name"].startswith(f"{owner}-")
        assert route["spec"]["host"] == COMPONENTS[owner.removeprefix("clearml-")]
        assert route["spec"]["to"]["name"] == owner and route["spec"]["tls"]["termination"] == "edge"

    practice_cluster.run("helm", "uninstall", "clearml", "--namespace", namespace, timeout=240)
    assert client.NetworkingV1Api(practice_cluster.api_client()).list_namespaced_ingress(namespace).items == []
    eventually(lambda: routes() == [], what="the Routes to go with their Ingresses")
