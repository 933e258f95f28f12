"""Namespace allocation and deletion, storage binding, endpoints, routes and garbage collection, as pure
decisions over plain objects."""

import asyncio
import threading

import pytest

from clearml_lab.practice.controllers.base import (
    Cache,
    Call,
    Create,
    Delete,
    Event,
    Update,
    UpdateStatus,
    Wake,
    matches_selector,
    rfc3339,
)
from clearml_lab.practice.controllers.endpoints import reconcile_service
from clearml_lab.practice.controllers.gc import reconcile_dependent
from clearml_lab.practice.controllers.namespace import (
    allocation_for,
    mcs_label,
    reconcile_allocation,
    reconcile_deletion,
    reconcile_service_accounts,
)
from clearml_lab.practice.controllers.route import apps_domain, reconcile_route
from clearml_lab.practice.controllers.volume import (
    DRIVER,
    MANAGED_BY,
    PUBLISHER,
    format_quantity,
    free_by_class,
    quantity,
    reconcile_capacity,
    reconcile_claim,
    reconcile_volume,
)

NOW = 1_800_000_000.0


def run_sync(coro):
    """Await ``coro`` on a loop of its own thread (another test may have left a loop running on this one)."""
    result = {}
    thread = threading.Thread(target=lambda: result.setdefault("value", asyncio.run(coro)))
    thread.start()
    thread.join()
    return result["value"]


def of(actions, kind):
    return [a for a in actions if isinstance(a, kind)]


def namespace(name, annotations=None, terminating=False):
    ns = {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": name, "annotations": annotations or {}},
        "spec": {"finalizers": ["kubernetes"]},
        "status": {"phase": "Active"},
    }
    if terminating:
        ns["metadata"]["deletionTimestamp"] = rfc3339(NOW)
        ns["status"]["phase"] = "Terminating"
    return ns


@pytest.mark.parametrize("index, label", [(0, "s0:c1,c0"), (67, "s0:c26,c10"), (68, "s0:c26,c15"), (77, "s0:c28,c7")])
def test_mcs_labels_match_the_ones_openshift_gives_those_uid_blocks(index, label):
    assert mcs_label(index) == label
    assert allocation_for(index)["openshift.io/sa.scc.uid-range"] == f"{1000000000 + index * 10000}/10000"


def test_a_new_namespace_gets_the_lowest_free_block():
    taken = [namespace("a", allocation_for(0)), namespace("b", allocation_for(2))]
    new = namespace("lab")
    [update] = reconcile_allocation(new, taken + [new])
    ann = update.obj["metadata"]["annotations"]
    assert ann == {
        "openshift.io/sa.scc.uid-range": "1000010000/10000",
        "openshift.io/sa.scc.supplemental-groups": "1000010000/10000",
        "openshift.io/sa.scc.mcs": "s0:c3,c2",
    }
    assert reconcile_allocation(update.obj, taken + [update.obj]) == []


def test_each_namespace_gets_default_builder_and_deployer_service_accounts():
    ns = namespace("lab")
    creates = reconcile_service_accounts(ns, [{"metadata": {"name": "default", "namespace": "lab"}}])
    assert sorted(c.obj["metadata"]["name"] for c in creates) == ["builder", "deployer"]
    assert all(c.obj["metadata"]["namespace"] == "lab" for c in creates)
    assert reconcile_service_accounts(namespace("gone", terminating=True), []) == []


class Recorder:
    """Records what a drain asks of the server; lists come from a dict of resource → items."""

    def __init__(self, contents):
        self.contents, self.deleted = contents, []

    async def list(self, resource, namespace=None, **_):
        return self.contents.get(resource, [])

    async def delete(self, resource, name, namespace=None, **_):
        self.deleted.append((resource, name))
        self.contents[resource] = [o for o in self.contents.get(resource, []) if o["metadata"]["name"] != name]


def test_a_terminating_namespace_is_emptied_then_its_finalizer_dropped():
    ns = namespace("lab", terminating=True)
    [call] = reconcile_deletion(ns, NOW, 1.0)
    assert isinstance(call, Call)
    server = Recorder({"pods": [{"metadata": {"name": "p1"}}], "configmaps": [{"metadata": {"name": "c1"}}]})
    first = run_sync(call.fn(server))
    assert ("pods", "p1") in server.deleted and ("configmaps", "c1") in server.deleted
    assert isinstance(first[0], Wake)  # it found content: look again
    [update] = run_sync(call.fn(server))
    assert isinstance(update, Update) and update.obj["spec"]["finalizers"] == []
    assert reconcile_deletion(namespace("lab"), NOW, 1.0) == []


