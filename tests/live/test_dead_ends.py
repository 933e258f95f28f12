"""Issue 14, item 4: every dead end of the CLI names the step that fixes it, at once (no waiting on a project that
is not there), and `status` says which cluster it reads. Each command runs as its own process, as a learner types it."""

import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from .recipe_helpers import cli

BIN = Path(sys.executable).parent
FIX_PROJECT = "run `clearml-lab run project` (notebook 02)"


def _absent() -> str:
    return f"nope-{uuid.uuid4().hex[:6]}"


@pytest.mark.parametrize(
    "args",
    [("run", "install"), ("check", "install"), ("diagnose",), ("status",), ("check", "routes"), ("run", "scc")],
    ids=lambda a: "-".join(a),
)
def test_a_missing_project_is_named_with_the_step_that_makes_it(home, args):
    done = cli(home, "--namespace", _absent(), *args, timeout=60)
    said = done.stdout + done.stderr
    assert done.returncode != 0, said
    assert FIX_PROJECT in said, said
    assert "Traceback" not in said


def test_status_names_the_cluster_and_project_it_reads(home):
    ns = _absent()
    done = cli(home, "--namespace", ns, "status")
    assert f"project {ns} on the practice cluster at https://127.0.0.1:" in done.stderr


def test_install_without_the_repository_names_the_helm_repo_step(home):
    ns = _absent()
    assert cli(home, "--namespace", ns, "run", "project").returncode == 0
    done = cli(home, "--namespace", ns, "run", "install")
    assert done.returncode == 1
    assert "run `clearml-lab run helm-repo` (notebook 01)" in done.stdout, done.stdout
    assert cli(home, "--namespace", ns, "run", "helm-repo").returncode == 0
    done = cli(home, "--namespace", ns, "run", "install")
    assert "run `clearml-lab run values` (notebook 03)" in done.stdout, done.stdout
    assert cli(home, "--namespace", ns, "undo", "project").returncode == 0


def test_a_stopped_practice_cluster_says_how_to_start_it(tmp_path):
    home = tmp_path / "home"
    (home / "practice").mkdir(parents=True)
    # a kubeconfig left behind by a practice cluster that is no longer running: nothing listens on its port
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    (home / "practice" / "kubeconfig").write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: kubeadmin\n"
        f"clusters: [{{name: practice, cluster: {{server: 'https://127.0.0.1:{port}', insecure-skip-tls-verify: true}}}}]\n"
        "users: [{name: kubeadmin, user: {token: x}}]\n"
        "contexts: [{name: kubeadmin, context: {cluster: practice, user: kubeadmin}}]\n"
    )
    done = cli(home, "status", timeout=60)
    assert done.returncode == 1
    assert "start it with `clearml-lab practice up`" in done.stderr, done.stderr
    assert "acting on" not in done.stdout


def test_on_a_terminal_a_wait_shows_a_live_line_that_is_cleared_afterwards(home):
    """Item 5: with stdout a TTY, the CLI rewrites one line in place (what is awaited, elapsed) while a step waits;
    piped, it prints no such line (see the tests above, whose output is plain)."""
    import os
    import pty
    import time

    ns = _absent()
    assert cli(home, "--namespace", ns, "run", "project").returncode == 0
    main, child = pty.openpty()
    env = {**os.environ, "CLEARML_LAB_HOME": str(home), "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    env.pop("KUBECONFIG", None)
    process = subprocess.Popen(
        [str(BIN / "clearml-lab"), "--namespace", ns, "run", "cleanup"],
        stdout=child,
        stderr=child,
        stdin=subprocess.DEVNULL,
        env=env,
    )
    os.close(child)
    seen, deadline = b"", time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            chunk = os.read(main, 4096)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        seen += chunk
    assert process.wait(60) == 0, seen.decode(errors="replace")
    os.close(main)
    text = seen.decode(errors="replace")
    assert "\r\x1b[Krun cleanup — " in text, text  # the live line, rewritten in place
    assert "[PASS] cleanup run: nothing of the lab is left on the cluster." in text
    last = text.rsplit("\r\x1b[K", 1)[1]
    assert last.lstrip().startswith("[PASS] cleanup run"), last  # the live line was cleared before the result


def test_a_chart_whose_kube_version_refuses_the_cluster_names_the_versions_that_fit(home):
    ns = _absent()
    done = cli(home, "--namespace", ns, "run", "values", "--chart-version", "7.3.1")
    assert done.returncode == 1, done.stdout + done.stderr
    assert re.search(
        r"fix: choose chart (\d+\.\d+\.\d+) for Kubernetes 1\.\d+[.\d]*, or a cluster inside .*"
        r"`clearml-lab run values --chart-version \1`, notebook 03\)",
        done.stdout,
    ), done.stdout
    assert "edit " not in done.stdout.split("fix:")[-1]


def test_steps_run_out_of_order_name_the_step_before_them(home):
    ns = _absent()
    assert cli(home, "--namespace", ns, "run", "project").returncode == 0
    for args, fix in (
        (("run", "scc"), "run `clearml-lab run values` (notebook 03)"),
        (("check", "values"), "run `clearml-lab run values` (notebook 03)"),
        (("run", "routes"), "run `clearml-lab run install` (notebook 05)"),
    ):
        done = cli(home, "--namespace", ns, *args)
        assert done.returncode == 1 and f"fix: {fix}" in done.stdout, (args, done.stdout + done.stderr)
    undone = cli(home, "--namespace", ns, "undo", "install")
    assert (
        undone.returncode == 0
        and "[INFO] install undo: release clearml is not installed; nothing to undo." in undone.stdout
    )
    assert cli(home, "--namespace", ns, "undo", "project").returncode == 0
