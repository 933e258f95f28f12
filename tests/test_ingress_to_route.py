"""OpenShift's ingress-to-route controller as pure decisions: which Routes an Ingress calls for, and what changes."""

from clearml_lab.practice.controllers.base import Create, Delete, Update
from clearml_lab.practice.controllers.ingress import reconcile_ingress, wanted_routes

SERVICES = {
    "web": {
        "metadata": {"name": "web"},
        "spec": {"ports": [{"name": "http", "port": 8080, "targetPort": 80}, {"port": 9090, "targetPort": 9000}]},
    }
}
CLASSES = {
    "openshift-default": {"spec": {"controller": "openshift.io/ingress-to-route"}},
    "nginx": {"spec": {"controller": "k8s.io/ingress-nginx"}},
}


def _ingress(*, host="app.example.test", port=8080, path="/", tls=None, annotations=None, klass=None):
    spec = {
        "rules": [
            {
                "host": host,
                "http": {
                    "paths": [
                        {
                            "path": path,
                            "pathType": "Prefix",
                            "backend": {"service": {"name": "web", "port": {"number": port}}},
                        }
                    ]
                },
            }
        ]
    }
    if tls is not None:
        spec["tls"] = tls
    if klass:
        spec["ingressClassName"] = klass
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "spec": spec,
        "metadata": {"name": "front", "namespace": "p", "uid": "u-1", "annotations": annotations or {}},
    }


def test_a_path_becomes_a_route_to_the_service_ports_name_or_target_port():
    (route,) = wanted_routes(_ingress(), SERVICES).values()
    assert route == {
        "host": "app.example.test",
        "path": "/",
        "to": {"kind": "Service", "name": "web", "weight": 100},
        "port": {"targetPort": "http"},
        "wildcardPolicy": "None",
    }
    (unnamed,) = wanted_routes(_ingress(port=9090), SERVICES).values()
    assert unnamed["port"] == {"targetPort": 9000}
    assert wanted_routes(_ingress(port=1234), SERVICES) == {}  # no such Service port: nothing to route to
    assert wanted_routes(_ingress(), {}) == {}  # the Service does not exist (yet)
    assert wanted_routes(_ingress(host=None), SERVICES) == {}  # a Route needs a host


def test_tls_makes_a_secure_route_terminated_as_annotated():
    secure = next(iter(wanted_routes(_ingress(tls=[{"hosts": ["app.example.test"]}]), SERVICES).values()))
    assert secure["tls"] == {"termination": "edge", "insecureEdgeTerminationPolicy": "Redirect"}
    default_cert = next(iter(wanted_routes(_ingress(tls=[{}]), SERVICES).values()))
    assert default_cert["tls"]["termination"] == "edge"
    other_host = next(iter(wanted_routes(_ingress(tls=[{"hosts": ["x.test"]}]), SERVICES).values()))
    assert "tls" not in other_host
    for value, expected in (("reencrypt", "reencrypt"), ("bogus", "edge")):
        route = next(
            iter(
                wanted_routes(
                    _ingress(tls=[{}], annotations={"route.openshift.io/termination": value}), SERVICES
                ).values()
            )
        )
        assert route["tls"]["termination"] == expected
    passthrough = next(
        iter(
            wanted_routes(
                _ingress(tls=[{}], annotations={"route.openshift.io/termination": "passthrough"}), SERVICES
            ).values()
        )
    )
    assert "path" not in passthrough


def test_routes_are_created_owned_kept_in_step_and_deleted():
    ingress = _ingress()
    (create,) = reconcile_ingress(ingress, [], SERVICES, CLASSES)
    assert isinstance(create, Create) and create.obj["metadata"]["generateName"] == "front-"
    assert create.obj["metadata"]["ownerReferences"][0]["uid"] == "u-1"
    made = {**create.obj, "metadata": {**create.obj["metadata"], "name": "front-abcde"}}
    assert reconcile_ingress(ingress, [made], SERVICES, CLASSES) == []
    # The Ingress's fields are managed (port moved); the user's own additions to the Route are kept.
    made["spec"] = {**made["spec"], "port": {"targetPort": "old"}, "alternateBackends": []}
    (update,) = reconcile_ingress(ingress, [made], SERVICES, CLASSES)
    assert isinstance(update, Update) and update.obj["spec"]["port"] == {"targetPort": "http"}
    assert update.obj["spec"]["alternateBackends"] == []
    moved = _ingress(host="new.example.test")
    actions = reconcile_ingress(moved, [made], SERVICES, CLASSES)
    assert [type(a) for a in actions] == [Delete, Create] and actions[0].name == "front-abcde"


def test_only_openshifts_ingress_classes_are_served():
    assert reconcile_ingress(_ingress(klass="nginx"), [], SERVICES, CLASSES) == []
    assert len(reconcile_ingress(_ingress(klass="openshift-default"), [], SERVICES, CLASSES)) == 1
    terminating = _ingress()
    terminating["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    assert reconcile_ingress(terminating, [], SERVICES, CLASSES) == []
