"""Writes that change nothing change nothing, as on a real apiserver: an unchanged `helm upgrade` (helm 4's
server-side apply, helm 3's three-way strategic patches), kubectl apply client- and server-side, and a PUT or a
patch of every kind that repeats what is stored keep every resourceVersion and generation, replace no pod, send no
watch event. Everything is read back through the kubernetes client or kubectl."""

import json
import os
import uuid

import pytest
from kubernetes import client, watch

from clearml_lab.lab import connect

from .recipe_helpers import BIN, HELM3, cli, eventually

RELEASE_SECRET = "sh.helm.release.v1."


def _apis(practice_cluster):
    api = practice_cluster.api_client()
    return client.CoreV1Api(api), client.AppsV1Api(api)


def _snapshot(practice_cluster, ns) -> dict:
    """(kind, name) -> (uid, resourceVersion, generation) of everything in the project but helm's release records."""
    core, apps = _apis(practice_cluster)
    listings = {
        "Deployment": apps.list_namespaced_deployment,
        "StatefulSet": apps.list_namespaced_stateful_set,
        "ReplicaSet": apps.list_namespaced_replica_set,
        "Pod": core.list_namespaced_pod,
        "Service": core.list_namespaced_service,
        "ConfigMap": core.list_namespaced_config_map,
        "Secret": core.list_namespaced_secret,
        "ServiceAccount": core.list_namespaced_service_account,
        "PersistentVolumeClaim": core.list_namespaced_persistent_volume_claim,
    }
    out = {}
    for kind, listing in listings.items():
        for obj in listing(ns).items:
            if kind == "Secret" and obj.metadata.name.startswith(RELEASE_SECRET):
                continue
            out[(kind, obj.metadata.name)] = (obj.metadata.uid, obj.metadata.resource_version, obj.metadata.generation)
    return out


def _duplicated_ports(practice_cluster, ns) -> list[str]:
    core, apps = _apis(practice_cluster)
    found = []
    templates = [(f"deployment/{d.metadata.name}", d.spec.template) for d in apps.list_namespaced_deployment(ns).items]
    templates += [
        (f"statefulset/{s.metadata.name}", s.spec.template) for s in apps.list_namespaced_stateful_set(ns).items
    ]
    for where, template in templates:
        for c in template.spec.containers:
            keys = [(p.container_port, p.protocol) for p in c.ports or []]
            if len(keys) != len(set(keys)):
                found.append(f"{where} container {c.name}: {keys}")
    for svc in core.list_namespaced_service(ns).items:
        keys = [(p.port, p.protocol) for p in svc.spec.ports or []]
        if len(keys) != len(set(keys)):
            found.append(f"service/{svc.metadata.name}: {keys}")
    return found


def _events_since(practice_cluster, ns, resource_version: str) -> list[tuple[str, str, str]]:
    """Watch events of the project's workloads and Services after ``resource_version`` (a one-second watch)."""
    core, apps = _apis(practice_cluster)
    seen = []
    for listing in (
        apps.list_namespaced_deployment,
        apps.list_namespaced_stateful_set,
        apps.list_namespaced_replica_set,
        core.list_namespaced_service,
        core.list_namespaced_pod,
    ):
        for event in watch.Watch().stream(listing, ns, resource_version=resource_version, timeout_seconds=1):
            seen.append((event["type"], event["object"].kind, event["object"].metadata.name))
    return seen


def _rollout_events(practice_cluster, ns) -> list[tuple[str, str]]:
    core, _ = _apis(practice_cluster)
    return sorted(
        (e.reason, e.involved_object.name)
        for e in core.list_namespaced_event(ns).items
        if e.reason in ("ScalingReplicaSet", "SuccessfulCreate", "SuccessfulDelete", "Killing")
    )


HELMS = [pytest.param(None, id="helm4"), pytest.param(HELM3, id="helm3")]


