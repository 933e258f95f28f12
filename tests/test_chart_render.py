"""The practice clearml chart, rendered by the real helm, against the facts of the real chart (facts/clearml-chart.md).

The tables below are the facts; every check renders the packaged practice chart through `clearml_lab.chart.render`.
"""

import json
from functools import cache

import pytest

from clearml_lab import chart
from clearml_lab.errors import LabError, UsageError

pytestmark = pytest.mark.helm

KUBE_FOR = {"7.3.1": "1.28", "7.14.4": "1.32"}  # a Kubernetes version each chart accepts
VERSIONS = list(KUBE_FOR)
PROFILES = ["seed", "hardened"]

CLEARML_IMAGE = {"7.3.1": "docker.io/allegroai/clearml:1.12.0-393", "7.14.4": "docker.io/allegroai/clearml:2.0.0-613"}
MONGODB_IMAGE = {
    "7.3.1": "docker.io/bitnamilegacy/mongodb:5.0.10-debian-11-r3",
    "7.14.4": "docker.io/bitnamilegacy/mongodb:6.0.10-debian-11-r8",
}
REDIS_IMAGE = "docker.io/bitnamilegacy/redis:7.0.9-debian-11-r1"
ES_IMAGE = "docker.elastic.co/elasticsearch/elasticsearch:7.17.3"

# workload -> (kind, image, container ports of its main container)
WORKLOADS = {
    "clearml-apiserver": ("Deployment", "clearml", [8008]),
    "clearml-fileserver": ("Deployment", "clearml", [8081]),
    "clearml-webserver": ("Deployment", "clearml", [80]),
    "clearml-mongodb": ("Deployment", "mongodb", [27017]),
    "clearml-redis-master": ("StatefulSet", "redis", [6379]),
    "clearml-elastic-master": ("StatefulSet", "elasticsearch", [9200, 9300]),
}
ASYNCDELETE = "clearml-apiserver-asyncdelete"  # 7.8.0+

# (version, profile) -> workload -> the service account its pods run as
SERVICE_ACCOUNTS = {
    "7.3.1": {
        "clearml-apiserver": "default",
        "clearml-fileserver": "default",
        "clearml-webserver": "default",
        "clearml-mongodb": "clearml-mongodb",
        "clearml-redis-master": "clearml-redis",
    },
    "7.14.4": {
        "clearml-apiserver": "clearml-apiserver",
        ASYNCDELETE: "clearml-apiserver",
        "clearml-fileserver": "clearml-fileserver",
        "clearml-webserver": "clearml-webserver",
        "clearml-mongodb": "clearml-mongodb",
        "clearml-redis-master": "clearml-redis",
    },
}
# The recipe names the Elasticsearch account; the hardened profile lets the chart name it (uname).
ES_ACCOUNT = {"seed": "clearml-elastic", "hardened": "clearml-elastic-master"}

# service -> (port, targetPort, nodePort when type NodePort)
SERVICES = {
    "clearml-apiserver": (8008, 8008, 30008),
    "clearml-fileserver": (8081, 8081, 30081),
    "clearml-webserver": (8080, 80, 30080),
    "clearml-elastic-master": (9200, None, None),
    "clearml-elastic-master-headless": (9200, None, None),
    "clearml-mongodb": (27017, "mongodb", None),
    "clearml-redis-master": (6379, "redis", None),
    "clearml-redis-headless": (6379, "redis", None),
}
HEADLESS = {"clearml-elastic-master-headless", "clearml-redis-headless"}

PVCS = {
    "clearml-fileserver-data": "50Gi",
    "clearml-mongodb": "50Gi",
    "clearml-elastic-master-clearml-elastic-master-0": "50Gi",
    "redis-data-clearml-redis-master-0": "5Gi",
}

# What each init container of the core components waits for (host:port named in its command).
WAITS = {
    "init-apiserver": ["clearml-elastic-master:9200", "clearml-mongodb:27017", "clearml-redis-master:6379"],
    "init-fileserver": ["clearml-apiserver:8008"],
    "init-webserver": ["clearml-apiserver:8008"],
}


