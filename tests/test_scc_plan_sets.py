"""Plans with more than one SCC per service account, proved with the admission engine.

Every claim about a plan is checked here with `admit` itself and an image check written for these tests (not the
planner's): the planned set makes every pod of the account work, and no smaller set, nor a set of the same size
that is less privileged (compared most privileged member first, by restrictiveness points), does.
"""

import json
from itertools import combinations
from pathlib import Path

import pytest
import yaml
from fixtures.scc.builders import NAMESPACE, can_use, image_works, namespace

from clearml_lab.scc import admit, load_sccs, plan_grants, points, service_account_subject
from clearml_lab.scc.manifests import grant_role_bindings, workload_of
from clearml_lab.scc.planner import Grant

FIXTURES = Path(__file__).parent / "fixtures" / "scc"
VERSION = "4.19"
ROOTFUL = {"repositories": ["example/rootful"], "image_user": 0, "needs_uid": 0, "why": "it writes under /etc"}
REQUIREMENTS = {"images": [ROOTFUL]}
SCC_POINTS = {s["metadata"]["name"]: points(s) for s in load_sccs(VERSION)}


# -- an independent judge ------------------------------------------------------------------------------------------


def judge(objects, grants, requirements, ns=NAMESPACE):
    """{workload: (SCC it is admitted by or None, works)} with these (scc, sa) grants, through admit."""
    sccs = load_sccs(VERSION)
    use = can_use(VERSION, grants) if ns == NAMESPACE else None
    out = {}
    for obj in objects:
        workload = workload_of(obj)
        if workload is None:
            continue
        subject = service_account_subject(ns, workload.service_account)
        result = admit(
            workload.pod,
            namespace(ns),
            sccs,
            sa_subject=subject,
            user=workload.creator,
            can_use=use,
            openshift_version=VERSION,
        )
        out[workload.label] = (result.scc, result.allowed and image_works(result.pod, requirements))
    return out


def all_work(objects, sa, sccs, requirements):
    verdicts = judge(objects, [(scc, sa) for scc in sccs], requirements)
    return all(ok for _scc, ok in verdicts.values())


def set_key(sccs):
    return len(sccs), tuple(sorted((SCC_POINTS[s] for s in sccs), reverse=True))


def assert_least(objects, sa, planned, requirements):
    """The planned set works, and every set before it (fewer grants, or as many and less privileged) does not."""
    assert all_work(objects, sa, planned, requirements), judge(objects, [(s, sa) for s in planned], requirements)
    better = [
        set(c)
        for size in range(len(planned) + 1)
        for c in combinations(SCC_POINTS, size)
        if set_key(c) < set_key(planned)
    ]
    assert better, "the proof must look at some alternative"
    working = [sorted(c) for c in better if all_work(objects, sa, c, requirements)]
    assert working == [], f"{sorted(planned)} is not the least: {working} also work"


# -- manifests built here ----------------------------------------------------------------------------------------


def deployment(name, sa, *, image="registry.example/app:1", sc=None, init=None, kind="Deployment", **spec):
    container = {"name": "main", "image": image}
    if sc is not None:
        container["securityContext"] = sc
    pod_spec = {"serviceAccountName": sa, "containers": [container], **spec}
    if init is not None:
        pod_spec["initContainers"] = [init]
    return {"apiVersion": "apps/v1", "kind": kind, "metadata": {"name": name}, "spec": {"template": {"spec": pod_spec}}}


ROOT_POD = deployment("api", "shared", image="example/rootful:1")
PRIVILEGED_INIT_POD = deployment(
    "search",
    "shared",
    kind="StatefulSet",
    sc={"runAsUser": 1000, "runAsNonRoot": True},
    init={"name": "sysctl", "image": "registry.example/app:1", "securityContext": {"runAsUser": 0, "privileged": True}},
    securityContext={"fsGroup": 1000},
)


def plan_of(objects, requirements=REQUIREMENTS):
    return plan_grants(objects, namespace=NAMESPACE, image_requirements=requirements)


def by_label(plan):
    return {w.label: w for w in plan.workloads}


# -- the chart the issue names -----------------------------------------------------------------------------------


