"""Workshop mode with twelve learners on one practice cluster: least privilege by default (no learner's service
account may use an SCC that opens the node, and a privileged pod made with a learner's credentials is refused),
re-provisioning with another profile converges, the progress table an instructor reads, access that survives a
restart of the practice cluster, containment of learners' own projects, and a teardown that leaves nothing."""

import json
import re

import pytest
import yaml

from clearml_lab import workshop
from clearml_lab.lab import connect

from .recipe_helpers import cli, lab_home_for, ok_stdout

COUNT = 12
LEARNERS = [f"learner{i}" for i in range(1, COUNT + 1)]
SCC_ACCOUNTS = (
    "default",
    "clearml-apiserver",
    "clearml-fileserver",
    "clearml-webserver",
    "clearml-elastic",
    "clearml-mongodb",
    "clearml-redis",
)


@pytest.fixture(scope="module")
def home(cluster, tmp_path_factory):
    return lab_home_for(cluster, tmp_path_factory.mktemp("workshop-safety") / "home")


@pytest.fixture(scope="module")
def out(home):
    return home / "handouts"


def _token(out, learner) -> str:
    return yaml.safe_load((out / f"{learner}.kubeconfig").read_text())["users"][0]["user"]["token"]


def _post(cluster, path, body, token="default"):
    status, _, data = cluster.request(
        "POST", path, body=json.dumps(body).encode(), content_type="application/json", token=token
    )
    return status, json.loads(data or b"{}")


def _may_use(cluster, ns, account, scc) -> bool:
    """A SubjectAccessReview as the instructor: may this service account `use` the SCC in its project?"""
    status, review = _post(
        cluster,
        "/apis/authorization.k8s.io/v1/subjectaccessreviews",
        {
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SubjectAccessReview",
            "spec": {
                "user": f"system:serviceaccount:{ns}:{account}",
                "groups": ["system:serviceaccounts", f"system:serviceaccounts:{ns}", "system:authenticated"],
                "resourceAttributes": {
                    "namespace": ns,
                    "verb": "use",
                    "group": "security.openshift.io",
                    "resource": "securitycontextconstraints",
                    "name": scc,
                },
            },
        },
    )
    assert status == 201, review
    return review["status"]["allowed"]


def _node_opening_sccs(instructor) -> list[str]:
    sccs = workshop.cluster_sccs(instructor.kube())
    opening = sorted(name for name, scc in sccs.items() if workshop.host_access(scc))
    # Read from the SCCs' fields, so every default SCC that opens the node is among them, and none that does not.
    assert {"privileged", "hostaccess", "hostnetwork", "hostnetwork-v2", "hostmount-anyuid"} <= set(opening)
    assert not {"restricted-v2", "anyuid", "nonroot-v2"} & set(opening)
    return opening


def _annotation(instructor, learner, key=workshop.PROFILE):
    project = instructor.kube().get("projects", workshop.project_for(learner))
    return project["metadata"]["annotations"].get(key)


def test_provision_is_least_privilege_by_default(home, out, instructor, cluster):
    text = ok_stdout(cli(home, "workshop", "provision", "--learners", str(COUNT), "--out", str(out)))
    assert "with profile hardened" in text
    for learner in LEARNERS:  # every grant, per learner, in the provision's own words
        block = text.split(f"\n{learner}: ", 1)[1].split("\nlearner", 1)[0]
        assert "3 SCC grant(s)" in block
        for account in ("clearml-apiserver", "clearml-fileserver", "clearml-webserver"):
            assert f"granted anyuid to {account}" in block
        assert "privileged" not in block
        assert _annotation(instructor, learner) == "hardened"
    opening = _node_opening_sccs(instructor)
    for learner in LEARNERS:
        ns = workshop.project_for(learner)
        for account in SCC_ACCOUNTS:
            assert [scc for scc in opening if _may_use(cluster, ns, account, scc)] == [], (ns, account)
        # ... and the check itself can say yes: the grant the plan made is visible to it.
        assert _may_use(cluster, ns, "clearml-apiserver", "anyuid")


