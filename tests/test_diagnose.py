from clearml_lab.diagnose import explain

NS = "clearml"
SCC_MSG = (
    'Error creating: pods "clearml-mongodb-6d4f9c7b8-" is forbidden: unable to validate against any security '
    'context constraint: [provider "anyuid": Forbidden: not usable by user or serviceaccount, provider '
    "restricted-v2: .containers[0].runAsUser: Invalid value: 1001: must be in the ranges: [1000680000, "
    "1000689999]]"
)


def _pod(name, container, image, reason, sa="default", init=False):
    key = "initContainerStatuses" if init else "containerStatuses"
    return {
        "metadata": {"name": name},
        "spec": {"serviceAccountName": sa},
        "status": {key: [{"name": container, "image": image, "state": {"waiting": {"reason": reason}}}]},
    }


def test_scc_rejection_names_the_service_account_and_the_grant():
    rs = {
        "kind": "ReplicaSet",
        "metadata": {"name": "clearml-mongodb-6d4f9c7b8"},
        "spec": {"template": {"spec": {"serviceAccountName": "clearml-mongodb"}}},
    }
    event = {
        "reason": "FailedCreate",
        "message": SCC_MSG,
        "involvedObject": {"kind": "ReplicaSet", "name": "clearml-mongodb-6d4f9c7b8"},
    }
    (d,) = explain(
        NS,
        events=[event],
        workloads=[rs],
        grant_hint=lambda w: "oc adm policy add-scc-to-user nonroot-v2 -z clearml-mongodb",
    )
    assert d.rule == "scc-rejected" and d.step == "scc"
    assert "service account clearml-mongodb" in d.cause
    assert d.fix.endswith("oc adm policy add-scc-to-user nonroot-v2 -z clearml-mongodb")


def test_clearml_root_crash_is_recognised_from_the_log_before_the_generic_crash_loop():
    pod = _pod(
        "clearml-apiserver-7c9-abcde",
        "clearml-apiserver",
        "allegroai/clearml:2.0.0-613",
        "CrashLoopBackOff",
        sa="clearml-apiserver",
    )
    log = "mkdir: cannot create directory ‘/var/log/clearml’: Permission denied\n"
    (d,) = explain(NS, pods=[pod], logs={("clearml-apiserver-7c9-abcde", "clearml-apiserver"): log})
    assert d.rule == "clearml-root-crash" and "clearml-apiserver" in d.fix


def test_crash_loop_without_a_known_log_is_generic_and_says_how_to_read_it():
    pod = _pod("p1", "c1", "example/app:1", "CrashLoopBackOff")
    (d,) = explain(NS, pods=[pod], logs={("p1", "c1"): "something else\n"})
    assert d.rule == "crash-loop" and d.fix == "read its log: oc logs p1 -c c1 -n clearml"


def test_removed_bitnami_image_points_at_bitnamilegacy():
    pod = _pod("clearml-redis-master-0", "redis", "docker.io/bitnami/redis:7.0.9-debian-11-r1", "ImagePullBackOff")
    (d,) = explain(NS, pods=[pod])
    assert d.rule == "image-removed-bitnami" and "redis.image.repository: bitnamilegacy/redis" in d.fix


def test_other_image_pull_failure_is_generic():
    (d,) = explain(NS, pods=[_pod("p", "c", "quay.io/x/y:1", "ErrImagePull")])
    assert d.rule == "image-pull"


def test_elasticsearch_max_map_count_from_its_log():
    pod = _pod(
        "clearml-elastic-master-0",
        "elasticsearch",
        "docker.elastic.co/elasticsearch/elasticsearch:7.17.3",
        "CrashLoopBackOff",
    )
    log = (
        "ERROR: [1] bootstrap checks failed. You must address the points described in the following [1] lines "
        "before starting Elasticsearch.\nbootstrap check failure [1] of [1]: max virtual memory areas "
        "vm.max_map_count [65530] is too low, increase to at least [262144]\n"
    )
    (d,) = explain(NS, pods=[pod], logs={("clearml-elastic-master-0", "elasticsearch"): log})
    assert d.rule == "es-max-map-count" and "65530" in d.cause and "262144" in d.cause


def test_pvc_events():
    events = [
        {
            "reason": "FailedBinding",
            "involvedObject": {"kind": "PersistentVolumeClaim", "name": "clearml-mongodb"},
            "message": "no persistent volumes available for this claim and no storage class is set",
        },
        {
            "reason": "ProvisioningFailed",
            "involvedObject": {"kind": "PersistentVolumeClaim", "name": "data"},
            "message": 'failed to provision volume with StorageClass "standard": insufficient capacity',
        },
    ]
    rules = [d.rule for d in explain(NS, events=events)]
    assert rules == ["pvc-no-default-class", "pvc-no-room"]


def test_helm_kube_version_refusal():
    out = (
        "Error: INSTALLATION FAILED: chart requires kubeVersion: >= 1.21.0-0 < 1.29.0-0 which is incompatible "
        "with Kubernetes v1.32.5"
    )
    (d,) = explain(NS, helm_output=out)
    assert d.rule == "helm-kube-version" and ">= 1.21.0-0 < 1.29.0-0" in d.cause and "v1.32.5" in d.cause


