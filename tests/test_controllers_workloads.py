"""Deployment → ReplicaSet → Pod decisions, StatefulSet ordering and Job completion, as pure functions."""

import copy

from clearml_lab.practice.client import ApiError
from clearml_lab.practice.controllers.base import Abort, Create, Delete, Event, Update, UpdateStatus, Wake, rfc3339
from clearml_lab.practice.controllers.deployment import reconcile_deployment, template_hash
from clearml_lab.practice.controllers.job import reconcile_job
from clearml_lab.practice.controllers.replicaset import reconcile_replicaset
from clearml_lab.practice.controllers.statefulset import reconcile_statefulset

NOW = 1_800_000_000.0
TEMPLATE = {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}}


def deployment(replicas=2, template=TEMPLATE, generation=1, status=None, strategy=None):
    d = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "lab", "uid": "d-uid", "generation": generation},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "web"}},
            "template": copy.deepcopy(template),
        },
    }
    if strategy:
        d["spec"]["strategy"] = strategy
    if status:
        d["status"] = status
    return d


def created_replicaset(deploy, action, status=None, uid="rs-uid", created=NOW - 100):
    rs = copy.deepcopy(action.obj)
    rs["metadata"].update(uid=uid, creationTimestamp=rfc3339(created), generation=1)
    if status:
        rs["status"] = status
    return rs


def pod(name, owner, ready=True, phase="Running", labels=None):
    p = {
        "metadata": {
            "name": name,
            "namespace": "lab",
            "uid": f"{name}-uid",
            "labels": labels or {"app": "web"},
            "creationTimestamp": rfc3339(NOW - 50),
            "ownerReferences": [
                {
                    "apiVersion": "apps/v1",
                    "kind": owner["kind"],
                    "name": owner["metadata"]["name"],
                    "uid": owner["metadata"]["uid"],
                    "controller": True,
                }
            ],
        },
        "spec": {"nodeName": "n"},
        "status": {
            "phase": phase,
            "podIP": "10.128.2.20",
            "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
        },
    }
    return p


def of(actions, kind):
    return [a for a in actions if isinstance(a, kind)]


def test_a_new_deployment_gets_a_replicaset_named_by_its_template_hash_with_revision_1():
    d = deployment()
    actions = reconcile_deployment(d, [], [], NOW, 1.0)
    [create] = of(actions, Create)
    rs = create.obj
    h = template_hash(d["spec"]["template"])
    assert rs["metadata"]["name"] == f"web-{h}"
    assert set(h) <= set("bcdfghjklmnpqrstvwxz2456789")
    assert rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "1"
    assert rs["spec"]["selector"]["matchLabels"] == {"app": "web", "pod-template-hash": h}
    assert rs["spec"]["template"]["metadata"]["labels"]["pod-template-hash"] == h
    assert rs["metadata"]["ownerReferences"][0]["uid"] == "d-uid"
    assert rs["spec"]["replicas"] == 2
    [event] = of(actions, Event)
    assert event.message == f"Scaled up replica set web-{h} from 0 to 2"
    [status] = of(actions, UpdateStatus)
    progressing = next(c for c in status.obj["status"]["conditions"] if c["type"] == "Progressing")
    assert (progressing["reason"], progressing["message"]) == (
        "NewReplicaSetCreated",
        f'Created new replica set "web-{h}"',
    )