def test_a_privileged_pod_made_with_a_learners_credentials_is_refused(out, cluster):
    learner, token = LEARNERS[0], _token(out, LEARNERS[0])
    ns = workshop.project_for(learner)
    status, _ = _post(
        cluster,
        f"/api/v1/namespaces/{ns}/serviceaccounts",
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "clearml-elastic"}},
        token,
    )
    assert status in (201, 409)
    for account in ("clearml-elastic", "clearml-apiserver", "default"):
        status, answer = _post(
            cluster,
            f"/api/v1/namespaces/{ns}/pods",
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": f"take-over-{account}"},
                "spec": {
                    "serviceAccountName": account,
                    "hostPID": True,
                    "containers": [
                        {
                            "name": "shell",
                            "image": "registry.access.redhat.com/ubi9/ubi",
                            "securityContext": {"privileged": True},
                            "volumeMounts": [{"name": "host", "mountPath": "/host"}],
                        }
                    ],
                    "volumes": [{"name": "host", "hostPath": {"path": "/"}}],
                },
            },
            token,
        )
        assert status == 403, answer
        assert "unable to validate against any security context constraint" in answer["message"]


def test_a_plan_that_opens_the_node_is_refused_before_anything_changes(home, out, instructor):
    result = cli(home, "workshop", "provision", "--learners", str(COUNT), "--out", str(out), "--profile", "seed")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "privileged to clearml-elastic (privileged containers" in result.stderr
    assert "--allow-privileged" in result.stderr and "hardened" in result.stderr
    kube = instructor.kube()
    for learner in LEARNERS:
        assert _annotation(instructor, learner) == "hardened"
        ns = workshop.project_for(learner)
        assert ("privileged", "clearml-elastic") not in workshop.project_scc_grants(kube, ns)


def test_re_provisioning_with_another_profile_converges(home, out, instructor, cluster):
    kube = instructor.kube()
    text = ok_stdout(
        cli(
            home,
            "workshop",
            "provision",
            "--learners",
            str(COUNT),
            "--out",
            str(out),
            "--profile",
            "seed",
            "--allow-privileged",
        )
    )
    assert "WARNING: --allow-privileged" in text
    assert text.count("granted privileged to clearml-elastic") == COUNT
    assert text.count("profile hardened -> seed") == COUNT
    for learner in LEARNERS:
        ns = workshop.project_for(learner)
        assert _annotation(instructor, learner) == "seed"
        assert ("privileged", "clearml-elastic") in workshop.project_scc_grants(kube, ns)
    assert _may_use(cluster, workshop.project_for(LEARNERS[-1]), "clearml-elastic", "privileged")

    # Back to the default: what the hardened plan does not need is revoked, and said.
    text = ok_stdout(cli(home, "workshop", "provision", "--learners", str(COUNT), "--out", str(out)))
    assert text.count("revoked privileged from clearml-elastic: profile hardened does not need it") == COUNT
    assert text.count("revoked nonroot-v2 from clearml-mongodb") == COUNT
    assert text.count("profile seed -> hardened") == COUNT
    for learner in LEARNERS:
        ns = workshop.project_for(learner)
        assert _annotation(instructor, learner) == "hardened"
        assert workshop.project_scc_grants(kube, ns) == [
            ("anyuid", "clearml-apiserver"),
            ("anyuid", "clearml-fileserver"),
            ("anyuid", "clearml-webserver"),
        ]
        assert not _may_use(cluster, ns, "clearml-elastic", "privileged")
    again = ok_stdout(cli(home, "workshop", "provision", "--learners", str(COUNT), "--out", str(out)))
    assert again.count("already in place") == COUNT and "revoked" not in again


def test_e_mail_style_user_names_get_a_dns_safe_project_and_a_hand_out(home, out, instructor, cluster):
    names = ["ana.lopez", "ana.lopez@uni.edu"]
    text = ok_stdout(cli(home, "workshop", "provision", "--names", ",".join(names), "--out", str(out)))
    kube = instructor.kube()
    for name, ns in zip(names, ("ana-lopez-clearml", "ana-lopez-uni-edu-clearml"), strict=True):
        assert f"{name}: project {ns}," in text
        admin = kube.get("rolebindings", "admin", ns)  # the RoleBinding names the user as given
        assert [s["name"] for s in admin["subjects"]] == [name]
        status, _, body = cluster.request("GET", "/apis/user.openshift.io/v1/users/~", token=_token(out, name))
        assert status == 200 and json.loads(body)["metadata"]["name"] == name
        handout = (out / f"{name}.handout.md").read_text()
        assert f"`{ns}`" in handout and f"{name}.kubeconfig" in handout and cluster.server in handout
        assert _token(out, name) not in handout
        checked = ok_stdout(cli(home, "--kubeconfig", str(out / f"{name}.kubeconfig"), "check", "project"))
        assert f"Workshop mode: you are learner {name}" in checked
    for bad, words in (
        ("Ana.Lopez", "not a valid name"),
        ("ana..", "not a valid name"),
        ("ana.lopez,ana-lopez", "would share project ana-lopez-clearml"),
    ):
        result = cli(home, "workshop", "provision", "--names", bad, "--out", str(out))
        assert result.returncode == 2 and words in result.stderr, result.stderr