@cache
def rendered(version, profile, overrides_key=None):
    overrides = dict(OVERRIDES[overrides_key]) if overrides_key else None
    return tuple(chart.render(version, profile=profile, kube_version=KUBE_FOR[version], overrides=overrides))


OVERRIDES = {
    "nodeport": {c: {"service": {"type": "NodePort"}} for c in ("apiserver", "fileserver", "webserver")},
    "sizes": {
        "fileserver": {"storage": {"data": {"size": "7Gi"}}},
        "mongodb": {"persistence": {"size": "8Gi"}},
        "redis": {"master": {"persistence": {"size": "9Gi"}}},
    },
    "contexts": {
        "webserver": {"containerSecurityContext": {"runAsNonRoot": False}, "podSecurityContext": {"fsGroup": 0}}
    },
    "accounts": {"apiserver": {"serviceAccountName": "ml"}},
    "ingress": {
        "apiserver": {
            "ingress": {
                "enabled": True,
                "ingressClassName": "nginx",
                "hostName": "api.example.test",
                "tlsSecretName": "api-tls",
                "annotations": {"team": "ml"},
            }
        },
        "fileserver": {"ingress": {"enabled": True, "path": "/files"}},
        "webserver": {"service": {"port": 9090}, "ingress": {"enabled": True}},
        "clearml": {"clientConfigurationApiUrl": "https://api.example.test"},
    },
    "placement": {
        **{
            component: {
                "resources": {"requests": {"cpu": "1", "memory": "2Gi"}},
                "nodeSelector": {"disk": "ssd"},
                "tolerations": [{"key": "ml", "operator": "Exists"}],
                "extraEnvs": [{"name": "X", "value": "1"}],
                "affinity": {
                    "nodeAffinity": {
                        "preferredDuringSchedulingIgnoredDuringExecution": [
                            {
                                "weight": 1,
                                "preference": {
                                    "matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}]
                                },
                            }
                        ]
                    }
                },
            }
            for component in ("apiserver", "fileserver", "webserver")
        },
        "mongodb": {
            "resources": {"requests": {"cpu": "1"}},
            "nodeSelector": {"disk": "ssd"},
            "tolerations": [{"key": "ml", "operator": "Exists"}],
        },
        "redis": {
            "master": {
                "resources": {"requests": {"cpu": "1"}},
                "nodeSelector": {"disk": "ssd"},
                "tolerations": [{"key": "ml", "operator": "Exists"}],
            }
        },
        "elasticsearch": {
            "resources": {"requests": {"cpu": "1"}},
            "nodeSelector": {"disk": "ssd"},
            "tolerations": [{"key": "ml", "operator": "Exists"}],
        },
    },
}


def objects(version, profile, kind=None, overrides_key=None):
    docs = [
        d
        for d in rendered(version, profile, overrides_key)
        if "helm.sh/hook" not in (d["metadata"].get("annotations") or {})
    ]
    return {d["metadata"]["name"]: d for d in docs if kind is None or d["kind"] == kind}


def pod_spec(obj):
    return obj["spec"]["template"]["spec"]


def containers(obj, init=False):
    return {c["name"]: c for c in pod_spec(obj).get("initContainers" if init else "containers") or []}


def main_container(obj):
    return next(iter(containers(obj).values()))


def workloads(version, profile):
    return {**objects(version, profile, "Deployment"), **objects(version, profile, "StatefulSet")}


@pytest.fixture(scope="module", autouse=True)
def private_cache(tmp_path_factory):
    """Packages and helm state go to a temporary cache, never the user's."""
    import os

    old = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("cache"))
    rendered.cache_clear()
    yield
    rendered.cache_clear()
    if old is None:
        os.environ.pop("XDG_CACHE_HOME")
    else:
        os.environ["XDG_CACHE_HOME"] = old


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("version", VERSIONS)
def test_workloads_kinds_images_and_ports(version, profile):
    found = workloads(version, profile)
    expected = set(WORKLOADS) | ({ASYNCDELETE} if version == "7.14.4" else set())
    assert set(found) == expected
    images = {
        "clearml": CLEARML_IMAGE[version],
        "mongodb": MONGODB_IMAGE[version],
        "redis": REDIS_IMAGE,
        "elasticsearch": ES_IMAGE,
    }
    for name, (kind, image, ports) in WORKLOADS.items():
        assert found[name]["kind"] == kind, name
        container = main_container(found[name])
        assert container["image"] == images[image], name
        assert [p["containerPort"] for p in container.get("ports", [])] == ports, name


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("version", VERSIONS)
def test_service_accounts(version, profile):
    found = workloads(version, profile)
    expected = {**SERVICE_ACCOUNTS[version], "clearml-elastic-master": ES_ACCOUNT[profile]}
    assert {name: pod_spec(obj).get("serviceAccountName", "default") for name, obj in found.items()} == expected
    # Every named account the pods use is created by the chart; `default` is the namespace's own.
    created = set(objects(version, profile, "ServiceAccount"))
    assert {sa for sa in expected.values() if sa != "default"} <= created


