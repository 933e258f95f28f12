"""The clearml chart as helm installs it: read from a Helm repository with the real helm.

The repository is the one the learner chose (`--chart-repo URL`, else $CLEARML_LAB_CHART_REPO, else the public
ClearML repository; a lab on the practice cluster passes that cluster's own repository). Its index.yaml — downloaded
by `helm repo add` into a helm home of the lab's cache, so helm's own transport, proxies and TLS apply — says which
versions exist, their appVersion and kubeVersion and each package's digest. A package is fetched with `helm pull`
(the same bytes `helm install` uses) into a cache keyed by repository URL, version and digest, under
`$XDG_CACHE_HOME/clearml-lab/charts`; it is downloaded into a temporary directory and renamed into place, so the cache
never holds half a package. Rendering, the values lint, the SCC plan and the kubeVersion checks all read that package.

When the repository cannot be reached, a cached index or package answers instead, and ``source_note`` says so.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import tarfile
import tempfile
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from .errors import LabError, UsageError
from .helm import Helm
from .profiles import profile_values
from .values import effective_defaults, keys_of_chart
from .versions import core, satisfies

CHART = "clearml"
PUBLIC_REPO = "https://clearml.github.io/clearml-helm-charts"
REPO_ENV = "CLEARML_LAB_CHART_REPO"
# helm's own repository options, for a mirror that needs them (the password is handed to helm on stdin).
CA_FILE_ENV = "CLEARML_LAB_CHART_REPO_CA_FILE"
USERNAME_ENV = "CLEARML_LAB_CHART_REPO_USERNAME"
PASSWORD_ENV = "CLEARML_LAB_CHART_REPO_PASSWORD"
INSECURE_ENV = "CLEARML_LAB_CHART_REPO_INSECURE_SKIP_TLS_VERIFY"
RENDER_TIMEOUT_S = 120
FETCH_TIMEOUT_S = 120
INDEX_MAX_AGE_S = 600  # an index read from the cache is fetched again after this; `charts` always fetches

PROGRESS_AFTER_S = 1.5  # a fetch that takes longer than this says what it waits for
# Where that sentence goes: the CLI sets a printer to stderr, a notebook may set its own; None keeps quiet.
progress: Callable[[str], None] | None = None

_lock = threading.RLock()
_indexes: dict[tuple[str, str], RepoIndex] = {}  # by (cache directory, URL): the helm home that knows the repo
_notes: dict[str, str] = {}
_files: dict[Path, ChartFiles] = {}
_keys: dict[Path, object] = {}  # values.ChartKeys by package: reading every template once per process


# ---- the repository -------------------------------------------------------------------------------------------------
def repo_url(repo: str | None = None) -> str:
    """The repository URL to use: ``repo``, else $CLEARML_LAB_CHART_REPO, else the public ClearML repository."""
    url = (repo or os.environ.get(REPO_ENV) or PUBLIC_REPO).strip()
    if url.startswith("oci://"):
        raise UsageError(
            f"chart repository {url} is an OCI registry, which the lab does not read: serve an "
            f"index-based mirror over HTTP(S) (`helm repo index`) and pass its URL with --chart-repo."
        )
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise UsageError(
            f"chart repository {url!r} is not an http(s) URL: pass one like {PUBLIC_REPO} with --chart-repo."
        )
    if parts.username or parts.password:
        raise UsageError(
            f"chart repository URL for {parts.hostname} carries credentials: give them in "
            f"${USERNAME_ENV} and ${PASSWORD_ENV} instead, so they are never printed."
        )
    return url.rstrip("/")


def _auth_args() -> tuple[list[str], str | None]:
    """helm's own repository options from the environment, and the password for its --password-stdin."""
    args, password = [], None
    if ca := os.environ.get(CA_FILE_ENV):
        if not Path(ca).is_file():
            raise UsageError(
                f"${CA_FILE_ENV} names {ca}, which does not exist: give the path of the CA bundle that "
                f"signed the chart repository's certificate."
            )
        args += ["--ca-file", ca]
    if user := os.environ.get(USERNAME_ENV):
        password = os.environ.get(PASSWORD_ENV)
        if password is None:
            raise UsageError(f"${USERNAME_ENV} is set but ${PASSWORD_ENV} is not: set both, or neither.")
        args += ["--username", user, "--password-stdin"]
    if os.environ.get(INSECURE_ENV, "").lower() in ("1", "true", "yes"):
        args += ["--insecure-skip-tls-verify"]
    return args, password