def test_a_restart_of_the_practice_cluster_keeps_every_kubeconfig_working(out, cluster):
    before = cluster.server
    cluster.stop()
    cluster.start()
    assert cluster.server == before  # the port is kept in the cluster's state
    for kubeconfig in sorted(out.glob("*.kubeconfig")):
        result = cluster.run(
            "kubectl", "--kubeconfig", str(kubeconfig), "get", "resourcequotas", "-o", "name", check=False
        )
        assert result.returncode == 0 and "resourcequota/clearml-workshop" in result.stdout, (kubeconfig, result.stderr)


def _progress(home, *args) -> tuple[list[str], list[list[str]], list[str], str]:
    """(header, rows, totals, what follows the table) from `workshop progress` on stdout."""
    text = ok_stdout(cli(home, "workshop", "progress", *args))
    table, _, rest = text.partition("\n\n")
    lines = table.splitlines()
    return lines[0].split(), [line.split() for line in lines[1:-1]], lines[-1].split(), rest


def test_the_progress_table_answers_who_needs_the_instructor(home, out, instructor):
    header, rows, totals, rest = _progress(home)
    steps = header[2:]
    assert header[:2] == ["LEARNER", "AT"] and "install" in steps
    learners = [row[0] for row in rows]
    assert learners == ["ana.lopez", "ana.lopez@uni.edu", *LEARNERS]  # learner2 before learner10
    table = ok_stdout(cli(home, "workshop", "progress")).split("\n\n")[0].splitlines()
    starts = [[m.start() for m in re.finditer(r"\S+", line)] for line in table[:-1]]
    assert all(s == starts[0] for s in starts), "every row's cells start under their header"
    for row in rows:  # the instructor's steps passed; nobody reached the others yet
        cells = dict(zip(steps, row[2:], strict=True))
        assert row[1] == "helm-repo"
        assert [cells[s] for s in ("prerequisites", "project", "scc")] == ["pass"] * 3
        assert {cells[s] for s in steps if s not in ("prerequisites", "project", "scc")} == {"-"}
    mine = ("prerequisites", "project", "scc")
    assert totals == ["passed", *(f"{len(rows) if s in mine else 0}/{len(rows)}" for s in steps)]
    assert rest.startswith("refreshed ") and "UTC" in rest and f"{len(rows)} learner(s), 0 done, 0 stuck" in rest

    # learner7 installs without adding the chart repository: a failed install, not "not started".
    failed = cli(home, "--kubeconfig", str(out / "learner7.kubeconfig"), "run", "install")
    assert failed.returncode == 1
    header, rows, totals, rest = _progress(home, "--grace", "0")
    row = next(r for r in rows if r[0] == "learner7")
    cells = dict(zip(steps, row[2:], strict=True))
    assert cells["install"] == "FAIL" and cells["helm-repo"] == "-" and row[1] == "helm-repo"
    assert all(dict(zip(steps, r[2:], strict=True))["install"] == "-" for r in rows if r[0] != "learner7")
    assert "1 stuck" in rest
    (stuck,) = [line for line in rest.splitlines() if line.startswith("STUCK ")]
    assert stuck.startswith("STUCK learner7 is stuck at helm-repo: install failed:") and "Fix (learner):" in stuck

    # The instructor's own grants gone: stuck at once, one cause naming every missing grant, and the instructor's fix.
    kube = instructor.kube()
    kube.delete("rolebindings", "system:openshift:scc:anyuid", "learner11-clearml")
    _, rows, _, rest = _progress(home, "learner11")
    assert [r[0] for r in rows] == ["learner11"] and dict(zip(steps, rows[0][2:], strict=True))["scc"] == "FAIL"
    assert (
        "STUCK learner11 is stuck at scc: 3 SCC grant(s) you provisioned are missing: anyuid to "
        "clearml-apiserver, anyuid to clearml-fileserver, anyuid to clearml-webserver. Fix (instructor): "
        "`clearml-lab workshop provision --names learner11` restores them."
    ) in rest
    ok_stdout(cli(home, "workshop", "provision", "--names", "learner11", "--out", str(out)))
    _, rows, _, rest = _progress(home, "learner11")
    assert dict(zip(steps, rows[0][2:], strict=True))["scc"] == "pass" and "0 stuck" in rest

    # A reset back to the install forgets the failed attempt: not reached again.
    ok_stdout(cli(home, "workshop", "reset", "learner7", "--to", "install"))
    _, rows, _, _ = _progress(home, "learner7")
    assert dict(zip(steps, rows[0][2:], strict=True))["install"] == "-"