def test_the_deployment_carries_its_newest_revision_and_a_rollback_renumbers_the_old_replicaset():
    from clearml_lab.practice.controllers.base import Patch

    d = deployment()
    first = created_replicaset(d, of(reconcile_deployment(d, [], [], NOW, 1.0), Create)[0], uid="rs1")
    [patch] = of(reconcile_deployment(d, [first], [], NOW, 1.0), Patch)
    assert patch.patch == {"metadata": {"annotations": {"deployment.kubernetes.io/revision": "1"}}}
    changed = deployment(template={**TEMPLATE, "spec": {"containers": [{"name": "web", "image": "nginx:1.28"}]}})
    second = created_replicaset(changed, of(reconcile_deployment(changed, [first], [], NOW, 1.0), Create)[0], uid="rs2")
    assert second["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "2"
    # `kubectl rollout undo`: the template is the first one again.
    d["metadata"]["annotations"] = {"deployment.kubernetes.io/revision": "2"}
    actions = reconcile_deployment(d, [first, second], [], NOW, 1.0)
    [renumbered] = [u.obj for u in of(actions, Update) if u.obj["metadata"]["name"] == first["metadata"]["name"]]
    assert renumbered["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "3"
    [patch] = of(actions, Patch)
    assert patch.patch["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "3"


def test_a_changed_template_gets_a_different_hash():
    other = copy.deepcopy(TEMPLATE)
    other["spec"]["containers"][0]["image"] = "nginx:1.28"
    assert template_hash(TEMPLATE) != template_hash(other)


def test_a_rolled_out_deployment_reports_complete_rollout_conditions():
    d = deployment()
    rs = created_replicaset(
        d,
        of(reconcile_deployment(d, [], [], NOW, 1.0), Create)[0],
        status={"replicas": 2, "readyReplicas": 2, "availableReplicas": 2},
    )
    [status] = of(reconcile_deployment(d, [rs], [], NOW, 1.0), UpdateStatus)
    s = status.obj["status"]
    assert (
        s["observedGeneration"],
        s["replicas"],
        s["updatedReplicas"],
        s["readyReplicas"],
        s["availableReplicas"],
    ) == (1, 2, 2, 2, 2)
    conds = {c["type"]: c for c in s["conditions"]}
    assert conds["Available"]["status"] == "True"
    assert conds["Progressing"]["reason"] == "NewReplicaSetAvailable"
    assert conds["Progressing"]["message"] == f'ReplicaSet "{rs["metadata"]["name"]}" has successfully progressed.'


def test_replica_failure_on_the_replicaset_is_copied_to_the_deployment():
    d = deployment()
    message = 'pods "web-abc-" is forbidden: unable to validate against any security context constraint: [x]'
    rs = created_replicaset(
        d,
        of(reconcile_deployment(d, [], [], NOW, 1.0), Create)[0],
        status={
            "replicas": 0,
            "conditions": [{"type": "ReplicaFailure", "status": "True", "reason": "FailedCreate", "message": message}],
        },
    )
    [status] = of(reconcile_deployment(d, [rs], [], NOW, 1.0), UpdateStatus)
    failure = next(c for c in status.obj["status"]["conditions"] if c["type"] == "ReplicaFailure")
    assert (failure["status"], failure["reason"], failure["message"]) == ("True", "FailedCreate", message)
    available = next(c for c in status.obj["status"]["conditions"] if c["type"] == "Available")
    assert available["status"] == "False"


def test_progress_deadline_is_reported_once_it_passes():
    d = deployment()
    rs = created_replicaset(d, of(reconcile_deployment(d, [], [], NOW, 1.0), Create)[0], status={"replicas": 0})
    d["status"] = {
        "observedGeneration": 1,
        "conditions": [
            {
                "type": "Progressing",
                "status": "True",
                "reason": "ReplicaSetUpdated",
                "message": "x",
                "lastUpdateTime": rfc3339(NOW - 700),
                "lastTransitionTime": rfc3339(NOW - 700),
            }
        ],
    }
    [status] = of(reconcile_deployment(d, [rs], [], NOW, 1.0), UpdateStatus)
    progressing = next(c for c in status.obj["status"]["conditions"] if c["type"] == "Progressing")
    assert (progressing["status"], progressing["reason"]) == ("False", "ProgressDeadlineExceeded")
    # before the deadline (scaled), it wakes up at the deadline instead
    d["status"]["conditions"][0]["lastUpdateTime"] = rfc3339(NOW - 10)
    [wake] = of(reconcile_deployment(d, [rs], [], NOW, 0.5), Wake)
    assert wake.at == NOW - 10 + 600 * 0.5


def test_rolling_update_surges_the_new_replicaset_then_shrinks_the_old_one():
    d = deployment(replicas=4)
    old = created_replicaset(
        d,
        of(reconcile_deployment(d, [], [], NOW, 1.0), Create)[0],
        status={"replicas": 4, "readyReplicas": 4, "availableReplicas": 4},
    )
    old["spec"]["replicas"] = 4
    changed = copy.deepcopy(TEMPLATE)
    changed["spec"]["containers"][0]["image"] = "nginx:1.28"
    d2 = deployment(replicas=4, template=changed, generation=2)
    [create] = of(reconcile_deployment(d2, [old], [], NOW, 1.0), Create)
    assert create.obj["spec"]["replicas"] == 1  # maxSurge 25% of 4
    assert create.obj["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "2"
    new = created_replicaset(
        d2, create, uid="rs2", created=NOW, status={"replicas": 1, "readyReplicas": 1, "availableReplicas": 1}
    )
    updates = [a for a in of(reconcile_deployment(d2, [old, new], [], NOW, 1.0), Update)]
    # all 5 pods available, minimum 3: the old set may lose two
    assert [(u.obj["metadata"]["name"], u.obj["spec"]["replicas"]) for u in updates] == [(old["metadata"]["name"], 2)]


def test_recreate_scales_old_to_zero_before_the_new_one_grows():
    strategy = {"type": "Recreate"}
    d = deployment(strategy=strategy)
    old = created_replicaset(
        d, of(reconcile_deployment(d, [], [], NOW, 1.0), Create)[0], status={"replicas": 2, "availableReplicas": 2}
    )
    changed = copy.deepcopy(TEMPLATE)
    changed["spec"]["containers"][0]["image"] = "nginx:1.28"
    d2 = deployment(template=changed, strategy=strategy, generation=2)
    [create] = of(reconcile_deployment(d2, [old], [], NOW, 1.0), Create)
    assert create.obj["spec"]["replicas"] == 0


def replicaset(replicas=2):
    return {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {"name": "web-5d8f", "namespace": "lab", "uid": "rs-uid", "generation": 3},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}}, "template": TEMPLATE},
    }


def test_replicaset_creates_missing_pods_with_generate_name_and_owner():
    rs = replicaset(3)
    actions = reconcile_replicaset(rs, [pod("web-5d8f-aaaaa", rs)], NOW, 1.0)
    creates = of(actions, Create)
    assert len(creates) == 2
    p = creates[0].obj
    assert p["metadata"]["generateName"] == "web-5d8f-"
    assert p["metadata"]["ownerReferences"][0] == {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "name": "web-5d8f",
        "uid": "rs-uid",
        "controller": True,
        "blockOwnerDeletion": True,
    }
    assert creates[0].on_success({"metadata": {"name": "web-5d8f-x1"}})[0].message == "Created pod: web-5d8f-x1"
    [status] = of(actions, UpdateStatus)
    assert status.obj["status"]["replicas"] == 1 and status.obj["status"]["observedGeneration"] == 3


def test_a_refused_pod_becomes_a_failedcreate_event_a_condition_and_a_retry():
    rs = replicaset(1)
    [create] = of(reconcile_replicaset(rs, [], NOW, 0.1), Create)
    message = 'pods "web-5d8f-" is forbidden: unable to validate against any security context constraint: [a]'
    follow = create.on_error(ApiError({"kind": "Status", "code": 403, "reason": "Forbidden", "message": message}))
    [event] = of(follow, Event)
    assert (event.reason, event.type, event.component) == ("FailedCreate", "Warning", "replicaset-controller")
    assert event.message == f"Error creating: {message}"
    [status] = of(follow, UpdateStatus)
    [cond] = status.obj["status"]["conditions"]
    assert (cond["type"], cond["status"], cond["reason"], cond["message"]) == (
        "ReplicaFailure",
        "True",
        "FailedCreate",
        message,
    )
    [wake] = of(follow, Wake)
    assert NOW < wake.at <= NOW + 60 * 0.1
    assert isinstance(follow[-1], Abort)


def test_replica_failure_clears_once_no_pod_is_missing():
    rs = replicaset(1)
    rs["status"] = {
        "replicas": 0,
        "conditions": [{"type": "ReplicaFailure", "status": "True", "reason": "FailedCreate", "message": "m"}],
    }
    [status] = of(reconcile_replicaset(rs, [pod("web-5d8f-a", rs)], NOW, 1.0), UpdateStatus)
    assert "conditions" not in status.obj["status"]
    assert status.obj["status"]["readyReplicas"] == 1


def test_scale_down_removes_not_ready_pods_first():
    rs = replicaset(1)
    ready, unready = pod("web-5d8f-ready", rs), pod("web-5d8f-slow", rs, ready=False)
    deletes = of(reconcile_replicaset(rs, [ready, unready], NOW, 1.0), Delete)
    assert [d.name for d in deletes] == ["web-5d8f-slow"]


def statefulset(replicas=2, templates=True):
    s = {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": "db", "namespace": "lab", "uid": "sts-uid", "generation": 1},
        "spec": {
            "replicas": replicas,
            "serviceName": "db-headless",
            "selector": {"matchLabels": {"app": "db"}},
            "template": {
                "metadata": {"labels": {"app": "db"}},
                "spec": {"containers": [{"name": "db", "image": "redis:7"}]},
            },
        },
    }
    if templates:
        s["spec"]["volumeClaimTemplates"] = [
            {
                "metadata": {"name": "data"},
                "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "5Gi"}}},
            }
        ]
    return s


def test_statefulset_creates_the_claim_then_pod_0_only():
    sts = statefulset()
    creates = of(reconcile_statefulset(sts, [], [], NOW, 1.0), Create)
    assert [(c.resource, c.obj["metadata"]["name"]) for c in creates] == [
        ("persistentvolumeclaims", "data-db-0"),
        ("pods", "db-0"),
    ]
    claim, p = creates[0].obj, creates[1].obj
    assert claim["metadata"]["labels"] == {"app": "db"}
    assert {"name": "data", "persistentVolumeClaim": {"claimName": "data-db-0"}} in p["spec"]["volumes"]
    assert p["spec"]["hostname"] == "db-0" and p["spec"]["subdomain"] == "db-headless"
    assert p["metadata"]["labels"]["statefulset.kubernetes.io/pod-name"] == "db-0"
    assert creates[1].on_success(p)[0].message == "create Pod db-0 in StatefulSet db successful"
    assert creates[0].on_success(claim)[0].message == "create Claim data-db-0 Pod db-0 in StatefulSet db success"


def test_statefulset_waits_for_ready_before_the_next_ordinal():
    sts = statefulset(templates=False)
    assert not of(
        reconcile_statefulset(sts, [pod("db-0", sts, ready=False, labels={"app": "db"})], [], NOW, 1.0), Create
    )
    [create] = of(reconcile_statefulset(sts, [pod("db-0", sts, labels={"app": "db"})], [], NOW, 1.0), Create)
    assert create.obj["metadata"]["name"] == "db-1"


def test_statefulset_failedcreate_message_names_the_pod():
    sts = statefulset(templates=False)
    [create] = of(reconcile_statefulset(sts, [], [], NOW, 1.0), Create)
    message = 'pods "db-0" is forbidden: unable to validate against any security context constraint: [x]'
    [event] = of(create.on_error(ApiError({"code": 403, "message": message})), Event)
    assert event.message == f"create Pod db-0 in StatefulSet db failed error: {message}"
    assert event.type == "Warning" and event.reason == "FailedCreate"


def test_statefulset_status_counts_ready_pods_and_observed_generation():
    sts = statefulset(templates=False)
    sts["metadata"]["generation"] = 4
    first = of(reconcile_statefulset(sts, [], [], NOW, 1.0), Create)[0].obj
    pods = []
    for i in range(2):
        p = pod(
            f"db-{i}",
            sts,
            labels=dict(first["metadata"]["labels"], **{"statefulset.kubernetes.io/pod-name": f"db-{i}"}),
        )
        pods.append(p)
    [status] = of(reconcile_statefulset(sts, pods, [], NOW, 1.0), UpdateStatus)
    s = status.obj["status"]
    assert (s["observedGeneration"], s["replicas"], s["readyReplicas"], s["updatedReplicas"]) == (4, 2, 2, 2)
    assert s["currentRevision"] == s["updateRevision"]


def test_statefulset_scales_down_from_the_highest_ordinal():
    sts = statefulset(replicas=1, templates=False)
    pods = [pod(f"db-{i}", sts, labels={"app": "db"}) for i in range(3)]
    deletes = of(reconcile_statefulset(sts, pods, [], NOW, 1.0), Delete)
    assert [d.name for d in deletes] == ["db-2"]


def _stale_pods(sts, n, ready):
    """n pods made from the StatefulSet's template, then the template changes (a new revision)."""
    from clearml_lab.practice.controllers.statefulset import new_pod, update_revision

    old = update_revision(sts)
    pods = []
    for i in range(n):
        p = pod(f"db-{i}", sts, ready=ready(i), labels=new_pod(sts, i, old)["metadata"]["labels"])
        pods.append(p)
    sts["status"] = {"currentRevision": old, "updateRevision": old}
    sts["spec"]["template"]["spec"]["containers"][0]["image"] = "redis:8"
    return pods


def test_statefulset_rolling_update_replaces_the_highest_stale_ordinal_first():
    sts = statefulset(replicas=3, templates=False)
    pods = _stale_pods(sts, 3, ready=lambda i: True)
    assert [d.name for d in of(reconcile_statefulset(sts, pods, [], NOW, 1.0), Delete)] == ["db-2"]


def test_ordered_ready_statefulset_is_blocked_by_a_pod_that_never_became_ready():
    sts = statefulset(replicas=1, templates=False)
    pods = _stale_pods(sts, 1, ready=lambda i: False)
    actions = reconcile_statefulset(sts, pods, [], NOW, 1.0)
    assert not of(actions, Delete) and not of(actions, Create)
    [status] = of(actions, UpdateStatus)
    assert status.obj["status"]["currentRevision"] != status.obj["status"]["updateRevision"]


def test_parallel_statefulset_replaces_a_stale_pod_that_never_became_ready():
    sts = statefulset(replicas=1, templates=False)
    sts["spec"]["podManagementPolicy"] = "Parallel"
    pods = _stale_pods(sts, 1, ready=lambda i: False)
    assert [d.name for d in of(reconcile_statefulset(sts, pods, [], NOW, 1.0), Delete)] == ["db-0"]


def test_statefulset_keeps_a_controller_revision_per_template_and_renumbers_a_rollback():
    from clearml_lab.practice.controllers.statefulset import update_revision

    sts = statefulset(templates=False)
    [cr] = [
        c.obj
        for c in of(reconcile_statefulset(sts, [], [], NOW, 1.0, revisions=[]), Create)
        if c.resource == "controllerrevisions.apps"
    ]
    assert cr["metadata"]["name"] == update_revision(sts) and cr["revision"] == 1
    assert cr["metadata"]["ownerReferences"][0]["uid"] == "sts-uid" and cr["metadata"]["labels"]["app"] == "db"
    assert cr["data"]["spec"]["template"]["$patch"] == "replace"
    first = dict(cr, metadata=dict(cr["metadata"], uid="cr1"))
    sts["spec"]["template"]["spec"]["containers"][0]["image"] = "redis:8"
    [cr2] = [
        c.obj
        for c in of(reconcile_statefulset(sts, [], [], NOW, 1.0, revisions=[first]), Create)
        if c.resource == "controllerrevisions.apps"
    ]
    assert cr2["revision"] == 2
    second = dict(cr2, metadata=dict(cr2["metadata"], uid="cr2"))
    sts["spec"]["template"]["spec"]["containers"][0]["image"] = "redis:7"  # back to the first template
    actions = reconcile_statefulset(sts, [], [], NOW, 1.0, revisions=[first, second])
    [renumbered] = [u.obj for u in of(actions, Update) if u.resource == "controllerrevisions.apps"]
    assert renumbered["metadata"]["name"] == first["metadata"]["name"] and renumbered["revision"] == 3


def job(completions=1, backoff=1):
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "migrate", "namespace": "lab", "uid": "job-uid"},
        "spec": {
            "completions": completions,
            "backoffLimit": backoff,
            "template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "m", "image": "busybox"}]}},
        },
    }


