"""connect(): the one object a notebook holds — which cluster, as whom, with which settings.

The lab never acts on a real cluster unless the user chose it: an explicit kubeconfig, ``$KUBECONFIG``, a context
or in-cluster configuration counts as that choice; otherwise it uses the practice cluster's own kubeconfig.
Local state (values files, helm's repository config and cache) lives in a directory per cluster and namespace.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import socket
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from .chart import PUBLIC_REPO, REPO_ENV, default_version, repo_url
from .errors import LabError, UsageError
from .helm import Helm
from .paths import lab_home, practice_state

DEFAULT_NAMESPACE = "clearml"
DEFAULT_RELEASE = "clearml"
CHART_PIN_FILE = "chart.json"  # the chart repository and version the helm-repo or values step resolved
PROFILES = ("seed", "hardened")
PRACTICE_ANNOTATION = "clearml-lab.io/practice-cluster"  # on ClusterVersion: this API server is a practice cluster
IN_CLUSTER_DIR = Path("/var/run/secrets/kubernetes.io/serviceaccount")
_UNKNOWN = object()  # a cached answer not asked for yet
_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


def practice_kubeconfig() -> Path:
    return practice_state() / "kubeconfig"


def check_dns_label(value: str, what: str, max_len: int = 63) -> str:
    if not value or len(value) > max_len or not _DNS1123_LABEL.match(value):
        raise UsageError(
            f"{what} {value!r} is not a valid name: use at most {max_len} lower-case letters, digits "
            f"and '-', starting and ending with a letter or digit (e.g. clearml)."
        )
    return value


@dataclass(frozen=True)
class Settings:
    namespace: str = DEFAULT_NAMESPACE
    release: str = DEFAULT_RELEASE
    chart_version: str | None = None  # None: the newest the repository serves that fits the cluster (see Lab)
    profile: str = "seed"
    overrides: dict = field(default_factory=dict)
    chart_repo: str | None = None  # None: the practice cluster's own repository on it, else the public one

    def __post_init__(self):
        check_dns_label(self.namespace, "namespace")
        check_dns_label(self.release, "release name", max_len=53)  # helm's own limit
        if self.profile not in PROFILES:
            raise UsageError(f"profile {self.profile!r} is unknown: choose one of {', '.join(PROFILES)}.")
        if self.chart_version is not None and not re.fullmatch(r"\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?", self.chart_version):
            raise UsageError(
                f"chart version {self.chart_version!r} is not a version number like 7.14.4: give "
                f"one that `clearml-lab charts` lists."
            )
        if self.chart_repo is not None:
            object.__setattr__(self, "chart_repo", repo_url(self.chart_repo))


@dataclass(frozen=True)
class Target:
    """Which cluster, and how the user chose it."""

    kind: str  # practice | kubeconfig | in-cluster
    server: str
    kubeconfig: str | None = None
    context: str | None = None
    context_namespace: str | None = None

    @property
    def is_practice(self) -> bool:
        return self.kind == "practice"

    def describe(self) -> str:
        where = {"practice": "the practice cluster", "kubeconfig": "the cluster", "in-cluster": "this cluster"}
        context = f" (context {self.context})" if self.context else ""
        return f"{where[self.kind]} at {self.server}{context}"


def _load_kubeconfig(path: str) -> dict:
    try:
        data = yaml.safe_load(Path(path).read_text()) or {}
    except FileNotFoundError:
        raise LabError(
            f"kubeconfig {path} does not exist: check the path, or start the practice cluster with "
            f"`clearml-lab practice up`."
        ) from None
    except yaml.YAMLError as err:
        raise LabError(f"kubeconfig {path} is not valid YAML ({err.__class__.__name__}); fix or replace it.") from None
    if not isinstance(data, dict) or not data.get("contexts"):
        raise LabError(f"kubeconfig {path} has no contexts: log in again (`oc login`) or choose another file.")
    return data


def resolve_target(kubeconfig: str | None = None, context: str | None = None, in_cluster: bool = False) -> Target:
    """Pick the cluster following the lab's rule of explicit choice (see the module docstring)."""
    if in_cluster:
        host, port = os.environ.get("KUBERNETES_SERVICE_HOST"), os.environ.get("KUBERNETES_SERVICE_PORT")
        if not host or not (_service_account_dir() / "token").exists():
            raise LabError(
                "in-cluster configuration is not available here (no service-account token or "
                "KUBERNETES_SERVICE_HOST): choose the practice cluster or a kubeconfig instead."
            )
        ns_file = _service_account_dir() / "namespace"
        namespace = ns_file.read_text().strip() if ns_file.exists() else None
        server = f"https://{host}:{port or 443}" if ":" not in host else f"https://[{host}]:{port or 443}"
        return Target("in-cluster", server, context_namespace=namespace)
    chosen = kubeconfig or os.environ.get("KUBECONFIG", "").split(os.pathsep)[0] or None
    kind = "kubeconfig" if (chosen or context) else "practice"
    path = chosen or str(practice_kubeconfig())
    if kind == "practice" and not Path(path).exists():
        raise LabError(
            "the practice cluster is not running (no kubeconfig at "
            f"{path}): start it with `clearml-lab practice up`, or choose a real cluster with "
            f"--kubeconfig."
        )
    data = _load_kubeconfig(path)
    name = context or data.get("current-context")
    contexts = {c["name"]: c.get("context", {}) for c in data["contexts"]}
    if name not in contexts:
        raise LabError(f"context {name!r} is not in {path}: choose one of {', '.join(sorted(contexts))}.")
    clusters = {c["name"]: c.get("cluster", {}) for c in data.get("clusters", [])}
    server = clusters.get(contexts[name].get("cluster"), {}).get("server", "?")
    return Target(kind, server, kubeconfig=path, context=name, context_namespace=contexts[name].get("namespace"))


