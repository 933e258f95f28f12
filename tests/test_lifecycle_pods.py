"""The practice node's pod lifecycle and image model, driven by the clock alone (no server)."""

from importlib import resources

import pytest
import yaml

from clearml_lab.practice import lifecycle
from clearml_lab.practice.controllers.base import Event, Log, Patch, UpdateStatus, Wake
from clearml_lab.practice.controllers.kubelet import Bind, reconcile_pod
from clearml_lab.practice.lifecycle import (
    World,
    go_duration,
    image_file_problems,
    image_needs_uid,
    image_rule,
    old_spellings,
    parse_image,
    pull_error,
    record_from_status,
    world_settings,
)

T0 = 1_800_000_000.0
CLEARML = "allegroai/clearml:1.12.0-393"


def make_pod(containers, init=(), volumes=None, security=None, restart="Always", name="p"):
    pod = {
        "metadata": {"name": name, "namespace": "lab", "uid": "0d6c-uid"},
        "spec": {"containers": list(containers), "restartPolicy": restart},
    }
    if init:
        pod["spec"]["initContainers"] = list(init)
    if volumes:
        pod["spec"]["volumes"] = volumes
    if security:
        pod["spec"]["securityContext"] = security
    return pod


class Node:
    """Drives one pod through reconcile_pod, jumping the clock to each requested wake-up."""

    def __init__(self, pod, scale=1.0, **world):
        self.pod, self.scale, self.world = pod, scale, world
        self.record, self.now = None, T0
        self.events, self.logs, self.patches, self.binds = [], [], [], []

    def step(self):
        node, sysctls = world_settings(self.world.get("settings", {}))
        world = World(
            now=self.now,
            scale=self.scale,
            node=node,
            node_sysctls=sysctls,
            ready_services=self.world.get("ready", set()),
            configmaps=self.world.get("configmaps", {}),
            claims=self.world.get("claims", {}),
            storage_classes=self.world.get("classes", {}),
            storage_free=self.world.get("free", {}),
            services=self.world.get("services", {}),
        )
        actions, self.record = reconcile_pod(self.pod, self.record, world)
        wake = None
        for a in actions:
            if isinstance(a, UpdateStatus):
                self.pod = a.obj
            elif isinstance(a, Event):
                self.events.append((a.reason, a.message))
            elif isinstance(a, Log):
                self.logs.append((a.container, list(a.lines)))
            elif isinstance(a, Patch):
                self.patches.append((a.resource, a.patch))
            elif isinstance(a, Bind):
                self.binds.append(a)
            elif isinstance(a, Wake):
                wake = a.at
        return wake

    def run(self, until):
        """Follow wake-ups until none is asked for or the clock passes ``until`` seconds after start."""
        while True:
            wake = self.step()
            if wake is None or wake > T0 + until:
                return self
            self.now = wake

    def container(self, name):
        statuses = self.pod["status"].get("initContainerStatuses", []) + self.pod["status"]["containerStatuses"]
        return next(s for s in statuses if s["name"] == name)

    def condition(self, ctype):
        return next(c for c in self.pod["status"]["conditions"] if c["type"] == ctype)

    def reasons(self):
        return [r for r, _ in self.events]


def test_an_unknown_image_is_scheduled_pulled_started_and_ready():
    node = Node(make_pod([{"name": "web", "image": "quay.io/example/web:1.0"}])).run(until=60)
    assert node.events[0] == ("Scheduled", "Successfully assigned lab/p to practice-node-0")
    assert node.reasons() == ["Scheduled", "AddedInterface", "Pulling", "Pulled", "Created", "Started"]
    assert node.events[3][1] == (
        'Successfully pulled image "quay.io/example/web:1.0" in 4s (4s including waiting). Image size: 52428800 bytes.'
    )
    assert node.binds == [Bind("lab", "p", "0d6c-uid", "practice-node-0")]  # through pods/p/binding, once
    assert not any("nodeName" in (p.get("spec") or {}) for _, p in node.patches)
    assert node.pod["status"]["phase"] == "Running"
    assert node.condition("Ready")["status"] == "True"
    assert node.container("web")["state"]["running"]["startedAt"]
    assert node.pod["status"]["podIP"].startswith("10.128.")