SC = {
    "metadata": {"name": "standard-csi", "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}},
    "provisioner": "practice.csi",
    "reclaimPolicy": "Delete",
    "volumeBindingMode": "Immediate",
}


def claim(name="data", size="50Gi", storage_class="standard-csi", annotations=None):
    c = {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {
            "name": name,
            "namespace": "lab",
            "uid": f"{name}-uid",
            "annotations": annotations or {},
            "creationTimestamp": rfc3339(NOW - 5),
        },
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": size}}},
        "status": {"phase": "Pending"},
    }
    if storage_class is not None:
        c["spec"]["storageClassName"] = storage_class
    return c


def test_quantities():
    assert quantity("50Gi") == 50 * 2**30 and quantity("8Ti") == 8 * 2**40 and quantity("1G") == 10**9


def test_a_claim_is_provisioned_and_bound_when_it_fits():
    actions = reconcile_claim(claim(), [], [SC], [], {}, NOW, 1.0)
    [pv] = [c.obj for c in of(actions, Create)]
    assert pv["metadata"]["name"] == "pvc-data-uid"
    assert pv["spec"]["claimRef"]["name"] == "data" and pv["spec"]["capacity"] == {"storage": "50Gi"}
    assert pv["spec"]["persistentVolumeReclaimPolicy"] == "Delete"
    [bound] = of(actions, Update)
    assert bound.obj["spec"]["volumeName"] == "pvc-data-uid"
    [status] = [a for a in of(actions, UpdateStatus) if a.resource == "persistentvolumeclaims"]
    assert status.obj["status"]["phase"] == "Bound"
    assert [e.reason for e in of(actions, Event)] == ["Provisioning", "ProvisioningSucceeded"]


def test_a_claim_that_does_not_fit_the_drivers_free_space_fails_to_provision():
    existing = [
        {"metadata": {"name": "pvc-old"}, "spec": {"storageClassName": "standard-csi", "capacity": {"storage": "60Gi"}}}
    ]
    actions = reconcile_claim(claim(), existing, [SC], [], {"storage_capacity": "100Gi"}, NOW, 1.0)
    assert not of(actions, Create)
    [event] = of(actions, Event)
    assert event.reason == "ProvisioningFailed" and event.type == "Warning"
    assert event.message.startswith('failed to provision volume with StorageClass "standard-csi": rpc error: ')
    assert event.message.endswith(f"requested {50 * 2**30} bytes, available {40 * 2**30} bytes")
    assert of(actions, Wake)
    # the server-wide default capacity (8Ti) applies when none is configured
    assert of(reconcile_claim(claim(), existing, [SC], [], {}, NOW, 1.0), Create)
    assert not of(reconcile_claim(claim(), [], [SC], [], {"storage_capacity": "10Gi"}, NOW, 1.0), Create)


def _capacity(capacity: str, labels: dict | None = None) -> dict:
    return {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "CSIStorageCapacity",
        "metadata": {
            "name": "practice-standard-csi",
            "namespace": "kube-system",
            "resourceVersion": "7",
            "labels": {MANAGED_BY: PUBLISHER, DRIVER: SC["provisioner"]} if labels is None else labels,
        },
        "storageClassName": "standard-csi",
        "capacity": capacity,
    }


def _volume(name: str, size: str, phase: str = "Bound") -> dict:
    return {
        "metadata": {"name": name},
        "spec": {"storageClassName": "standard-csi", "capacity": {"storage": size}},
        "status": {"phase": phase},
    }


def test_the_published_capacity_is_the_total_less_the_volumes_of_the_class():
    settings = {"storage_capacity": "1Ti"}
    volumes = [
        _volume("a", "50Gi"),
        _volume("b", "5Gi"),
        _volume("kept", "100Gi", "Released"),
        {"metadata": {"name": "other"}, "spec": {"storageClassName": "fast", "capacity": {"storage": "1Ti"}}},
    ]
    [update] = reconcile_capacity(_capacity("1Ti"), [SC], volumes, settings)
    assert update.obj["capacity"] == "869Gi"  # 1024 - 50 - 5 - 100 (a retained volume still holds its disk)
    assert reconcile_capacity(_capacity("869Gi"), [SC], volumes, settings) == []  # already right: no write
    [back] = reconcile_capacity(_capacity("869Gi"), [SC], [], settings)
    assert back.obj["capacity"] == "1Ti"  # every volume gone: all of it is free again
    [full] = reconcile_capacity(_capacity("1Ti"), [SC], [_volume("huge", "2Ti")], settings)
    assert full.obj["capacity"] == "0"  # never negative
    # objects this driver did not publish are left alone
    assert reconcile_capacity(_capacity("1Ti", labels={}), [SC], volumes, settings) == []
    assert (
        reconcile_capacity(
            _capacity("1Ti", labels={MANAGED_BY: PUBLISHER, DRIVER: "other.csi"}), [SC], volumes, settings
        )
        == []
    )


def test_the_scheduler_reads_the_published_free_space_and_the_driver_counts_its_own():
    volumes = [_volume("a", "60Gi")]
    settings = {"storage_capacity": "100Gi"}
    assert free_by_class([SC], volumes, [_capacity("40Gi")], settings) == {"standard-csi": 40 * 2**30}
    assert free_by_class([SC], volumes, [], settings) == {"standard-csi": 40 * 2**30}
    assert format_quantity(8 * 2**40 - 155 * 2**30) == "8037Gi" and format_quantity(1536) == "1536"
    assert format_quantity(3 * 2**20 + 1) == str(3 * 2**20 + 1)


def test_no_default_class_means_failedbinding():
    [event] = reconcile_claim(claim(storage_class=None), [], [], [], {}, NOW, 1.0)
    assert (event.reason, event.type, event.component) == ("FailedBinding", "Normal", "persistentvolume-controller")
    assert event.message == "no persistent volumes available for this claim and no storage class is set"


def test_a_classless_claim_gets_the_default_class_once_one_exists():
    [update] = reconcile_claim(claim(storage_class=None), [], [SC], [], {}, NOW, 1.0)
    assert update.obj["spec"]["storageClassName"] == "standard-csi"


def test_wait_for_first_consumer_provisions_only_after_a_node_is_selected():
    wffc = dict(SC, volumeBindingMode="WaitForFirstConsumer")
    [event] = reconcile_claim(claim(), [], [wffc], [], {}, NOW, 1.0)
    assert event.reason == "WaitForFirstConsumer"
    selected = claim(annotations={"volume.kubernetes.io/selected-node": "practice-node-0"})
    assert of(reconcile_claim(selected, [], [wffc], [], {}, NOW, 1.0), Create)


def test_a_volume_whose_claim_is_gone_is_deleted_or_released_by_policy():
    pv = {
        "metadata": {"name": "pvc-x"},
        "spec": {
            "claimRef": {"name": "data", "namespace": "lab", "uid": "u"},
            "persistentVolumeReclaimPolicy": "Delete",
        },
        "status": {"phase": "Bound"},
    }
    assert [type(a) for a in reconcile_volume(pv, [])] == [Delete]
    pv["spec"]["persistentVolumeReclaimPolicy"] = "Retain"
    [status] = reconcile_volume(pv, [])
    assert status.obj["status"]["phase"] == "Released"
    assert (
        reconcile_volume(
            pv | {"status": {"phase": "Bound"}}, [{"metadata": {"name": "data", "namespace": "lab", "uid": "u"}}]
        )
        == []
    )


SERVICE = {
    "metadata": {"name": "api", "namespace": "lab"},
    "spec": {"selector": {"app": "api"}, "ports": [{"name": "http", "port": 8008, "targetPort": "web"}]},
}


def endpoint_pod(name, ready):
    return {
        "metadata": {"name": name, "namespace": "lab", "uid": name, "labels": {"app": "api"}},
        "spec": {"nodeName": "n", "containers": [{"name": "c", "ports": [{"name": "web", "containerPort": 8080}]}]},
        "status": {
            "phase": "Running",
            "podIP": f"10.128.2.{len(name)}",
            "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
        },
    }


def test_endpoints_list_ready_and_not_ready_pods_with_resolved_ports():
    [create] = reconcile_service(SERVICE, None, [endpoint_pod("a", True), endpoint_pod("bb", False)], "api", "lab")
    [subset] = create.obj["subsets"]
    assert subset["ports"] == [{"port": 8080, "protocol": "TCP", "name": "http"}]
    assert [a["targetRef"]["name"] for a in subset["addresses"]] == ["a"]
    assert [a["targetRef"]["name"] for a in subset["notReadyAddresses"]] == ["bb"]


def test_endpoints_follow_the_service_and_are_removed_with_it():
    ours = {
        "metadata": {
            "name": "api",
            "namespace": "lab",
            "annotations": {"endpoints.kubernetes.io/last-change-trigger-time": "t"},
        }
    }
    [update] = reconcile_service(SERVICE, ours, [endpoint_pod("a", True)], "api", "lab")
    assert update.obj["subsets"][0]["addresses"][0]["ip"] == "10.128.2.1"
    assert [type(a) for a in reconcile_service(None, ours, [], "api", "lab")] == [Delete]
    handmade = {"metadata": {"name": "ext", "namespace": "lab"}}
    assert reconcile_service(None, handmade, [], "ext", "lab") == []


def test_routes_get_the_default_host_then_admitted_status():
    route = {"metadata": {"name": "clearml-webserver", "namespace": "clearml"}, "spec": {"to": {"name": "w"}}}
    domain = apps_domain({}, [{"metadata": {"name": "cluster"}, "spec": {"domain": "apps.example.com"}}])
    [update] = reconcile_route(route, domain, NOW)
    assert update.obj["spec"]["host"] == "clearml-webserver-clearml.apps.example.com"
    [status] = reconcile_route(update.obj, domain, NOW)
    [ingress] = status.obj["status"]["ingress"]
    assert ingress["host"] == update.obj["spec"]["host"]
    assert ingress["conditions"][0]["type"] == "Admitted" and ingress["conditions"][0]["status"] == "True"
    assert reconcile_route(status.obj, domain, NOW) == []
    assert apps_domain({"apps_domain": "apps.lab.local"}, []) == "apps.lab.local"


def test_garbage_collection_deletes_only_confirmed_orphans():
    owner = {"metadata": {"name": "web-1", "namespace": "lab", "uid": "rs1"}}
    orphan = {
        "metadata": {
            "name": "web-1-x",
            "namespace": "lab",
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-1", "uid": "rs1"}],
        }
    }
    cache = Cache()
    assert reconcile_dependent("pods", orphan, cache) != []
    cache.put("replicasets.apps", owner)
    assert reconcile_dependent("pods", orphan, cache) == []

    [call] = reconcile_dependent("pods", orphan, Cache())

    class Server:
        def __init__(self, found):
            self.found = found

        async def get(self, resource, name, namespace=None):
            return self.found

    assert run_sync(call.fn(Server(owner))) == []  # the cache was behind; the owner exists
    [delete] = run_sync(call.fn(Server(None)))
    assert (delete.resource, delete.name) == ("pods", "web-1-x")


def test_label_selectors():
    sel = {
        "matchLabels": {"app": "a"},
        "matchExpressions": [
            {"key": "tier", "operator": "In", "values": ["x"]},
            {"key": "off", "operator": "DoesNotExist"},
        ],
    }
    assert matches_selector(sel, {"app": "a", "tier": "x"})
    assert not matches_selector(sel, {"app": "a", "tier": "y"})
    assert not matches_selector(sel, {"app": "a", "tier": "x", "off": "1"})
    assert not matches_selector({}, {"app": "a"})


def test_disruption_budgets_count_healthy_pods():
    from clearml_lab.practice.controllers.disruption import reconcile_budget

    pdb = {
        "metadata": {"name": "es", "namespace": "lab", "generation": 2},
        "spec": {"maxUnavailable": 1, "selector": {"matchLabels": {"app": "api"}}},
    }
    [update] = reconcile_budget(pdb, [endpoint_pod("a", True), endpoint_pod("bb", False)], NOW)
    s = update.obj["status"]
    assert (s["expectedPods"], s["currentHealthy"], s["desiredHealthy"], s["disruptionsAllowed"]) == (2, 1, 1, 0)
    assert s["conditions"][0]["reason"] == "InsufficientPods" and s["observedGeneration"] == 2
    [update] = reconcile_budget(pdb, [endpoint_pod("a", True), endpoint_pod("bb", True)], NOW)
    assert update.obj["status"]["disruptionsAllowed"] == 1