def test_job_runs_a_pod_and_completes_when_it_succeeds():
    j = job()
    [create] = of(reconcile_job(j, [], NOW), Create)
    assert create.obj["metadata"]["labels"]["batch.kubernetes.io/job-name"] == "migrate"
    done = pod("migrate-x", j, ready=False, phase="Succeeded")
    actions = reconcile_job(j, [done], NOW)
    [status] = of(actions, UpdateStatus)
    complete = next(c for c in status.obj["status"]["conditions"] if c["type"] == "Complete")
    assert complete["status"] == "True" and status.obj["status"]["succeeded"] == 1
    assert not of(actions, Create)


def test_job_fails_after_its_backoff_limit():
    j = job(backoff=1)
    failed = [pod(f"migrate-{i}", j, ready=False, phase="Failed") for i in range(2)]
    [status] = of(reconcile_job(j, failed, NOW), UpdateStatus)
    cond = next(c for c in status.obj["status"]["conditions"] if c["type"] == "Failed")
    assert (cond["reason"], cond["message"]) == ("BackoffLimitExceeded", "Job has reached the specified backoff limit")


def test_a_complete_rollout_stays_complete_when_a_pod_later_fails():
    d = deployment()
    rs = created_replicaset(
        d,
        of(reconcile_deployment(d, [], [], NOW, 1.0), Create)[0],
        status={"replicas": 2, "readyReplicas": 2, "availableReplicas": 2},
    )
    [done] = of(reconcile_deployment(d, [rs], [], NOW, 1.0), UpdateStatus)
    rs["status"] = {"replicas": 2, "readyReplicas": 1, "availableReplicas": 1}
    [later] = of(reconcile_deployment(done.obj, [rs], [], NOW + 5, 1.0), UpdateStatus)
    progressing = next(c for c in later.obj["status"]["conditions"] if c["type"] == "Progressing")
    assert progressing["reason"] == "NewReplicaSetAvailable"
    assert later.obj["status"]["availableReplicas"] == 1