def seconds_to_ready(node):
    while True:
        wake = node.step()
        conditions = node.pod.get("status", {}).get("conditions") or []
        if any(c["type"] == "Ready" and c["status"] == "True" for c in conditions):
            return node.now - T0
        node.now = wake


def test_durations_follow_the_time_scale():
    image = {"name": "web", "image": "nginx:1", "readinessProbe": {"initialDelaySeconds": 5}}
    slow = seconds_to_ready(Node(make_pod([image]), scale=1.0))
    fast = seconds_to_ready(Node(make_pod([image]), scale=0.05))
    assert slow > 5
    assert fast == pytest.approx(slow * 0.05)


def test_clearml_as_a_random_uid_crash_loops_with_the_real_message():
    pod = make_pod(
        [
            {
                "name": "clearml-apiserver",
                "image": CLEARML,
                "args": ["apiserver"],
                "securityContext": {"runAsUser": 1000680000},
            }
        ]
    )
    node = Node(pod).run(until=90)
    assert ("clearml-apiserver", ["mkdir: cannot create directory ‘/var/log/clearml’: Permission denied"]) in node.logs
    status = node.container("clearml-apiserver")
    assert status["restartCount"] >= 1
    assert status["lastState"]["terminated"]["exitCode"] == 1
    backoffs = [m for r, m in node.events if r == "BackOff"]
    assert backoffs[0] == "Back-off restarting failed container clearml-apiserver in pod p_lab(0d6c-uid)"
    waiting = [c for c in [node.container("clearml-apiserver")]][0]["state"].get("waiting")
    if waiting:  # between restarts
        assert waiting["reason"] == "CrashLoopBackOff"
        assert waiting["message"].startswith("back-off ") and waiting["message"].endswith(
            " restarting failed container=clearml-apiserver pod=p_lab(0d6c-uid)"
        )
    assert node.condition("Ready")["status"] == "False"


def test_crash_loop_waiting_message_doubles_the_back_off():
    pod = make_pod([{"name": "c", "image": CLEARML, "securityContext": {"runAsUser": 1000}}])
    node = Node(pod)
    messages = []
    for _ in range(200):
        wake = node.step()
        waiting = (
            node.container("c")["state"].get("waiting") if node.pod.get("status", {}).get("containerStatuses") else None
        )
        if waiting and waiting.get("reason") == "CrashLoopBackOff" and waiting["message"] not in messages:
            messages.append(waiting["message"])
        if wake is None or len(messages) == 3:
            break
        node.now = wake
    assert [m.split(" ")[1] for m in messages] == ["10s", "20s", "40s"]
    assert messages[0] == "back-off 10s restarting failed container=c pod=p_lab(0d6c-uid)"


def test_clearml_as_root_becomes_ready():
    node = Node(
        make_pod(
            [
                {
                    "name": "c",
                    "image": "docker.io/allegroai/clearml:2.0.0-613",
                    "readinessProbe": {"initialDelaySeconds": 3},
                }
            ],
            security={"runAsUser": 0},
        )
    ).run(until=120)
    assert node.condition("Ready")["status"] == "True" and not node.logs


def test_removed_bitnami_tags_fail_to_pull_with_crio_wording_and_back_off():
    image = "docker.io/bitnami/redis:7.0.9-debian-11-r1"
    node = Node(make_pod([{"name": "redis", "image": image}])).run(until=40)
    error = (
        "rpc error: code = Unknown desc = initializing source docker://docker.io/bitnami/redis:"
        "7.0.9-debian-11-r1: reading manifest 7.0.9-debian-11-r1 in docker.io/bitnami/redis: manifest unknown"
    )
    assert ("Failed", f'Failed to pull image "{image}": {error}') in node.events
    assert ("Failed", "Error: ErrImagePull") in node.events
    assert ("BackOff", f'Back-off pulling image "{image}"') in node.events
    assert ("Failed", "Error: ImagePullBackOff") in node.events
    assert node.reasons().count("Pulling") >= 2  # it tries again after the back-off
    waiting = node.container("redis")["state"]["waiting"]
    assert waiting["reason"] in ("ImagePullBackOff", "ErrImagePull")
    assert node.pod["status"]["phase"] == "Pending"