@pytest.mark.parametrize("version", VERSIONS)
def test_elasticsearch_rbac_binds_its_account(version):
    binding = objects(version, "seed", "RoleBinding")["clearml-elastic-master"]
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "clearml-elastic", "namespace": "clearml"}]
    assert binding["roleRef"]["name"] in objects(version, "seed", "Role")


def test_asyncdelete_runs_the_apiserver_image_account_and_contexts():
    found = workloads("7.14.4", "seed")
    asyncdelete = found[ASYNCDELETE]
    assert pod_spec(asyncdelete)["securityContext"] == {"runAsUser": 0}
    assert "async_urls_delete" in " ".join(main_container(asyncdelete)["command"])
    assert set(containers(asyncdelete, init=True)) == {"init-apiserver"}


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("version", VERSIONS)
def test_services_and_types(version, profile):
    found = objects(version, profile, "Service")
    assert set(found) == set(SERVICES)
    for name, (port, target, _) in SERVICES.items():
        spec = found[name]["spec"]
        assert spec["ports"][0]["port"] == port, name
        assert spec["ports"][0].get("targetPort") == target, name
        assert spec.get("type", "ClusterIP") == "ClusterIP", name  # both profiles ask for ClusterIP
        assert "nodePort" not in spec["ports"][0], name
        assert (spec.get("clusterIP") == "None") == (name in HEADLESS), name
    assert [p["port"] for p in found["clearml-elastic-master"]["spec"]["ports"]] == [9200, 9300]


@pytest.mark.parametrize("version", VERSIONS)
def test_chart_default_service_type_is_nodeport_with_fixed_node_ports(version):
    found = objects(version, "seed", "Service", overrides_key="nodeport")
    for name in ("clearml-apiserver", "clearml-fileserver", "clearml-webserver"):
        port = found[name]["spec"]["ports"][0]
        assert found[name]["spec"]["type"] == "NodePort"
        assert port["nodePort"] == SERVICES[name][2]


def _claims(version, profile, overrides_key=None):
    claims = {
        name: obj["spec"]["resources"]["requests"]["storage"]
        for name, obj in objects(version, profile, "PersistentVolumeClaim", overrides_key).items()
    }
    for name, sts in objects(version, profile, "StatefulSet", overrides_key).items():
        for template in sts["spec"].get("volumeClaimTemplates") or []:
            for ordinal in range(sts["spec"]["replicas"]):
                claims[f"{template['metadata']['name']}-{name}-{ordinal}"] = template["spec"]["resources"]["requests"][
                    "storage"
                ]
    return claims


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("version", VERSIONS)
def test_volume_claims_total_155_gi(version, profile):
    claims = _claims(version, profile)
    assert claims == PVCS
    assert sum(int(size.removesuffix("Gi")) for size in claims.values()) == 155


def test_storage_sizes_follow_values():
    claims = _claims("7.14.4", "seed", "sizes")
    assert claims["clearml-fileserver-data"] == "7Gi"
    assert claims["clearml-mongodb"] == "8Gi"
    assert claims["redis-data-clearml-redis-master-0"] == "9Gi"