def test_chart_7_3_1_with_no_values_plans_anyuid_and_privileged_for_default():
    objects = yaml.safe_load_all((FIXTURES / "chart-7.3.1-no-values.yaml").read_text())
    objects = [o for o in objects if o]
    plan = plan_grants(objects, namespace=NAMESPACE)
    default = next(sa for sa in plan.service_accounts if sa.name == "default")
    assert set(default.sccs) == {"anyuid", "privileged"} and not default.unsolvable
    assert "oc adm policy add-scc-to-user anyuid -z default" in plan.commands()
    assert "oc adm policy add-scc-to-user privileged -z default" in plan.commands()
    # per pod, where OpenShift's order puts it: anyuid (priority 10) takes the ClearML pods, Elasticsearch's
    # privileged init container falls through to privileged
    planned = {w.label: w.scc_planned for w in plan.workloads if w.service_account == "default"}
    assert planned == {
        "Deployment/clearml-apiserver": "anyuid",
        "Deployment/clearml-fileserver": "anyuid",
        "Deployment/clearml-webserver": "anyuid",
        "StatefulSet/clearml-elastic-master": "privileged",
    }
    assert all(w.works_planned for w in plan.workloads)
    mine = [o for o in objects if (w := workload_of(o)) is not None and w.service_account == "default"]
    assert_least(mine, "default", default.sccs, packaged_requirements())
    assert "Deployment/clearml-apiserver: admitted by anyuid" not in plan.render()  # said as a sentence, below
    assert (
        "Deployment/clearml-apiserver (service account default): fails (admitted by restricted-v2); "
        "with the plan: admitted by anyuid" in plan.render()
    )
    assert "  default: needs anyuid and privileged (" in plan.render()


def packaged_requirements():
    from clearml_lab.scc.images import load_image_requirements

    return {
        "images": [
            {"repositories": list(r.repositories), "image_user": r.image_user, "needs_uid": r.needs_uid}
            for r in load_image_requirements()
        ]
    }


@pytest.mark.parametrize(
    "name",
    ["chart-7.3.1-no-values.yaml", "chart-7.3.1-seed.yaml", "chart-7.14.4-seed.yaml", "chart-7.14.4-hardened.yaml"],
)
def test_every_accounts_set_in_the_chart_fixtures_is_the_least_that_works(name):
    objects = [o for o in yaml.safe_load_all((FIXTURES / name).read_text()) if o]
    plan = plan_grants(objects, namespace=NAMESPACE)
    requirements = packaged_requirements()
    assert plan.grants(), name
    for sa in plan.service_accounts:
        mine = [o for o in objects if (w := workload_of(o)) is not None and w.service_account == sa.name]
        if sa.sccs:
            assert_least(mine, sa.name, sa.sccs, requirements)
        else:
            assert sa.works_now and all_work(mine, sa.name, [], requirements)


# -- sets of SCCs ---------------------------------------------------------------------------------------------------


def test_a_root_pod_and_a_privileged_init_pod_on_one_account_get_anyuid_and_privileged():
    objects = [ROOT_POD, PRIVILEGED_INIT_POD]
    plan = plan_of(objects)
    assert plan.grants() == [Grant("anyuid", "shared"), Grant("privileged", "shared")]
    sa = plan.service_accounts[0]
    assert sa.planned_for == {"anyuid": ["Deployment/api"], "privileged": ["StatefulSet/search"]}
    assert {w.label: w.scc_planned for w in plan.workloads} == {
        "Deployment/api": "anyuid",
        "StatefulSet/search": "privileged",
    }
    assert judge(objects, [("anyuid", "shared"), ("privileged", "shared")], REQUIREMENTS) == {
        "Deployment/api": ("anyuid", True),
        "StatefulSet/search": ("privileged", True),
    }
    assert_least(objects, "shared", sa.sccs, REQUIREMENTS)
    # each grant carries the reason of the pods it is for, not of its siblings
    reasons = {g.scc: g.reason for g in plan.grants()}
    assert "must run as UID 0" in reasons["anyuid"] and "privileged" not in reasons["anyuid"]
    assert "runs container sysctl privileged" in reasons["privileged"]