def test_after_a_failed_pull_the_retries_show_the_last_failure_never_containercreating():
    """The kubelet keeps a container's last start failure until a start succeeds (its reason cache), so a pod whose
    image cannot be pulled goes ErrImagePull -> ImagePullBackOff -> ErrImagePull..., even while a retry pulls."""
    node = Node(make_pod([{"name": "redis", "image": "docker.io/bitnami/redis:7.0.9-debian-11-r1"}]))
    seen = []
    while node.reasons().count("Pulling") < 4:
        wake = node.step()
        if node.pod["status"].get("containerStatuses"):
            seen.append(node.container("redis")["state"]["waiting"]["reason"])
        node.now = wake
    after_first_failure = seen[seen.index("ErrImagePull") :]
    assert set(after_first_failure) == {"ErrImagePull", "ImagePullBackOff"}, seen
    assert after_first_failure.count("ErrImagePull") >= 3  # three retries, each seen failing


def test_bitnamilegacy_and_latest_pull_fine():
    assert pull_error("bitnamilegacy/mongodb:5.0.10-debian-11-r3") is None
    assert pull_error("bitnami/redis:latest") is None
    assert pull_error("bitnami/mongodb:6.0.10-debian-11-r8") is not None


def test_image_rules_match_on_repository_on_any_registry_and_any_tag():
    assert image_rule("allegroai/clearml:1.12.0-393")["image_user"] == 0
    assert image_rule("docker.io/bitnami/mongodb:6.0.10-debian-11-r8")["image_user"] == 1001
    assert image_rule("docker.elastic.co/elasticsearch/elasticsearch:7.17.3")["image_user"] == 1000
    # a mirror is the same image, as the SCC planner judges it (scc.images): it needs root wherever it is pulled from
    assert image_needs_uid(image_rule("registry.example.com/allegroai/clearml:1")) == 0
    assert image_needs_uid(image_rule("quay.io/example/web:1")) is None
    assert parse_image("redis").reference == "docker.io/library/redis:latest"
    assert parse_image("localhost:5000/a/b:1").registry == "localhost:5000"


def test_a_pattern_that_names_its_registry_matches_only_there():
    assert pull_error("docker.io/bitnami/redis:7.0.9") and pull_error("bitnami/redis:7.0.9")  # Docker Hub's moved tags
    assert pull_error("quay.io/bitnami/redis:7.0.9") is None
    assert pull_error("bitnami/redis:latest") is None


ES = "docker.elastic.co/elasticsearch/elasticsearch:7.17.3"
SYSCTL_INIT = {
    "name": "configure-sysctl",
    "image": ES,
    "command": ["sysctl", "-w", "vm.max_map_count=262144"],
    "securityContext": {"privileged": True, "runAsUser": 0},
}


def es_container(**extra):
    return {
        "name": "elasticsearch",
        "image": ES,
        "readinessProbe": {"initialDelaySeconds": 10},
        "env": [{"name": "cluster.name", "value": "clearml"}],
        **extra,
    }


def test_elasticsearch_fails_its_bootstrap_check_on_a_node_with_the_linux_default():
    node = Node(make_pod([es_container()])).run(until=120)
    [(_, lines), *_] = [entry for entry in node.logs if entry[0] == "elasticsearch"]
    assert lines[0].startswith("ERROR: [1] bootstrap checks failed. You must address the points described")
    assert lines[1] == (
        "bootstrap check failure [1] of [1]: max virtual memory areas vm.max_map_count [65530] "
        "is too low, increase to at least [262144]"
    )
    assert "/usr/share/elasticsearch/logs/clearml.log" in lines[2]
    assert node.container("elasticsearch")["lastState"]["terminated"]["exitCode"] == 78