@pytest.mark.helm
@pytest.mark.parametrize("helm_binary", HELMS)
def test_two_unchanged_upgrades_change_nothing(home, practice_cluster, monkeypatch, helm_binary):
    ns = f"up-{uuid.uuid4().hex[:6]}"
    env = {}
    if helm_binary is not None:  # a learner with helm 3 first on PATH: the lab installs with it too
        env["PATH"] = os.pathsep.join([str(helm_binary.parent), str(BIN), os.environ["PATH"]])
        monkeypatch.setenv("PATH", env["PATH"])
    done = cli(home, "run", "all", "--namespace", ns, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    lab = connect(namespace=ns)
    helm = lab.helm()
    assert helm.version()[0] == (3 if helm_binary else 4)
    assert _duplicated_ports(practice_cluster, ns) == []

    before = _snapshot(practice_cluster, ns)
    list_rv = _apis(practice_cluster)[0].list_namespaced_service(ns).metadata.resource_version
    rollouts = _rollout_events(practice_cluster, ns)
    for _ in range(2):
        upgraded = helm.run(
            [
                "upgrade",
                lab.settings.release,
                "clearml/clearml",
                "--version",
                lab.chart_version,
                "--namespace",
                ns,
                "-f",
                str(lab.values_file),
                "--wait",
                "--timeout",
                "120s",
            ],
            timeout=180,
        )
        assert upgraded.ok, upgraded.stderr
    history = json.loads(helm.run(["history", lab.settings.release, "--namespace", ns, "-o", "json"]).stdout)
    assert [h["revision"] for h in history] == [1, 2, 3]

    assert _duplicated_ports(practice_cluster, ns) == []
    after = _snapshot(practice_cluster, ns)
    assert {k: v for k, v in after.items() if after[k] != before.get(k)} == {}
    assert set(after) == set(before)  # no pod replaced, no ReplicaSet added
    assert _events_since(practice_cluster, ns, list_rv) == []
    assert _rollout_events(practice_cluster, ns) == rollouts

    mongo = _apis(practice_cluster)[1].read_namespaced_deployment("clearml-mongodb", ns)
    helm_entry = next(m for m in mongo.metadata.managed_fields if m.manager == "helm")
    assert helm_entry.operation == ("Update" if helm_binary else "Apply")
    if not helm_binary:
        # helm 4 sent the MongoDB port without protocol: the item is named with the default, the field is nobody's
        container = helm_entry.fields_v1["f:spec"]["f:template"]["f:spec"]["f:containers"]
        ports = next(iter(container.values()))["f:ports"]
        assert list(ports) == ['k:{"containerPort":27017,"protocol":"TCP"}']
        assert "f:protocol" not in ports['k:{"containerPort":27017,"protocol":"TCP"}']

        # A hand edit makes kubectl-set the image's manager: helm 4's next upgrade conflicts as on a real cluster,
        # and --force-conflicts takes the field back.
        web = _apis(practice_cluster)[1].read_namespaced_deployment("clearml-webserver", ns)
        image = web.spec.template.spec.containers[0].image
        practice_cluster.run(
            "kubectl", "set", "image", "deployment/clearml-webserver", "-n", ns, f"clearml-webserver={image}-edited"
        )
        upgrade = [
            "upgrade",
            lab.settings.release,
            "clearml/clearml",
            "--version",
            lab.chart_version,
            "--namespace",
            ns,
            "-f",
            str(lab.values_file),
        ]
        refused = helm.run(upgrade, timeout=180)
        assert not refused.ok
        assert (
            'Apply failed with 1 conflict: conflict with "kubectl-set" using apps/v1: '
            '.spec.template.spec.containers[name="clearml-webserver"].image'
        ) in refused.stderr
        assert helm.run([*upgrade, "--force-conflicts"], timeout=180).ok, "--force-conflicts"
        web = _apis(practice_cluster)[1].read_namespaced_deployment("clearml-webserver", ns)
        assert web.spec.template.spec.containers[0].image == image
        assert "kubectl-set" not in {m.manager for m in web.metadata.managed_fields}


# ---- kubectl ---------------------------------------------------------------------------------------------------

MANIFEST = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: %(name)s}
spec:
  replicas: 0  # no pods: once the deployment controller has written its status, nothing else writes the object
  selector: {matchLabels: {app: %(name)s}}
  template:
    metadata: {labels: {app: %(name)s}}
    spec:
      containers:
      - name: web
        image: %(image)s
        ports: [{containerPort: 8080, name: http}]
        env: [{name: A, value: "1"}]
---
apiVersion: v1
kind: Service
metadata: {name: %(name)s}
spec:
  selector: {app: %(name)s}
  ports: [{port: 80, targetPort: http, name: http}]
