"""For service accounts whose pods want different things, the planner's set of SCCs is the first in its order
(fewest grants, then least privileged, most privileged member first) under which admission — `admit` itself, with
an image check written here — lets every pod work; and each pod lands where the plan says."""

from itertools import combinations

from fixtures.scc.builders import NAMESPACE, can_use, image_works, namespace
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clearml_lab.scc import admit, load_sccs, plan_grants, points, service_account_subject
from clearml_lab.scc.manifests import workload_of

REQUIREMENTS = {
    "images": [
        {"repositories": ["example/rootful"], "image_user": 0, "needs_uid": 0, "why": "it writes under /etc"},
        {"repositories": ["example/ranged"], "image_user": 0, "needs_uid": 1000680000, "why": "it expects that UID"},
    ]
}
TRAITS = {
    "root image": lambda spec, c: c.update(image="example/rootful:1"),
    "ranged image": lambda spec, c: c.update(image="example/ranged:1"),
    "uid 1001": lambda spec, c: (
        c.setdefault("securityContext", {}).update(runAsUser=1001),
        spec.setdefault("securityContext", {}).update(fsGroup=1001),
    ),
    "hardened": lambda spec, c: c.setdefault("securityContext", {}).update(
        allowPrivilegeEscalation=False, capabilities={"drop": ["ALL"]}, seccompProfile={"type": "RuntimeDefault"}
    ),
    "privileged init": lambda spec, c: spec.setdefault("initContainers", []).append(
        {"name": "init", "image": "registry.example/init:1", "securityContext": {"privileged": True, "runAsUser": 0}}
    ),
    "host network": lambda spec, c: spec.update(hostNetwork=True),
    "host path": lambda spec, c: spec.setdefault("volumes", []).append({"name": "h", "hostPath": {"path": "/var"}}),
    "nfs": lambda spec, c: spec.setdefault("volumes", []).append({"name": "n", "nfs": {"server": "s", "path": "/"}}),
    "NET_ADMIN": lambda spec, c: c.setdefault("securityContext", {}).update(capabilities={"add": ["NET_ADMIN"]}),
    "run as root": lambda spec, c: c.setdefault("securityContext", {}).update(runAsUser=0),
}


def deployment(index, traits):
    container = {"name": "main", "image": "registry.example/app:1"}
    spec = {"serviceAccountName": "app", "containers": [container]}
    for trait in traits:
        TRAITS[trait](spec, container)
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": f"w{index}"},
        "spec": {"template": {"spec": spec}},
    }


accounts = st.lists(st.lists(st.sampled_from(sorted(TRAITS)), max_size=2, unique=True), min_size=1, max_size=3)


def landings(objects, sccs, version):
    """[(SCC or None, works)] per object with `sccs` granted to the account, through admit."""
    all_sccs, use = load_sccs(version), can_use(version, [(s, "app") for s in sccs])
    out = []
    for obj in objects:
        workload = workload_of(obj)
        result = admit(
            workload.pod,
            namespace(),
            all_sccs,
            sa_subject=service_account_subject(NAMESPACE, "app"),
            user=workload.creator,
            can_use=use,
            openshift_version=version,
        )
        out.append((result.scc, result.allowed and image_works(result.pod, REQUIREMENTS)))
    return out


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(traits=accounts, version=st.sampled_from(["4.11", "4.19", "4.20"]))
def test_the_planned_set_is_the_least_that_lets_every_pod_work(traits, version):
    objects = [deployment(i, t) for i, t in enumerate(traits)]
    plan = plan_grants(objects, namespace=NAMESPACE, image_requirements=REQUIREMENTS, openshift_version=version)
    names = [s["metadata"]["name"] for s in load_sccs(version)]
    weight = {s["metadata"]["name"]: points(s) for s in load_sccs(version)}

    def key(sccs):
        return len(sccs), tuple(sorted((weight[s] for s in sccs), reverse=True))

    # which pods can work at all: under no grant, or under some single SCC granted
    alone = [landings(objects, [], version)] + [landings(objects, [s], version) for s in names]
    solvable = [i for i in range(len(objects)) if any(option[i][1] for option in alone)]
    planned = list(plan.service_accounts[0].sccs)
    got = landings(objects, planned, version)
    # each pod lands where the plan says, as admit decides
    assert [w.scc_planned for w in plan.workloads] == [scc for scc, _ in got]
    assert [w.works_planned for w in plan.workloads] == [ok for _, ok in got]
    assert not [w for w in plan.warnings if "not as planned" in w]  # the planner's model agrees with admit
    assert plan.service_accounts[0].unsolvable == (len(solvable) < len(objects))

    def serves(sccs):
        result = landings(objects, sccs, version)
        return all(result[i][1] for i in solvable)

    if serves(planned):
        earlier = [c for size in range(len(planned) + 1) for c in combinations(names, size) if key(c) < key(planned)]
        assert not [c for c in earlier if serves(c)], (traits, planned)
    else:  # pods that each can work, but not together: said, and no small set serves them all
        assert any("work together" in w for w in plan.warnings), (traits, planned, plan.warnings)
        assert not [c for size in range(3) for c in combinations(names, size) if serves(c)]