@pytest.mark.parametrize("version", VERSIONS)
def test_init_containers_wait_for_their_dependencies(version):
    found = workloads(version, "seed")
    for workload, init in (
        ("clearml-apiserver", "init-apiserver"),
        ("clearml-fileserver", "init-fileserver"),
        ("clearml-webserver", "init-webserver"),
    ):
        containers_ = containers(found[workload], init=True)
        assert list(containers_) == [init]
        command = " ".join(containers_[init]["command"])
        for target in WAITS[init]:
            assert target in command, (init, target)
        assert containers_[init]["image"] == CLEARML_IMAGE[version]


@pytest.mark.parametrize("version", VERSIONS)
def test_probes(version):
    found = workloads(version, "seed")
    api = main_container(found["clearml-apiserver"])
    assert api["livenessProbe"]["httpGet"] == {"path": "/debug.ping", "port": 8008}
    assert api["readinessProbe"]["httpGet"]["path"] == "/debug.ping"
    assert api["readinessProbe"]["httpGet"]["httpHeaders"][0]["value"].startswith("Basic ")
    for workload, port in (("clearml-fileserver", 8081), ("clearml-webserver", 80)):
        for probe in ("livenessProbe", "readinessProbe"):
            command = main_container(found[workload])[probe]["exec"]["command"]
            assert command[0] == "curl" and command[-1] == f"http://localhost:{port}/"
    assert "exec" in main_container(found["clearml-elastic-master"])["readinessProbe"]
    assert main_container(found["clearml-mongodb"])["readinessProbe"]["exec"]["command"]


@pytest.mark.parametrize("version", VERSIONS)
def test_seed_security_contexts(version):
    found = workloads(version, "seed")
    assert pod_spec(found["clearml-apiserver"])["securityContext"] == {"runAsUser": 0}
    for name in ("clearml-fileserver", "clearml-webserver"):
        assert not pod_spec(found[name]).get("securityContext"), name  # the image's own user: root
    es = found["clearml-elastic-master"]
    assert pod_spec(es)["securityContext"] == {"fsGroup": 1000, "runAsUser": 1000}
    assert main_container(es)["securityContext"] == {
        "capabilities": {"drop": ["ALL"]},
        "runAsNonRoot": True,
        "runAsUser": 1000,
    }
    sysctl = containers(es, init=True)["configure-sysctl"]
    assert sysctl["securityContext"] == {"runAsUser": 0, "privileged": True}
    assert sysctl["command"] == ["sysctl", "-w", "vm.max_map_count=262144"]
    mongo_container = {"runAsUser": 1001, "runAsNonRoot": True}
    if version == "7.14.4":
        mongo_container |= {
            "runAsGroup": 0,
            "allowPrivilegeEscalation": False,
            "seccompProfile": {"type": "RuntimeDefault"},
            "capabilities": {"drop": ["ALL"]},
        }
    assert pod_spec(found["clearml-mongodb"])["securityContext"] == {"fsGroup": 1001, "sysctls": []}
    assert main_container(found["clearml-mongodb"])["securityContext"] == mongo_container
    assert pod_spec(found["clearml-redis-master"])["securityContext"] == {"fsGroup": 1001}
    assert main_container(found["clearml-redis-master"])["securityContext"] == {"runAsUser": 1001}


@pytest.mark.parametrize("version", VERSIONS)
def test_hardened_security_contexts(version):
    found = workloads(version, "hardened")
    for name in found:
        if name.startswith(("clearml-apiserver", "clearml-fileserver", "clearml-webserver")):
            assert pod_spec(found[name])["securityContext"] == {"runAsUser": 0}, name
    for name in ("clearml-mongodb", "clearml-redis-master"):
        assert "securityContext" not in pod_spec(found[name]), name
        assert "securityContext" not in main_container(found[name]), name
    es = found["clearml-elastic-master"]
    assert not pod_spec(es).get("securityContext")
    assert main_container(es)["securityContext"] == {"capabilities": {"drop": ["ALL"]}, "runAsNonRoot": True}
    assert "initContainers" not in pod_spec(es)
    config = objects(version, "hardened", "ConfigMap")["clearml-elastic-master-config"]["data"]["elasticsearch.yml"]
    assert "node.store.allow_mmap: false" in config
    # Nothing asks for privilege or a fixed non-root UID any more.
    for obj in found.values():
        for container in [*containers(obj).values(), *containers(obj, init=True).values()]:
            assert not (container.get("securityContext") or {}).get("privileged"), obj["metadata"]["name"]