def test_the_privileged_sysctl_init_container_lets_elasticsearch_start():
    node = Node(make_pod([es_container()], init=[SYSCTL_INIT])).run(until=200)
    assert node.condition("Ready")["status"] == "True"
    assert node.container("configure-sysctl")["state"]["terminated"]["reason"] == "Completed"
    assert not node.logs


def test_an_unprivileged_sysctl_init_container_fails():
    init = dict(SYSCTL_INIT, securityContext={"runAsUser": 1000})
    node = Node(make_pod([es_container()], init=[init])).run(until=30)
    assert ("configure-sysctl", ['sysctl: setting key "vm.max_map_count": Read-only file system']) in node.logs
    assert node.condition("Initialized")["status"] == "False"


def test_allow_mmap_false_in_the_mounted_config_skips_the_check():
    volumes = [{"name": "esconfig", "configMap": {"name": "clearml-elastic-master-config"}}]
    mount = {
        "name": "esconfig",
        "mountPath": "/usr/share/elasticsearch/config/elasticsearch.yml",
        "subPath": "elasticsearch.yml",
    }
    configmaps = {
        ("lab", "clearml-elastic-master-config"): {
            "data": {"elasticsearch.yml": "xpack.security.enabled: false\nnode.store.allow_mmap: false\n"}
        }
    }
    node = Node(make_pod([es_container(volumeMounts=[mount])], volumes=volumes), configmaps=configmaps).run(until=200)
    assert node.condition("Ready")["status"] == "True" and not node.logs
    # the node's own setting decides otherwise
    high = Node(make_pod([es_container()]), settings={"node_sysctls": {"vm.max_map_count": 262144}}).run(until=200)
    assert high.condition("Ready")["status"] == "True"


WAIT_INIT = {
    "name": "init-apiserver",
    "image": CLEARML,
    "command": ["/bin/sh", "-c"],
    "args": [
        "set -x; while [ $(curl -sw '%{http_code}' \"http://clearml-apiserver:8008/debug.ping\" "
        '-o /dev/null) -ne 200 ] ; do echo "waiting for apiserver" ; sleep 5; done'
    ],
}


def test_an_init_container_waits_for_its_service_endpoints_not_for_a_timer():
    node = Node(make_pod([{"name": "fileserver", "image": CLEARML}], init=[WAIT_INIT], security={"runAsUser": 0}))
    node.run(until=10_000)  # no timer releases it, however long
    assert node.container("init-apiserver")["state"].get("running")
    assert node.condition("Initialized")["status"] == "False"
    assert node.condition("Initialized")["message"] == "containers with incomplete status: [init-apiserver]"
    assert node.container("fileserver")["state"]["waiting"]["reason"] == "PodInitializing"
    node.world["ready"] = {("lab", "clearml-apiserver")}
    node.run(until=20_000)
    assert node.container("init-apiserver")["state"]["terminated"]["exitCode"] == 0
    assert node.condition("Ready")["status"] == "True"
    assert ("init-apiserver", ["waiting for apiserver"]) in node.logs


def test_a_multi_service_wait_says_what_it_waits_for_in_order():
    script = (
        'until curl http://es:9200/_cluster/health; do echo "waiting for elasticsearch"; sleep 5; done\n'
        'until curl telnet://mongo:27017; do echo "waiting for mongodb"; sleep 5; done'
    )
    init = {"name": "init", "image": CLEARML, "command": ["/bin/sh", "-c", script]}
    node = Node(make_pod([{"name": "api", "image": CLEARML}], init=[init], security={"runAsUser": 0}))
    node.run(until=100)
    assert node.logs == [("init", ["waiting for elasticsearch"])]
    node.world["ready"] = {("lab", "es")}
    node.run(until=200)
    assert node.logs[-1] == ("init", ["waiting for mongodb"])
    assert node.container("init")["state"].get("running")
    node.world["ready"] = {("lab", "es"), ("lab", "mongo")}
    node.run(until=300)
    assert node.container("init")["state"]["terminated"]["reason"] == "Completed"


