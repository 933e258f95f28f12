"""The controllers and the pod lifecycle on a running practice cluster, seen through the kubernetes client."""

import pytest
from kubernetes import client

from .recipe_helpers import eventually

pytestmark = pytest.mark.cluster


def deployment(name, image, *, pod_security=None, container_security=None, port=8080):
    container = client.V1Container(
        name=name,
        image=image,
        ports=[client.V1ContainerPort(container_port=port)],
        security_context=container_security,
        readiness_probe=client.V1Probe(tcp_socket=client.V1TCPSocketAction(port=port), initial_delay_seconds=2),
    )
    return client.V1Deployment(
        metadata=client.V1ObjectMeta(name=name),
        spec=client.V1DeploymentSpec(
            replicas=2,
            selector=client.V1LabelSelector(match_labels={"app": name}),
            template=client.V1PodTemplateSpec(
                metadata=client.V1ObjectMeta(labels={"app": name}),
                spec=client.V1PodSpec(containers=[container], security_context=pod_security),
            ),
        ),
    )


def events(core, ns, name=None):
    return [e for e in core.list_namespaced_event(ns).items if name is None or e.involved_object.name == name]


def test_namespaces_get_their_uid_block_mcs_level_and_service_accounts(api, ns):
    core = api["core"]
    ann = core.read_namespace(ns).metadata.annotations
    start, size = ann["openshift.io/sa.scc.uid-range"].split("/")
    assert size == "10000" and int(start) >= 1_000_000_000 and (int(start) - 1_000_000_000) % 10000 == 0
    assert ann["openshift.io/sa.scc.supplemental-groups"] == ann["openshift.io/sa.scc.uid-range"]
    assert ann["openshift.io/sa.scc.mcs"].startswith("s0:c")
    names = eventually(
        lambda: (
            {"default", "builder", "deployer"}
            <= {s.metadata.name for s in core.list_namespaced_service_account(ns).items}
        ),
        what="default service accounts",
    )
    assert names


def test_a_deployment_rolls_out_and_its_service_gets_ready_endpoints(api, ns):
    core, apps = api["core"], api["apps"]
    apps.create_namespaced_deployment(ns, deployment("web", "nginx:1.27"))
    core.create_namespaced_service(
        ns,
        client.V1Service(
            metadata=client.V1ObjectMeta(name="web"),
            spec=client.V1ServiceSpec(selector={"app": "web"}, ports=[client.V1ServicePort(port=80, target_port=8080)]),
        ),
    )

    def rolled_out():
        d = apps.read_namespaced_deployment("web", ns)
        return (
            d
            if (
                d.status.observed_generation == d.metadata.generation
                and d.status.available_replicas == 2
                and d.status.updated_replicas == 2
            )
            else None
        )

    d = eventually(rolled_out, what="the rollout")
    progressing = next(c for c in d.status.conditions if c.type == "Progressing")
    assert progressing.reason == "NewReplicaSetAvailable"
    [rs] = apps.list_namespaced_replica_set(ns).items
    assert rs.metadata.name.startswith("web-") and rs.metadata.labels["pod-template-hash"]
    assert rs.metadata.annotations["deployment.kubernetes.io/revision"] == "1"
    pods = core.list_namespaced_pod(ns).items
    assert all(p.metadata.name.startswith(rs.metadata.name + "-") and p.status.phase == "Running" for p in pods)
    ep = eventually(lambda: (core.read_namespaced_endpoints("web", ns).subsets or [None])[0], what="ready endpoints")
    assert sorted(a.ip for a in ep.addresses) == sorted(p.status.pod_ip for p in pods)
    assert ep.ports[0].port == 8080
    reasons = {e.reason for e in events(core, ns)}
    assert {"ScalingReplicaSet", "SuccessfulCreate", "Scheduled", "Pulled", "Created", "Started"} <= reasons


