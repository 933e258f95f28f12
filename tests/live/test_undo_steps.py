"""Each step's undo removes what that step made and nothing else, says so, and changes nothing the second time; an
undo before any run is a neutral no-op. Every removal is read back through kubectl or helm, not from the result.

The steps are undone one at a time in reverse order, so the project still exists while routes, install and scc are
undone: deleting the namespace last cannot hide an undo that did nothing.
"""

from __future__ import annotations

import json
import uuid

from clearml_lab import steps
from clearml_lab.lab import connect

ROUTES = {"clearml-apiserver", "clearml-webserver", "clearml-fileserver"}


def _names(kubectl, kind: str, ns: str) -> set[str]:
    out = kubectl("get", kind, "-n", ns, "-o", "json").stdout
    return {item["metadata"]["name"] for item in json.loads(out)["items"]}


def _scc_bindings(kubectl, ns: str) -> set[str]:
    out = json.loads(kubectl("get", "rolebindings", "-n", ns, "-o", "json").stdout)["items"]
    return {b["metadata"]["name"] for b in out if b["roleRef"]["name"].startswith("system:openshift:scc:")}


def _releases(practice_cluster, ns: str) -> list[str]:
    out = practice_cluster.run("helm", "list", "-n", ns, "-o", "json").stdout
    return [r["name"] for r in json.loads(out)]


def _repositories(lab) -> set[str]:
    listed = lab.helm().run(["repo", "list", "-o", "json"], cluster=False)
    # helm exits 1 with "no repositories to show" when there are none
    return {r["name"] for r in json.loads(listed.stdout)} if listed.ok else set()


def _undo_twice(lab, name: str):
    first = steps.get(name).undo(lab)
    assert first.ok and first.changed, first.render_text()
    again = steps.get(name).undo(lab)
    assert again.ok and not again.changed and again.badge == "INFO", again.render_text()
    return first


def test_each_undo_removes_its_own_objects_only_and_twice_is_a_no_op(home, kubectl, practice_cluster):
    ns = f"undo-{uuid.uuid4().hex[:6]}"
    lab = connect(namespace=ns)
    for step in steps.RECIPE:
        if step.name == "cleanup":
            continue
        result = step.run(lab)
        assert result.ok, result.render_text()
    assert ROUTES <= _names(kubectl, "routes", ns)
    assert _releases(practice_cluster, ns) == ["clearml"]
    grants = _scc_bindings(kubectl, ns)
    assert grants, "the scc step made no RoleBinding to undo"

    _undo_twice(lab, "routes")
    assert not ROUTES & _names(kubectl, "routes", ns)
    assert _releases(practice_cluster, ns) == ["clearml"], "routes' undo must leave the release"

    _undo_twice(lab, "install")
    assert _releases(practice_cluster, ns) == []
    assert not _names(kubectl, "deployments", ns) and not _names(kubectl, "statefulsets", ns)
    assert _scc_bindings(kubectl, ns) == grants, "install's undo must leave the grants"

    _undo_twice(lab, "scc")
    assert _scc_bindings(kubectl, ns) == set()
    assert lab.values_file.exists(), "scc's undo must leave values.yaml"

    _undo_twice(lab, "values")
    assert not lab.values_file.exists()
    assert kubectl("get", "namespace", ns, check=False).returncode == 0, "values' undo must leave the project"

    _undo_twice(lab, "project")
    gone = kubectl("get", "namespace", ns, "-o", "jsonpath={.status.phase}", check=False)
    assert gone.returncode != 0 or gone.stdout == "Terminating"

    assert "clearml" in _repositories(lab)
    _undo_twice(lab, "helm-repo")
    assert "clearml" not in _repositories(lab)


def test_undo_before_any_run_is_a_neutral_no_op(home, kubectl):
    ns = f"never-{uuid.uuid4().hex[:6]}"
    lab = connect(namespace=ns)
    for step in reversed(steps.RECIPE):
        if step.name in ("cleanup", "prerequisites", "verify"):
            continue
        result = step.undo(lab)
        assert result.ok and not result.changed and result.badge == "INFO", result.render_text()
    assert kubectl("get", "namespace", ns, check=False).returncode != 0, "an undo created the project"
    assert not lab.values_file.exists()