def _service_account_dir() -> Path:
    # Tests (and unusual pods) point this at stand-in service-account files.
    return Path(os.environ.get("CLEARML_LAB_SA_DIR") or IN_CLUSTER_DIR)


def state_dir_for(target: Target, namespace: str) -> Path:
    """A local directory per cluster and namespace, so learners and processes on one machine never share state."""
    key = hashlib.sha256(f"{target.server}|{target.context or ''}".encode()).hexdigest()[:12]
    return lab_home() / "state" / f"{key}-{namespace}"


@dataclass
class Lab:
    target: Target
    settings: Settings
    api_client: object  # kubernetes.client.ApiClient
    state_dir: Path
    _practice: bool | None = field(default=None, repr=False)
    _seat: object = field(default=_UNKNOWN, repr=False)
    _repo: str | None = field(default=None, repr=False)
    _resolved_version: str | None = field(default=None, repr=False)

    @property
    def namespace(self) -> str:
        return self.settings.namespace

    def helm(self) -> Helm:
        return Helm(kubeconfig=self.target.kubeconfig, context=self.target.context, state_dir=self.state_dir)

    @property
    def is_practice(self) -> bool:
        """Whether the target is a practice cluster: chosen as the default, or one that says so of itself (a
        learner's kubeconfig from a workshop points at one too)."""
        if self._practice is None:
            self._practice = self.target.is_practice or self._marked_practice()
        return self._practice

    def _marked_practice(self) -> bool:
        # loads the kubernetes client (about 0.5 s): only once the lab talks to a cluster
        from .kube import ApiFailure

        try:
            version = self.kube().get("clusterversions", "version")
        except (ApiFailure, LabError):
            return False
        return (version.get("metadata", {}).get("annotations") or {}).get(PRACTICE_ANNOTATION) == "true"

    @property
    def workshop(self):
        """The learner's seat when the project is a workshop project (see workshop_mode), else None; asked once."""
        if self._seat is _UNKNOWN:
            # loads the kubernetes client (about 0.5 s): only once the lab talks to a cluster
            from .workshop_mode import detect

            self._seat = detect(self)
        return self._seat

    # -- the chart -----------------------------------------------------------------------------------------------
    @property
    def chart_repo(self) -> str:
        """The Helm repository the chart comes from: the one chosen (--chart-repo, $CLEARML_LAB_CHART_REPO), else on
        the practice cluster the repository it publishes (HelmChartRepository `clearml`), else the public one."""
        if self._repo is None:
            chosen = self.settings.chart_repo or os.environ.get(REPO_ENV)
            pinned = self.pinned_chart() or {}
            if chosen:
                self._repo = repo_url(chosen)
            elif pinned.get("repo_chosen") and pinned.get("repo"):
                self._repo = repo_url(pinned["repo"])  # a mirror chosen when the version was resolved stays chosen
            elif self.is_practice:
                repo = self.kube().get_or_none("helmchartrepositories", "clearml")
                url = (repo or {}).get("spec", {}).get("connectionConfig", {}).get("url")
                if not url:
                    raise LabError(
                        "the practice cluster publishes no chart repository (HelmChartRepository "
                        "clearml): restart it with `clearml-lab practice down` and `clearml-lab practice "
                        "up`, or name one with --chart-repo."
                    )
                self._repo = repo_url(url)
            else:
                self._repo = PUBLIC_REPO
        return self._repo

    @property
    def chart_version(self) -> str:
        """The chart version every step uses: the one chosen, else the one the helm-repo or values step resolved and
        kept (for this repository), else the newest the repository serves whose kubeVersion admits the cluster."""
        if self.settings.chart_version:
            return self.settings.chart_version
        pinned = self.pinned_chart()
        if pinned and pinned.get("repo") == self.chart_repo:
            return pinned["version"]
        if self._resolved_version is None:
            self._resolved_version = default_version(self.chart_repo, self.server_version())
        return self._resolved_version

    @property
    def chart_pin_file(self) -> Path:
        return self.state_dir / CHART_PIN_FILE

    def pinned_chart(self) -> dict | None:
        try:
            data = json.loads(self.chart_pin_file.read_text())
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) and data.get("version") else None

    def pin_chart_version(self) -> str:
        """Resolve the chart version once and keep it, with its repository, in the lab's settings and state dir, so
        values, scc and install use one version even when the repository publishes another mid-session."""
        version = self.chart_version
        chosen = bool(
            self.settings.chart_repo or os.environ.get(REPO_ENV) or (self.pinned_chart() or {}).get("repo_chosen")
        )
        wanted = {"repo": self.chart_repo, "version": version, "repo_chosen": chosen}
        if self.pinned_chart() != wanted:
            self.state_dir.mkdir(parents=True, exist_ok=True)
            partial = self.chart_pin_file.with_name(f".{CHART_PIN_FILE}.{os.getpid()}.partial")  # per writer
            partial.write_text(json.dumps(wanted))
            partial.replace(self.chart_pin_file)
        self.settings = replace(self.settings, chart_version=version)
        return version

    def forget_chart_version(self) -> None:
        self.chart_pin_file.unlink(missing_ok=True)

    def kube(self):
        # loads the kubernetes client (about 0.5 s): only once the lab talks to a cluster
        from .kube import Kube

        return Kube(self.api_client)

    @property
    def values_file(self) -> Path:
        return self.state_dir / "values.yaml"

    def server_version(self) -> str:
        """The cluster's Kubernetes gitVersion, e.g. v1.32.5."""
        return self.kube().request("GET", "/version")["gitVersion"]

    def with_settings(self, **changes) -> Lab:
        settings = replace(self.settings, **changes)
        seat = self._seat if settings.namespace == self.namespace else _UNKNOWN  # the same project, the same seat
        repo = self._repo if settings.chart_repo == self.settings.chart_repo else None
        return Lab(
            self.target,
            settings,
            self.api_client,
            state_dir_for(self.target, settings.namespace),
            self._practice,
            seat,
            repo,
        )

    def describe(self) -> str:
        return f"{self.target.describe()}, project {self.namespace}"


