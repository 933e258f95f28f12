"""The practice chart repository: reproducible packages, an index helm accepts, and the real helm client using it."""

import hashlib
import json
import os
import re
import shutil
import subprocess
import tarfile

import pytest
import yaml

from clearml_lab.merging import merge_values
from clearml_lab.practice.chartrepo import (
    FIXED_TIME,
    LoopbackRepository,
    build_repository,
    chart_values,
    commented_values,
)

VERSIONS = {
    "7.3.1": ("1.12.0", ">= 1.21.0-0 < 1.29.0-0", "12.1.31"),
    "7.14.4": ("2.0", ">= 1.21.0-0 < 1.33.0-0", "13.18.5"),
}


def test_packages_are_reproducible(tmp_path):
    first = build_repository(tmp_path / "a", "http://example.test/charts").parent
    second = build_repository(tmp_path / "b", "http://example.test/charts").parent
    names = sorted(p.name for p in first.iterdir())
    assert names == ["clearml-7.14.4.tgz", "clearml-7.3.1.tgz", "index.yaml"]
    for name in names:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name


@pytest.mark.parametrize("version", VERSIONS)
def test_package_layout(tmp_path, version):
    repo = build_repository(tmp_path, "http://example.test").parent
    with tarfile.open(repo / f"clearml-{version}.tgz") as tar:
        members = tar.getmembers()
        names = [m.name for m in members]
        assert names == sorted(names)
        assert all(name.startswith("clearml/") for name in names)
        assert {m.mtime for m in members} == {int(FIXED_TIME.timestamp())}
        assert {(m.uid, m.gid, m.uname) for m in members} == {(0, 0, "")}
        chart = yaml.safe_load(tar.extractfile("clearml/Chart.yaml"))
        mongodb = yaml.safe_load(tar.extractfile("clearml/charts/mongodb/Chart.yaml"))
        assert "clearml/values.yaml" in names and "clearml/templates/_helpers.tpl" in names
        assert "clearml/charts/elasticsearch/templates/statefulset.yaml" in names
    assert str(chart["version"]) == version
    assert "practice stand-in" in chart["description"].lower() and "nothing runnable" in chart["description"]
    assert str(mongodb["version"]) == VERSIONS[version][2]


@pytest.mark.parametrize("version", VERSIONS)
def test_packaged_values_are_the_merged_defaults_with_their_comments(tmp_path, version):
    repo = build_repository(tmp_path, "http://example.test").parent
    with tarfile.open(repo / f"clearml-{version}.tgz") as tar:
        text = tar.extractfile("clearml/values.yaml").read().decode()
        es_text = tar.extractfile("clearml/charts/elasticsearch/values.yaml").read().decode()
    assert yaml.safe_load(text) == chart_values("clearml", version)
    assert yaml.safe_load(es_text) == chart_values("elasticsearch", "7.17.3")
    assert not re.search(r"[:-] +[&*]\w", text)  # no anchors or aliases for a learner to decode
    lines = text.splitlines()
    # A key accepted without effect says so right above it, in `helm show values` too.
    above_cookie_domain = lines[lines.index("  cookieDomain: ''") - 1]
    assert above_cookie_domain.startswith("  # Accepted without effect here")
    ingress = lines.index("  ingress:")
    assert lines[ingress - 1].startswith("  # A networking.k8s.io/v1 Ingress")
    assert "elasticsearch.yml: |" in text  # an embedded file reads as a file


BASE = """\
# The file's own comment: a blank line parts it from the first key.

a:
  # about b
  b: 1
  # about c, kept when the overlay sets c without a comment
  c: 2
    # deeper than d: not d's
  d: 3
shared: &shared
  # about x
  x: 1
copy: *shared
text: "one\\ntwo\\n"
"""
OVERLAY = """\
a:
  c: 20
  # the overlay's word on d
  d: 30
  # about e, new in the overlay
  e: 40
switch: "on"
gone: null
"""


