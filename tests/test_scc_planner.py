"""The grant planner on both ClearML chart eras and the hardened values, its reasons, reviews and bad input."""

from pathlib import Path

import pytest

from clearml_lab.errors import UsageError
from clearml_lab.scc import Grant, image_repository, load_manifests, plan_grants, seed_recipe_grants

FIXTURES = Path(__file__).parent / "fixtures" / "scc"
SEED = [
    Grant("anyuid", "clearml-mongodb"),
    Grant("anyuid", "clearml-redis"),
    Grant("anyuid", "default"),
    Grant("privileged", "clearml-elastic"),
]


def fixture(name):
    return (FIXTURES / name).read_text()


def plan_of(name, **kw):
    return plan_grants(fixture(name), namespace="clearml", **kw)


def cmd(scc, sa):
    return f"oc adm policy add-scc-to-user {scc} -z {sa}"


def test_seed_era_7_3_grants_anyuid_to_default_and_least_privilege_to_the_rest():
    plan = plan_of("chart-7.3.1-seed.yaml")
    assert plan.commands() == [
        cmd("anyuid", "default"),
        cmd("nonroot-v2", "clearml-mongodb"),
        cmd("nonroot-v2", "clearml-redis"),
        cmd("privileged", "clearml-elastic"),
    ]


def test_today_7_14_names_the_three_clearml_service_accounts():
    plan = plan_of("chart-7.14.4-seed.yaml")
    assert plan.commands() == [
        cmd("anyuid", "clearml-apiserver"),
        cmd("anyuid", "clearml-fileserver"),
        cmd("anyuid", "clearml-webserver"),
        cmd("nonroot-v2", "clearml-mongodb"),
        cmd("nonroot-v2", "clearml-redis"),
        cmd("privileged", "clearml-elastic"),
    ]
    assert all("-z default" not in line for line in plan.commands())


def test_hardened_values_need_nothing_privileged_and_anyuid_only_for_the_three():
    plan = plan_of("chart-7.14.4-hardened.yaml")
    grants = plan.grants()
    assert not any(g.scc == "privileged" for g in grants)
    assert sorted(g.service_account for g in grants if g.scc == "anyuid") == [
        "clearml-apiserver",
        "clearml-fileserver",
        "clearml-webserver",
    ]
    by_sa = {sa.name: sa for sa in plan.service_accounts}
    assert by_sa["clearml-mongodb"].grant is None and by_sa["clearml-mongodb"].works_now
    assert by_sa["clearml-elastic-master"].grant == "nonroot-v2"


def test_reasons_are_plain_sentences_per_failing_field():
    plan = plan_of("chart-7.3.1-seed.yaml")
    mongodb = next(w for w in plan.workloads if w.name == "clearml-mongodb")
    assert "clearml-mongodb asks for UID 1001, outside this project's range 1000680000–1000689999." in mongodb.reasons
    assert (
        "clearml-mongodb asks for fsGroup 1001, but restricted-v2 only allows 1000680000 in this project."
        in mongodb.reasons
    )
    assert mongodb.scc_now is None and 'pods "clearml-mongodb-' in mongodb.message
    elastic = next(w for w in plan.workloads if w.name == "clearml-elastic-master")
    assert "clearml-elastic-master runs container configure-sysctl privileged." in elastic.reasons
    apiserver = next(w for w in plan.workloads if w.name == "clearml-apiserver")
    assert apiserver.scc_now == "restricted-v2" and not apiserver.works_now
    assert any(
        "must run as UID 0" in r and "under restricted-v2 it would run as UID 1000680000" in r
        for r in apiserver.reasons
    )


def test_priority_does_not_make_anyuid_the_answer():
    plan = plan_grants([_deployment("db", "db", sc={"runAsUser": 1001})])
    assert plan.grants() == [Grant("nonroot-v2", "db")]


def test_one_scc_for_all_workloads_of_a_service_account():
    objects = [_deployment("fixed", "shared", sc={"runAsUser": 1001}), _deployment("net", "shared", host_network=True)]
    plan = plan_grants(objects)
    least = {w.name: w.least_scc for w in plan.workloads}
    assert least == {"fixed": "nonroot-v2", "net": "hostnetwork-v2"}
    assert plan.grants() == [Grant("privileged", "shared")]