def test_a_pod_that_names_its_node_skips_the_scheduler():
    pod = make_pod([{"name": "c", "image": "nginx:1"}])
    pod["spec"]["nodeName"] = "practice-node-0"
    node = Node(pod).run(until=60)
    assert "Scheduled" not in node.reasons() and node.condition("Ready")["status"] == "True"


def test_a_pod_with_an_unbound_immediate_claim_stays_pending_with_failedscheduling():
    volumes = [{"name": "data", "persistentVolumeClaim": {"claimName": "data"}}]
    pvc = {
        "metadata": {"name": "data", "namespace": "lab"},
        "spec": {"storageClassName": "fast"},
        "status": {"phase": "Pending"},
    }
    node = Node(
        make_pod([{"name": "c", "image": "nginx"}], volumes=volumes),
        claims={("lab", "data"): pvc},
        classes={"fast": {"volumeBindingMode": "Immediate"}},
    ).run(until=100)
    message = (
        "0/1 nodes are available: pod has unbound immediate PersistentVolumeClaims. preemption: 0/1 nodes "
        "are available: 1 Preemption is not helpful for scheduling."
    )
    assert node.events == [("FailedScheduling", message)]
    assert node.pod["status"]["phase"] == "Pending"
    cond = node.condition("PodScheduled")
    assert (cond["status"], cond["reason"], cond["message"]) == ("False", "Unschedulable", message)
    node.world["claims"] = {("lab", "data"): dict(pvc, status={"phase": "Bound"})}
    node.run(until=200)
    assert "Scheduled" in node.reasons()


def test_a_wait_for_first_consumer_claim_is_marked_for_the_node():
    volumes = [{"name": "data", "persistentVolumeClaim": {"claimName": "data"}}]
    pvc = {
        "metadata": {"name": "data", "namespace": "lab"},
        "spec": {"storageClassName": "wffc"},
        "status": {"phase": "Pending"},
    }
    node = Node(
        make_pod([{"name": "c", "image": "nginx"}], volumes=volumes),
        claims={("lab", "data"): pvc},
        classes={"wffc": {"volumeBindingMode": "WaitForFirstConsumer"}},
    ).run(until=10)
    assert (
        "persistentvolumeclaims",
        {"metadata": {"annotations": {"volume.kubernetes.io/selected-node": "practice-node-0"}}},
    ) in node.patches
    assert "Scheduled" not in node.reasons()


def test_a_run_to_completion_pod_succeeds():
    node = Node(make_pod([{"name": "t", "image": "busybox", "command": ["true"]}], restart="Never")).run(until=60)
    assert node.pod["status"]["phase"] == "Succeeded"
    assert node.container("t")["state"]["terminated"]["reason"] == "Completed"


def test_a_running_pod_is_remembered_from_its_status_after_a_restart():
    node = Node(make_pod([{"name": "web", "image": "nginx:1"}])).run(until=60)
    record = record_from_status(node.pod)
    assert record.stage == "containers" and record.containers["web"].stage == "running"  # pod_stages, container_stages
    again = Node(node.pod)
    again.record, again.now = record, node.now + 5
    again.step()
    assert again.events == [] and again.condition("Ready")["status"] == "True"


def test_go_durations():
    assert [go_duration(s) for s in (0.412, 2.5, 25, 63.204, 300)] == ["412ms", "2.5s", "25s", "1m3.204s", "5m0s"]