def test_commented_values_put_each_comment_above_its_key_with_the_overlays_winning():
    text = commented_values([BASE, OVERLAY])
    assert (
        text
        == """\
a:
  # about b
  b: 1
  # about c, kept when the overlay sets c without a comment
  c: 20
  # the overlay's word on d
  d: 30
  # about e, new in the overlay
  e: 40

shared:
  # about x
  x: 1

copy:
  # about x
  x: 1

text: |
  one
  two

switch: 'on'
gone: null
"""
    )
    assert yaml.safe_load(text) == merge_values(yaml.safe_load(BASE), yaml.safe_load(OVERLAY))


def test_index(tmp_path):
    index_path = build_repository(tmp_path, "http://127.0.0.1:1/charts/")
    index = yaml.safe_load(index_path.read_text())
    assert index["apiVersion"] == "v1"
    entries = {e["version"]: e for e in index["entries"]["clearml"]}
    assert set(entries) == set(VERSIONS)
    for version, (app_version, kube_range, _) in VERSIONS.items():
        entry = entries[version]
        tgz = tmp_path / f"clearml-{version}.tgz"
        assert entry["appVersion"] == app_version
        assert entry["kubeVersion"] == kube_range
        assert entry["digest"] == hashlib.sha256(tgz.read_bytes()).hexdigest()
        assert entry["urls"] == [f"http://127.0.0.1:1/charts/clearml-{version}.tgz"]
        assert entry["created"]


@pytest.fixture
def static_server(tmp_path):
    """A plain HTTP server for one directory on 127.0.0.1 (the loopback repository tests and benchmarks use);
    yields (directory, base URL)."""
    root = tmp_path / "served"
    with LoopbackRepository(root) as repo:
        yield root, repo.url


def _helm(tmp_path, *args):
    """The real helm with all of its state in tmp_path, so the user's repositories are never touched."""
    home = tmp_path / "helm"
    env = {k: v for k, v in os.environ.items() if not k.startswith("HELM_")}
    env.update(
        HELM_CONFIG_HOME=str(home / "config"),
        HELM_CACHE_HOME=str(home / "cache"),
        HELM_DATA_HOME=str(home / "data"),
        HELM_REPOSITORY_CONFIG=str(home / "repositories.yaml"),
        HELM_REPOSITORY_CACHE=str(home / "cache" / "repository"),
    )
    done = subprocess.run([shutil.which("helm"), *args], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.helm
def test_helm_adds_searches_pulls_and_renders_from_the_repository(tmp_path, static_server):
    root, url = static_server
    build_repository(root, url)
    _helm(tmp_path, "repo", "add", "practice", url)
    _helm(tmp_path, "repo", "update")
    found = json.loads(_helm(tmp_path, "search", "repo", "practice/clearml", "--versions", "-o", "json"))
    assert {(c["name"], c["version"], c["app_version"]) for c in found} == {
        ("practice/clearml", v, app) for v, (app, _, _) in VERSIONS.items()
    }

    pulled = tmp_path / "pulled"
    pulled.mkdir()
    _helm(tmp_path, "pull", "practice/clearml", "--version", "7.3.1", "--destination", str(pulled))
    tgz = pulled / "clearml-7.3.1.tgz"
    assert tgz.read_bytes() == (root / "clearml-7.3.1.tgz").read_bytes()
    shown = yaml.safe_load(_helm(tmp_path, "show", "chart", str(tgz)))
    assert shown["kubeVersion"] == VERSIONS["7.3.1"][1]
    manifests = list(yaml.safe_load_all(_helm(tmp_path, "template", "clearml", str(tgz), "--kube-version", "1.28")))
    assert {"clearml-apiserver", "clearml-elastic-master"} <= {d["metadata"]["name"] for d in manifests if d}
    repositories = yaml.safe_load((tmp_path / "helm" / "repositories.yaml").read_text())["repositories"]
    assert [(r["name"], r["url"]) for r in repositories] == [("practice", url)]