def test_healthy_namespace_has_no_diagnosis():
    pod = {
        "metadata": {"name": "ok"},
        "spec": {},
        "status": {"containerStatuses": [{"name": "c", "image": "x", "state": {"running": {}}}]},
    }
    assert explain(NS, pods=[pod], events=[{"reason": "Scheduled", "message": "ok", "involvedObject": {}}]) == []


def test_same_cause_on_the_same_object_is_reported_once():
    event = {"reason": "FailedCreate", "message": SCC_MSG, "involvedObject": {"kind": "ReplicaSet", "name": "r"}}
    assert len(explain(NS, events=[event, dict(event)])) == 1


def test_an_old_refusal_is_over_once_every_pod_exists():
    event = {"reason": "FailedCreate", "message": SCC_MSG, "involvedObject": {"kind": "ReplicaSet", "name": "r"}}
    rs = {
        "kind": "ReplicaSet",
        "metadata": {"name": "r"},
        "spec": {"replicas": 1, "template": {"spec": {}}},
        "status": {"replicas": 1},
    }
    assert explain(NS, events=[event], workloads=[rs]) == []
    rs["status"]["replicas"] = 0
    assert [d.rule for d in explain(NS, events=[event], workloads=[rs])] == ["scc-rejected"]


def test_events_about_pods_gone_or_ready_and_claims_bound_are_history():
    unbound = {
        "reason": "FailedScheduling",
        "involvedObject": {"kind": "Pod", "name": "p1"},
        "message": "0/1 nodes are available: pod has unbound immediate PersistentVolumeClaims.",
    }
    ready = {"metadata": {"name": "p1"}, "spec": {}, "status": {"conditions": [{"type": "Ready", "status": "True"}]}}
    other = {"metadata": {"name": "p2"}, "spec": {}, "status": {}}
    assert explain(NS, events=[unbound], pods=[ready]) == []
    assert explain(NS, events=[unbound], pods=[other]) == []  # p1 is gone
    waiting = {"metadata": {"name": "p1"}, "spec": {}, "status": {"phase": "Pending"}}
    assert [d.rule for d in explain(NS, events=[unbound], pods=[waiting])] == ["unbound-pvc"]
    binding = {
        "reason": "FailedBinding",
        "involvedObject": {"kind": "PersistentVolumeClaim", "name": "c"},
        "message": "no persistent volumes available for this claim and no storage class is set",
    }
    bound = {"metadata": {"name": "c"}, "status": {"phase": "Bound"}}
    pending = {"metadata": {"name": "c"}, "status": {"phase": "Pending"}}
    assert explain(NS, events=[binding], pods=[waiting], claims=[bound]) == []
    assert len(explain(NS, events=[binding], pods=[waiting], claims=[pending])) == 1


# ---- advice from the spec and state as they are now --------------------------------------------------------


def _redis(policy="OrderedReady", image="docker.io/bitnamilegacy/redis:7.0.9-debian-11-r1"):
    return {
        "kind": "StatefulSet",
        "metadata": {"name": "clearml-redis-master", "uid": "sts"},
        "spec": {
            "podManagementPolicy": policy,
            "template": {"spec": {"containers": [{"name": "redis", "image": image}]}},
        },
        "status": {"currentRevision": "clearml-redis-master-old", "updateRevision": "clearml-redis-master-new"},
    }


def _redis_pod(revision, image="docker.io/bitnami/redis:7.0.9-debian-11-r1", reason="ImagePullBackOff"):
    pod = _pod("clearml-redis-master-0", "redis", image, reason, sa="clearml-redis")
    pod["metadata"].update(
        labels={"controller-revision-hash": revision},
        ownerReferences=[{"kind": "StatefulSet", "name": "clearml-redis-master", "controller": True}],
    )
    pod["spec"]["containers"] = [{"name": "redis", "image": image}]
    pod["status"]["conditions"] = [{"type": "Ready", "status": "False", "reason": "ContainersNotReady"}]
    return pod


def test_a_fix_already_in_the_spec_is_not_advised_again_the_stuck_pod_is_named_with_the_command():
    found = explain(NS, pods=[_redis_pod("clearml-redis-master-old")], workloads=[_redis()])
    assert [d.rule for d in found] == ["pod-on-old-revision"]
    (d,) = found
    assert "bitnamilegacy" not in d.fix and "redis.image.repository" not in d.fix
    assert d.fix.endswith("oc delete pod clearml-redis-master-0 -n clearml")
    assert "docker.io/bitnami/redis:7.0.9-debian-11-r1 → docker.io/bitnamilegacy/redis:7.0.9-debian-11-r1" in d.cause


def test_without_the_fix_in_the_spec_the_image_advice_stands():
    sts = _redis(image="docker.io/bitnami/redis:7.0.9-debian-11-r1")
    sts["status"]["currentRevision"] = sts["status"]["updateRevision"]
    found = explain(NS, pods=[_redis_pod("clearml-redis-master-new")], workloads=[sts])
    assert [d.rule for d in found] == ["image-removed-bitnami"]


