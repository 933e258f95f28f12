"""The real helm CLI, driven with argument lists.

Every call names the lab's kubeconfig and context explicitly (never the user's default context by accident) and
keeps helm's own repository config and cache in a directory of the lab's, per cluster and namespace, so several
learners on one machine never share repository state. Output is streamed line by line to an optional callback.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .errors import LabError

MIN_HELM3 = (3, 14)
DEFAULT_TIMEOUT_S = 600


def find_helm() -> str | None:
    """helm on PATH, else the one `make` installs beside this interpreter (a venv run without activating it)."""
    beside = Path(sys.executable).parent / "helm"
    return shutil.which("helm") or (str(beside) if beside.exists() else None)


@dataclass(frozen=True)
class HelmResult:
    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    @property
    def error(self) -> str:
        """helm's own one-line reason (its last `Error: …` line), or the last line it printed."""
        lines = [line for line in self.stderr.splitlines() if line.strip()]
        errors = [line for line in lines if line.startswith("Error:")]
        return (errors or lines or ["helm failed without a message"])[-1]


@dataclass
class Helm:
    """helm bound to one cluster (kubeconfig + context) and one lab state directory."""

    kubeconfig: str | None
    context: str | None
    state_dir: Path
    binary: str | None = None
    extra_env: dict = field(default_factory=dict)

    def __post_init__(self):
        self.state_dir = Path(self.state_dir)
        self.binary = self.binary or find_helm()

    # -- environment -------------------------------------------------------------------------------------------
    def env(self) -> dict:
        home = self.state_dir / "helm"
        env = {k: v for k, v in os.environ.items() if not k.startswith("HELM_")}
        env.update(
            HELM_CONFIG_HOME=str(home / "config"),
            HELM_CACHE_HOME=str(home / "cache"),
            HELM_DATA_HOME=str(home / "data"),
            HELM_REPOSITORY_CONFIG=str(home / "config" / "repositories.yaml"),
            HELM_REPOSITORY_CACHE=str(home / "cache" / "repository"),
        )
        # helm must not fall back on the user's current context: the lab passes both explicitly.
        env.pop("KUBECONFIG", None)
        env.update(self.extra_env)
        return env

    def cluster_args(self) -> list[str]:
        args = []
        if self.kubeconfig:
            args += ["--kubeconfig", str(self.kubeconfig)]
        if self.context:
            args += ["--kube-context", self.context]
        return args

    # -- running -----------------------------------------------------------------------------------------------
    def require(self) -> str:
        if not self.binary or not Path(self.binary).exists():
            raise LabError(
                "helm is not installed or not on PATH: run `make lab` (it installs a pinned helm 4) "
                "or install helm 3.14+ yourself."
            )
        return self.binary

    def run(
        self,
        args: Sequence[str],
        *,
        cluster: bool = True,
        timeout: float = DEFAULT_TIMEOUT_S,
        on_line: Callable[[str], None] | None = None,
        stdin: str | None = None,
    ) -> HelmResult:
        argv = [self.require(), *args, *(self.cluster_args() if cluster else [])]
        for sub in ("config", "cache", "data"):
            (self.state_dir / "helm" / sub).mkdir(parents=True, exist_ok=True)
        proc = subprocess.Popen(
            argv,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=self.env(),
            stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
        )
        out, err = [], []

        def pump(stream, sink):
            for line in stream:
                sink.append(line)
                if on_line:
                    on_line(line.rstrip("\n"))

        readers = [
            threading.Thread(target=pump, args=(proc.stdout, out), daemon=True),
            threading.Thread(target=pump, args=(proc.stderr, err), daemon=True),
        ]
        for reader in readers:
            reader.start()
        if stdin is not None:
            proc.stdin.write(stdin)
            proc.stdin.close()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise LabError(
                f"helm {args[0]} did not finish within {int(timeout)} s; check the cluster's "
                f"reachability and try again."
            ) from None
        for reader in readers:
            reader.join()
        return HelmResult(tuple(argv), proc.returncode, "".join(out), "".join(err))

    def version(self) -> tuple[int, int, int]:
        result = self.run(["version", "--short"], cluster=False, timeout=30)
        match = re.match(r"v(\d+)\.(\d+)\.(\d+)", result.stdout.strip())
        if not result.ok or not match:
            raise LabError(f"could not read helm's version ({result.error}); reinstall helm 3.14+ or 4.x.")
        return tuple(int(x) for x in match.groups())

    def supported(self) -> bool:
        major, minor, _ = self.version()
        return major >= 4 or (major == 3 and (major, minor) >= MIN_HELM3)