def test_a_new_image_rolls_out_a_second_revision_and_scaling_follows_replicas(api, ns):
    core, apps = api["core"], api["apps"]
    apps.create_namespaced_deployment(ns, deployment("app", "nginx:1.27"))
    eventually(
        lambda: apps.read_namespaced_deployment("app", ns).status.available_replicas == 2, what="the first rollout"
    )
    apps.patch_namespaced_deployment(
        "app", ns, {"spec": {"template": {"spec": {"containers": [{"name": "app", "image": "nginx:1.28"}]}}}}
    )

    def second_revision_done():
        d = apps.read_namespaced_deployment("app", ns)
        done = (
            d.status.observed_generation == 2
            and d.status.updated_replicas == 2
            and d.status.replicas == 2
            and d.status.available_replicas == 2
        )
        return d if done else None

    eventually(second_revision_done, what="the second rollout")
    sets = {
        r.metadata.annotations["deployment.kubernetes.io/revision"]: r
        for r in apps.list_namespaced_replica_set(ns).items
    }
    assert sets["1"].spec.replicas == 0 and sets["2"].spec.replicas == 2
    assert sets["2"].spec.template.spec.containers[0].image == "nginx:1.28"
    eventually(
        lambda: all(p.spec.containers[0].image == "nginx:1.28" for p in core.list_namespaced_pod(ns).items),
        what="old pods to go",
    )

    apps.patch_namespaced_deployment("app", ns, {"spec": {"replicas": 1}})
    eventually(lambda: len(core.list_namespaced_pod(ns).items) == 1, what="the scale-down")
    assert apps.read_namespaced_deployment("app", ns).status.replicas == 1


def test_an_scc_refusal_shows_on_the_replicaset_and_deployment_until_a_grant_fixes_it(api, ns):
    core, apps, rbac = api["core"], api["apps"], api["rbac"]
    apps.create_namespaced_deployment(
        ns,
        deployment(
            "db",
            "bitnamilegacy/mongodb:5.0.10-debian-11-r3",
            port=27017,
            pod_security=client.V1PodSecurityContext(fs_group=1001),
            container_security=client.V1SecurityContext(run_as_user=1001),
        ),
    )

    def failure():
        d = apps.read_namespaced_deployment("db", ns)
        return next((c for c in d.status.conditions or [] if c.type == "ReplicaFailure"), None)

    cond = eventually(failure, what="the ReplicaFailure condition")
    assert cond.status == "True" and cond.reason == "FailedCreate"
    assert "is forbidden: unable to validate against any security context constraint" in cond.message
    [event] = [e for e in events(core, ns) if e.reason == "FailedCreate"][:1]
    assert event.type == "Warning" and event.source.component == "replicaset-controller"
    assert event.message.startswith('Error creating: pods "db-')
    assert core.list_namespaced_pod(ns).items == []

    rbac.create_namespaced_role_binding(
        ns,
        client.V1RoleBinding(
            metadata=client.V1ObjectMeta(name="system:openshift:scc:anyuid"),
            role_ref=client.V1RoleRef(
                api_group="rbac.authorization.k8s.io", kind="ClusterRole", name="system:openshift:scc:anyuid"
            ),
            subjects=[client.RbacV1Subject(kind="ServiceAccount", name="default", namespace=ns)],
        ),
    )
    d = eventually(
        lambda: (lambda d: d if d.status.ready_replicas == 2 else None)(apps.read_namespaced_deployment("db", ns)),
        what="pods admitted after the grant",
    )
    assert not any(c.type == "ReplicaFailure" for c in d.status.conditions)
    assert all(p.metadata.annotations["openshift.io/scc"] == "anyuid" for p in core.list_namespaced_pod(ns).items)


