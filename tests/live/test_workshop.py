"""Workshop mode on a practice cluster: an instructor provisions five learners, who run the whole recipe at once,
each with their own kubeconfig; the instructor's table follows them; reset and teardown leave nothing."""

import json
from concurrent.futures import ThreadPoolExecutor

import pytest
import yaml

from clearml_lab import steps, workshop
from clearml_lab.credentials import oauth_token_name
from clearml_lab.kube import wait_for

from .recipe_helpers import cli, lab_home_for, ok_stdout

LEARNERS = ["ada", "grace", "linus", "margaret", "ken"]
STEPS = [s.name for s in steps.RECIPE]


@pytest.fixture(scope="module")
def home(cluster, tmp_path_factory):
    return lab_home_for(cluster, tmp_path_factory.mktemp("workshop") / "home")


def _table(home, *learners) -> dict[str, list[str]]:
    """The progress table on stdout: a header, one row per learner (name, current step, a cell per step), the
    passes per step; then, after a blank line, when it was read and who is stuck."""
    table = ok_stdout(cli(home, "workshop", "progress", *learners)).split("\n\n")[0].splitlines()
    header, rows, totals = table[0].split(), table[1:-1], table[-1].split()
    assert header == ["LEARNER", "AT", *STEPS] and totals[0] == "passed"
    parsed = {line.split()[0]: line.split()[2:] for line in rows}
    assert len(parsed) == len(rows), "one row per learner"
    return parsed


def _cells(**passing) -> list[str]:
    """pass for the steps named True, FAIL for those named False, - (not reached) for the others."""
    cells = {True: "pass", False: "FAIL", None: "-"}
    return [cells[passing.get(step.replace("-", "_"))] for step in STEPS]


def _kubeconfig(home, learner):
    return home / "kubeconfigs" / f"{learner}.kubeconfig"


def _token(home, learner) -> str:
    return yaml.safe_load(_kubeconfig(home, learner).read_text())["users"][0]["user"]["token"]


def test_bad_input_is_refused_before_anything_changes(home, instructor):
    for args, words in (
        (["--names", "Ada"], "not a valid name"),
        (["--names", "ada,ada"], "repeat"),
        (["--learners", "0"], "1 or more"),
    ):
        result = cli(home, "workshop", "provision", *args)
        assert result.returncode == 2 and words in result.stderr, result.stderr
    assert workshop.learners(instructor) == {}
    result = cli(home, "workshop", "reset", "nobody")
    assert result.returncode == 2 and "no learner 'nobody'" in result.stderr
    result = cli(home, "workshop", "progress", "nobody")
    assert result.returncode == 2 and "no learner nobody" in result.stderr


def test_provision_is_idempotent_and_resumable(home, instructor, cluster):
    out = home / "kubeconfigs"
    first = ok_stdout(cli(home, "workshop", "provision", "--names", ",".join(LEARNERS), "--out", str(out)))
    kube = instructor.kube()
    for learner in LEARNERS:
        ns = f"{learner}-clearml"
        config = yaml.safe_load(_kubeconfig(home, learner).read_text())
        context = {c["name"]: c["context"] for c in config["contexts"]}[config["current-context"]]
        assert context["namespace"] == ns and context["user"] == learner
        # The planner's grants, as RoleBindings in the project only: nothing cluster-wide names its accounts.
        hardened = instructor.with_settings(profile="hardened")  # the workshop's default: least privilege
        wanted = {(g.scc, g.service_account) for g in workshop.plan_for(hardened, ns, workshop._render(hardened, ns))}
        bound = {
            (b["roleRef"]["name"].rsplit(":", 1)[1], s["name"])
            for b in kube.list("rolebindings", ns)["items"]
            if b["metadata"]["name"].startswith("system:openshift:scc:")
            for s in b["subjects"]
        }
        assert wanted and bound == wanted
        assert not [
            b
            for b in kube.list("clusterrolebindings")["items"]
            for s in b.get("subjects") or []
            if s.get("namespace") == ns or s.get("name") == learner
        ]
        quota = kube.get("resourcequotas", "clearml-workshop", ns)["spec"]["hard"]
        assert quota["requests.storage"] == "155Gi" and quota["persistentvolumeclaims"] == "4"
        assert kube.get("limitranges", "clearml-workshop", ns)
    assert first.count("already in place") == 0

    # An interrupted run: one learner's token, quota and a grant missing. The next run puts back exactly those.
    ns = "grace-clearml"
    kube.request("DELETE", f"{workshop.TOKENS}/{oauth_token_name(_token(home, 'grace'))}")
    kube.delete("resourcequotas", "clearml-workshop", ns)
    kube.delete("rolebindings", "system:openshift:scc:anyuid", ns)
    assert cluster.request("GET", "/apis/user.openshift.io/v1/users/~", token=_token(home, "grace"))[0] == 401
    again = ok_stdout(cli(home, "workshop", "provision", "--names", ",".join(LEARNERS), "--out", str(out)))
    assert again.count("already in place") == len(LEARNERS) - 1
    assert kube.get_or_none("resourcequotas", "clearml-workshop", ns)
    status, _, body = cluster.request("GET", "/apis/user.openshift.io/v1/users/~", token=_token(home, "grace"))
    assert status == 200 and json.loads(body)["metadata"]["name"] == "grace"