def test_a_notebook_learners_runs_are_recorded_too(home, out, tmp_path, monkeypatch):
    from clearml_lab import notebook as nb

    monkeypatch.setenv("CLEARML_LAB_HOME", str(tmp_path / "learner-home"))  # the learner's own machine
    monkeypatch.delenv("KUBECONFIG", raising=False)
    lab = connect(kubeconfig=str(out / "learner12.kubeconfig"))
    assert not nb.run("install", lab).ok  # no chart repository added yet
    header, rows, _, _ = _progress(home, "learner12")
    assert rows[0][0] == "learner12" and dict(zip(header[2:], rows[0][2:], strict=True))["install"] == "FAIL"


def test_learners_cannot_create_projects_outside_the_workshop(home, out, instructor):
    binding = instructor.kube().get("clusterrolebindings", workshop.SELF_PROVISIONERS)
    assert not binding.get("subjects")  # provision took self-provisioning away, and keeps what it took
    assert (
        json.loads(binding["metadata"]["annotations"][workshop.PAUSED])["subjects"][0]["name"] == "system:authenticated"
    )
    result = cli(
        home, "--kubeconfig", str(out / "learner3.kubeconfig"), "--namespace", "learner3-own", "run", "project"
    )
    assert result.returncode == 1 and "you may not create projects" in result.stdout + result.stderr
    assert instructor.kube().get_or_none("projects", "learner3-own") is None


def test_a_project_a_learner_made_anyway_is_tracked_and_torn_down(home, out, instructor, cluster):
    kube = instructor.kube()
    # Someone gives self-provisioning back mid-workshop: the learner's own project is still the workshop's concern.
    binding = kube.get("clusterrolebindings", workshop.SELF_PROVISIONERS)
    binding["subjects"] = [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "system:authenticated"}]
    kube.replace("clusterrolebindings", binding)
    ok_stdout(
        cli(home, "--kubeconfig", str(out / "learner3.kubeconfig"), "--namespace", "learner3-own", "run", "project")
    )
    assert workshop.extra_projects(kube) == {"learner3": ["learner3-own"]}
    shown = ok_stdout(cli(home, "workshop", "progress", "learner3"))
    assert "learner3 made project(s) outside the workshop: learner3-own (teardown removes them)" in shown
    assert "learner3-own" in " ".join(workshop.leftovers(instructor))

    text = ok_stdout(cli(home, "workshop", "teardown", "--out", str(out)))
    assert text.splitlines()[0] == (
        f"acting on the practice cluster at {cluster.server} (context kubeadmin): "
        f"{COUNT + 2} learner(s), {COUNT + 3} project(s)"
    )
    assert 'learner3: project.project.openshift.io "learner3-own" deleted (a project the learner made)' in text
    assert "clusterrolebinding/self-provisioners binds Group system:authenticated again" in text
    assert text.rstrip().endswith("nothing of the workshop is left on the cluster.")
    names = {n["metadata"]["name"] for n in kube.list("namespaces")["items"]}
    assert "learner3-own" not in names and not [n for n in names if n.endswith("-clearml")]
    binding = kube.get("clusterrolebindings", workshop.SELF_PROVISIONERS)
    assert [s["name"] for s in binding["subjects"]] == ["system:authenticated"]
    assert workshop.PAUSED not in (binding["metadata"].get("annotations") or {})
    assert workshop.leftovers(instructor, {"learner3"}) == []
    assert not list(out.glob("*.kubeconfig")) and not list(out.glob("*.handout.md"))
