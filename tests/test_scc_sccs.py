"""The default SCCs as data, their order and points, and what changes with the OpenShift release."""

import pytest

from clearml_lab.errors import UsageError
from clearml_lab.scc import default_scc_rbac, load_sccs, points, sort_sccs
from clearml_lab.scc.sccs import kubernetes_version, normalize_version

TEN = [
    "anyuid",
    "restricted-v2",
    "restricted",
    "nonroot-v2",
    "nonroot",
    "hostmount-anyuid",
    "hostnetwork-v2",
    "hostnetwork",
    "hostaccess",
    "privileged",
]


def names(sccs):
    return [s["metadata"]["name"] for s in sccs]


def test_the_ten_defaults_sort_in_admission_order():
    assert names(load_sccs("4.11")) == TEN


def test_later_releases_insert_their_sccs_where_the_facts_say():
    assert names(load_sccs("4.16")) == TEN
    assert names(load_sccs("4.17")) == TEN[:6] + ["hostmount-anyuid-v2"] + TEN[6:]
    assert names(load_sccs("4.20")) == [
        "anyuid",
        "restricted-v2",
        "restricted-v3",
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


@pytest.mark.parametrize(
    "name, expected",
    [
        ("anyuid", 154950),
        ("restricted-v2", 132010),
        ("restricted", 134800),
        ("nonroot-v2", 142010),
        ("nonroot", 144800),
        ("hostmount-anyuid", 254950),
        ("hostmount-anyuid-v2", 284950),
        ("hostnetwork-v2", 1332010),
        ("hostnetwork", 1334800),
        ("hostaccess", 1434800),
        ("privileged", 3089000),
    ],
)
def test_restrictiveness_points_match_the_recomputed_table(name, expected):
    scc = next(s for s in load_sccs("4.19") if s["metadata"]["name"] == name)
    assert points(scc) == expected


def test_order_is_priority_then_points_then_name():
    base = {"volumes": ["secret"], "runAsUser": {"type": "RunAsAny"}, "seLinuxContext": {"type": "RunAsAny"}}
    a = dict(base, metadata={"name": "b-loose"})
    b = dict(base, metadata={"name": "a-loose"})
    tight = dict(base, metadata={"name": "z-tight"}, runAsUser={"type": "MustRunAsRange"})
    first = dict(base, metadata={"name": "zz-first"}, priority=5, allowPrivilegedContainer=True)
    assert names(sort_sccs([a, b, tight, first])) == ["zz-first", "z-tight", "a-loose", "b-loose"]


def test_capability_points_are_clamped():
    many = {"metadata": {"name": "x"}, "defaultAddCapabilities": ["A"] * 40}
    assert points(many) == 9999
    drops = {"metadata": {"name": "y"}, "requiredDropCapabilities": ["A"] * 200}
    assert points(drops) == 0


@pytest.mark.parametrize(
    "version, present, absent",
    [
        ("4.11", set(), {"ephemeral", "csi", "image"}),
        ("4.12", {"ephemeral"}, {"csi", "image"}),
        ("4.13", {"ephemeral", "csi"}, {"image"}),
        ("4.21", {"ephemeral", "csi", "image"}, set()),
    ],
)
def test_volume_types_follow_the_release(version, present, absent):
    restricted_v2 = next(s for s in load_sccs(version) if s["metadata"]["name"] == "restricted-v2")
    volumes = set(restricted_v2["volumes"])
    assert present <= volumes and not (absent & volumes)
    assert {"configMap", "downwardAPI", "emptyDir", "persistentVolumeClaim", "projected", "secret"} <= volumes


def test_defaults_carry_their_fields():
    by_name = {s["metadata"]["name"]: s for s in load_sccs("4.19")}
    assert by_name["anyuid"]["priority"] == 10 and by_name["anyuid"]["groups"] == ["system:cluster-admins"]
    assert by_name["restricted"]["groups"] == []
    assert by_name["privileged"]["volumes"] == ["*"]
    assert "system:admin" in by_name["privileged"]["users"]
    assert by_name["restricted-v2"]["seccompProfiles"] == ["runtime/default"]
    assert by_name["hostaccess"]["allowHostPID"] and "hostPath" in by_name["hostaccess"]["volumes"]


def test_load_returns_independent_copies():
    first = load_sccs("4.19")
    first[0]["priority"] = 99
    assert load_sccs("4.19")[0]["priority"] == 10


def test_rbac_has_a_use_role_per_scc_and_the_authenticated_bindings():
    objects = default_scc_rbac("4.19")
    roles = {o["metadata"]["name"]: o for o in objects if o["kind"] == "ClusterRole"}
    assert set(roles) == {f"system:openshift:scc:{n}" for n in TEN + ["hostmount-anyuid-v2"]}
    rule = roles["system:openshift:scc:anyuid"]["rules"][0]
    assert rule == {
        "apiGroups": ["security.openshift.io"],
        "resources": ["securitycontextconstraints"],
        "resourceNames": ["anyuid"],
        "verbs": ["use"],
    }
    bindings = [o for o in objects if o["kind"] == "ClusterRoleBinding"]
    assert [b["metadata"]["name"] for b in bindings] == ["system:openshift:scc:restricted-v2"]
    assert bindings[0]["subjects"][0]["name"] == "system:authenticated"
    v420 = [o["metadata"]["name"] for o in default_scc_rbac("4.20") if o["kind"] == "ClusterRoleBinding"]
    assert v420 == ["system:openshift:scc:restricted-v2", "system:openshift:scc:restricted-v3"]


def test_versions_are_normalised_and_unknown_ones_refused():
    assert normalize_version("4.19.7") == "4.19"
    assert normalize_version(None) == "4.21"
    assert kubernetes_version("4.15") == "1.28"
    with pytest.raises(UsageError, match="4.9"):
        load_sccs("4.9")
