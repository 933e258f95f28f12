"""`clearml-lab practice serve|up|down|status` as a user meets it: bad input is one sentence and starts nothing, one
state directory has one server, a server killed with -9 is not mistaken for a running one, Ctrl-C ends cleanly."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .cluster import PracticeCluster

CLI = [sys.executable, "-m", "clearml_lab"]


def _lab(tmp_path: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    env = {**os.environ, "CLEARML_LAB_HOME": str(tmp_path / "home")}
    env.pop("KUBECONFIG", None)
    return subprocess.run(
        [*CLI, *args], capture_output=True, text=True, timeout=timeout, env=env, stdin=subprocess.DEVNULL
    )


def _one_sentence(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one sentence, got:\n{stderr}"
    assert "Traceback" not in stderr
    return lines[0]


@pytest.mark.parametrize(
    "args, words",
    [
        (("--time-scale", "0"), "--time-scale must be a positive number"),
        (("--time-scale", "-1"), "--time-scale must be a positive number"),
        (("--openshift-version", "3.11"), "choose one of 4.11"),
        (("--port", "70000"), "--port must be between 0 and 65535"),
    ],
)
def test_bad_serve_options_are_one_sentence_and_leave_no_state(tmp_path, args, words):
    state = tmp_path / "state"
    result = _lab(tmp_path, "practice", "serve", "--state", str(state), *args, timeout=60)
    assert result.returncode == 2
    assert words in _one_sentence(result.stderr)
    assert not state.exists(), "a refused start must not create the state directory"


def test_a_port_in_use_is_one_sentence_naming_the_port(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = _lab(
            tmp_path, "practice", "serve", "--state", str(tmp_path / "state"), "--port", str(port), timeout=60
        )
    assert result.returncode == 1
    sentence = _one_sentence(result.stderr)
    assert f"port {port}" in sentence and "--port" in sentence
    assert not (tmp_path / "state" / "server.json").exists()


def test_two_servers_on_one_state_directory(tmp_path):
    state = tmp_path / "state"
    with PracticeCluster(state) as first:
        result = _lab(tmp_path, "practice", "serve", "--state", str(state), timeout=60)
        assert result.returncode == 1
        sentence = _one_sentence(result.stderr)
        assert "already serves" in sentence and "practice down" in sentence
        # The first one is untouched: it still answers with the credentials it wrote.
        assert first.run("kubectl", "get", "namespaces", "-o", "name").returncode == 0
        assert json.loads((state / "server.json").read_text())["pid"] == first.process.pid


def test_kill_minus_nine_of_a_background_cluster_then_status_up_down(tmp_path):
    state = tmp_path / "state"
    up = _lab(tmp_path, "practice", "up", "--state", str(state), "--time-scale", "0.05")
    assert up.returncode == 0, up.stderr
    pid = json.loads((state / "server.json").read_text())["pid"]
    try:
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while (
            time.monotonic() < deadline
            and Path(f"/proc/{pid}").exists()
            and "Z" not in Path(f"/proc/{pid}/stat").read_text().split()[2]
        ):
            time.sleep(0.05)
        assert (state / "server.json").exists(), "kill -9 leaves the stale server file this test is about"

        status = _lab(tmp_path, "practice", "status", "--state", str(state))
        assert status.returncode == 3 and "not running" in status.stdout

        down = _lab(tmp_path, "practice", "down", "--state", str(state))
        assert down.returncode == 0 and "not running" in down.stdout

        again = _lab(tmp_path, "practice", "up", "--state", str(state), "--time-scale", "0.05")
        assert again.returncode == 0, again.stderr
        new_pid = json.loads((state / "server.json").read_text())["pid"]
        assert new_pid != pid and "runs at https://" in again.stdout
        status = _lab(tmp_path, "practice", "status", "--state", str(state))
        assert status.returncode == 0 and f"pid {new_pid}" in status.stdout
    finally:
        _lab(tmp_path, "practice", "down", "--state", str(state))
    assert _lab(tmp_path, "practice", "status", "--state", str(state)).returncode == 3


def test_ctrl_c_stops_serve_with_exit_130_and_releases_the_state(tmp_path):
    state = tmp_path / "state"
    cluster = PracticeCluster(state).start()
    try:
        cluster.process.send_signal(signal.SIGINT)
        assert cluster.process.wait(30) == 130
    finally:
        cluster.stop()
    assert not (state / "server.json").exists(), "a clean stop removes its server file"
    # The state is free again: a new server starts on it and keeps the objects.
    with PracticeCluster(state) as again:
        assert again.run("kubectl", "get", "namespace", "default", "-o", "name").stdout.strip() == "namespace/default"
