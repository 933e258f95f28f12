"""The whole recipe through the lab's steps and CLI, against a running practice cluster."""

import uuid

import pytest
import yaml

from clearml_lab import steps
from clearml_lab.lab import connect

from .recipe_helpers import cli


def _ns():
    return f"cm-{uuid.uuid4().hex[:6]}"


def test_recipe_twice_then_undo_back_to_an_empty_cluster(home):
    lab = connect(namespace=_ns())
    assert lab.is_practice
    first = [step.run(lab) for step in steps.RECIPE]
    assert [(r.step, r.ok) for r in first] == [(s.name, True) for s in steps.RECIPE], "\n".join(
        r.render_text() for r in first if not r.ok
    )
    assert {r.step for r in first if r.changed} >= {"helm-repo", "project", "values", "scc", "install", "routes"}

    second = [step.run(lab) for step in steps.RECIPE]
    assert all(r.ok for r in second)
    assert [r.step for r in second if r.changed] == [], "a second run must change nothing"
    assert "already installed" in next(r for r in second if r.step == "install").summary
    # The seed recipe's grants are judged against what the chart needs from scratch: the grants the first run
    # made must not make Elasticsearch's privileged grant look unneeded the second time.
    seed_review = [
        [line for line in next(r for r in run if r.step == "scc").output if line.startswith("seed recipe")]
        for run in (first, second)
    ]
    assert seed_review[0] == seed_review[1]
    assert any("privileged -z clearml-elastic`: needed" in line for line in seed_review[1]), seed_review[1]

    assert all(step.check(lab).ok for step in steps.RECIPE)
    undone = [step.undo(lab) for step in reversed(steps.RECIPE)]
    assert all(r.ok for r in undone), "\n".join(r.render_text() for r in undone if not r.ok)
    assert steps.leftovers(lab) == []
    assert not steps.get("project").check(lab).ok


def test_cli_run_all_status_and_cleanup(home):
    ns = _ns()
    done = cli(home, "run", "all", "--namespace", ns)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "acting on the practice cluster at https://127.0.0.1:" in done.stdout
    status = cli(home, "--namespace", ns, "status")
    lines = status.stdout.splitlines()
    assert status.returncode == 0 and len(lines) == 7
    by_name = {line.split()[0]: line.split()[1:] for line in lines}
    assert by_name["deployment/clearml-apiserver"] == ["1/1", "anyuid"]
    assert by_name["deployment/clearml-mongodb"][1] == "nonroot-v2"
    checked = cli(home, "check", "all", "--namespace", ns)
    assert checked.returncode == 0, checked.stdout
    cleaned = cli(home, "--namespace", ns, "run", "cleanup")
    assert cleaned.returncode == 0 and "nothing of the lab is left" in cleaned.stdout


def test_hardened_profile_needs_only_anyuid_for_the_clearml_accounts(home):
    ns = _ns()
    lab = connect(namespace=ns, profile="hardened")
    for name in ("helm-repo", "project", "values", "scc"):
        result = steps.get(name).run(lab)
        assert result.ok, result.render_text()
    grants = [line for line in steps.get("scc").run(lab).output if " added: " in line]
    assert grants == []  # already granted on the first run
    from clearml_lab.oc import lab_grants

    assert lab_grants(lab.kube(), ns) == [
        ("anyuid", sa, True) for sa in ("clearml-apiserver", "clearml-fileserver", "clearml-webserver")
    ]
    installed = steps.get("install").run(lab)
    assert installed.ok, installed.render_text()
    assert steps.get("cleanup").run(lab).ok


