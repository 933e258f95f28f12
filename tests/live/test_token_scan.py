"""No token in anything the lab or the practice server writes or prints, but where tokens belong by design.

One cluster of its own, so its log and store hold only what this scenario did: the recipe through the CLI (run, status,
check, diagnose, undo) and a workshop (provision with hand-outs, progress, reset, teardown). Then every output, the
server's log, its SQLite store (with its write-ahead log) and every file of the lab's home are searched for every token
and for each token's secret part. Kubeconfigs and the server's token file hold tokens by design and are the only files
left out.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from .cluster import temporary_cluster
from .recipe_helpers import cli, lab_home_for

BY_DESIGN = {"kubeconfig", "tokens.json"}  # files whose job is to hold a token


@pytest.fixture(scope="module")
def cluster():
    with temporary_cluster() as running:
        yield running


def _tokens_in(kubeconfig: Path) -> set[str]:
    users = yaml.safe_load(kubeconfig.read_text())["users"]
    return {u["user"]["token"] for u in users if u["user"].get("token")}


def _files(root: Path):
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.name not in BY_DESIGN and not path.name.endswith(".kubeconfig"):
            yield path


def test_no_token_in_outputs_logs_store_or_lab_files(cluster, tmp_path):
    home = lab_home_for(cluster, tmp_path / "home")
    outputs: list[tuple[str, str]] = []

    def run(*args: str) -> str:
        result = cli(home, *args)
        outputs.append((" ".join(args), result.stdout + result.stderr))
        return result

    assert run("--namespace", "scan", "run", "all", "-v").returncode == 0
    run("--namespace", "scan", "status")
    run("--namespace", "scan", "check", "all")
    run("--namespace", "scan", "diagnose")
    handouts = tmp_path / "handouts"
    assert run("workshop", "provision", "--names", "ada,grace", "--out", str(handouts)).returncode == 0
    run("workshop", "progress")
    run("workshop", "reset", "ada", "--to", "values")
    assert run("--namespace", "scan", "undo", "all", "-v").returncode == 0
    assert run("workshop", "teardown").returncode == 0

    tokens = _tokens_in(cluster.kubeconfig)
    for kubeconfig in handouts.rglob("*.kubeconfig"):
        tokens |= _tokens_in(kubeconfig)
    assert len(tokens) >= 4, f"expected kubeadmin, developer and two learners' tokens, found {len(tokens)}"
    secrets = tokens | {t.removeprefix("sha256~") for t in tokens}

    for what, text in outputs:
        leaked = [s for s in secrets if s in text]
        assert not leaked, f"`clearml-lab {what}` printed a token"
    scanned = 0
    for root in (cluster.state, home, handouts):
        for path in _files(root):
            data = path.read_bytes()
            leaked = [s for s in secrets if s.encode() in data]
            assert not leaked, f"{path} holds a token"
            scanned += 1
    names = {p.name for p in _files(cluster.state)}
    assert {"cluster.db", "test-server.log"} <= names, f"the store and the log were not scanned: {sorted(names)}"
    assert scanned > 5