def test_clearml_under_a_random_uid_crash_loops_with_its_real_log_line(api, ns):
    # Made by the ReplicaSet controller, the pod earns restricted-v2 (a cluster-admin's own pod would get anyuid).
    core, apps = api["core"], api["apps"]
    apps.create_namespaced_deployment(ns, deployment("apiserver", "allegroai/clearml:1.12.0-393", port=8008))

    def crash_looping():
        for pod in core.list_namespaced_pod(ns).items:
            statuses = pod.status.container_statuses or []
            waiting = statuses[0].state.waiting if statuses else None
            if waiting and waiting.reason == "CrashLoopBackOff":
                return pod
        return None

    pod = eventually(crash_looping, what="CrashLoopBackOff")
    name, uid = pod.metadata.name, pod.metadata.uid
    assert pod.metadata.annotations["openshift.io/scc"] == "restricted-v2"
    waiting = pod.status.container_statuses[0].state.waiting
    assert waiting.message.endswith(f"restarting failed container=apiserver pod={name}_{ns}({uid})")
    log = core.read_namespaced_pod_log(name, ns, container="apiserver")
    assert "mkdir: cannot create directory ‘/var/log/clearml’: Permission denied" in log
    backoff = [e for e in events(core, ns, name) if e.reason == "BackOff"]
    assert backoff[0].message == f"Back-off restarting failed container apiserver in pod {name}_{ns}({uid})"
    assert apps.read_namespaced_deployment("apiserver", ns).status.ready_replicas is None


def test_statefulset_claims_are_provisioned_bound_and_reclaimed(api, ns):
    core, apps = api["core"], api["apps"]
    sts = client.V1StatefulSet(
        metadata=client.V1ObjectMeta(name="cache"),
        spec=client.V1StatefulSetSpec(
            replicas=2,
            service_name="cache",
            selector=client.V1LabelSelector(match_labels={"app": "cache"}),
            template=client.V1PodTemplateSpec(
                metadata=client.V1ObjectMeta(labels={"app": "cache"}),
                spec=client.V1PodSpec(containers=[client.V1Container(name="c", image="redis:7")]),
            ),
            volume_claim_templates=[
                client.V1PersistentVolumeClaim(
                    metadata=client.V1ObjectMeta(name="data"),
                    spec=client.V1PersistentVolumeClaimSpec(
                        access_modes=["ReadWriteOnce"],
                        resources=client.V1VolumeResourceRequirements(requests={"storage": "5Gi"}),
                    ),
                )
            ],
        ),
    )
    apps.create_namespaced_stateful_set(ns, sts)
    s = eventually(
        lambda: (lambda s: s if s.status.ready_replicas == 2 else None)(apps.read_namespaced_stateful_set("cache", ns)),
        what="both ordinals ready",
    )
    assert s.status.observed_generation == s.metadata.generation
    claims = {c.metadata.name: c for c in core.list_namespaced_persistent_volume_claim(ns).items}
    assert set(claims) == {"data-cache-0", "data-cache-1"}
    assert all(c.status.phase == "Bound" and c.spec.volume_name for c in claims.values())
    pods = {p.metadata.name: p for p in core.list_namespaced_pod(ns).items}
    assert set(pods) == {"cache-0", "cache-1"}
    assert pods["cache-1"].metadata.creation_timestamp >= pods["cache-0"].metadata.creation_timestamp
    volume = claims["data-cache-0"].spec.volume_name
    assert core.read_persistent_volume(volume).status.phase == "Bound"
    apps.delete_namespaced_stateful_set("cache", ns)
    eventually(lambda: not core.list_namespaced_pod(ns).items, what="pods to go with their StatefulSet")
    core.delete_namespaced_persistent_volume_claim("data-cache-0", ns)

    def reclaimed():
        try:
            core.read_persistent_volume(volume)
        except client.ApiException as err:
            return err.status == 404
        return False

    eventually(reclaimed, what="the Delete reclaim policy to remove the volume")