def repo_add_args(name: str, url: str) -> tuple[list[str], str | None]:
    """`helm repo add` for this repository with helm's own TLS/credential options (and the stdin they need)."""
    auth, password = _auth_args()
    return ["repo", "add", name, url, "--force-update", *auth], password


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "clearml-lab"


def _key(url: str) -> str:
    return hashlib.sha256(url.encode()).hexdigest()[:16]


def _helm() -> Helm:
    return Helm(kubeconfig=None, context=None, state_dir=cache_root() / "helm-state")


def _repo_name(url: str) -> str:
    return f"repo-{_key(url)}"


def _index_file(url: str) -> Path:
    return cache_root() / "helm-state" / "helm" / "cache" / "repository" / f"{_repo_name(url)}-index.yaml"


@contextmanager
def _waiting(what: str):
    """Says ``what`` through ``progress`` if the block is still running after PROGRESS_AFTER_S."""
    sink = progress
    timer = threading.Timer(PROGRESS_AFTER_S, sink, args=(what,)) if sink else None
    if timer:
        timer.daemon = True
        timer.start()
    try:
        yield
    finally:
        if timer:
            timer.cancel()


def _reason(helm_error: str) -> str:
    """helm's reason without its prefix, and without the URL it repeats before its transport's own words."""
    return helm_error.removeprefix("Error: ").strip().rstrip(".").rsplit("cannot be reached: ", 1)[-1]


def _unreachable(url: str, reason: str) -> str:
    reason = _reason(reason)
    return (
        f"the chart repository {url} cannot be reached ({reason}): check the network, or point the lab at a "
        f"mirror with --chart-repo URL (or ${REPO_ENV})."
    )


# ---- the index ------------------------------------------------------------------------------------------------------
def version_key(version: str) -> tuple:
    """Semantic-version order: 7.14.10 after 7.14.9, a pre-release (2.0.0-alpha1) before its release."""
    match = re.fullmatch(r"v?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+.*)?", str(version).strip())
    if not match:
        return (-1, -1, -1, 0, str(version))
    major, minor, patch, pre = match.groups()
    return (int(major), int(minor), int(patch), 0 if pre else 1, pre or "")


@dataclass(frozen=True)
class ChartEntry:
    """One version of the chart as the repository's index.yaml describes it."""

    version: str
    app_version: str
    kube_version: str  # helm's constraint; "" when the chart sets none
    digest: str
    created: str = ""

    @property
    def prerelease(self) -> bool:
        return "-" in self.version

    def fits(self, kube_version: str | None) -> bool | None:
        """Whether helm would install this version on that Kubernetes version (None: no cluster to judge)."""
        if kube_version is None:
            return None
        return not self.kube_version or satisfies(kube_version, self.kube_version)


@dataclass(frozen=True)
class RepoIndex:
    url: str
    entries: tuple[ChartEntry, ...]  # newest first
    note: str | None = None  # set when the repository was unreachable and a cached copy answered

    def versions(self) -> list[str]:
        """Every version served, oldest first."""
        return [e.version for e in reversed(self.entries)]

    def entry(self, version: str) -> ChartEntry:
        wanted = str(version).strip().removeprefix("v")
        for e in self.entries:
            if e.version == wanted:
                return e
        raise UsageError(
            f"chart version {version} is not served by {self.url}: choose one of "
            f"{', '.join(nearest_versions(wanted, [e.version for e in self.entries]))} "
            f"(`clearml-lab charts` lists them all)."
        )

    def default(self, kube_version: str | None = None) -> ChartEntry:
        """The newest release whose kubeVersion admits the cluster (with no cluster: the newest release)."""
        releases = [e for e in self.entries if not e.prerelease] or list(self.entries)
        if not releases:
            raise LabError(
                f"the chart repository {self.url} serves no {CHART} chart: check the URL given to --chart-repo."
            )
        for e in releases:
            if e.fits(kube_version) is not False:
                return e
        newest = releases[0]
        raise LabError(
            f"no {CHART} chart in {self.url} accepts Kubernetes {core(kube_version)} (the newest, "
            f"{newest.version}, needs {newest.kube_version}): choose a cluster inside that range, or a "
            f"repository with a newer chart."
        )