def test_a_parallel_statefulset_replaces_its_stuck_pod_itself_so_no_delete_is_advised():
    found = explain(NS, pods=[_redis_pod("clearml-redis-master-old")], workloads=[_redis(policy="Parallel")])
    assert "pod-on-old-revision" not in [d.rule for d in found]


def test_a_deployment_rollout_waiting_on_an_unready_new_pod_names_it_and_the_way_back():
    deploy = {
        "kind": "Deployment",
        "metadata": {
            "name": "clearml-apiserver",
            "uid": "d",
            "labels": {"app.kubernetes.io/managed-by": "Helm"},
            "annotations": {"meta.helm.sh/release-name": "clearml"},
        },
    }
    owner = [{"kind": "Deployment", "name": "clearml-apiserver", "controller": True}]
    old = {
        "kind": "ReplicaSet",
        "metadata": {
            "name": "clearml-apiserver-aaa",
            "ownerReferences": owner,
            "annotations": {"deployment.kubernetes.io/revision": "1"},
        },
        "status": {"replicas": 1, "readyReplicas": 1},
    }
    new = {
        "kind": "ReplicaSet",
        "metadata": {
            "name": "clearml-apiserver-bbb",
            "ownerReferences": owner,
            "annotations": {"deployment.kubernetes.io/revision": "2"},
        },
        "status": {"replicas": 1},
    }
    pod = _pod("clearml-apiserver-bbb-x1", "clearml-apiserver", "allegroai/clearml:9.9.9", "ImagePullBackOff")
    pod["metadata"]["ownerReferences"] = [{"kind": "ReplicaSet", "name": "clearml-apiserver-bbb", "controller": True}]
    found = explain(NS, pods=[pod], workloads=[deploy, old, new])
    assert [d.rule for d in found] == ["rollout-waiting", "image-pull"]
    d = found[0]
    assert "revision 2 waits: its new pod clearml-apiserver-bbb-x1 is not Ready (ImagePullBackOff)" in d.cause
    assert "old revision 1 keeps serving with 1 ready pod(s)" in d.cause
    assert "helm rollback clearml -n clearml" in d.fix


def test_fields_written_by_kubectl_outside_helm_are_a_conflict_waiting_to_happen():
    managed = [
        {"manager": "helm", "operation": "Apply", "fieldsV1": {"f:spec": {"f:replicas": {}}}},
        {
            "manager": "kubectl",
            "operation": "Update",
            "fieldsV1": {
                "f:spec": {
                    "f:template": {
                        "f:spec": {"f:containers": {'k:{"name":"clearml-apiserver"}': {".": {}, "f:image": {}}}}
                    }
                }
            },
        },
    ]
    deploy = {
        "kind": "Deployment",
        "metadata": {
            "name": "clearml-apiserver",
            "managedFields": managed,
            "labels": {"app.kubernetes.io/managed-by": "Helm", "app.kubernetes.io/instance": "clearml"},
        },
    }
    (d,) = explain(NS, pods=[], workloads=[deploy])
    assert d.rule == "field-manager-conflict"
    assert '.spec.template.spec.containers[name="clearml-apiserver"].image were last written by "kubectl"' in d.cause
    assert "--force-conflicts" in d.fix and "helm upgrade clearml" in d.fix


def test_helms_apply_conflict_is_explained():
    out = (
        "Error: UPGRADE FAILED: conflict occurred while applying object clearml/clearml-apiserver apps/v1, "
        'Kind=Deployment: Apply failed with 1 conflict: conflict with "kubectl-rollout" using apps/v1: '
        ".spec.template.metadata.annotations.kubectl.kubernetes.io/restartedAt"
    )
    (d,) = explain(NS, helm_output=out)
    assert d.rule == "helm-apply-conflict" and '"kubectl-rollout"' in d.cause
    several = (
        'Apply failed with 2 conflicts: conflicts with "kubectl" using apps/v1:\n'
        '- .spec.template.spec.containers[name="clearml-apiserver"].image\n- .spec.replicas'
    )
    (d,) = explain(NS, helm_output=several)
    assert (
        '.spec.template.spec.containers[name="clearml-apiserver"].image was changed outside helm by "kubectl"'
        in d.cause
    )


def test_an_event_about_an_earlier_pod_of_the_same_name_is_history():
    event = {
        "reason": "FailedScheduling",
        "message": "0/1 nodes are available: pod has unbound immediate PersistentVolumeClaims.",
        "involvedObject": {"kind": "Pod", "name": "clearml-elastic-master-0", "uid": "first"},
    }
    pod = _pod(
        "clearml-elastic-master-0",
        "elasticsearch",
        "docker.elastic.co/elasticsearch/elasticsearch:7.17.3",
        "ContainerCreating",
    )
    pod["metadata"]["uid"] = "second"  # recreated by its StatefulSet, not Ready yet
    assert explain(NS, events=[event], pods=[pod]) == []
    pod["metadata"]["uid"] = "first"
    assert [d.rule for d in explain(NS, events=[event], pods=[pod])] == ["unbound-pvc"]
