"""A throwaway JupyterLab for the browser tests: its own root, port, token and Jupyter directories, so nothing the
user has configured (settings, workspaces, IPython start-up files) changes what the test sees, and nothing the test
does lands in the user's settings."""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

BIN = Path(sys.executable).parent

# JupyterLab user settings written into the private settings directory. Every cell stays in the DOM (no windowing)
# so outputs below the fold can be found; nothing pops up on a fresh profile to cover what the test clicks; and a
# notebook the test runs is never saved over (the committed notebooks keep their reference outputs).
LAB_SETTINGS = {
    "@jupyterlab/notebook-extension:tracker": {"windowingMode": "none"},
    "@jupyterlab/docmanager-extension:plugin": {"autosave": False},
    "@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": False},
}


def _die_with_parent() -> None:
    """In the server's process before it starts (Linux): have the kernel send it SIGTERM when the test process
    dies, so a pytest killed by a timeout leaves no server (and, since the server stops them, no kernels) behind."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass  # not Linux: the fixtures still stop the server on a normal end


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class JupyterLabServer:
    """``jupyter lab`` as a subprocess. ``env`` is added to the server's environment, and so to its kernels' (the
    way the notebooks are pointed at a practice cluster); a name mapped to None is removed from it."""

    def __init__(self, root: Path, home: Path, *, env: dict[str, str | None] | None = None, config: Path | None = None):
        self.root = Path(root)
        self.config = config  # a jupyter config file (the lab's own: notebooks/.jupyter/jupyter_lab_config.py)
        self.home = Path(home)
        self.extra_env = dict(env or {})
        self.token = secrets.token_hex(24)
        self.port = 0
        self.process: subprocess.Popen | None = None
        self.log_path = self.home / "jupyterlab.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def auth_header(self) -> dict[str, str]:
        return {"Authorization": f"token {self.token}"}

    def _environment(self) -> dict[str, str]:
        dirs = {
            name: self.home / sub
            for name, sub in (
                ("JUPYTER_CONFIG_DIR", "config"),
                ("JUPYTER_DATA_DIR", "data"),
                ("JUPYTER_RUNTIME_DIR", "runtime"),
                ("JUPYTERLAB_SETTINGS_DIR", "lab-settings"),
                ("JUPYTERLAB_WORKSPACES_DIR", "lab-workspaces"),
                ("IPYTHONDIR", "ipython"),
            )
        }
        for path in dirs.values():
            path.mkdir(parents=True, exist_ok=True)
        for plugin, values in LAB_SETTINGS.items():
            package, name = plugin.split(":")
            target = dirs["JUPYTERLAB_SETTINGS_DIR"] / package / f"{name}.jupyterlab-settings"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(json.dumps(values))
        env = {**os.environ, **{name: str(path) for name, path in dirs.items()}}
        env.pop("JUPYTER_PATH", None)  # only the venv's extensions and kernels, never ones found elsewhere
        for name, value in self.extra_env.items():
            if value is None:
                env.pop(name, None)
            else:
                env[name] = value
        env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
        return env

    def start(self, timeout: float = 60, attempts: int = 3) -> JupyterLabServer:
        self.root.mkdir(parents=True, exist_ok=True)
        self.home.mkdir(parents=True, exist_ok=True)
        for _ in range(attempts):
            # A free port can be taken by someone else before the server binds it; then take another.
            if self._launch(timeout):
                return self
        raise RuntimeError(f"JupyterLab found no free port in {attempts} attempts:\n{self.log_tail()}")

    def _launch(self, timeout: float) -> bool:
        self.port = free_port()
        command = [
            str(BIN / "jupyter"),
            "lab",
            "--no-browser",
            "--ip=127.0.0.1",
            f"--port={self.port}",
            "--ServerApp.port_retries=0",
            f"--ServerApp.root_dir={self.root}",
            f"--IdentityProvider.token={self.token}",
            "--allow-root",  # CI containers run as root; the server is private to this test anyway
            # Nothing reaches out to the internet: no news, no update check, no PyPI extension manager.
            "--LabApp.news_url=None",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            "--LabApp.extension_manager=readonly",
            *([f"--config={self.config}"] if self.config else []),
        ]
        with open(self.log_path, "wb") as log:
            # Its own session, so stopping it can also end any kernel it leaves behind.
            self.process = subprocess.Popen(
                command,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.root,
                env=self._environment(),
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )
        deadline = time.monotonic() + timeout
        while not self._answers():
            if self.process.poll() is not None:
                if "already in use" in self.log_tail():
                    self.process = None
                    return False
                raise RuntimeError(
                    f"JupyterLab exited with {self.process.returncode} before answering:\n{self.log_tail()}"
                )
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"JupyterLab did not answer within {timeout:.0f} s:\n{self.log_tail()}")
            time.sleep(0.2)
        return True

    def _answers(self) -> bool:
        request = urllib.request.Request(f"{self.url}/api/status", headers=self.auth_header)
        try:
            with urllib.request.urlopen(request, timeout=2) as response:
                return response.status == 200
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return False

    def api(self, path: str):
        """GET a Jupyter server REST path (``/api/sessions``) and return its JSON."""
        request = urllib.request.Request(f"{self.url}{path}", headers=self.auth_header)
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.load(response)

    def log_tail(self, lines: int = 40) -> str:
        """The end of the server log with the token blanked out, fit to show in a failure message."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no server log)"
        return "\n".join(text.replace(self.token, "<token>").splitlines()[-lines:])

    def stop(self, timeout: float = 15) -> None:
        if self.process is None:
            return
        process, self.process = self.process, None
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)  # the server shuts its kernels down on SIGTERM
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        try:
            os.killpg(process.pid, signal.SIGKILL)  # a kernel that outlived its server
        except ProcessLookupError:
            pass