def nearest_versions(wanted: str, versions: list[str], n: int = 4) -> list[str]:
    """The served versions closest to ``wanted`` in version order (its neighbours below and above), oldest first."""
    ordered = sorted(set(versions), key=version_key)
    if not ordered:
        return []
    key = version_key(wanted)
    position = next((i for i, v in enumerate(ordered) if version_key(v) > key), len(ordered))
    low = max(0, position - n // 2)
    return ordered[low : low + n] if low + n <= len(ordered) else ordered[-n:]


def _parse_index(url: str, text: str) -> tuple[ChartEntry, ...]:
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError:
        raise LabError(
            f"the chart repository {url} serves an index.yaml that is not YAML: check the URL given to --chart-repo."
        ) from None
    found = []
    for raw in (data.get("entries") or {}).get(CHART) or []:
        found.append(
            ChartEntry(
                str(raw.get("version")),
                str(raw.get("appVersion") or ""),
                str(raw.get("kubeVersion") or ""),
                str(raw.get("digest") or ""),
                str(raw.get("created") or ""),
            )
        )
    return tuple(sorted(found, key=lambda e: version_key(e.version), reverse=True))


def index(repo: str | None = None, *, refresh: bool = False) -> RepoIndex:
    """The repository's index of the clearml chart. Fetched with helm when asked to (``refresh``), when none is
    cached or the cached one is older than INDEX_MAX_AGE_S; an unreachable repository with a cached index answers
    from the cache (``note`` says so), without one it is a LabError naming the URL and --chart-repo."""
    url = repo_url(repo)
    key = (str(cache_root()), url)
    with _lock:
        if not refresh and key in _indexes:
            return _indexes[key]
        path = _index_file(url)
        fresh = path.is_file() and time.time() - path.stat().st_mtime < INDEX_MAX_AGE_S
        note = None
        if refresh or not fresh:
            args, password = repo_add_args(_repo_name(url), url)
            with _waiting(f"reading the chart repository {url} (index.yaml) …"):
                result = _helm().run(
                    args,
                    cluster=False,
                    timeout=FETCH_TIMEOUT_S,
                    stdin=password + "\n" if password is not None else None,
                )
            if not result.ok:
                if not path.is_file():
                    raise LabError(_unreachable(url, result.error))
                when = time.strftime("%Y-%m-%d %H:%M", time.localtime(path.stat().st_mtime))
                note = (
                    f"the chart repository {url} cannot be reached ({_reason(result.error)}); using its index "
                    f"cached on {when}."
                )
        found = RepoIndex(url, _parse_index(url, path.read_text()), note)
        _indexes[key] = found
        if note:
            _notes[url] = note
        else:
            _notes.pop(url, None)
        return found


def source_note(repo: str | None = None) -> str | None:
    """A sentence when this process answered from a cached index or package because the repository was unreachable."""
    try:
        return _notes.get(repo_url(repo))
    except UsageError:
        return None


def known_chart_versions(repo: str | None = None) -> list[str]:
    """The clearml chart versions the repository serves, oldest first."""
    return index(repo).versions()


def default_version(repo: str | None = None, kube_version: str | None = None) -> str:
    """The newest version the repository serves whose kubeVersion admits ``kube_version`` (None: the newest)."""
    return index(repo, refresh=True).default(kube_version).version


def chart_kube_version_range(chart_version: str | None = None, repo: str | None = None) -> str:
    """The chart's `kubeVersion` constraint, e.g. `>= 1.21.0-0 < 1.29.0-0` for 7.3.1 ("" when it sets none)."""
    return chart_files(chart_version, repo).kube_version


# ---- the package ----------------------------------------------------------------------------------------------------
def _package_dir(url: str) -> Path:
    return cache_root() / "charts" / _key(url)


def chart_package(chart_version: str | None = None, repo: str | None = None) -> Path:
    """The chart package of that version (None: the default version) as `helm pull` fetched it, from the cache when
    it holds the version with the digest the index names."""
    url = repo_url(repo)
    try:
        idx = index(url)
    except LabError as unreachable:
        return _cached_package(url, chart_version, unreachable)
    try:
        entry = idx.entry(chart_version) if chart_version else idx.default()
    except UsageError:  # perhaps published since the index was read: read it again once
        entry = index(url, refresh=True).entry(chart_version)
    out_dir = _package_dir(url)
    target = out_dir / f"{CHART}-{entry.version}-{(entry.digest or 'nodigest')[:16]}.tgz"
    if target.is_file():
        return target
    with _lock:
        if target.is_file():
            return target
        out_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix=".pull-", dir=out_dir) as tmp:
            # `helm repo add` stored the repository's CA file, TLS choice and credentials; pull reads them there.
            pull = ["pull", f"{_repo_name(url)}/{CHART}", "--version", entry.version, "--destination", tmp]
            with _waiting(f"downloading the {CHART} chart {entry.version} from {url} …"):
                result = _helm().run(pull, cluster=False, timeout=FETCH_TIMEOUT_S)
                if not result.ok and f"repo {_repo_name(url)} not found" in result.error:
                    index(url, refresh=True)  # helm's repository list lost it (a new cache, a cleaned config)
                    result = _helm().run(pull, cluster=False, timeout=FETCH_TIMEOUT_S)
            pulled = Path(tmp) / f"{CHART}-{entry.version}.tgz"
            if not result.ok or not pulled.is_file():
                return _cached_package(url, entry.version, LabError(_unreachable(url, result.error)))
            digest = hashlib.sha256(pulled.read_bytes()).hexdigest()
            if entry.digest and digest != entry.digest:
                _indexes.pop((str(cache_root()), url), None)
                raise LabError(
                    f"the {CHART} {entry.version} package from {url} does not match the digest in the "
                    f"repository's index (the repository changed while the lab read it): run the command "
                    f"again."
                )
            os.replace(pulled, target)
    return target