def test_routes_get_the_default_host_and_are_admitted(api, ns):
    custom = api["custom"]
    custom.create_namespaced_custom_object(
        "route.openshift.io",
        "v1",
        ns,
        "routes",
        {
            "apiVersion": "route.openshift.io/v1",
            "kind": "Route",
            "metadata": {"name": "web"},
            "spec": {"to": {"kind": "Service", "name": "web"}},
        },
    )

    def admitted():
        r = custom.get_namespaced_custom_object("route.openshift.io", "v1", ns, "routes", "web")
        return r if (r.get("status") or {}).get("ingress") else None

    route = eventually(admitted, what="the route to be admitted")
    assert route["spec"]["host"].startswith(f"web-{ns}.")
    [ingress] = route["status"]["ingress"]
    assert ingress["host"] == route["spec"]["host"]
    assert ingress["conditions"][0]["type"] == "Admitted" and ingress["conditions"][0]["status"] == "True"


def test_claims_beyond_the_published_capacity_leave_their_pod_unschedulable():
    from .cluster import temporary_cluster

    with temporary_cluster(extra_args=("--storage-capacity", "100Gi")) as cluster:
        core = client.CoreV1Api(cluster.api_client())
        eventually(
            lambda: (core.read_namespace("default").metadata.annotations or {}).get("openshift.io/sa.scc.mcs"),
            what="the default namespace's allocation",
        )
        core.create_namespaced_persistent_volume_claim(
            "default",
            client.V1PersistentVolumeClaim(
                metadata=client.V1ObjectMeta(name="big"),
                spec=client.V1PersistentVolumeClaimSpec(
                    access_modes=["ReadWriteOnce"],
                    resources=client.V1VolumeResourceRequirements(requests={"storage": "155Gi"}),
                ),
            ),
        )
        core.create_namespaced_pod(
            "default",
            client.V1Pod(
                metadata=client.V1ObjectMeta(name="user"),
                spec=client.V1PodSpec(
                    containers=[client.V1Container(name="c", image="busybox:1.36")],
                    volumes=[
                        client.V1Volume(
                            name="d",
                            persistent_volume_claim=client.V1PersistentVolumeClaimVolumeSource(claim_name="big"),
                        )
                    ],
                ),
            ),
        )
        failed = eventually(
            lambda: [e for e in events(core, "default", "user") if e.reason == "FailedScheduling"],
            what="FailedScheduling",
        )
        assert failed[0].message.startswith("0/1 nodes are available: 1 node(s) did not have enough free storage.")
        pod = core.read_namespaced_pod("user", "default")
        assert pod.status.phase == "Pending" and not pod.spec.node_name
        assert core.read_namespaced_persistent_volume_claim("big", "default").status.phase == "Pending"