def test_component_security_contexts_and_account_names_follow_values():
    web = workloads("7.14.4", "seed")  # baseline: nothing set
    assert not main_container(web["clearml-webserver"])["securityContext"]
    found = {**objects("7.14.4", "seed", "Deployment", "contexts")}
    webserver = found["clearml-webserver"]
    assert pod_spec(webserver)["securityContext"] == {"fsGroup": 0}
    assert main_container(webserver)["securityContext"] == {"runAsNonRoot": False}
    assert containers(webserver, init=True)["init-webserver"]["securityContext"] == {"runAsNonRoot": False}
    renamed = objects("7.14.4", "seed", overrides_key="accounts")
    assert pod_spec(renamed["clearml-apiserver"])["serviceAccountName"] == "ml-apiserver"
    assert renamed["ml-apiserver"]["kind"] == "ServiceAccount"


@pytest.mark.parametrize("version", VERSIONS)
def test_kinds_include_disruption_budget_rbac_and_test_hook(version):
    docs = rendered(version, "seed")
    kinds = {d["kind"] for d in docs}
    assert {
        "ConfigMap",
        "Secret",
        "ServiceAccount",
        "Role",
        "RoleBinding",
        "Service",
        "Deployment",
        "StatefulSet",
        "PersistentVolumeClaim",
        "PodDisruptionBudget",
    } <= kinds
    pdb = next(d for d in docs if d["kind"] == "PodDisruptionBudget")
    assert pdb["metadata"]["name"] == "clearml-elastic-master-pdb"
    assert pdb["spec"]["selector"]["matchLabels"] == {"app": "clearml-elastic-master"}
    hooks = [d for d in docs if (d["metadata"].get("annotations") or {}).get("helm.sh/hook") == "test"]
    assert len(hooks) == 1 and hooks[0]["kind"] == "Pod"
    assert "clearml-elastic-master:9200/_cluster/health" in " ".join(hooks[0]["spec"]["containers"][0]["command"])


def test_webserver_service_reaches_nginx_on_80():
    webserver = workloads("7.14.4", "seed")["clearml-webserver"]
    service = objects("7.14.4", "seed", "Service")["clearml-webserver"]["spec"]
    assert service["ports"][0]["targetPort"] == main_container(webserver)["ports"][0]["containerPort"] == 80
    assert service["selector"] == webserver["spec"]["selector"]["matchLabels"]


def test_helm_refuses_a_kubernetes_version_outside_the_chart_range():
    with pytest.raises(LabError) as refused:
        chart.render("7.3.1", kube_version="1.32")
    message = str(refused.value)
    assert "chart requires kubeVersion: >= 1.21.0-0 < 1.29.0-0 which is incompatible with Kubernetes v1.32" in message
    assert "7.14.4" in message  # the chart version that would fit
    assert "\n" not in message


def test_kube_version_ranges_and_known_versions():
    assert chart.known_chart_versions() == ["7.3.1", "7.14.4"]
    assert chart.chart_kube_version_range("7.3.1") == ">= 1.21.0-0 < 1.29.0-0"
    assert chart.chart_kube_version_range("7.14.4") == ">= 1.21.0-0 < 1.33.0-0"


def test_bad_input_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError, match="7.3.1, 7.14.4"):
        chart.render("7.9.9")
    with pytest.raises(UsageError, match="does not exist"):
        chart.render("7.14.4", values_file=tmp_path / "missing.yaml")
    with pytest.raises(UsageError, match="hardened, seed"):
        chart.render("7.14.4", profile="lenient")


def test_user_values_file_applies_after_the_profile(tmp_path):
    values = tmp_path / "values.yaml"
    values.write_text("webserver:\n  service:\n    type: NodePort\n")
    found = {d["metadata"]["name"]: d for d in chart.render("7.14.4", values_file=values) if d["kind"] == "Service"}
    assert found["clearml-webserver"]["spec"]["type"] == "NodePort"
    assert found["clearml-apiserver"]["spec"]["type"] == "ClusterIP"


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("version", VERSIONS)
def test_every_object_is_valid_for_its_kubernetes_version(version, profile):
    import kubernetes_validate

    for doc in rendered(version, profile):
        # strict: a misspelt or misplaced field fails, as the API server's field validation would.
        kubernetes_validate.validate(doc, f"{KUBE_FOR[version]}.0", strict=True)