def _cached_package(url: str, chart_version: str | None, unreachable: LabError) -> Path:
    """With the repository unreachable: the cached package of that version (or the newest cached), said so."""

    def version_of(package: Path) -> str:  # clearml-<version>-<digest>.tgz
        return package.name.removeprefix(f"{CHART}-").removesuffix(".tgz").rsplit("-", 1)[0]

    cached = sorted(_package_dir(url).glob(f"{CHART}-*.tgz"), key=lambda p: version_key(version_of(p)))
    if chart_version:
        wanted = str(chart_version).strip().removeprefix("v")
        cached = [p for p in cached if version_of(p) == wanted]
    if not cached:
        raise unreachable
    package = cached[-1]
    _notes[url] = (
        f"the chart repository {url} cannot be reached; using the {CHART} {version_of(package)} "
        f"package cached on {time.strftime('%Y-%m-%d %H:%M', time.localtime(package.stat().st_mtime))}."
    )
    return package


# ---- what a package holds -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ChartFiles:
    """One chart (or subchart) read from its package: metadata, default values, templates, schema, subcharts."""

    name: str
    version: str
    app_version: str
    kube_version: str
    values: dict
    templates: dict[str, str]  # path inside the chart -> text
    schema: dict | None
    extra_values: dict[str, str]  # other values*.yaml files the chart ships, by file name
    dependencies: tuple[dict, ...]  # Chart.yaml's dependencies (name, alias, condition, …)
    subcharts: dict[str, ChartFiles] = field(default_factory=dict)  # by the key it has in the parent's values

    def shipped_values(self) -> dict[str, str]:
        """Every values file the chart ships (values.yaml first), by file name."""
        return {"values.yaml": self.values_text, **self.extra_values}

    values_text: str = ""


def _read_chart(files: dict[str, bytes]) -> ChartFiles:
    """A chart from its files (paths relative to the chart directory); nested subchart packages are opened too."""
    meta = yaml.safe_load(files.get("Chart.yaml", b"") or b"{}") or {}
    values_text = files.get("values.yaml", b"").decode(errors="replace")
    values = yaml.safe_load(values_text) or {}
    schema = None
    if "values.schema.json" in files:
        try:
            schema = json.loads(files["values.schema.json"])
        except ValueError:
            schema = None
    templates = {
        p: d.decode(errors="replace")
        for p, d in files.items()
        if p.startswith("templates/") and not p.endswith((".txt",))
    }
    extra = {
        p: d.decode(errors="replace")
        for p, d in files.items()
        if "/" not in p and re.fullmatch(r"values[-_.].+\.ya?ml", p)
    }
    subs: dict[str, ChartFiles] = {}
    by_dir: dict[str, dict[str, bytes]] = {}
    for path, data in files.items():
        if not path.startswith("charts/"):
            continue
        rest = path[len("charts/") :]
        if "/" not in rest and rest.endswith((".tgz", ".tar.gz")):
            sub = _read_package(data)
            subs[sub.name] = sub
        elif "/" in rest:
            top, inner = rest.split("/", 1)
            by_dir.setdefault(top, {})[inner] = data
    for inner in by_dir.values():
        if "Chart.yaml" in inner:
            sub = _read_chart(inner)
            subs[sub.name] = sub
    deps = tuple(d for d in meta.get("dependencies") or [] if isinstance(d, dict))
    keyed: dict[str, ChartFiles] = {}
    for dep in deps:
        if dep.get("name") in subs:
            keyed[dep.get("alias") or dep["name"]] = subs[dep["name"]]
    for name, sub in subs.items():  # a subchart vendored without a dependency entry keeps its name
        if not any(d.get("name") == name for d in deps):
            keyed[name] = sub
    return ChartFiles(
        str(meta.get("name") or ""),
        str(meta.get("version") or ""),
        str(meta.get("appVersion") or ""),
        str(meta.get("kubeVersion") or ""),
        values,
        templates,
        schema,
        extra,
        deps,
        keyed,
        values_text=values_text,
    )