def test_learners_cannot_reach_each_others_projects(home, cluster):
    for learner in LEARNERS:
        token = _token(home, learner)
        own = f"/api/v1/namespaces/{learner}-clearml/configmaps"
        assert cluster.request("GET", own, token=token)[0] == 200
        for other in LEARNERS:
            if other == learner:
                continue
            theirs = f"/api/v1/namespaces/{other}-clearml"
            assert cluster.request("GET", f"{theirs}/pods", token=token)[0] == 403
            assert (
                cluster.request("GET", f"/apis/project.openshift.io/v1/projects/{other}-clearml", token=token)[0] == 403
            )
            body = json.dumps({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"from-{learner}"}})
            assert (
                cluster.request(
                    "POST", f"{theirs}/configmaps", body=body.encode(), content_type="application/json", token=token
                )[0]
                == 403
            )
            assert cluster.request("DELETE", f"{theirs}/resourcequotas/clearml-workshop", token=token)[0] == 403
        # ... nor grant themselves an SCC cluster-wide.
        binding = {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": f"{learner}-privileged"},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": "system:openshift:scc:privileged",
            },
            "subjects": [{"kind": "ServiceAccount", "name": "default", "namespace": f"{learner}-clearml"}],
        }
        assert (
            cluster.request(
                "POST",
                "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings",
                body=json.dumps(binding).encode(),
                content_type="application/json",
                token=token,
            )[0]
            == 403
        )


def test_a_learner_whose_login_names_no_project_lands_in_theirs(home, tmp_path):
    config = yaml.safe_load(_kubeconfig(home, "ada").read_text())
    del config["contexts"][0]["context"]["namespace"]  # as a fresh login without a project would be
    bare = tmp_path / "ada.kubeconfig"
    bare.write_text(yaml.safe_dump(config))
    out = ok_stdout(cli(home, "--kubeconfig", str(bare), "check", "project"))
    assert "project ada-clearml" in out and "Workshop mode: you are learner ada" in out
    # A project chosen on the command line is respected, even one that is not theirs.
    result = cli(home, "--kubeconfig", str(bare), "--namespace", "grace-clearml", "check", "project")
    assert result.returncode == 1 and "Workshop mode" not in result.stdout


def test_a_learner_names_their_kubeconfig_in_notebook_00(home, tmp_path, monkeypatch):
    from clearml_lab import notebook as nb

    monkeypatch.setenv("CLEARML_LAB_HOME", str(tmp_path / "learner-home"))  # the learner's own machine
    monkeypatch.delenv("KUBECONFIG", raising=False)
    picker = nb.target_picker()
    picker.file.value = str(tmp_path / "nowhere.kubeconfig")
    picker.apply.click()
    assert picker.message.value.startswith("❌ kubeconfig") and "does not exist" in picker.message.value
    assert nb.saved_choice() == {}  # nothing invalid is saved
    picker.file.value = str(_kubeconfig(home, "ada"))
    picker.apply.click()
    assert (
        "✅ acting on the cluster" in picker.message.value
        and "Workshop mode: you are learner ada" in picker.message.value
    )
    lab = nb.session(quiet=True)
    assert lab.namespace == "ada-clearml" and lab.workshop.learner == "ada"
    assert nb.target_picker().text == f"Target: kubeconfig file {_kubeconfig(home, 'ada')}"