def test_the_published_capacity_is_what_is_free_and_the_prerequisite_reads_it():
    """One ClearML install's worth of claims (50+50+50+5 Gi) on a 300 Gi driver leaves 145 Gi published, too little
    for a second install's prerequisites; deleting them gives the space back."""
    from clearml_lab.kube import Kube
    from clearml_lab.steps.prerequisites import storage_check

    from .cluster import temporary_cluster

    with temporary_cluster(extra_args=("--storage-capacity", "300Gi")) as cluster:
        api_client = cluster.api_client()
        core, storage = client.CoreV1Api(api_client), client.StorageV1Api(api_client)

        def published():
            return storage.read_namespaced_csi_storage_capacity("practice-standard-csi", "kube-system").capacity

        assert published() == "300Gi"
        assert storage_check(Kube(api_client)).ok is True
        eventually(
            lambda: (core.read_namespace("default").metadata.annotations or {}).get("openshift.io/sa.scc.mcs"),
            what="the default namespace's allocation",
        )
        sizes = {"fileserver": "50Gi", "mongodb": "50Gi", "elastic": "50Gi", "redis": "5Gi"}
        for name, size in sizes.items():
            core.create_namespaced_persistent_volume_claim(
                "default",
                client.V1PersistentVolumeClaim(
                    metadata=client.V1ObjectMeta(name=name),
                    spec=client.V1PersistentVolumeClaimSpec(
                        access_modes=["ReadWriteOnce"],
                        resources=client.V1VolumeResourceRequirements(requests={"storage": size}),
                    ),
                ),
            )
        core.create_namespaced_pod(
            "default",
            client.V1Pod(
                metadata=client.V1ObjectMeta(name="user"),
                spec=client.V1PodSpec(
                    containers=[client.V1Container(name="c", image="busybox:1.36")],
                    volumes=[
                        client.V1Volume(
                            name=name,
                            persistent_volume_claim=client.V1PersistentVolumeClaimVolumeSource(claim_name=name),
                        )
                        for name in sizes
                    ],
                ),
            ),
        )
        eventually(
            lambda: all(
                core.read_namespaced_persistent_volume_claim(n, "default").status.phase == "Bound" for n in sizes
            ),
            what="the four claims to bind",
        )
        eventually(lambda: published() == "145Gi", what="the published capacity to drop by 155Gi")
        second = storage_check(Kube(api_client))
        assert second.ok is False and "has 145 Gi free, the chart asks for 155 Gi" in second.detail

        core.delete_namespaced_pod("user", "default", grace_period_seconds=0)
        for name in sizes:
            core.delete_namespaced_persistent_volume_claim(name, "default")
        eventually(lambda: not core.list_persistent_volume().items, timeout=60, what="the volumes to be reclaimed")
        eventually(lambda: published() == "300Gi", what="the published capacity to return")
        assert storage_check(Kube(api_client)).ok is True


def test_practice_serve_images_extends_the_image_model_from_the_users_file(tmp_path):
    """`practice serve --images FILE`: an image of the learner's own, in the shipped schema, behaves as the file says
    (here: it needs root, so under a random UID it crash-loops with the file's log line); images no file names run
    under whatever UID they get."""
    from .cluster import temporary_cluster

    images = tmp_path / "my-images.yaml"
    images.write_text(
        "images:\n"
        "  - repositories: [quay.io/me/needs-root]\n"
        "    source: the learner's Dockerfile (entrypoint writes /var/run/app.pid)\n"
        "    user: 0\n"
        "    requires:\n"
        "      - uid: 0\n"
        "        otherwise: {after_seconds: 1, exit_code: 1, logs: ['cannot write /var/run/app.pid']}\n"
    )
    with temporary_cluster(extra_args=("--images", str(images))) as cluster:
        core = client.CoreV1Api(cluster.api_client())
        ns = "default"
        eventually(
            lambda: (core.read_namespace(ns).metadata.annotations or {}).get("openshift.io/sa.scc.mcs"),
            what="the default namespace's allocation",
        )
        for name, image in (("mine", "quay.io/me/needs-root:1"), ("other", "ghcr.io/someone/else:2")):
            core.create_namespaced_pod(
                ns,
                client.V1Pod(
                    metadata=client.V1ObjectMeta(name=name),
                    spec=client.V1PodSpec(
                        containers=[client.V1Container(name="c", image=image)],
                        security_context=client.V1PodSecurityContext(run_as_user=1000680000),
                    ),
                ),
            )
        eventually(
            lambda: (
                (s := core.read_namespaced_pod("mine", ns).status.container_statuses)
                and s[0].last_state
                and s[0].last_state.terminated
                and s[0].last_state.terminated.exit_code == 1
            ),
            what="the learner's image to exit 1 under a random UID",
        )
        log = core.read_namespaced_pod_log("mine", ns, container="c", previous=True)
        assert set(log.strip().splitlines()) == {"cannot write /var/run/app.pid"}  # one line per run so far
        eventually(
            lambda: (
                core.read_namespaced_pod("other", ns).status.phase == "Running"
                and all(c.ready for c in core.read_namespaced_pod("other", ns).status.container_statuses)
            ),
            what="an image no file names running under its UID",
        )
