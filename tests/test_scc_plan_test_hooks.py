"""`helm test` hook pods are planned apart: the install's grants never include them, and the plan says what
`helm test` needs on top, so a project admin without anyuid knows before running it."""

from clearml_lab.scc import plan_grants


def _pod(name, sa, security_context=None, hook=None, image="registry.example/tools:1"):
    meta = {"name": name, "namespace": "team"}
    if hook:
        meta["annotations"] = {"helm.sh/hook": hook}
    container = {"name": "c", "image": image}
    if security_context:
        container["securityContext"] = security_context
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": meta,
        "spec": {"serviceAccountName": sa, "containers": [container]},
    }


APP = _pod("app", "app")
TEST_AS_1000 = _pod("app-test", "default", {"runAsUser": 1000}, hook="test")


def test_a_hook_pod_that_needs_a_uid_outside_the_range_is_planned_apart():
    plan = plan_grants([APP, TEST_AS_1000], namespace="team")
    assert plan.grants() == []  # the install needs nothing, and the hook is not part of it
    assert [w.label for w in plan.workloads] == ["Pod/app"]
    assert plan.test_hooks is not None
    assert plan.test_hooks.commands("team") == ["oc adm policy add-scc-to-user nonroot-v2 -z default -n team"]
    text = plan.render("team")
    assert "helm test (Pod/app-test):" in text
    assert "also needs `oc adm policy add-scc-to-user nonroot-v2 -z default -n team`" in text
    # the install's grants stay the only lines that start with the command
    assert [line for line in text.splitlines() if line.startswith("oc adm policy")] == []


def test_a_hook_served_by_the_installs_grants_needs_nothing_more():
    root_app = _pod("app", "shared", {"runAsUser": 0})
    hook = _pod("app-test", "shared", {"runAsUser": 1000}, hook="test-success")
    plan = plan_grants([root_app, hook], namespace="team")
    assert plan.commands() == ["oc adm policy add-scc-to-user anyuid -z shared"]
    assert plan.test_hooks.grants() == []
    assert "needs no grant beyond these." in plan.render()


def test_without_hooks_there_is_no_test_section():
    plan = plan_grants([APP], namespace="team")
    assert plan.test_hooks is None and "helm test" not in plan.render()