def test_the_workshop_from_start_to_teardown(home, instructor, cluster):
    before = _cells(prerequisites=True, project=True, scc=True)  # what the instructor already did
    assert _table(home) == {learner: before for learner in sorted(LEARNERS)}

    # Mid-way: one learner goes step by step up to the install; the others have not started.
    first = LEARNERS[0]
    for step in ("prerequisites", "helm-repo", "project", "values", "scc", "install"):
        ok_stdout(cli(home, "--kubeconfig", str(_kubeconfig(home, first)), "run", step))
    table = _table(home)
    assert table[first] == _cells(prerequisites=True, helm_repo=True, project=True, values=True, scc=True, install=True)
    assert all(table[learner] == before for learner in LEARNERS[1:])

    # Everyone runs the whole recipe at once, as a learner without SCC rights.
    def learner_run(learner):
        return learner, cli(home, "--kubeconfig", str(_kubeconfig(home, learner)), "run", "all")

    with ThreadPoolExecutor(len(LEARNERS)) as pool:
        runs = dict(pool.map(learner_run, LEARNERS))
    for learner, result in runs.items():
        out = ok_stdout(result)
        assert f"project {learner}-clearml" in out and "[PASS] verify run" in out
        assert ("already installed and ready" if learner == first else "ClearML is ready") in out
        # The learner's run says what the instructor already did instead of trying (and failing) to do it.
        assert f"Workshop mode: you are learner {learner}" in out
        assert f"skipped: your instructor already created project {learner}-clearml" in out
        assert "skipped: your instructor already granted anyuid to clearml-apiserver" in out
        assert "your workshop budget (ResourceQuota clearml-workshop) allows 155Gi" in out
        assert "not allowed to grant" not in out and "Forbidden" not in out
    assert _table(home) == {
        learner: _cells(**{s.replace("-", "_"): True for s in STEPS}) for learner in sorted(LEARNERS)
    }

    # A learner loses a grant and a pod is recreated: the table says where they are stuck, and why.
    stuck = LEARNERS[1]
    kube, ns = instructor.kube(), f"{stuck}-clearml"
    kube.delete("rolebindings", "system:openshift:scc:anyuid", ns)
    pod = next(
        p
        for p in kube.list("pods", ns)["items"]
        if p["metadata"]["name"].startswith("clearml-apiserver-") and "asyncdelete" not in p["metadata"]["name"]
    )
    kube.delete("pods", pod["metadata"]["name"], ns)
    assert wait_for(
        kube, "events", lambda items: any(e.get("reason") == "FailedCreate" for e in items), namespace=ns, timeout=30
    )
    progress = workshop.progress(instructor)
    row = next(r for r in progress.rows if r.learner == stuck)
    # Prerequisites (in a workshop: the instructor's grants are there) and scc fail; the install is not ready.
    assert row.stuck and row.current == "prerequisites" and row.cells["scc"] == row.cells["install"] == "FAIL"
    (cause,) = [c for c in row.causes if c.who == "instructor"]
    assert "grant(s) you provisioned are missing: anyuid to clearml-apiserver" in cause.text
    assert f"clearml-lab workshop provision --names {stuck}" in cause.fix
    assert [r.learner for r in progress.rows if r.stuck] == [stuck]
    html = progress.to_html()
    assert html.count("background:#fff3cd") == 1 and "clearml-apiserver" in html
    out = ok_stdout(cli(home, "workshop", "progress"))
    assert f"STUCK {stuck} is stuck at scc: 3 SCC grant(s) you provisioned are missing" in out

    # Reset: back to the start of the install; the instructor's grant comes back, the learner's release goes.
    out = ok_stdout(cli(home, "workshop", "reset", stuck, "--to", "install"))
    assert 'release "clearml" uninstalled' in out and "restored:" in out and "anyuid" in out
    # What lives on the learner's machine stays as their runs recorded it; the install onward is not reached.
    assert _table(home, stuck) == {
        stuck: _cells(prerequisites=True, helm_repo=True, project=True, values=True, scc=True)
    }
    ok_stdout(cli(home, "--kubeconfig", str(_kubeconfig(home, stuck)), "run", "all"))
    assert _table(home, stuck) == {stuck: _cells(**{s.replace("-", "_"): True for s in STEPS})}

    # A learner cleans up: what they installed goes, the instructor's project and grants stay, and the table is
    # back where the workshop started for them.
    done = LEARNERS[2]
    out = ok_stdout(cli(home, "--kubeconfig", str(_kubeconfig(home, done)), "run", "cleanup"))
    assert "nothing of the lab is left on the cluster." in out and f"kept project {done}-clearml" in out
    assert kube.get_or_none("projects", f"{done}-clearml") is not None
    assert not kube.list("persistentvolumeclaims", f"{done}-clearml")["items"]
    assert _table(home, done) == {done: before}
    out = ok_stdout(cli(home, "--kubeconfig", str(_kubeconfig(home, done)), "undo", "all"))
    assert "kept the SCC grants" in out and f"kept project {done}-clearml" in out
    assert _table(home, done) == {done: before}

    # Teardown returns when the projects are gone and proves nothing is left; the learners' tokens stop working.
    tokens = {learner: _token(home, learner) for learner in LEARNERS}
    kube.delete("projects", "ken-clearml")  # as an interrupted teardown would have left it: Terminating
    out = ok_stdout(cli(home, "workshop", "teardown", "--out", str(home / "kubeconfigs")))
    assert "nothing of the workshop is left on the cluster." in out
    names = {n["metadata"]["name"] for n in kube.list("namespaces")["items"]}
    assert not names & {f"{learner}-clearml" for learner in LEARNERS}
    assert not [
        v
        for v in kube.list("persistentvolumes")["items"]
        if (v["spec"].get("claimRef") or {}).get("namespace", "").endswith("-clearml")
    ]
    assert workshop.leftovers(instructor, set(LEARNERS)) == []
    assert not list((home / "kubeconfigs").glob("*.kubeconfig"))
    for token in tokens.values():
        assert cluster.request("GET", "/apis/user.openshift.io/v1/users/~", token=token)[0] == 401
    assert ok_stdout(cli(home, "workshop", "progress")).startswith("no learners: nothing of a workshop is provisioned")
    again = ok_stdout(cli(home, "workshop", "teardown", "--out", str(home / "kubeconfigs")))
    assert "nothing of the workshop is left" in again