def test_existing_grants_are_taken_into_account():
    plan = plan_of(
        "chart-7.3.1-seed.yaml", existing_grants=[("anyuid", "clearml-mongodb"), "privileged:clearml-elastic"]
    )
    assert cmd("nonroot-v2", "clearml-mongodb") not in plan.commands()
    assert cmd("privileged", "clearml-elastic") not in plan.commands()
    mongodb = next(w for w in plan.workloads if w.name == "clearml-mongodb")
    assert mongodb.works_now and mongodb.scc_now == "anyuid"
    # anyuid does not admit the 7.14 MongoDB: its container sets a seccomp profile anyuid does not allow
    newer = plan_of("chart-7.14.4-seed.yaml", existing_grants=[("anyuid", "clearml-mongodb")])
    assert cmd("nonroot-v2", "clearml-mongodb") in newer.commands()


def test_unknown_scc_names_are_reported_not_crashed_on():
    plan = plan_of("chart-7.3.1-seed.yaml", existing_grants=[("anyuid-typo", "default")])
    assert any("anyuid-typo" in note for note in plan.notes)
    review = plan.review([("no-such-scc", "default")])
    assert review[0].verdict == "unknown SCC" and "no-such-scc" in review[0].reason


def test_review_of_the_seed_grants_on_7_14_calls_default_wrong():
    verdicts = {(r.grant.scc, r.grant.service_account): r for r in plan_of("chart-7.14.4-seed.yaml").review(SEED)}
    default = verdicts[("anyuid", "default")]
    assert default.verdict == "wrong"
    assert "clearml-apiserver, clearml-fileserver, clearml-webserver" in default.reason
    assert verdicts[("anyuid", "clearml-mongodb")].verdict == "wrong"
    assert "seccomp" in verdicts[("anyuid", "clearml-mongodb")].reason
    assert verdicts[("anyuid", "clearml-redis")].verdict == "more than needed"
    assert verdicts[("privileged", "clearml-elastic")].verdict == "needed"
    assert verdicts[("anyuid", "clearml-apiserver")].verdict == "missing"


def test_review_of_the_seed_grants_on_7_3_and_hardened():
    verdicts = {
        (r.grant.scc, r.grant.service_account): r.verdict
        for r in plan_of("chart-7.3.1-seed.yaml").review(seed_recipe_grants())
    }
    assert verdicts[("anyuid", "default")] == "needed"
    assert verdicts[("anyuid", "clearml-mongodb")] == "more than needed"
    hardened = {
        (r.grant.scc, r.grant.service_account): r.verdict for r in plan_of("chart-7.14.4-hardened.yaml").review(SEED)
    }
    assert hardened[("anyuid", "clearml-mongodb")] == "unneeded"
    assert hardened[("privileged", "clearml-elastic")] == "wrong"


def test_seed_recipe_grants_are_the_four_of_the_recipe():
    assert seed_recipe_grants() == SEED


def test_remove_commands_match_the_grants():
    plan = plan_of("chart-7.14.4-hardened.yaml")
    assert plan.remove_commands() == [c.replace("add-scc-to-user", "remove-scc-from-user") for c in plan.commands()]
    assert plan.commands("clearml")[0].endswith(" -n clearml")


def test_image_requirements_are_data_matched_on_repository():
    root_image = {"images": [{"repositories": ["example/rootful"], "image_user": 0, "needs_uid": 0, "why": "it does"}]}
    objects = [_deployment("web", "web", image="quay.io/example/rootful@sha256:abc")]
    assert plan_grants(objects, image_requirements=root_image).grants() == [Grant("anyuid", "web")]
    assert plan_grants(objects, image_requirements={"images": []}).grants() == []
    # the packaged file knows nothing about this image: restricted-v2 admits it and that is enough
    assert plan_grants(objects).grants() == []


def test_without_the_image_file_the_clearml_pods_would_pass_restricted_v2():
    plan = plan_of("chart-7.14.4-hardened.yaml", image_requirements={"images": []})
    assert [g.service_account for g in plan.grants()] == ["clearml-elastic-master"]


