"""Admission of one pod: usability, defaulting, every validation rule (admit and reject), and the messages."""

import pytest
from fixtures.scc.builders import CONTROLLER, NAMESPACE, can_use, clone, container, namespace, pod

from clearml_lab.scc import Subject, admit, load_sccs, service_account_subject

RANGE = "[1000680000, 1000689999]"
NOT_USABLE = 'provider "{}": Forbidden: not usable by user or serviceaccount'
PREFIX = 'pods "{}" is forbidden: unable to validate against any security context constraint: '


def run(p, *, version="4.19", grants=(), user=CONTROLLER, sccs=None, ns=None, **kw):
    return admit(
        p,
        ns or namespace(),
        sccs if sccs is not None else load_sccs(version),
        sa_subject=service_account_subject(NAMESPACE, p["spec"].get("serviceAccountName", "default")),
        user=user,
        can_use=can_use(version, grants),
        openshift_version=version,
        **kw,
    )


def scc_named(name, version="4.19"):
    return next(s for s in load_sccs(version) if s["metadata"]["name"] == name)


def run_only(p, scc, **kw):
    """Admit with every default SCC present but only `scc` usable (granted to the service account, no user)."""
    return run(p, grants=[(scc, p["spec"]["serviceAccountName"])], user=None, **kw)


# ---- usability --------------------------------------------------------------------------------------------------


def test_service_account_identity_is_not_authenticated_so_restricted_v2_comes_through_the_user():
    assert "system:authenticated" not in service_account_subject("ns", "sa").groups
    alone = run(pod(), user=None)
    assert not alone.allowed
    assert NOT_USABLE.format("restricted-v2") in alone.message
    via_user = run(pod())
    assert via_user.allowed and via_user.scc == "restricted-v2" and via_user.subject_type == "user"


def test_a_grant_to_the_service_account_wins_by_priority_and_records_the_subject_type():
    result = run(pod(), grants=[("anyuid", "app")])
    assert result.scc == "anyuid" and result.subject_type == "serviceaccount"


def test_scc_users_and_groups_fields_grant_use_without_rbac():
    admin = Subject("system:admin", ())
    assert run(pod(), user=admin).scc == "privileged"
    cluster_admin = Subject("alice", ("system:cluster-admins", "system:authenticated"))
    assert run(pod(), user=cluster_admin).scc == "anyuid"


def test_rbac_grant_in_another_namespace_does_not_apply():
    from clearml_lab.scc import can_use_from_rbac, default_scc_rbac, scc_grant_binding

    objects = default_scc_rbac("4.19") + [scc_grant_binding("anyuid", "elsewhere", ["app"], explicit_namespace=True)]
    result = admit(
        pod(),
        namespace(),
        load_sccs(),
        sa_subject=service_account_subject(NAMESPACE, "app"),
        user=CONTROLLER,
        can_use=can_use_from_rbac(objects),
    )
    assert result.scc == "restricted-v2"
    objects[-1] = scc_grant_binding("anyuid", NAMESPACE, ["app"], explicit_namespace=True)
    result = admit(
        pod(),
        namespace(),
        load_sccs(),
        sa_subject=service_account_subject(NAMESPACE, "app"),
        user=CONTROLLER,
        can_use=can_use_from_rbac(objects),
    )
    assert result.scc == "anyuid"


# ---- defaulting -------------------------------------------------------------------------------------------------