def test_fewest_grants_come_before_less_privileged_ones():
    # nonroot-v2 + hostnetwork-v2 would each give one pod exactly what it needs, but one grant of privileged does too
    objects = [deployment("fixed", "shared", sc={"runAsUser": 1001}), deployment("net", "shared", hostNetwork=True)]
    plan = plan_of(objects)
    assert [g.scc for g in plan.grants()] == ["privileged"]
    assert all_work(objects, "shared", ["nonroot-v2", "hostnetwork-v2"], REQUIREMENTS)
    assert_least(objects, "shared", ["privileged"], REQUIREMENTS)
    # both pods land on privileged, although each alone would need less: said, with the way out
    assert {w.label: w.least_scc for w in plan.workloads} == {
        "Deployment/fixed": "nonroot-v2",
        "Deployment/net": "hostnetwork-v2",
    }
    assert any(
        "privileged, granted to shared" in c and "Deployment/fixed" in c and "service account of its own" in c
        for c in plan.captures
    )


def test_a_grant_made_for_one_pod_capturing_a_sibling_is_said_with_a_service_account_per_component():
    worker = deployment("worker", "shared")  # restricted-v2 admits it and it works there
    objects = [ROOT_POD, worker]
    plan = plan_of(objects)
    assert plan.grants() == [Grant("anyuid", "shared")]
    assert judge(objects, [], REQUIREMENTS)["Deployment/worker"] == ("restricted-v2", True)
    assert judge(objects, [("anyuid", "shared")], REQUIREMENTS)["Deployment/worker"][0] == "anyuid"
    workloads = by_label(plan)
    assert workloads["Deployment/worker"].scc_now == "restricted-v2"
    assert workloads["Deployment/worker"].scc_planned == "anyuid"
    captured = workloads["Deployment/worker"].captured
    assert captured == (
        "anyuid, granted to shared for Deployment/api, also takes Deployment/worker, which would "
        "work under restricted-v2 (priority 10 puts anyuid before restricted-v2): give "
        "Deployment/worker a service account of its own, so each component gets only what it needs."
    )
    assert f"Note: {captured}" in plan.render()
    assert workloads["Deployment/api"].captured == ""
    # on separate accounts nothing is captured
    apart = plan_of([ROOT_POD, deployment("worker", "worker")])
    assert apart.captures == [] and apart.grants() == [Grant("anyuid", "shared")]


def test_no_set_that_works_for_every_pod_is_said_and_the_most_pods_are_served():
    # `ranged` works only with the project's first UID; anyuid, the only SCC under which `api` works, takes it too
    ranged = {"repositories": ["example/ranged"], "image_user": 0, "needs_uid": 1000680000, "why": "it expects it"}
    requirements = {"images": [ROOTFUL, ranged]}
    objects = [ROOT_POD, deployment("ranged", "shared", image="example/ranged:1")]
    assert not any(
        all_work(objects, "shared", c, requirements) for size in range(3) for c in combinations(SCC_POINTS, size)
    )
    plan = plan_of(objects, requirements)
    assert any(
        n.startswith("no set of default SCCs makes every workload of shared work together")
        and "service accounts of their own" in n
        for n in plan.notes
    )
    # one pod works either way; the plan then grants the fewest: nothing
    assert plan.grants() == [] and sum(w.works_planned for w in plan.workloads) == 1


def test_a_pod_nothing_can_help_does_not_stop_the_plan_for_its_siblings():
    hopeless = deployment("w", "shared", image="example/rootful:1", sc={"runAsUser": 1001})
    plan = plan_of([hopeless, deployment("db", "shared", sc={"runAsUser": 1001})])
    assert plan.grants() == [Grant("nonroot-v2", "shared")] and plan.service_accounts[0].unsolvable
    # the reason is what the image needs, under the least privileged SCC that would admit the pod
    assert (
        "no default SCC makes Deployment/w work: w runs example/rootful, which must run as UID 0 because it "
        "writes under /etc; under nonroot-v2 it would run as UID 1001." in plan.warnings
    )
    assert "no plan makes it work" in plan.render()


def test_images_without_requirements_are_named_not_assumed():
    tool = "quay.io/team/tool:2"
    objects = [ROOT_POD, deployment("a", "a", image=tool), deployment("b", "b", image=tool)]
    plan = plan_of(objects)
    assert plan.unknown_images == ["quay.io/team/tool:2"]
    assert (
        "no requirements known for image quay.io/team/tool:2: planned from its security context alone "
        "(Deployment/a, Deployment/b)."
    ) in plan.notes
    assert not any("example/rootful" in n for n in plan.notes)
    # the packaged data knows the ClearML chart's images: none of them is unknown
    chart = plan_grants((FIXTURES / "chart-7.14.4-seed.yaml").read_text(), namespace="clearml")
    assert chart.unknown_images == []