def test_an_image_that_cannot_work_under_any_scc_is_reported():
    needs_root = {"images": [{"repositories": ["example/rootful"], "image_user": 0, "needs_uid": 0, "why": "x"}]}
    plan = plan_grants(
        [_deployment("w", "w", image="example/rootful:1", sc={"runAsUser": 1001})], image_requirements=needs_root
    )
    assert plan.grants() == [] and plan.service_accounts[0].unsolvable


@pytest.mark.parametrize(
    "image, repository",
    [
        ("allegroai/clearml:2.0.0-613", "allegroai/clearml"),
        ("docker.io/bitnami/redis:7.0.9-debian-11-r1", "bitnami/redis"),
        ("docker.elastic.co/elasticsearch/elasticsearch:7.17.3", "elasticsearch/elasticsearch"),
        ("localhost:5000/team/app", "team/app"),
        ("docker.io/library/nginx@sha256:00", "nginx"),
    ],
)
def test_image_repository(image, repository):
    assert image_repository(image) == repository


@pytest.mark.parametrize("kind", ["Pod", "ReplicaSet", "DaemonSet", "Job", "CronJob", "StatefulSet"])
def test_every_pod_bearing_kind_is_planned(kind):
    template = {
        "spec": {
            "serviceAccountName": "x",
            "containers": [{"name": "c", "image": "i", "securityContext": {"runAsUser": 1001}}],
        }
    }
    if kind == "Pod":
        obj = {"kind": "Pod", "metadata": {"name": "p"}, **template}
    elif kind == "CronJob":
        obj = {"kind": kind, "metadata": {"name": "n"}, "spec": {"jobTemplate": {"spec": {"template": template}}}}
    else:
        obj = {"kind": kind, "metadata": {"name": "n"}, "spec": {"template": template}}
    plan = plan_grants([obj])
    assert plan.grants() == [Grant("nonroot-v2", "x")]
    assert plan.workloads[0].kind == kind


def test_non_pod_objects_are_skipped_with_a_note_and_test_hooks_too():
    plan = plan_of("chart-7.3.1-seed.yaml")
    assert {"Service/clearml-webserver", "Secret/clearml-conf", "ServiceAccount/clearml-mongodb"} <= set(plan.skipped)
    assert "skipped 3 objects that run no pods" in plan.render()
    hook = {
        "kind": "Pod",
        "metadata": {"name": "t", "annotations": {"helm.sh/hook": "test"}},
        "spec": {"containers": [{"name": "c", "image": "i"}]},
    }
    plan = plan_grants([hook])
    assert plan.workloads == [] and "helm test hook" in plan.notes[0]


def test_render_prints_each_needed_grant_once_in_command_form():
    plan = plan_of("chart-7.14.4-seed.yaml")
    lines = [line for line in plan.render().splitlines() if line.lstrip().startswith("oc adm policy add-scc-to-user")]
    assert lines == plan.commands()


def test_malformed_yaml_names_the_document_and_line():
    text = "kind: ConfigMap\nmetadata: {name: a}\n---\nkind: Pod\nmetadata: {name: [oops\n"
    with pytest.raises(UsageError, match=r"Document 2 of bad.yaml is not valid YAML at line 6"):
        load_manifests(text, source="bad.yaml")
    with pytest.raises(UsageError, match="Document 1 of the manifests"):
        plan_grants("- just\n- a list\n")


def test_list_documents_are_expanded():
    objects = load_manifests("kind: List\nitems:\n- {kind: Pod, metadata: {name: p}, spec: {containers: []}}\n")
    assert objects[0]["metadata"]["name"] == "p"


def test_planner_code_names_no_chart():
    package = Path(__file__).parents[1] / "clearml_lab" / "scc"
    for module in ("planner.py", "manifests.py", "admission.py", "provider.py", "images.py"):
        text = (package / module).read_text().lower()
        for word in ("clearml", "mongodb", "redis", "elastic", "allegroai"):
            assert word not in text, (module, word)


def _deployment(name, sa, *, image="registry.example/app:1", sc=None, host_network=False):
    container = {"name": "c", "image": image}
    if sc:
        container["securityContext"] = sc
    spec = {"serviceAccountName": sa, "containers": [container]}
    if host_network:
        spec["hostNetwork"] = True
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {"template": {"spec": spec}},
    }