"""


def _read(kubectl, ns, name) -> dict:
    got = json.loads(kubectl("get", "deployment,service", name, "-n", ns, "-o", "json", "--show-managed-fields").stdout)
    return {item["kind"]: item for item in got["items"]}


def _settled(kubectl, ns, name) -> dict:
    def observed():
        objs = _read(kubectl, ns, name)
        dep = objs["Deployment"]
        return objs if dep.get("status", {}).get("observedGeneration") == dep["metadata"]["generation"] else None

    return eventually(observed, what="the deployment controller's status")


def _versions(objs: dict) -> dict:
    return {k: (o["metadata"]["resourceVersion"], o["metadata"].get("generation")) for k, o in objs.items()}


@pytest.mark.parametrize("mode", ["client-side", "server-side"])
def test_kubectl_apply_twice_changes_nothing(kubectl, namespace, mode):
    flags = ("--server-side",) if mode == "server-side" else ()
    manifest = MANIFEST % {"name": "web", "image": "nginx:1.27"}
    kubectl("apply", *flags, "-n", namespace, "-f", "-", input=manifest)
    first = _settled(kubectl, namespace, "web")
    again = kubectl("apply", *flags, "-n", namespace, "-f", "-", input=manifest)
    assert ("serverside-applied" if flags else "unchanged") in again.stdout
    kubectl("apply", *flags, "-n", namespace, "-f", "-", input=manifest)
    second = _read(kubectl, namespace, "web")
    assert _versions(second) == _versions(first)
    assert second["Deployment"]["spec"]["template"]["spec"]["containers"][0]["ports"] == [
        {"containerPort": 8080, "name": "http", "protocol": "TCP"}
    ]
    assert second["Service"]["spec"]["ports"] == [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": "http"}]
    assert second["Deployment"]["metadata"]["managedFields"] == first["Deployment"]["metadata"]["managedFields"]


def test_two_field_managers_conflict_and_force_conflicts_takes_the_field(kubectl, namespace):
    kubectl(
        "apply",
        "--server-side",
        "--field-manager",
        "team-a",
        "-n",
        namespace,
        "-f",
        "-",
        input=MANIFEST % {"name": "shared", "image": "nginx:1.27"},
    )
    other = MANIFEST % {"name": "shared", "image": "nginx:1.28"}
    clash = kubectl(
        "apply", "--server-side", "--field-manager", "team-b", "-n", namespace, "-f", "-", input=other, check=False
    )
    assert clash.returncode != 0
    assert (
        'Apply failed with 1 conflict: conflict with "team-a": .spec.template.spec.containers[name="web"].image'
    ) in clash.stderr
    kept = _read(kubectl, namespace, "shared")["Deployment"]
    assert kept["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.27"

    kubectl(
        "apply",
        "--server-side",
        "--field-manager",
        "team-b",
        "--force-conflicts",
        "-n",
        namespace,
        "-f",
        "-",
        input=other,
    )
    taken = _read(kubectl, namespace, "shared")["Deployment"]
    assert taken["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.28"
    owners = {
        m["manager"]: m["fieldsV1"]["f:spec"]["f:template"]["f:spec"]["f:containers"]['k:{"name":"web"}']
        for m in taken["metadata"]["managedFields"]
        if m["manager"].startswith("team-")
    }
    assert "f:image" in owners["team-b"] and "f:image" not in owners["team-a"]
    assert "f:env" in owners["team-a"] and "f:env" in owners["team-b"]  # same values: shared, no conflict
    # team-a applying its old manifest again conflicts now with team-b
    back = kubectl(
        "apply",
        "--server-side",
        "--field-manager",
        "team-a",
        "-n",
        namespace,
        "-f",
        "-",
        input=MANIFEST % {"name": "shared", "image": "nginx:1.27"},
        check=False,
    )
    assert 'conflict with "team-b"' in back.stderr


def test_switching_from_client_side_to_server_side_apply_moves_the_fields_to_kubectl(kubectl, namespace):
    # After its first server-side apply, kubectl hands client-side apply's fields to its server-side manager by
    # writing managedFields (a JSON patch), which the server takes as upstream does; so the next server-side apply
    # that changes a value no longer conflicts with "kubectl-client-side-apply".
    kubectl("apply", "-n", namespace, "-f", "-", input=MANIFEST % {"name": "moved", "image": "nginx:1.27"})
    kubectl(
        "apply", "--server-side", "-n", namespace, "-f", "-", input=MANIFEST % {"name": "moved", "image": "nginx:1.27"}
    )
    moved = _read(kubectl, namespace, "moved")["Deployment"]
    managers = {(m["manager"], m["operation"]) for m in moved["metadata"]["managedFields"]}
    assert ("kubectl", "Apply") in managers and ("kubectl-client-side-apply", "Update") not in managers
    kubectl(
        "apply", "--server-side", "-n", namespace, "-f", "-", input=MANIFEST % {"name": "moved", "image": "nginx:1.28"}
    )
    assert (
        _read(kubectl, namespace, "moved")["Deployment"]["spec"]["template"]["spec"]["containers"][0]["image"]
        == "nginx:1.28"
    )


def test_an_applied_port_with_no_container_port_is_refused_as_upstream(kubectl, namespace):
    bad = MANIFEST.replace("{containerPort: 8080, name: http}", "{name: http}") % {"name": "bad", "image": "nginx"}
    refused = kubectl("apply", "--server-side", "-n", namespace, "-f", "-", input=bad, check=False)
    assert refused.returncode != 0
    assert (
        '.spec.template.spec.containers[name="web"].ports: element 0: associative list with keys has an element '
        'that omits key field "containerPort" (and doesn\'t have default value)'
    ) in refused.stderr


# ---- every verb ----------------------------------------------------------------------------------------------------


def _patch(practice_cluster, namespace, content_type, body, manager=None):
    _, apps = _apis(practice_cluster)
    apps.patch_namespaced_deployment("same", namespace, body, field_manager=manager, _content_type=content_type)


def test_put_and_every_patch_that_repeats_the_stored_object_is_a_no_op(practice_cluster, namespace):
    _, apps = _apis(practice_cluster)
    # No replicas, so once the deployment controller has written its status nothing else writes the object.
    body = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "same"},
        "spec": {
            "replicas": 0,
            "selector": {"matchLabels": {"app": "same"}},
            "template": {
                "metadata": {"labels": {"app": "same"}},
                "spec": {
                    "containers": [{"name": "web", "image": "nginx:1.27", "ports": [{"containerPort": 8080}]}],
                    "tolerations": [{"key": "k", "operator": "Exists"}],
                },
            },
        },
    }
    _patch(practice_cluster, namespace, "application/apply-patch+yaml", body, manager="first")
    eventually(
        lambda: apps.read_namespaced_deployment("same", namespace).status.observed_generation == 1,
        what="the deployment controller's status",
    )
    # a second applier of the same values becomes a co-owner: managedFields change once
    _patch(practice_cluster, namespace, "application/apply-patch+yaml", body, manager="second")
    stored = apps.read_namespaced_deployment("same", namespace)
    rv, generation = stored.metadata.resource_version, stored.metadata.generation
    assert {m.manager for m in stored.metadata.managed_fields} >= {"first", "second"}

    apps.replace_namespaced_deployment("same", namespace, stored)  # PUT
    apps.patch_namespaced_deployment("same", namespace, [{"op": "replace", "path": "/spec/replicas", "value": 0}])
    _patch(practice_cluster, namespace, "application/merge-patch+json", {"metadata": {"labels": None}})
    _patch(
        practice_cluster,
        namespace,
        "application/strategic-merge-patch+json",
        {"spec": {"template": {"spec": {"containers": [{"name": "web", "ports": [{"containerPort": 8080}]}]}}}},
    )
    # an atomic list replaced by an equal one whose item carries a null (as helm 3's three-way patches do)
    _patch(
        practice_cluster,
        namespace,
        "application/strategic-merge-patch+json",
        {"spec": {"template": {"spec": {"tolerations": [{"key": "k", "operator": "Exists", "value": None}]}}}},
    )
    for manager in ("first", "second", "first"):
        _patch(practice_cluster, namespace, "application/apply-patch+yaml", body, manager=manager)

    after = apps.read_namespaced_deployment("same", namespace)
    assert (after.metadata.resource_version, after.metadata.generation) == (rv, generation)
    assert [(p.container_port, p.protocol) for p in after.spec.template.spec.containers[0].ports] == [(8080, "TCP")]
    assert [
        e["type"]
        for e in watch.Watch().stream(
            apps.list_namespaced_deployment, namespace, resource_version=rv, timeout_seconds=1
        )
    ] == []
    # a real change is seen, so the checks above can fail
    apps.patch_namespaced_deployment("same", namespace, {"spec": {"replicas": 1}})
    changed = apps.read_namespaced_deployment("same", namespace)
    assert changed.metadata.resource_version != rv and changed.metadata.generation == generation + 1