def test_a_wait_for_first_consumer_claim_that_does_not_fit_leaves_the_pod_unschedulable():
    volumes = [{"name": "data", "persistentVolumeClaim": {"claimName": "data"}}]
    pvc = {
        "metadata": {"name": "data", "namespace": "lab"},
        "spec": {"storageClassName": "wffc", "resources": {"requests": {"storage": "155Gi"}}},
        "status": {"phase": "Pending"},
    }
    classes = {"wffc": {"metadata": {"name": "wffc"}, "volumeBindingMode": "WaitForFirstConsumer"}}
    node = Node(
        make_pod([{"name": "c", "image": "nginx"}], volumes=volumes), claims={("lab", "data"): pvc}, classes=classes
    )
    node.world["free"] = {"wffc": 100 * 2**30}
    node.step()
    assert node.events == [
        (
            "FailedScheduling",
            "0/1 nodes are available: 1 node(s) did not have enough free "
            "storage. preemption: 0/1 nodes are available: 1 Preemption is not "
            "helpful for scheduling.",
        )
    ]
    assert not node.patches  # no node selected for the claim, so nothing is provisioned


# ---- clients: what a container runs decides what it does, not only its image ---------------------------------

ES_TEST = {
    "name": "clearml-abcde-test",
    "image": "docker.elastic.co/elasticsearch/elasticsearch:7.17.3",
    "command": [
        "sh",
        "-c",
        "#!/usr/bin/env bash -e\ncurl -XGET --fail "
        "'clearml-elastic-master:9200/_cluster/health?wait_for_status=green&timeout=1s'\n",
    ],
}
ES_SERVICE = {("lab", "clearml-elastic-master"): {"ip": "172.30.12.7", "ports": [9200, 9300]}}


def test_a_test_pod_running_curl_in_the_elasticsearch_image_is_a_client_not_a_node():
    # The chart's `helm test` pod: Elasticsearch's image, but it runs curl, so the bootstrap check never applies.
    node = Node(
        make_pod([ES_TEST], restart="Never", security={"runAsUser": 1000}),
        services=ES_SERVICE,
        ready={("lab", "clearml-elastic-master")},
    ).run(until=120)
    assert node.pod["status"]["phase"] == "Succeeded"
    assert node.container("clearml-abcde-test")["state"]["terminated"]["exitCode"] == 0
    assert not any("vm.max_map_count" in " ".join(lines) for _, lines in node.logs)


def test_curl_to_a_service_without_ready_endpoints_fails_with_curls_exit_code_and_message():
    node = Node(make_pod([ES_TEST], restart="Never"), services=ES_SERVICE).run(until=120)
    assert node.pod["status"]["phase"] == "Failed"
    assert node.container("clearml-abcde-test")["state"]["terminated"]["exitCode"] == 7
    assert node.logs == [
        ("clearml-abcde-test", ["curl: (7) Failed to connect to clearml-elastic-master port 9200: Connection refused"])
    ]


def test_curl_to_a_name_that_no_service_has_cannot_resolve_it():
    node = Node(make_pod([ES_TEST], restart="Never")).run(until=120)
    assert node.container("clearml-abcde-test")["state"]["terminated"]["exitCode"] == 6
    assert node.logs == [("clearml-abcde-test", ["curl: (6) Could not resolve host: clearml-elastic-master"])]


def test_busybox_wget_in_another_namespace_fails_as_busybox_does():
    pod = make_pod(
        [
            {
                "name": "wget",
                "image": "busybox",
                "command": ["wget"],
                "args": ["-q", "-O", "-", "web.shop.svc.cluster.local:8080"],
            }
        ],
        restart="Never",
    )
    services = {("shop", "web"): {"ip": "172.30.0.9", "ports": [8080]}}
    node = Node(pod, services=services).run(until=120)
    assert node.container("wget")["state"]["terminated"]["exitCode"] == 1
    assert node.logs == [
        (
            "wget",
            [
                "Connecting to web.shop.svc.cluster.local:8080 (172.30.0.9:8080)",
                "wget: can't connect to remote host (172.30.0.9): Connection refused",
            ],
        )
    ]
    node = Node(pod, services=services, ready={("shop", "web")}).run(until=120)
    assert node.pod["status"]["phase"] == "Succeeded"