def test_existing_grants_take_part_in_the_set():
    objects = [ROOT_POD, PRIVILEGED_INIT_POD]
    plan = plan_grants(
        objects, namespace=NAMESPACE, image_requirements=REQUIREMENTS, existing_grants=[("privileged", "shared")]
    )
    assert plan.grants() == [Grant("anyuid", "shared")]
    assert {w.label: w.scc_planned for w in plan.workloads} == {
        "Deployment/api": "anyuid",
        "StatefulSet/search": "privileged",
    }


# -- reviews of a list of grants, judged together --------------------------------------------------------------------


def test_the_seed_recipe_is_judged_as_a_set_on_chart_7_3_1_with_no_values():
    plan = plan_grants((FIXTURES / "chart-7.3.1-no-values.yaml").read_text(), namespace="clearml")
    seed = plan.review_set(
        [
            ("anyuid", "clearml-mongodb"),
            ("anyuid", "clearml-redis"),
            ("anyuid", "default"),
            ("privileged", "clearml-elastic"),
        ]
    )
    verdicts = {(r.grant.scc, r.grant.service_account): r for r in seed.reviews}
    assert verdicts[("anyuid", "default")].verdict == "needed"
    assert set(verdicts[("anyuid", "default")].workloads) == {
        "Deployment/clearml-apiserver",
        "Deployment/clearml-fileserver",
        "Deployment/clearml-webserver",
    }
    assert verdicts[("privileged", "default")].verdict == "missing"
    assert "for StatefulSet/clearml-elastic-master" in verdicts[("privileged", "default")].reason
    assert verdicts[("privileged", "clearml-elastic")].verdict == "wrong"
    landed = {each.workload: (each.scc, each.works) for each in seed.landings}
    assert landed["StatefulSet/clearml-elastic-master"] == (None, False)
    assert landed["Deployment/clearml-mongodb"] == ("anyuid", True)
    assert not seed.works
    assert seed.summary.startswith(
        "Together these grants make 5 of 6 workloads work; still failing: StatefulSet/clearml-elastic-master (rejected)"
    )


def test_a_grant_is_judged_with_the_others_of_its_list():
    db = deployment("db", "db", sc={"runAsUser": 1001})
    plan = plan_of([db])
    assert plan.grants() == [Grant("nonroot-v2", "db")]
    alone = {r.grant.scc: r.verdict for r in plan.review([("anyuid", "db")])}
    assert alone["anyuid"] == "more than needed"
    # with nonroot-v2 in the same list, anyuid (priority 10) still takes the pod: the list works, anyuid adds nothing
    together = {r.grant.scc: r for r in plan.review([("anyuid", "db"), ("nonroot-v2", "db")])}
    assert judge([db], [("anyuid", "db"), ("nonroot-v2", "db")], REQUIREMENTS)["Deployment/db"] == ("anyuid", True)
    assert together["anyuid"].verdict == "unneeded"
    assert (
        together["anyuid"].reason == "The workloads of db work without it; it only moves Deployment/db from "
        "nonroot-v2 to anyuid."
    )
    assert together["nonroot-v2"].verdict == "needed" and together["nonroot-v2"].workloads == ()


def test_a_grant_that_breaks_a_sibling_in_its_list_is_wrong():
    ranged = {"repositories": ["example/ranged"], "image_user": 0, "needs_uid": 1000680000, "why": "it expects it"}
    plan = plan_of([deployment("ranged", "shared", image="example/ranged:1")], {"images": [ranged]})
    review = plan.review_set([("anyuid", "shared")])
    assert review.reviews[0].verdict == "wrong"
    assert review.reviews[0].reason.startswith(
        "With the list's grants, Deployment/ranged would be admitted by anyuid and still fail: "
    )
    assert plan.grants() == [] and review.landings[0].scc == "anyuid" and not review.works


# -- the grants as RoleBindings ----------------------------------------------------------------------------------