def test_restricted_v2_defaults_match_openshift():
    result = run(pod())
    spec = result.pod["spec"]
    assert spec["securityContext"] == {
        "fsGroup": 1000680000,
        "seLinuxOptions": {"level": "s0:c26,c15"},
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    assert spec["containers"][0]["securityContext"] == {
        "runAsUser": 1000680000,
        "runAsNonRoot": True,
        "capabilities": {"drop": ["ALL"]},
        "allowPrivilegeEscalation": False,
    }
    annotations = result.pod["metadata"]["annotations"]
    assert annotations["openshift.io/scc"] == "restricted-v2"
    assert annotations["seccomp.security.alpha.kubernetes.io/pod"] == "runtime/default"
    assert "security.openshift.io/validated-scc-subject-type" not in annotations


def test_subject_type_annotation_from_4_20():
    result = run(pod(), version="4.20")
    assert result.pod["metadata"]["annotations"]["security.openshift.io/validated-scc-subject-type"] == "user"


def test_anyuid_defaults_no_uid_but_drops_mknod_and_sets_the_level():
    result = run(pod(), grants=[("anyuid", "app")])
    csc = result.pod["spec"]["containers"][0]["securityContext"]
    assert csc == {"capabilities": {"drop": ["MKNOD"]}}
    assert result.pod["spec"]["securityContext"] == {"seLinuxOptions": {"level": "s0:c26,c15"}}


def test_fs_group_is_the_first_block_of_the_supplemental_groups_annotation():
    ns = namespace(**{"openshift.io/sa.scc.supplemental-groups": "5000/100,7000/10"})
    assert run(pod(), ns=ns).pod["spec"]["securityContext"]["fsGroup"] == 5000
    ns = namespace(**{"openshift.io/sa.scc.supplemental-groups": None, "openshift.io/sa.scc.uid-range": "2000-2999"})
    result = run(pod(), ns=ns)
    assert result.pod["spec"]["securityContext"]["fsGroup"] == 2000
    assert result.pod["spec"]["containers"][0]["securityContext"]["runAsUser"] == 2000


def test_hostnetwork_generates_supplemental_groups():
    result = run_only(pod(hostNetwork=True), "hostnetwork-v2")
    assert result.allowed and result.pod["spec"]["securityContext"]["supplementalGroups"] == [1000680000]


def test_nonroot_v2_marks_run_as_non_root_without_choosing_a_uid():
    csc = run_only(pod(), "nonroot-v2").pod["spec"]["containers"][0]["securityContext"]
    assert csc["runAsNonRoot"] is True and "runAsUser" not in csc


def test_pod_level_uid_is_inherited_not_copied_and_a_positive_uid_implies_non_root():
    result = run_only(pod(pod_sc={"runAsUser": 1001}), "anyuid")
    assert result.pod["spec"]["containers"][0]["securityContext"] == {
        "runAsNonRoot": True,
        "capabilities": {"drop": ["MKNOD"]},
    }


def test_own_capabilities_merge_with_required_drops_sorted():
    p = pod(containers=[container(sc={"capabilities": {"add": ["NET_BIND_SERVICE"], "drop": ["NET_RAW"]}})])
    caps = run(p).pod["spec"]["containers"][0]["securityContext"]["capabilities"]
    assert caps == {"add": ["NET_BIND_SERVICE"], "drop": ["ALL", "NET_RAW"]}


def test_first_match_wins_on_create_even_with_mutation():
    result = run(pod(), grants=[("nonroot-v2", "app")])
    assert result.scc == "restricted-v2"  # restricted-v2 sorts first and admits after mutating


def test_input_pod_is_not_mutated():
    p = pod()
    before = clone(p)
    run(p)
    assert p == before


# ---- validation rules: admitted and rejected --------------------------------------------------------------------


def entries(result):
    """The validation entries, without the "not usable" ones and the restricted hint (tested on their own)."""
    return [str(e) for e in result.errors if e.rule not in ("not_usable", "restricted_hint")]


@pytest.mark.parametrize("uid, ok", [(1000680000, True), (1000689999, True), (1000690000, False), (0, False)])
def test_run_as_user_range(uid, ok):
    result = run_only(pod(containers=[container(sc={"runAsUser": uid})]), "restricted-v2")
    assert result.allowed is ok
    if not ok:
        assert entries(result) == [
            f"provider restricted-v2: .containers[0].runAsUser: Invalid value: {uid}: must be in the ranges: {RANGE}"
        ]


def test_run_as_user_required_in_update_mode():
    p = pod(
        containers=[
            container(sc={"runAsNonRoot": True, "allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}})
        ],
        pod_sc={
            "fsGroup": 1000680000,
            "seLinuxOptions": {"level": "s0:c26,c15"},
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        annotations={"seccomp.security.alpha.kubernetes.io/pod": "runtime/default"},
    )
    result = run_only(p, "restricted-v2", operation="UPDATE")
    assert not result.allowed


@pytest.mark.parametrize(
    "sc, message",
    [
        ({"runAsUser": 0}, ".containers[0].runAsUser: Invalid value: 0: running with the root UID is forbidden"),
        ({"runAsNonRoot": False}, ".containers[0].runAsNonRoot: Invalid value: false: must be true"),
    ],
)
def test_non_root_rejections(sc, message):
    result = run_only(pod(containers=[container(sc=sc)]), "nonroot-v2")
    assert entries(result) == ["provider nonroot-v2: " + message]


def test_non_root_admits_fixed_non_root_uid_and_unset_uid():
    assert run_only(pod(containers=[container(sc={"runAsUser": 1001})]), "nonroot-v2").allowed
    assert run_only(pod(), "nonroot").allowed


@pytest.mark.parametrize(
    "pod_sc, message",
    [
        (
            {"fsGroup": 1001},
            ".spec.securityContext.fsGroup: Invalid value: []int64{1001}: 1001 is not an allowed group",
        ),
        (
            {"fsGroup": 1000680001},
            ".spec.securityContext.fsGroup: Invalid value: []int64{1000680001}: 1000680001 is not an allowed group",
        ),
    ],
)
def test_fs_group_must_be_the_preallocated_group(pod_sc, message):
    result = run_only(pod(pod_sc=pod_sc), "restricted-v2")
    assert entries(result) == ["provider restricted-v2: " + message]
    assert run_only(pod(pod_sc={"fsGroup": 1000680000}), "restricted-v2").allowed
    assert run_only(pod(pod_sc=pod_sc), "nonroot-v2").allowed  # RunAsAny


def test_supplemental_groups_under_must_run_as():
    ok = pod(pod_sc={"supplementalGroups": [1000685000]}, hostNetwork=True)
    assert run_only(ok, "hostnetwork-v2").allowed
    bad = pod(pod_sc={"supplementalGroups": [5, 1000680000]}, hostNetwork=True)
    assert entries(run_only(bad, "hostnetwork-v2")) == [
        "provider hostnetwork-v2: .spec.securityContext.supplementalGroups: Invalid value: []int64{5, 1000680000}: "
        "5 is not an allowed group"
    ]
    assert run_only(pod(pod_sc={"supplementalGroups": [5]}), "restricted-v2").allowed  # RunAsAny


def test_selinux_level_must_match_in_any_category_order():
    assert run_only(pod(pod_sc={"seLinuxOptions": {"level": "s0:c15,c26"}}), "restricted-v2").allowed
    result = run_only(pod(pod_sc={"seLinuxOptions": {"level": "s0:c1,c2"}}), "restricted-v2")
    assert entries(result) == [
        'provider restricted-v2: .spec.securityContext.seLinuxOptions.level: Invalid value: "s0:c1,c2": must be s0:c26,c15',
        'provider restricted-v2: .containers[0].seLinuxOptions.level: Invalid value: "s0:c1,c2": must be s0:c26,c15',
    ]
    assert run_only(pod(pod_sc={"seLinuxOptions": {"level": "s0:c1,c2"}}), "privileged").allowed


def test_privileged_containers():
    p = pod(containers=[container(sc={"privileged": True})])
    assert entries(run_only(p, "anyuid")) == [
        "provider anyuid: .containers[0].privileged: Invalid value: true: Privileged containers are not allowed"
    ]
    assert run_only(p, "privileged").allowed


def test_capabilities_add_and_required_drop():
    p = pod(containers=[container(sc={"capabilities": {"add": ["NET_ADMIN"]}})])
    assert entries(run_only(p, "anyuid")) == [
        'provider anyuid: .containers[0].capabilities.add: Invalid value: "NET_ADMIN": capability may not be added'
    ]
    assert run_only(
        pod(containers=[container(sc={"capabilities": {"add": ["NET_BIND_SERVICE"]}})]), "restricted-v2"
    ).allowed
    assert run_only(p, "privileged").allowed
    # without mutation (update) a missing required drop is reported with the container's drop list
    kept = pod(containers=[container(sc={"capabilities": {"drop": ["KILL"]}})])
    update = run_only(kept, "anyuid", operation="UPDATE")
    assert not update.allowed and entries(update) == []


def test_required_value_forms_when_validating_as_is():
    from clearml_lab.scc.provider import Allocation, Provider

    allocation = Allocation.from_namespace(namespace())
    ranged = Provider(scc_named("restricted-v2"), allocation)
    assert [str(e) for e in ranged._check_run_as_user(".containers[0]", None, None, "c")] == [
        ".containers[0].runAsUser: Required value"
    ]
    nonroot = Provider(scc_named("nonroot-v2"), allocation)
    assert [str(e) for e in nonroot._check_run_as_user(".containers[0]", None, None, "c")] == [
        ".containers[0].runAsNonRoot: Required value: must be true"
    ]
    assert [str(e) for e in ranged._check_selinux(".spec.securityContext.seLinuxOptions", None, None)] == [
        ".spec.securityContext.seLinuxOptions: Required value"
    ]
    assert [str(e) for e in ranged._check_groups(".spec.securityContext.fsGroup", ranged.fs_group, [], "fsGroup")] == [
        ".spec.securityContext.fsGroup: Invalid value: []int64{}: unable to validate empty groups against required ranges"
    ]


def test_required_drop_message_when_validating_as_is():
    from clearml_lab.scc.provider import Allocation, Provider

    provider = Provider(scc_named("anyuid"), Allocation.from_namespace(namespace()))
    errors = provider._check_capabilities(".containers[0].capabilities", {"drop": ["KILL"]}, "c")
    assert [str(e) for e in errors] == [
        '.containers[0].capabilities.drop: Invalid value: []core.Capability{"KILL"}: MKNOD is required to be dropped '
        "but was not found"
    ]
    errors = provider._check_capabilities(".containers[0].capabilities", None, "c")
    assert [str(e) for e in errors] == [
        ".containers[0].capabilities: Invalid value: null: required capabilities are not set on the securityContext"
    ]


@pytest.mark.parametrize(
    "flag, label, allowed_by",
    [
        ("hostNetwork", "Host network", "hostnetwork-v2"),
        ("hostPID", "Host PID", "hostaccess"),
        ("hostIPC", "Host IPC", "hostaccess"),
    ],
)
def test_host_namespaces(flag, label, allowed_by):
    result = run_only(pod(**{flag: True}), "restricted-v2")
    assert (
        f"provider restricted-v2: .spec.securityContext.{flag}: Invalid value: true: {label} is not allowed to be used"
        in entries(result)
    )
    assert run_only(pod(**{flag: True}), allowed_by).allowed


def test_host_ports_are_reported_below_every_container_path():
    p = pod(containers=[container(ports=[{"containerPort": 80, "hostPort": 8080}])])
    assert entries(run_only(p, "anyuid")) == [
        "provider anyuid: .containers[0].containers[0].hostPort: Invalid value: 8080: Host ports are not allowed to be used"
    ]
    assert run_only(p, "hostnetwork-v2").allowed
    two = pod(containers=[container("a"), container("b", ports=[{"containerPort": 80, "hostPort": 81}])])
    assert entries(run_only(two, "anyuid")) == [
        "provider anyuid: .containers[0].containers[1].hostPort: Invalid value: 81: Host ports are not allowed to be used",
        "provider anyuid: .containers[1].containers[1].hostPort: Invalid value: 81: Host ports are not allowed to be used",
    ]


@pytest.mark.parametrize(
    "volume, allowed_by",
    [
        ({"hostPath": {"path": "/var"}}, "hostaccess"),
        ({"nfs": {"server": "x", "path": "/"}}, "hostmount-anyuid"),
        ({"iscsi": {}}, "privileged"),
    ],
)
def test_volume_types_without_provider_prefix(volume, allowed_by):
    kind = next(iter(volume))
    p = pod(volumes=[{"name": "ok", "emptyDir": {}}, dict(volume, name="v")])
    result = run_only(p, "restricted-v2")
    assert entries(result) == [f'spec.volumes[1]: Invalid value: "{kind}": {kind} volumes are not allowed to be used']
    assert run_only(p, allowed_by).allowed


def test_csi_volumes_depend_on_the_release():
    p = pod(volumes=[{"name": "v", "csi": {"driver": "d"}}])
    assert run(p, version="4.13").allowed
    assert (
        'spec.volumes[0]: Invalid value: "csi": csi volumes are not allowed to be used'
        in run(p, version="4.12").message
    )


def test_privilege_escalation():
    p = pod(containers=[container(sc={"allowPrivilegeEscalation": True})])
    assert (
        "provider restricted-v2: .containers[0].allowPrivilegeEscalation: Invalid value: true: Allowing privilege "
        "escalation for containers is not allowed" in entries(run_only(p, "restricted-v2"))
    )
    assert run_only(p, "restricted").allowed


def test_seccomp_profiles():
    unconfined = pod(pod_sc={"seccompProfile": {"type": "Unconfined"}})
    assert entries(run_only(unconfined, "restricted-v2")) == [
        "pod.metadata.annotations[seccomp.security.alpha.kubernetes.io/pod]: Forbidden: unconfined is not an allowed "
        "seccomp profile. Valid values are [runtime/default]",
        "pod.metadata.annotations[container.seccomp.security.alpha.kubernetes.io/c]: Forbidden: unconfined is not an "
        "allowed seccomp profile. Valid values are [runtime/default]",
    ]
    runtime = pod(containers=[container(sc={"seccompProfile": {"type": "RuntimeDefault"}})])
    assert entries(run_only(runtime, "anyuid")) == [
        "pod.metadata.annotations[container.seccomp.security.alpha.kubernetes.io/c]: Forbidden: seccomp may not be set"
    ]
    assert run_only(runtime, "restricted-v2").allowed
    assert run_only(
        pod(annotations={"seccomp.security.alpha.kubernetes.io/pod": "docker/default"}), "restricted-v2"
    ).allowed
    assert run_only(unconfined, "privileged").allowed


def test_read_only_root_filesystem_when_the_scc_requires_it():
    strict = dict(scc_named("restricted-v2"), readOnlyRootFilesystem=True)
    strict["metadata"] = {"name": "strict"}
    strict["users"] = ["system:serviceaccount:lab:app"]  # a custom SCC has no system:openshift:scc role to bind
    p = pod(containers=[container(sc={"readOnlyRootFilesystem": False})])
    result = run(p, sccs=load_sccs() + [strict], user=None)
    assert (
        "provider strict: .containers[0].readOnlyRootFilesystem: Invalid value: false: ReadOnlyRootFilesystem must "
        "be set to true" in result.message
    )
    defaulted = run(pod(), sccs=load_sccs() + [strict], user=None)
    assert defaulted.pod["spec"]["containers"][0]["securityContext"]["readOnlyRootFilesystem"] is True


def test_seccomp_annotations_become_fields():
    annotated = pod(
        annotations={
            "seccomp.security.alpha.kubernetes.io/pod": "docker/default",
            "container.seccomp.security.alpha.kubernetes.io/c": "runtime/default",
        }
    )
    result = run_only(annotated, "restricted-v2")
    assert result.pod["spec"]["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert result.pod["spec"]["containers"][0]["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    field_only = run_only(pod(pod_sc={"seccompProfile": {"type": "RuntimeDefault"}}), "restricted-v2")
    assert field_only.pod["metadata"]["annotations"]["seccomp.security.alpha.kubernetes.io/pod"] == "runtime/default"


def test_slice_values_print_plainly_from_4_20():
    p = pod(pod_sc={"fsGroup": 2000}, containers=[container(sc={"runAsUser": 1000})])
    assert (
        "provider restricted-v2: .spec.securityContext.fsGroup: Invalid value: []int64{2000}: 2000 is not an "
        "allowed group" in run(p, version="4.19").message
    )
    assert (
        "provider restricted-v2: .spec.securityContext.fsGroup: Invalid value: [2000]: 2000 is not an allowed "
        "group" in run(p, version="4.20").message
    )


def test_sysctls():
    safe = pod(pod_sc={"sysctls": [{"name": "net.ipv4.tcp_syncookies", "value": "1"}]})
    assert run_only(safe, "restricted-v2").allowed
    unsafe = pod(pod_sc={"sysctls": [{"name": "kernel.msgmax", "value": "1"}]})
    assert (
        'pod.spec.securityContext.sysctls[0].name: Forbidden: unsafe sysctl "kernel.msgmax" is not allowed'
        in entries(run_only(unsafe, "restricted-v2"))
    )
    assert run_only(unsafe, "privileged").allowed


def test_host_users_for_user_namespace_sccs():
    pinned = {"openshift.io/required-scc": "restricted-v3"}
    result = run(pod(annotations=pinned), version="4.20")
    assert result.message == PREFIX.format("p") + (
        "provider restricted-v3: .spec.securityContext.hostUsers: Invalid value: null: Host Users must be set to false"
    )
    admitted = run(pod(annotations=pinned, hostUsers=False), version="4.20")
    assert admitted.scc == "restricted-v3" and admitted.subject_type == "user"


def test_init_containers_are_checked_with_their_own_path():
    p = pod(init=[container("init", sc={"runAsUser": 5})])
    assert (
        "provider restricted-v2: .initContainers[0].runAsUser: Invalid value: 5: must be in the ranges: "
        f"{RANGE}" in entries(run_only(p, "restricted-v2"))
    )


def test_windows_pods_are_ignored():
    p = pod(os={"name": "windows"}, containers=[container(sc={"privileged": True})])
    assert run(p, user=None).allowed


# ---- the whole message ------------------------------------------------------------------------------------------


def test_rejection_message_character_for_character():
    p = pod("ocp-example-database-0", pod_sc={"fsGroup": 999}, containers=[container(sc={"runAsUser": 999})])
    result = run(p)
    others = [
        "restricted",
        "nonroot-v2",
        "nonroot",
        "hostmount-anyuid",
        "hostmount-anyuid-v2",
        "hostnetwork-v2",
        "hostnetwork",
        "hostaccess",
        "privileged",
    ]
    expected = (
        PREFIX.format("ocp-example-database-0")
        + "["
        + ", ".join(
            [
                NOT_USABLE.format("anyuid"),
                "provider restricted-v2: .spec.securityContext.fsGroup: Invalid value: []int64{999}: 999 is not an allowed group",
                f"provider restricted-v2: .containers[0].runAsUser: Invalid value: 999: must be in the ranges: {RANGE}",
            ]
            + [NOT_USABLE.format(name) for name in others]
        )
        + "]"
    )
    assert result.message == expected
    assert not result.allowed and result.scc is None


def test_a_4_20_message_with_the_user_namespace_sccs():
    # shape of a real 4.20+ rejection (kubernetes-sigs/kueue issue, 2026), without that cluster's extra SCCs
    p = pod("kueue-sleep-ltm8v", pod_sc={"fsGroup": 2000}, containers=[container(sc={"runAsUser": 1000})])
    ns = namespace(
        **{
            "openshift.io/sa.scc.uid-range": "1000790000/10000",
            "openshift.io/sa.scc.supplemental-groups": "1000790000/10000",
        }
    )
    result = run(p, version="4.20", ns=ns)
    others = [
        "restricted",
        "nested-container",
        "nonroot-v2",
        "nonroot",
        "hostmount-anyuid",
        "hostmount-anyuid-v2",
        "hostnetwork-v2",
        "hostnetwork",
        "hostaccess",
        "privileged",
    ]
    assert (
        result.message
        == PREFIX.format("kueue-sleep-ltm8v")
        + "["
        + ", ".join(
            [
                NOT_USABLE.format("anyuid"),
                "provider restricted-v2: .spec.securityContext.fsGroup: Invalid value: [2000]: 2000 is not an allowed group",
                "provider restricted-v2: .containers[0].runAsUser: Invalid value: 1000: must be in the ranges: "
                "[1000790000, 1000799999]",
                "provider restricted-v3: .spec.securityContext.hostUsers: Invalid value: null: Host Users must be set to false",
            ]
            + [NOT_USABLE.format(name) for name in others]
        )
        + "]"
    )


def test_generate_name_is_the_pod_name_in_the_message():
    result = run(pod(generate_name="web-6f56f884d-", containers=[container(sc={"runAsUser": 1})]))
    assert result.message.startswith('pods "web-6f56f884d-" is forbidden: unable to validate')


VOLUME_ENTRY = 'spec.volumes[0]: Invalid value: "hostPath": hostPath volumes are not allowed to be used'


def test_single_entry_has_no_brackets():
    p = pod(
        volumes=[{"name": "h", "hostPath": {"path": "/"}}], annotations={"openshift.io/required-scc": "restricted-v2"}
    )
    assert run(p).message == PREFIX.format("p") + VOLUME_ENTRY


def test_duplicates_appear_once():
    p = pod(volumes=[{"name": "h", "hostPath": {"path": "/"}}])
    result = run(p, grants=[("nonroot-v2", "app")])
    assert [str(e) for e in result.errors].count(VOLUME_ENTRY) == 2  # restricted-v2 and nonroot-v2 both report it
    assert result.message.count(VOLUME_ENTRY) == 1


def test_restricted_hint_is_appended_when_only_restricted_would_admit():
    p = pod(containers=[container(sc={"allowPrivilegeEscalation": True})])
    result = run(p)
    assert result.message.endswith(
        NOT_USABLE.format("privileged") + ", no access to scc/restricted: Forbidden: the pod fails to validate against "
        "the `restricted-v2` security context constraint, but would validate successfully against the `restricted` "
        "security context constraint]"
    )
    assert "no access to scc/restricted" not in run(pod(containers=[container(sc={"privileged": True})])).message


@pytest.mark.parametrize("missing", ["openshift.io/sa.scc.uid-range", "openshift.io/sa.scc.mcs"])
def test_missing_namespace_annotations(missing):
    result = run(pod(), ns=namespace(**{missing: None}))
    assert (
        result.message == f'pods "p" is forbidden: error fetching namespace "lab": unable to find annotation {missing}'
    )


def test_an_empty_uid_range_breaks_every_scc_that_needs_it():
    result = run(pod(), ns=namespace(**{"openshift.io/sa.scc.uid-range": ""}))
    broken = ["restricted-v2", "restricted", "hostnetwork-v2", "hostnetwork", "hostaccess"]
    assert (
        result.message
        == 'pods "p" is forbidden: ['
        + ", ".join(
            f"unable to find pre-allocated uid annotation for namespace lab while trying to configure SCC {name}: "
            "found annotation openshift.io/sa.scc.uid-range but it was empty"
            for name in broken
        )
        + "]"
    )


def test_a_malformed_group_block_is_reported_per_scc():
    result = run(pod(), ns=namespace(**{"openshift.io/sa.scc.supplemental-groups": "lots"}))
    assert result.message.startswith(
        'pods "p" is forbidden: [unable to find pre-allocated group annotation for namespace lab while trying to '
        'configure SCC restricted-v2: block not in the format "<start>-<end>", '
    )


def test_no_sccs_at_all():
    assert run(pod(), sccs=[]).message == 'pods "p" is forbidden: no SecurityContextConstraints found in cluster'


def test_missing_standard_sccs_are_named():
    sccs = [s for s in load_sccs() if s["metadata"]["name"] not in ("hostaccess", "anyuid")]
    assert run(pod(), sccs=sccs).message == (
        'pods "p" is forbidden: securitycontextconstraints.security.openshift.io cache is missing anyuid, hostaccess'
    )


def test_a_pod_without_name_or_generate_name_is_unknown():
    p = pod(containers=[container(sc={"runAsUser": 1})])
    del p["metadata"]["name"]
    assert run(p).message.startswith('pods "Unknown" is forbidden: ')


# ---- required-scc and updates -----------------------------------------------------------------------------------


def test_required_scc_pins_one_scc_from_4_14():
    p = pod(annotations={"openshift.io/required-scc": "nonroot-v2"})
    pinned = run(p, grants=[("nonroot-v2", "app")])
    assert pinned.scc == "nonroot-v2"
    assert run(p, version="4.13", grants=[("nonroot-v2", "app")]).scc == "restricted-v2"
    denied = run(p)
    assert denied.message == PREFIX.format("p") + NOT_USABLE.format("nonroot-v2")
    unknown = run(pod(annotations={"openshift.io/required-scc": "nope"}))
    assert unknown.message == (
        'pods "p" is forbidden: failed to retrieve the required SCC "nope": '
        'securitycontextconstraints.security.openshift.io "nope" not found'
    )


def test_changing_required_scc_on_update_is_forbidden():
    old = run(pod(annotations={"openshift.io/required-scc": "restricted-v2"})).pod
    new = clone(old)
    new["metadata"]["annotations"]["openshift.io/required-scc"] = "anyuid"
    result = run(new, operation="UPDATE", old_pod=old)
    assert result.message == (
        'pods "p" is forbidden: invalid change of required security context constraint '
        "annotation: openshift.io/required-scc"
    )


def test_update_keeps_the_chosen_scc_and_refuses_mutation():
    created = run(pod(), grants=[("nonroot-v2", "app")]).pod
    again = run(created, operation="UPDATE", grants=[("nonroot-v2", "app")])
    assert again.allowed and again.scc == "restricted-v2" and again.pod == created
    raw = pod()
    refused = run(raw, operation="UPDATE")
    assert not refused.allowed  # every SCC would have to change the pod


def test_update_that_changes_nothing_relevant_is_not_readmitted():
    created = run(pod()).pod
    new = clone(created)
    new["metadata"]["annotations"]["k8s.ovn.org/pod-networks"] = "{}"
    new["metadata"]["ownerReferences"] = [{"kind": "ReplicaSet", "name": "r", "uid": "u", "apiVersion": "apps/v1"}]
    result = run(new, operation="UPDATE", old_pod=created, user=None)
    assert result.allowed and result.scc == "restricted-v2"
    labelled = clone(created)
    labelled["metadata"]["labels"] = {"a": "b"}
    assert not run(labelled, operation="UPDATE", old_pod=created, user=None).allowed  # re-admitted, nothing usable