def test_a_hook_that_loops_on_curl_waits_for_the_endpoints():
    hook = {
        "name": "wait",
        "image": "curlimages/curl:8.5.0",
        "command": ["sh", "-ec"],
        "args": ["until curl -sf http://api:8008/debug.ping; do sleep 2; done"],
    }
    node = Node(make_pod([hook], restart="Never"), services={("lab", "api"): {"ip": "172.30.1.1", "ports": [8008]}})
    node.run(until=10_000)
    assert node.container("wait")["state"].get("running")
    node.world["ready"] = {("lab", "api")}
    node.run(until=20_000)
    assert node.pod["status"]["phase"] == "Succeeded"


# ---- images the model does not know, and a user's own image file ---------------------------------------------


def test_an_unknown_image_runs_under_whatever_uid_its_security_context_gives():
    for security in (None, {"runAsUser": 1000680000}, {"runAsUser": 0}):
        node = Node(make_pod([{"name": "app", "image": "ghcr.io/someone/app:2"}], security=security)).run(until=60)
        assert node.condition("Ready")["status"] == "True", security


def test_the_shipped_image_files_follow_the_schema_a_user_file_is_checked_against():
    for path in (resources.files("clearml_lab.practice") / "data" / "images").iterdir():
        if path.name.endswith(".yaml"):
            doc = yaml.safe_load(path.read_text())
            assert image_file_problems(doc) == [], path.name
            assert old_spellings(doc) == [], path.name  # the shipped files speak the planner's vocabulary


def test_a_user_image_file_extends_and_overrides_the_model(tmp_path):
    user = tmp_path / "my-images.yaml"
    user.write_text("""
images:
  - repositories: [quay.io/me/needs-root]
    source: my Dockerfile (entrypoint writes to /var/run)
    image_user: 0
    requires:
      - needs_uid: 0
        otherwise: {after_seconds: 1, exit_code: 1, logs: ['cannot write /var/run/app.pid (uid {uid})']}
""")
    try:
        lifecycle.use_image_file(user)
        pod = make_pod([{"name": "app", "image": "quay.io/me/needs-root:1"}], security={"runAsUser": 1000680000})
        node = Node(pod).run(until=60)
        assert ("app", ["cannot write /var/run/app.pid (uid 1000680000)"]) in node.logs
        assert node.container("app")["lastState"]["terminated"]["exitCode"] == 1
        root = Node(make_pod([{"name": "app", "image": "quay.io/me/needs-root:1"}])).run(until=60)
        assert root.condition("Ready")["status"] == "True"  # the image's own user is root
    finally:
        lifecycle._USER_IMAGE_DOCS.clear()
        lifecycle.image_model.cache_clear()


def test_a_user_image_file_in_the_older_spelling_is_still_read(tmp_path):
    old = tmp_path / "old.yaml"
    old.write_text(
        "images:\n  - repositories: [quay.io/me/needs-root]\n    source: my Dockerfile\n    user: 0\n"
        "    requires:\n      - uid: 0\n        because: it writes /var/run\n"
        "        otherwise: {after_seconds: 1, exit_code: 1, logs: [no]}\n"
    )
    try:
        lifecycle.use_image_file(old)
        rule = image_rule("quay.io/me/needs-root:1")
        assert (rule["image_user"], image_needs_uid(rule), rule["requires"][0]["why"]) == (0, 0, "it writes /var/run")
    finally:
        lifecycle._USER_IMAGE_DOCS.clear()
        lifecycle.image_model.cache_clear()


def test_a_user_image_file_that_breaks_the_schema_is_refused_with_the_reason(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("images:\n  - repositories: me/app\n    requires: [{uid: 0}]\n")
    with pytest.raises(ValueError) as err:
        lifecycle.use_image_file(bad)
    assert "images[0].repositories must be a list" in str(err.value)
    assert "images[0].source must say where its facts come from" in str(err.value)
    assert lifecycle._USER_IMAGE_DOCS == []
