"""The harness itself: a missing browser fails the test (never a silent skip) saying what to do; JupyterLab finds
a port even when the one it was offered is taken by the time it binds, and never outlives the test process."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .chromium import require_chromium

pytestmark = pytest.mark.browser


def test_a_missing_chromium_fails_and_says_how_to_install_it(tmp_path):
    nowhere = {"PATH": str(tmp_path)}
    with pytest.raises(pytest.fail.Exception, match=r"Chromium is not installed.*apt-get install chromium"):
        require_chromium(nowhere, debian=tmp_path / "chromium")


def test_a_wrong_chromium_path_fails_naming_it(tmp_path):
    not_a_program = tmp_path / "chromium"
    not_a_program.write_text("")
    with pytest.raises(pytest.fail.Exception, match=f"CHROMIUM_PATH={not_a_program} is not an executable file"):
        require_chromium({"CHROMIUM_PATH": str(not_a_program)})


def test_chromium_is_found_on_path_or_where_debian_puts_it(tmp_path):
    program = tmp_path / "chromium"
    program.write_text("#!/bin/sh\n")
    program.chmod(0o755)
    assert require_chromium({"PATH": str(tmp_path)}, debian=tmp_path / "elsewhere") == program
    assert require_chromium({"PATH": ""}, debian=program) == program


def test_jupyterlab_moves_to_another_port_when_its_port_was_taken(tmp_path, monkeypatch):
    from . import jupyterlab_server

    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        taken = held.getsockname()[1]
        offered = iter([taken])  # the first "free" port offered is one someone else already holds
        free = jupyterlab_server.free_port
        monkeypatch.setattr(jupyterlab_server, "free_port", lambda: next(offered, None) or free())
        server = jupyterlab_server.JupyterLabServer(tmp_path / "root", tmp_path / "home").start()
        try:
            assert server.port != taken
            assert server.api("/api/status")["kernels"] == 0
        finally:
            server.stop()
    assert server.process is None


def test_jupyterlab_stops_when_the_test_process_dies_without_stopping_it(tmp_path):
    # As when a timeout kills pytest before its fixtures run: the server must not outlive it.
    script = (
        "import os, sys; from pathlib import Path; sys.path.insert(0, sys.argv[1]); "
        "from jupyterlab_server import JupyterLabServer; "
        "server = JupyterLabServer(Path(sys.argv[2]) / 'root', Path(sys.argv[2]) / 'home').start(); "
        "print(server.process.pid, flush=True); os._exit(0)"
    )
    started = subprocess.run(
        [sys.executable, "-c", script, str(Path(__file__).parent), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert started.returncode == 0, started.stderr
    pid = int(started.stdout.split()[-1])
    deadline = time.monotonic() + 30
    while Path(f"/proc/{pid}").exists() and "zombie" not in _state(pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not Path(f"/proc/{pid}").exists() or "zombie" in _state(pid), f"JupyterLab {pid} outlived its parent"


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/status").read_text().split("State:")[1].splitlines()[0]
    except (OSError, IndexError):
        return "gone"
