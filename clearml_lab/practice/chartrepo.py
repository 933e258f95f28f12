"""The practice Helm chart repository: packages the practice `clearml` chart versions and writes index.yaml.

The chart source keeps one copy of everything (see charts/README.md): a chart's templates and base values live in
`charts/<name>/`, and each version adds its `Chart.yaml` and a values overlay in `charts/<name>/<version>/`. A
package is assembled from those, with the subcharts its Chart.yaml depends on placed under `charts/<dep>/` as
directories. Packages are byte-for-byte reproducible (fixed times and owners, sorted entries), so the digest in
index.yaml only changes when the source does. No helm is needed to build them.

A packaged values.yaml keeps the comments written above keys in its sources (they tell a learner what a key does
here, or that it is accepted without effect): the sources are read with ruamel.yaml's round trip, merged as
CommentedMaps and dumped by ruamel, without anchors, each comment above its key.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import io
import os
import tarfile
import threading
from datetime import UTC, datetime
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import ruamel.yaml
import yaml
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import CommentMark
from ruamel.yaml.representer import RoundTripRepresenter
from ruamel.yaml.resolver import VersionedResolver
from ruamel.yaml.tokens import CommentToken

from .. import merging
from ..merging import merge_values

CHARTS_DIR = Path(__file__).parent / "charts"
REPO_CHART = "clearml"
# Every file in a package carries this time, so packages (and their digests) depend on the source only.
FIXED_TIME = datetime(2025, 3, 12, tzinfo=UTC)


def chart_versions(name: str = REPO_CHART) -> list[str]:
    """The versions of a chart that have source here, oldest first."""
    found = [d.name for d in (CHARTS_DIR / name).iterdir() if (d / "Chart.yaml").is_file()]
    return sorted(found, key=version_key)


def version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("-")[0].split("."))


def chart_metadata(name: str, version: str) -> dict:
    return yaml.safe_load((CHARTS_DIR / name / version / "Chart.yaml").read_text())


def source_digest() -> str:
    """A hash of the whole chart source and of the code that builds packages from it (this module, the values merge,
    the YAML writer's version), for caches of built packages."""
    digest = hashlib.sha256(
        Path(__file__).read_bytes() + Path(merging.__file__).read_bytes() + ruamel.yaml.__version__.encode()
    )
    for path in sorted(p for p in CHARTS_DIR.rglob("*") if p.is_file()):
        digest.update(path.relative_to(CHARTS_DIR).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def _value_layers(name: str, version: str) -> list[Path]:
    """The source files of a chart version's values, in merge order: shared defaults, then the version's overlay."""
    return [
        layer
        for layer in (CHARTS_DIR / name / "values.yaml", CHARTS_DIR / name / version / "values.yaml")
        if layer.is_file()
    ]


def chart_values(name: str, version: str) -> dict:
    """The chart's own values.yaml, as packaged: the shared defaults with the version's overlay on top."""
    values: dict = {}
    for layer in _value_layers(name, version):
        values = merge_values(values, yaml.safe_load(layer.read_text()) or {})
    return values


def effective_defaults(name: str, version: str) -> dict:
    """Every default the chart renders with, subcharts included under their names, as helm coalesces them
    (a subchart's own defaults, then what the parent's values.yaml sets for it)."""
    values = chart_values(name, version)
    for dep in chart_metadata(name, version).get("dependencies") or []:
        values[dep["name"]] = merge_values(
            effective_defaults(dep["name"], str(dep["version"])), values.get(dep["name"]) or {}
        )
    return values


def _values(name: str, version: str) -> bytes:
    """values.yaml as packaged, with the source's comments above their keys (the overlay's win), so `helm show
    values` says what a key does here and which keys are accepted without effect."""
    header = (
        f"# Default values of the practice stand-in for the {name} chart {version}, assembled by the lab\n"
        f"# from its chart source. The keys and defaults are the real chart's, for the keys a values file\n"
        f"# commonly sets; keys that change nothing a cluster without containers could show are accepted\n"
        f"# without effect, and say so.\n\n"
    )
    return (header + commented_values([layer.read_text() for layer in _value_layers(name, version)])).encode()


# ---- values.yaml with its comments ----------------------------------------------------------------------------
def commented_values(sources: list[str]) -> str:
    """YAML values sources (earliest first) merged as helm merges values files and written as block YAML without
    anchors, multi-line strings as literal blocks, each key preceded by the comment lines written right above it in
    the sources (the latest source that comments a key wins), top-level sections that are commented or follow a
    multi-line one set apart by a blank line."""
    values = CommentedMap()
    for source in sources:
        overlay = _commented(source)
        values = merge_values(values, overlay)  # CommentedMaps: the comments go with the keys merge_values copies
        _take_comments(values, overlay)
    _set_apart(values)
    text = io.StringIO()
    _values_yaml().dump(values, text)
    return text.getvalue()


# ruamel.yaml's round trip attaches a comment to whatever precedes it: the comment above `ingress:` becomes the
# trailing comment of the last scalar of the section before it (apiserver.service.nodePort), the one above a
# section's first key belongs to the section's own key. Merging layers moves keys, so the comments would land
# above the wrong ones. _commented() therefore re-attaches each comment to the key below it, as ruamel's "before
# this key" comment, before anything is merged. (ruamel's experimental typ="rtsc", which attaches comments to what
# follows, fails to load the clearml chart's values.yaml.)
def _commented(text: str):
    """A values source as CommentedMaps whose only comments are the lines written right above each mapping key, at
    the key's indentation (a blank line ends them, so a file's opening comment stays with the file). Block style
    throughout and no anchors: what an alias pointed to is written out in full where it is used."""
    lines = text.splitlines()

    def rebuild(node):
        if isinstance(node, dict):
            out = CommentedMap()
            for key, value in node.items():
                out[key] = rebuild(value)
                row, column = node.lc.key(key)
                above = []
                while row > 0 and lines[row - 1].startswith(" " * column + "#"):
                    row -= 1
                    above.insert(0, lines[row].strip())
                if above:
                    out.ca.items[key] = [
                        None,
                        [CommentToken(f"{line}\n", CommentMark(column)) for line in above],
                        None,
                        None,
                    ]
            return out
        if isinstance(node, list):
            return CommentedSeq(rebuild(item) for item in node)
        return node

    return rebuild(_values_yaml().load(text) or {})


def _take_comments(merged: CommentedMap, overlay: CommentedMap) -> None:
    """The overlay's comment wins for each key it comments (merge_values took its values, not its comments)."""
    for key, value in overlay.items():
        if key in overlay.ca.items:
            merged.ca.items[key] = overlay.ca.items[key]
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            _take_comments(merged[key], value)


def _set_apart(values: CommentedMap) -> None:
    """A blank line before each top-level key that is commented or follows a multi-line section."""
    previous = None
    for index, (key, value) in enumerate(values.items()):
        above = values.ca.items.get(key, [None, None])[1] or []
        multiline = bool(previous) if isinstance(previous, (dict, list)) else "\n" in str(previous)
        if index and (above or multiline):
            values.ca.items[key] = [None, [CommentToken("\n", CommentMark(0)), *above], None, None]
        previous = value


class _Yaml11Resolver(VersionedResolver):
    """YAML 1.1, as helm (and PyYAML) read values: `on` and `yes` are booleans there, so such strings are written
    quoted and read back as written; without a %YAML directive in the file."""

    def __init__(self, version=None, loader=None, loadumper=None):
        super().__init__(version=(1, 1), loader=loader, loadumper=loadumper)


class _ValuesRepresenter(RoundTripRepresenter):
    def ignore_aliases(self, data):
        return True  # a values.yaml a learner reads should not use anchors

    def represent_none(self, data):
        return self.represent_scalar("tag:yaml.org,2002:null", "null")  # `key: null`, not an empty value

    def represent_str(self, data):
        # A file embedded in values (elasticsearch.yml) reads as the file it is, not as one quoted line.
        return self.represent_scalar("tag:yaml.org,2002:str", data, style="|" if "\n" in data else None)


_ValuesRepresenter.add_representer(type(None), _ValuesRepresenter.represent_none)
_ValuesRepresenter.add_representer(str, _ValuesRepresenter.represent_str)


def _values_yaml() -> ruamel.yaml.YAML:
    """ruamel's round trip as values files are read and written here (one per use: a YAML instance is not
    thread-safe)."""
    rt = ruamel.yaml.YAML()
    rt.Resolver, rt.Representer, rt.width = _Yaml11Resolver, _ValuesRepresenter, 120
    return rt


def chart_files(name: str, version: str) -> dict[str, bytes]:
    """Every file of the assembled chart, by its path inside the chart directory."""
    source = CHARTS_DIR / name
    if not (source / version / "Chart.yaml").is_file():
        raise FileNotFoundError(f"no practice source for chart {name} {version}")
    files = {
        "Chart.yaml": (source / version / "Chart.yaml").read_bytes(),
        "values.yaml": _values(name, version),
    }
    for path in (source / "templates").rglob("*"):
        if path.is_file():
            files[path.relative_to(source).as_posix()] = path.read_bytes()
    for dep in chart_metadata(name, version).get("dependencies") or []:
        for path, data in chart_files(dep["name"], str(dep["version"])).items():
            files[f"charts/{dep['name']}/{path}"] = data
    return files


def package(name: str, version: str, out_dir: Path) -> Path:
    """Writes `<name>-<version>.tgz` (top directory `<name>/`), reproducibly, and returns its path."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path, data in sorted(chart_files(name, version).items()):
            info = tarfile.TarInfo(f"{name}/{path}")
            info.size, info.mode, info.mtime = len(data), 0o644, int(FIXED_TIME.timestamp())
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            tar.addfile(info, io.BytesIO(data))
    target = Path(out_dir) / f"{name}-{version}.tgz"
    compressed = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=compressed, mtime=0) as gz:
        gz.write(buffer.getvalue())
    _write_atomically(target, compressed.getvalue())
    return target


def build_repository(out_dir: Path, base_url: str) -> Path:
    """Packages every practice version of the `clearml` chart into out_dir and writes out_dir/index.yaml.

    Chart URLs in the index are `<base_url>/clearml-<version>.tgz`. Returns the path of index.yaml.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    created = FIXED_TIME.isoformat().replace("+00:00", "Z")
    entries = []
    for version in reversed(chart_versions(REPO_CHART)):  # newest first, as helm writes them
        tgz = package(REPO_CHART, version, out_dir)
        meta = chart_metadata(REPO_CHART, version)
        entries.append(
            {
                **meta,
                "version": str(meta["version"]),
                "appVersion": str(meta["appVersion"]),
                "created": created,
                "digest": hashlib.sha256(tgz.read_bytes()).hexdigest(),
                "urls": [f"{base_url.rstrip('/')}/{tgz.name}"],
            }
        )
    index = {"apiVersion": "v1", "entries": {REPO_CHART: entries}, "generated": created}
    target = out_dir / "index.yaml"
    _write_atomically(target, yaml.safe_dump(index, sort_keys=False).encode())
    return target


def _write_atomically(target: Path, data: bytes) -> None:
    """Readers (helm, a server) never see half a file, even when two builders race."""
    partial = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}.partial")  # per writer
    partial.write_bytes(data)
    os.replace(partial, target)


class LoopbackRepository:
    """A Helm chart repository directory served over plain HTTP on 127.0.0.1 (a free port), in a thread: what tests
    and benchmarks point the lab at with --chart-repo, so nothing reaches the internet.

        with LoopbackRepository(directory) as repo:   # repo.url == "http://127.0.0.1:<port>"
            build_repository(directory, repo.url)
    """

    def __init__(self, directory: Path):
        class Quiet(SimpleHTTPRequestHandler):
            def log_message(self, *args):  # helm's requests are not news
                pass

        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(self.directory)))
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, name="chart-repository", daemon=True)

    def start(self) -> LoopbackRepository:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(10)

    def __enter__(self) -> LoopbackRepository:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