def test_developer_is_told_what_to_ask_the_admin(home):
    ns = _ns()
    lab = connect(context="developer", namespace=ns)
    pre = steps.get("prerequisites").check(lab)
    scc_line = next(c for c in pre.checks if c.label == "SCC grants")
    assert scc_line.ok is False and "ask your cluster admin" in scc_line.fix
    for name in ("helm-repo", "project", "values"):
        assert steps.get(name).run(lab).ok
    result = steps.get("scc").run(lab)
    assert not result.ok
    assert any(
        line.startswith("not allowed to grant")
        and "ask your cluster admin to run: oc adm policy add-scc-to-user" in line
        for line in result.output
    )
    assert "ask your cluster admin to run: oc adm policy add-scc-to-user" in result.fix
    assert steps.get("project").undo(lab).ok


@pytest.mark.parametrize(
    "args,message",
    [
        (["--namespace", "Not_Valid", "run", "project"], "is not a valid name"),
        (["run", "nope"], "there is no step 'nope'"),
    ],
)
def test_bad_input_is_one_sentence_and_exit_2(home, args, message):
    result = cli(home, *args)
    assert result.returncode == 2 and message in result.stderr
    assert "Traceback" not in result.stderr


def test_unreachable_cluster_and_bad_token(home, tmp_path, practice_cluster):
    config = yaml.safe_load(practice_cluster.kubeconfig.read_text())
    config["clusters"][0]["cluster"]["server"] = "https://127.0.0.1:9"
    (tmp_path / "down").write_text(yaml.safe_dump(config))
    down = cli(home, "--kubeconfig", str(tmp_path / "down"), "check", "project")
    assert down.returncode == 1 and "cannot reach the cluster at https://127.0.0.1:9" in down.stderr
    assert "Traceback" not in down.stderr
    config = yaml.safe_load(practice_cluster.kubeconfig.read_text())
    for user in config["users"]:
        user["user"]["token"] = "sha256~expired"
    (tmp_path / "bad").write_text(yaml.safe_dump(config))
    bad = cli(home, "--kubeconfig", str(tmp_path / "bad"), "check", "project")
    assert bad.returncode == 1 and "rejected your credentials (401 Unauthorized)" in bad.stderr
    assert "sha256~expired" not in bad.stdout + bad.stderr


def test_tokens_never_appear_in_results(home, practice_cluster):
    tokens = [practice_cluster.token(c) for c in ("kubeadmin", "developer")]
    ns = _ns()
    out = cli(home, "--namespace", ns, "run", "all", "-v")
    out_undo = cli(home, "--namespace", ns, "undo", "all", "-v")
    for text in (out.stdout, out.stderr, out_undo.stdout, out_undo.stderr):
        assert not any(token in text for token in tokens)
    assert out.returncode == 0 and out_undo.returncode == 0


def test_lint_values_cli_names_lines_and_exits_1(home, tmp_path):
    bad = tmp_path / "values.yaml"
    bad.write_text("apiserver:\n  servce:\n    type: ClusterIP\nelasticsearch:\n  rbac:\n    create: true\n")
    result = cli(home, "lint-values", str(bad))
    assert result.returncode == 1
    assert (
        f"{bad}:2:3: error: `apiserver.servce` is not a key of this chart; did you mean `apiserver.service`?"
        in result.stdout
    )
    good = tmp_path / "good.yaml"
    good.write_text("apiserver:\n  service:\n    type: ClusterIP\n")
    assert cli(home, "lint-values", str(good)).returncode == 0


def test_a_release_installed_by_someone_else_is_one_sentence(home, practice_cluster):
    ns = _ns()
    lab = connect(namespace=ns)
    for name in ("helm-repo", "project", "values", "scc"):
        assert steps.get(name).run(lab).ok
    from clearml_lab import chart

    other = practice_cluster.run(
        "helm",
        "install",
        "someone-else",
        str(chart.chart_package("7.14.4")),
        "--namespace",
        ns,
        "-f",
        str(lab.values_file),
        check=False,
    )
    assert other.returncode == 0, other.stderr
    result = steps.get("install").run(lab)
    assert not result.ok
    assert "objects of another helm release already exist in project" in result.summary
    assert steps.get("cleanup").run(lab).ok