def test_role_bindings_one_per_grant_with_reason_and_the_labs_record():
    plan = plan_of([ROOT_POD, PRIVILEGED_INIT_POD, deployment("db", "db", sc={"runAsUser": 1001})])
    bindings = grant_role_bindings(plan.grants(), "team")
    assert [(b["metadata"]["name"], b["roleRef"]["name"], b["subjects"]) for b in bindings] == [
        (
            "system:openshift:scc:anyuid:shared",
            "system:openshift:scc:anyuid",
            [{"kind": "ServiceAccount", "name": "shared", "namespace": "team"}],
        ),
        (
            "system:openshift:scc:nonroot-v2:db",
            "system:openshift:scc:nonroot-v2",
            [{"kind": "ServiceAccount", "name": "db", "namespace": "team"}],
        ),
        (
            "system:openshift:scc:privileged:shared",
            "system:openshift:scc:privileged",
            [{"kind": "ServiceAccount", "name": "shared", "namespace": "team"}],
        ),
    ]
    reasons = {(g.scc, g.service_account): g.reason for g in plan.grants()}
    for binding in bindings:
        assert binding["kind"] == "RoleBinding" and binding["metadata"]["namespace"] == "team"
        assert binding["roleRef"]["apiGroup"] == "rbac.authorization.k8s.io"
        assert binding["roleRef"]["kind"] == "ClusterRole"
        scc = binding["roleRef"]["name"].rsplit(":", 1)[1]
        reason = reasons[(scc, binding["subjects"][0]["name"])]
        assert reason and binding["metadata"]["annotations"]["clearml-lab.io/reason"] == reason
        assert binding["metadata"]["labels"] == {"clearml-lab.io/scc-grant": scc}
    assert grant_role_bindings(plan.grants(), "team") == bindings


class FakeKube:
    """Answers the list calls of clearml_lab.oc and the scc step from a fixed set of objects."""

    def __init__(self, rolebindings):
        self.rolebindings = rolebindings

    def list(self, resource, namespace=None):
        items = {"rolebindings": self.rolebindings}.get(resource, [])
        return {"items": [i for i in items if namespace in (None, i["metadata"].get("namespace"))]}


def test_the_labs_undo_and_the_planner_see_the_role_bindings_as_grants():
    from clearml_lab.oc import RECORD_ANNOTATION, lab_grants
    from clearml_lab.steps.scc import existing_grants

    plan = plan_of([ROOT_POD, PRIVILEGED_INIT_POD])
    bindings = grant_role_bindings(plan.grants(), "team")
    assert all(RECORD_ANNOTATION in b["metadata"]["annotations"] for b in bindings)
    assert json.loads(bindings[0]["metadata"]["annotations"][RECORD_ANNOTATION]) == ["ServiceAccount:team:shared"]
    kube = FakeKube(bindings)
    assert existing_grants(kube, "team") == [("anyuid", "shared"), ("privileged", "shared")]
    # the SCC is read from the role, whatever the binding is called
    assert lab_grants(kube, "team") == [("anyuid", "shared", True), ("privileged", "shared", True)]
    # planned again with them in place, nothing is left to grant
    again = plan_grants(
        [ROOT_POD, PRIVILEGED_INIT_POD],
        namespace="team",
        image_requirements=REQUIREMENTS,
        existing_grants=existing_grants(kube, "team"),
    )
    assert again.grants() == [] and all(w.works_now for w in again.workloads)


def test_role_bindings_need_a_namespace():
    from clearml_lab.errors import UsageError

    with pytest.raises(UsageError, match="RoleBindings need a namespace"):
        grant_role_bindings([Grant("anyuid", "a")], "")


@pytest.mark.helm
@pytest.mark.helm
def test_the_practice_chart_7_3_1_rendered_with_no_values_plans_anyuid_and_privileged_for_default():
    from clearml_lab import chart

    objects = chart.render("7.3.1", profile=None, kube_version="1.27")
    plan = plan_grants(objects, namespace="clearml")
    default = next(sa for sa in plan.service_accounts if sa.name == "default")
    assert set(default.sccs) == {"anyuid", "privileged"}
    assert {
        "oc adm policy add-scc-to-user anyuid -z default",
        "oc adm policy add-scc-to-user privileged -z default",
    } <= set(plan.commands())
    assert all(w.works_planned for w in plan.workloads)
    assert {w.scc_planned for w in plan.workloads if w.service_account == "default"} == {"anyuid", "privileged"}
    assert plan.unknown_images == []