def _read_package(data: bytes) -> ChartFiles:
    files: dict[str, bytes] = {}
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as tar:
        for member in tar.getmembers():
            if member.isfile() and "/" in member.name:
                files[member.name.split("/", 1)[1]] = tar.extractfile(member).read()
    return _read_chart(files)


def chart_files(chart_version: str | None = None, repo: str | None = None) -> ChartFiles:
    """What the package of that version holds (read once per process)."""
    package = chart_package(chart_version, repo)
    with _lock:
        if package not in _files:
            try:
                _files[package] = _read_package(package.read_bytes())
            except (tarfile.TarError, OSError, EOFError) as err:
                raise LabError(
                    f"the cached chart package {package} cannot be read ({err}): delete it and run the command again."
                ) from None
        return _files[package]


def default_values(chart_version: str | None = None, repo: str | None = None) -> dict:
    """The chart's default values with its subcharts' defaults under their names or aliases (what `helm show values`
    of the chart and of each subchart together say, as helm coalesces them)."""
    return effective_defaults(chart_files(chart_version, repo))


def chart_keys(chart_version: str | None = None, repo: str | None = None):
    """The keys a values file may set for that version (defaults, keys templates read, the schema): values.ChartKeys."""
    package = chart_package(chart_version, repo)
    with _lock:
        if package not in _keys:
            _keys[package] = keys_of_chart(chart_files(chart_version, repo))
        return _keys[package]


# ---- rendering ------------------------------------------------------------------------------------------------------
def render(
    chart_version: str | None = None,
    *,
    repo: str | None = None,
    profile: str | None = "seed",
    values_file: str | Path | None = None,
    overrides: dict | None = None,
    release: str = "clearml",
    namespace: str = "clearml",
    kube_version: str = "1.32",
) -> list[dict]:
    """The manifests `helm template` renders for this chart version (None: the repository's default for
    ``kube_version``), values profile, user values and overrides.

    Values apply in that order (later wins), as helm's repeated `-f` does. Raises UsageError for a version the
    repository does not serve, an unknown profile or a missing values file, and LabError with helm's reason when helm
    refuses to render (such as a cluster version outside the chart's kubeVersion range).
    """
    try:
        kube_version = str(core(str(kube_version)))  # a cluster's gitVersion (v1.28.2-3598+…) works as well
    except ValueError:
        raise UsageError(f"Kubernetes version {kube_version!r} is not a version like 1.32: give major.minor.") from None
    if values_file is not None and not Path(values_file).is_file():
        raise UsageError(f"values file {values_file} does not exist: check the path.")
    version = chart_version or index(repo).default(kube_version).version
    package = chart_package(version, repo)
    version = chart_files(version, repo).version or version
    if profile:
        profile_values(profile, version)  # an unknown profile is a usage error before helm runs
    with tempfile.TemporaryDirectory(prefix="clearml-lab-render-") as tmp:
        args = ["template", release, str(package), "--namespace", namespace, "--kube-version", kube_version]
        # Later files win, as with helm's repeated -f: the profile (None: the values file already holds one),
        # then the user's values file, then overrides.
        layers = [profile_values(profile, version) if profile else None, values_file, overrides or None]
        for i, layer in enumerate(layers):
            if isinstance(layer, dict):
                path = Path(tmp) / f"values-{i}.yaml"
                path.write_text(yaml.safe_dump(layer, sort_keys=False))
                layer = path
            if layer is not None:
                args += ["-f", str(layer)]
        result = _helm().run(args, cluster=False, timeout=RENDER_TIMEOUT_S)
    if not result.ok:
        raise LabError(_explain(result.error, version, kube_version, repo))
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def _explain(helm_error: str, chart_version: str, kube_version: str, repo: str | None) -> str:
    reason = helm_error.removeprefix("Error: ").strip().rstrip(".")
    if "requires kubeVersion" in reason:
        constraint = chart_kube_version_range(chart_version, repo)
        try:
            fitting = [e.version for e in index(repo).entries if not e.prerelease and e.fits(kube_version)][:1]
        except LabError:
            fitting = []
        advice = (
            f"choose chart {fitting[0]}" if fitting else "choose a chart version"
        ) + f" for Kubernetes {kube_version}, or a cluster inside {constraint}"
        return f"helm refuses clearml chart {chart_version}: {reason}; {advice}."
    return f"helm could not render clearml chart {chart_version}: {reason}; fix the values or settings it names."
