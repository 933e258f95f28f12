"""Start a practice cluster as its own process and talk to it like any client would (reusable by other test
folders: ``from tests.live.cluster import PracticeCluster``)."""

from __future__ import annotations

import base64
import os
import signal
import ssl
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

BIN = Path(sys.executable).parent


class PracticeCluster:
    def __init__(self, state: Path, *, time_scale: float = 0.05, extra_args: tuple[str, ...] = ()):
        self.state = Path(state)
        self.kubeconfig = self.state / "kubeconfig"
        self.time_scale = time_scale
        self.extra_args = tuple(extra_args)
        self.process: subprocess.Popen | None = None

    # ---- process -------------------------------------------------------------------------------------------------
    def start(self, timeout: float = 60) -> PracticeCluster:
        self.state.mkdir(parents=True, exist_ok=True)
        self.kubeconfig.unlink(missing_ok=True)
        command = [
            sys.executable,
            "-m",
            "clearml_lab",
            "practice",
            "serve",
            "--port",
            "0",
            "--state",
            str(self.state),
            "--kubeconfig",
            str(self.kubeconfig),
            "--time-scale",
            str(self.time_scale),
            *self.extra_args,
        ]
        self._log = open(self.state / "test-server.log", "ab")
        self.process = subprocess.Popen(command, stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while not self.kubeconfig.exists():
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"the practice cluster exited with {self.process.returncode}; see {self.state / 'test-server.log'}"
                )
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the practice cluster did not write its kubeconfig in time")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process:
            self._log.close()
        self.process = None

    def kill(self) -> None:
        """kill -9, as a crash would."""
        if self.process:
            self.process.kill()
            self.process.wait()
            self._log.close()
        self.process = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # ---- clients -------------------------------------------------------------------------------------------------
    def config(self) -> dict:
        return yaml.safe_load(self.kubeconfig.read_text())

    @property
    def server(self) -> str:
        return self.config()["clusters"][0]["cluster"]["server"]

    def token(self, context: str = "kubeadmin") -> str:
        users = {u["name"]: u["user"] for u in self.config()["users"]}
        return users[context]["token"]

    def ca_file(self) -> str:
        path = self.state / "test-ca.crt"
        if not path.exists():
            data = self.config()["clusters"][0]["cluster"]["certificate-authority-data"]
            path.write_bytes(base64.b64decode(data))
        return str(path)

    def ssl_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.ca_file())

    def api_client(self, context: str = "kubeadmin"):
        from kubernetes import config

        return config.new_client_from_config(config_file=str(self.kubeconfig), context=context)

    def env(self) -> dict:
        home = self.state / "tool-home"
        home.mkdir(exist_ok=True)
        return {
            **os.environ,
            "KUBECONFIG": str(self.kubeconfig),
            "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
            "HOME": str(home),
            "HELM_CACHE_HOME": str(home / "helm-cache"),
            "HELM_CONFIG_HOME": str(home / "helm-config"),
            "HELM_DATA_HOME": str(home / "helm-data"),
        }

    def run(self, *args: str, check: bool = True, input: str | None = None, timeout: float = 120):
        """Run kubectl or helm (from the venv's bin) against this cluster; returns the CompletedProcess."""
        result = subprocess.run(
            [str(BIN / args[0]), *args[1:]],
            env=self.env(),
            capture_output=True,
            text=True,
            input=input,
            timeout=timeout,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"{' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
        return result

    def request(
        self,
        method: str,
        path: str,
        *,
        body: bytes | None = None,
        content_type: str | None = None,
        token: str | None = "default",
        timeout: float = 30,
    ):
        """A raw HTTPS request: returns (status, headers, body bytes)."""
        import http.client
        from urllib.parse import urlparse

        url = urlparse(self.server)
        conn = http.client.HTTPSConnection(url.hostname, url.port, context=self.ssl_context(), timeout=timeout)
        headers = {}
        if token == "default":
            token = self.token()
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if content_type:
            headers["Content-Type"] = content_type
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            conn.close()


def temporary_cluster(**kwargs) -> PracticeCluster:
    return PracticeCluster(Path(tempfile.mkdtemp(prefix="practice-")), **kwargs)