@pytest.mark.parametrize("version", VERSIONS)
def test_no_ingress_unless_enabled(version):
    assert objects(version, "seed", "Ingress") == {}


@pytest.mark.parametrize("version", VERSIONS)
def test_enabled_ingress_routes_its_host_to_the_components_service_port(version):
    import kubernetes_validate

    ingresses = objects(version, "seed", "Ingress", "ingress")
    services = objects(version, "seed", "Service", "ingress")
    assert set(ingresses) == {"clearml-apiserver", "clearml-fileserver", "clearml-webserver"}
    for name, ingress in ingresses.items():
        kubernetes_validate.validate(ingress, f"{KUBE_FOR[version]}.0", strict=True)
        assert ingress["apiVersion"] == "networking.k8s.io/v1"
        (rule,) = ingress["spec"]["rules"]
        (path,) = rule["http"]["paths"]
        assert path["backend"]["service"]["name"] == name
        assert path["backend"]["service"]["port"]["number"] == services[name]["spec"]["ports"][0]["port"], name
    assert ingresses["clearml-webserver"]["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["port"] == {
        "number": 9090
    }  # follows webserver.service.port, not nginx's container port
    api = ingresses["clearml-apiserver"]
    assert api["spec"]["ingressClassName"] == "nginx"
    assert api["spec"]["rules"][0]["host"] == "api.example.test"
    assert api["spec"]["tls"] == [{"hosts": ["api.example.test"], "secretName": "api-tls"}]
    assert api["metadata"]["annotations"] == {"team": "ml"}
    files = ingresses["clearml-fileserver"]
    assert files["spec"]["rules"][0]["host"] == "files.clearml.127-0-0-1.nip.io"  # the chart's default host
    assert files["spec"]["rules"][0]["http"]["paths"][0]["path"] == "/files"
    assert "ingressClassName" not in files["spec"] and "tls" not in files["spec"]
    assert "annotations" not in files["metadata"]


def test_client_configuration_urls_reach_the_webserver():
    def displayed(overrides_key):
        web = objects("7.14.4", "seed", "Deployment", overrides_key)["clearml-webserver"]
        return [e["value"] for e in main_container(web)["env"] if e["name"] == "WEBSERVER__displayedServerUrls"]

    assert displayed(None) == []
    (value,) = displayed("ingress")
    assert json.loads(value) == {"apiServer": "https://api.example.test"}


@pytest.mark.parametrize("version", VERSIONS)
def test_resources_and_placement_reach_every_pod_template(version):
    import kubernetes_validate

    found = {
        **objects(version, "seed", "Deployment", "placement"),
        **objects(version, "seed", "StatefulSet", "placement"),
    }
    assert set(found) == set(WORKLOADS) | ({ASYNCDELETE} if version == "7.14.4" else set())
    chosen = OVERRIDES["placement"]["apiserver"]
    for name, obj in found.items():
        spec = pod_spec(obj)
        assert spec["nodeSelector"] == {"disk": "ssd"}, name
        assert spec["tolerations"] == [{"key": "ml", "operator": "Exists"}], name
        assert main_container(obj)["resources"]["requests"]["cpu"] == "1", name
        kubernetes_validate.validate(obj, f"{KUBE_FOR[version]}.0", strict=True)
    for name in ("clearml-apiserver", "clearml-fileserver", "clearml-webserver"):
        assert pod_spec(found[name])["affinity"] == chosen["affinity"], name
        # helm merges maps: the chosen requests replace the defaults, the default limits stay.
        assert main_container(found[name])["resources"] == {
            "requests": {"cpu": "1", "memory": "2Gi"},
            "limits": {"cpu": "2000m", "memory": "1Gi"},
        }, name
        assert {"name": "X", "value": "1"} in main_container(found[name])["env"], name
    # Without a choice the subcharts keep their preset anti-affinity.
    assert "podAntiAffinity" in pod_spec(found["clearml-mongodb"])["affinity"]