def _api_client(target: Target):
    # loads the kubernetes client (about 0.5 s): only once the lab talks to a cluster
    from kubernetes import client, config

    if target.kind == "in-cluster":
        sa_dir = _service_account_dir()
        configuration = client.Configuration()
        loader = config.incluster_config.InClusterConfigLoader(
            token_filename=str(sa_dir / "token"), cert_filename=str(sa_dir / "ca.crt")
        )
        loader.load_and_set(configuration)
        return client.ApiClient(configuration)
    try:
        return config.new_client_from_config(config_file=target.kubeconfig, context=target.context)
    except config.ConfigException as err:
        raise LabError(f"cannot use context {target.context!r} from {target.kubeconfig}: {err}") from None


def _practice_answers(server: str) -> None:
    """The practice cluster left a kubeconfig behind but may have stopped: say how to start it before anything
    else is printed (one TCP connect, no request)."""
    address = urlsplit(server)
    try:
        socket.create_connection((address.hostname, address.port or 443), timeout=2).close()
    except OSError:
        raise LabError(
            f"the practice cluster is not running (nothing answers at {server}): start it with "
            f"`clearml-lab practice up`."
        ) from None


def connect(
    kubeconfig: str | None = None,
    context: str | None = None,
    *,
    in_cluster: bool = False,
    namespace: str | None = None,
    release: str | None = None,
    chart_version: str | None = None,
    profile: str | None = None,
    overrides: dict | None = None,
    chart_repo: str | None = None,
) -> Lab:
    """Choose the target and settings. Nothing is sent to the cluster until a step runs."""
    target = resolve_target(kubeconfig, context, in_cluster)
    if target.is_practice:
        _practice_answers(target.server)
    settings = Settings(
        namespace=namespace or target.context_namespace or DEFAULT_NAMESPACE,
        release=release or DEFAULT_RELEASE,
        chart_version=chart_version or None,
        profile=profile or "seed",
        overrides=dict(overrides or {}),
        chart_repo=chart_repo or None,
    )
    return Lab(target, settings, _api_client(target), state_dir_for(target, settings.namespace))
