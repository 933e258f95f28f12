"""Whatever admission admits on create, re-validating the mutated pod under the chosen SCC on update passes
without any change: the defaults the engine fills in are exactly what its own validation accepts. Whatever it
refuses, privileged would have admitted: a refusal is the grants' doing."""

from fixtures.scc.builders import CONTROLLER, NAMESPACE, can_use, clone, namespace
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clearml_lab.scc import admit, load_sccs, service_account_subject

VERSIONS = ["4.11", "4.19", "4.20"]
SCC_NAMES = [
    "anyuid",
    "restricted",
    "nonroot-v2",
    "nonroot",
    "hostmount-anyuid",
    "hostnetwork-v2",
    "hostnetwork",
    "hostaccess",
    "privileged",
]
UIDS = st.sampled_from([None, 0, 1000, 1001, 1000680000, 1000689999, 1000690000])
maybe_bool = st.sampled_from([None, True, False])


def _drop_none(d):
    return {k: v for k, v in d.items() if v is not None}


capabilities = st.one_of(
    st.none(),
    st.builds(
        lambda add, drop: _drop_none({"add": add or None, "drop": drop or None}),
        st.lists(st.sampled_from(["NET_BIND_SERVICE", "NET_ADMIN", "SYS_TIME"]), unique=True, max_size=2),
        st.lists(st.sampled_from(["ALL", "MKNOD", "KILL", "NET_RAW"]), unique=True, max_size=3),
    ),
)
seccomp = st.sampled_from([None, {"type": "RuntimeDefault"}, {"type": "Unconfined"}])

container_sc = st.one_of(
    st.none(),
    st.builds(
        lambda uid, non_root, priv, caps, esc, ro, sc: _drop_none(
            {
                "runAsUser": uid,
                "runAsNonRoot": non_root,
                "privileged": priv,
                "capabilities": caps,
                "allowPrivilegeEscalation": esc,
                "readOnlyRootFilesystem": ro,
                "seccompProfile": sc,
            }
        ),
        UIDS,
        maybe_bool,
        maybe_bool,
        capabilities,
        maybe_bool,
        maybe_bool,
        seccomp,
    ),
)
pod_sc = st.one_of(
    st.none(),
    st.builds(
        lambda uid, non_root, fs, groups, level, sc: _drop_none(
            {
                "runAsUser": uid,
                "runAsNonRoot": non_root,
                "fsGroup": fs,
                "supplementalGroups": groups,
                "seLinuxOptions": level,
                "seccompProfile": sc,
            }
        ),
        UIDS,
        maybe_bool,
        st.sampled_from([None, 1000, 1000680000]),
        st.sampled_from([None, [1000680000], [5]]),
        st.sampled_from([None, {"level": "s0:c26,c15"}, {"level": "s0:c1,c2"}]),
        seccomp,
    ),
)
volume = st.sampled_from(
    [
        {"emptyDir": {}},
        {"configMap": {"name": "x"}},
        {"persistentVolumeClaim": {"claimName": "d"}},
        {"hostPath": {"path": "/var"}},
        {"csi": {"driver": "d"}},
        {"nfs": {"server": "s", "path": "/"}},
    ]
)


@st.composite
def pods(draw):
    containers = []
    for index in range(draw(st.integers(1, 2))):
        c = {"name": f"c{index}", "image": "registry.example/app:1"}
        sc = draw(container_sc)
        if sc is not None:
            c["securityContext"] = sc
        if draw(st.booleans()) and index == 0:
            c["ports"] = [{"containerPort": 80, "hostPort": draw(st.sampled_from([0, 8080]))}]
        containers.append(c)
    spec = {"serviceAccountName": "app", "containers": containers}
    psc = draw(pod_sc)
    if psc is not None:
        spec["securityContext"] = psc
    for flag in ("hostNetwork", "hostPID", "hostIPC"):
        if draw(st.booleans()) and draw(st.booleans()):
            spec[flag] = True
    vols = draw(st.lists(volume, max_size=2))
    if vols:
        spec["volumes"] = [dict(v, name=f"v{i}") for i, v in enumerate(vols)]
    if draw(st.booleans()):
        spec["initContainers"] = [
            {
                "name": "init",
                "image": "registry.example/init:1",
                **({"securityContext": draw(container_sc)} if draw(st.booleans()) else {}),
            }
        ]
        if spec["initContainers"][0].get("securityContext") is None:
            spec["initContainers"][0].pop("securityContext", None)
    meta = {"generateName": "w-"}
    annotations = draw(
        st.sampled_from(
            [
                None,
                {"seccomp.security.alpha.kubernetes.io/pod": "docker/default"},
                {"container.seccomp.security.alpha.kubernetes.io/c0": "runtime/default"},
                {"openshift.io/required-scc": "nonroot-v2"},
            ]
        )
    )
    if annotations:
        meta["annotations"] = annotations
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    pod=pods(), granted=st.lists(st.sampled_from(SCC_NAMES), unique=True, max_size=3), version=st.sampled_from(VERSIONS)
)
def test_what_create_admits_passes_update_validation_unchanged(pod, granted, version):
    sccs = load_sccs(version)
    grants = [(name, "app") for name in granted]
    sa = service_account_subject(NAMESPACE, "app")
    original = clone(pod)
    created = admit(
        pod,
        namespace(),
        sccs,
        sa_subject=sa,
        user=CONTROLLER,
        can_use=can_use(version, grants),
        openshift_version=version,
    )
    assert pod == original  # admission works on a copy
    if not created.allowed:
        assert created.message.startswith('pods "w-" is forbidden: ')
        # A refusal must come from what was granted, not from an engine that refuses everything: privileged admits
        # any pod these strategies make, unless the pod requires another SCC by annotation.
        if "openshift.io/required-scc" not in (pod["metadata"].get("annotations") or {}):
            with_privileged = admit(
                pod,
                namespace(),
                sccs,
                sa_subject=sa,
                user=CONTROLLER,
                can_use=can_use(version, [*grants, ("privileged", "app")]),
                openshift_version=version,
            )
            assert with_privileged.allowed, with_privileged.message
        return
    # on update the previously chosen SCC (the pod's openshift.io/scc) is tried first, without mutation
    again = admit(
        created.pod,
        namespace(),
        sccs,
        sa_subject=sa,
        user=CONTROLLER,
        can_use=can_use(version, grants),
        operation="UPDATE",
        openshift_version=version,
    )
    assert again.allowed, again.message
    assert again.scc == created.scc
    assert again.pod == created.pod
