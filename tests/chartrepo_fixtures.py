"""Chart repositories on loopback for the tests: the practice charts, and charts the tests build themselves.

Every repository is a directory of packages indexed by the real `helm repo index`, served over plain HTTP on
127.0.0.1 by `practice.chartrepo.LoopbackRepository` — nothing reaches the internet. The session's practice
repository is what CLEARML_LAB_CHART_REPO names for every test (tests/conftest.py), so rendering and linting work
with no cluster running.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from clearml_lab.helm import find_helm
from clearml_lab.practice.chartrepo import LoopbackRepository, build_repository, chart_files

NEW_VERSION = "7.15.0"  # a version no practice chart has: the tests' own, with keys the practice charts lack


def helm(*args: str, cwd: Path | None = None, home: Path | None = None) -> str:
    """The real helm with its state in ``home`` (never the user's)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HELM_")}
    if home:
        env.update(
            HELM_CONFIG_HOME=str(home / "config"),
            HELM_CACHE_HOME=str(home / "cache"),
            HELM_DATA_HOME=str(home / "data"),
        )
    done = subprocess.run([find_helm(), *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def index(directory: Path, url: str) -> None:
    """`helm repo index --url URL DIR`: the index of every package in the directory."""
    (directory / "index.yaml").unlink(missing_ok=True)
    helm("repo", "index", str(directory), "--url", url)


def package(files: dict[str, bytes], name: str, out_dir: Path, work: Path) -> Path:
    """Writes a chart's files into work/<name>/ and packages it with `helm package` into out_dir."""
    source = work / name
    shutil.rmtree(source, ignore_errors=True)
    for path, data in files.items():
        target = source / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    out = helm("package", str(source), "--destination", str(out_dir))
    return Path(out.strip().rsplit(" ", 1)[-1])


# The tests' own chart: the practice 7.14.4 chart as a new version, with a component whose service account is shared
# by a pod that runs as root (the ClearML image) and a pod whose init container is privileged (an Elasticsearch-like
# tuner: sysctl as root, then UID 1000), keys only its templates read, a values schema and two values files it ships.
WORKER_TEMPLATE = """\
{{- if .Values.worker.enabled }}
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{ .Release.Name }}-worker
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-worker
  {{- with .Values.worker.deploymentAnnotations }}
  annotations: {{- toYaml . | nindent 4 }}
  {{- end }}
spec:
  replicas: {{ .Values.worker.replicaCount }}
  selector:
    matchLabels: {app: {{ .Release.Name }}-worker}
  template:
    metadata:
      labels: {app: {{ .Release.Name }}-worker}
    spec:
      serviceAccountName: {{ .Release.Name }}-worker
      securityContext: {runAsUser: 0}
      containers:
        - name: worker
          image: "{{ .Values.worker.image.repository }}:{{ .Values.worker.image.tag }}"
          {{- with .Values.worker.probe }}
          readinessProbe: {{- toYaml . | nindent 12 }}
          {{- end }}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-tuner
spec:
  replicas: 1
  selector:
    matchLabels: {app: {{ .Release.Name }}-tuner}
  template:
    metadata:
      labels: {app: {{ .Release.Name }}-tuner}
    spec:
      serviceAccountName: {{ .Release.Name }}-worker
      securityContext: {fsGroup: 1000, runAsUser: 1000}
      initContainers:
        - name: tune
          image: "{{ .Values.worker.tuning.image }}"
          command: ["sysctl", "-w", "vm.max_map_count={{ index .Values "worker" "tuning" "maxMapCount" }}"]
          securityContext: {runAsUser: 0, privileged: true}
      containers:
        - name: tuner
          image: "{{ .Values.worker.tuning.image }}"
          securityContext: {runAsUser: 1000, runAsNonRoot: true, capabilities: {drop: [ALL]}}
{{- end }}
"""
WORKER_VALUES = {
    "enabled": True,
    "replicaCount": 1,
    "image": {"repository": "allegroai/clearml", "tag": "2.1.0-700"},
    "tuning": {"maxMapCount": 262144, "image": "docker.elastic.co/elasticsearch/elasticsearch:7.17.3"},
}
SCHEMA = {
    "$schema": "https://json-schema.org/draft-07/schema#",
    "type": "object",
    "properties": {
        "worker": {
            "type": "object",
            "properties": {
                "queue": {"type": "string", "description": "a key only the schema names"},
                "probe": {"type": "object"},
            },
        }
    },
}
PRODUCTION_VALUES = """\
# Shipped with the chart: a production example that uses keys only templates or the schema name.
worker:
  queue: default
  deploymentAnnotations:
    team: ml
  probe:
    exec: {command: [true]}
apiserver:
  service:
    type: ClusterIP
"""


def new_chart_files(version: str = NEW_VERSION) -> dict[str, bytes]:
    files = dict(chart_files("clearml", "7.14.4"))
    chart = yaml.safe_load(files["Chart.yaml"])
    chart.update(version=version, appVersion="2.1", kubeVersion=">= 1.29.0-0 < 1.34.0-0")
    files["Chart.yaml"] = yaml.safe_dump(chart, sort_keys=False).encode()
    values = yaml.safe_load(files["values.yaml"])
    values["worker"] = WORKER_VALUES
    # As the charts after 7.14.6 do: Bitnami's images from their legacy repositories (the practice cluster, like
    # Docker Hub since 2025, has no docker.io/bitnami tags), so the install fixes for older charts do not apply.
    for sub in ("mongodb", "redis"):
        values.setdefault(sub, {}).setdefault("image", {})["repository"] = f"bitnamilegacy/{sub}"
    files["values.yaml"] = yaml.safe_dump(values, sort_keys=False).encode()
    files["templates/worker.yaml"] = WORKER_TEMPLATE.encode()
    files["values.schema.json"] = json.dumps(SCHEMA).encode()
    files["values-production.yaml"] = PRODUCTION_VALUES.encode()
    return files


def practice_repository(directory: Path) -> LoopbackRepository:
    """The practice charts, packaged as the practice cluster packages them, indexed by helm and served on loopback."""
    repo = LoopbackRepository(directory).start()
    build_repository(directory, repo.url)
    index(directory, repo.url)
    return repo


def extended_repository(directory: Path, work: Path) -> LoopbackRepository:
    """The practice charts and the tests' own NEW_VERSION chart."""
    repo = LoopbackRepository(directory).start()
    build_repository(directory, repo.url)
    package(new_chart_files(), "clearml", directory, work)
    index(directory, repo.url)
    return repo


@pytest.fixture(scope="session", autouse=True)
def loopback_chart_repository(tmp_path_factory):
    """For the whole session: the practice charts on loopback as CLEARML_LAB_CHART_REPO, and a private chart cache
    (XDG_CACHE_HOME), so rendering and linting need no cluster and never touch the user's cache or the internet."""
    saved = {k: os.environ.get(k) for k in ("CLEARML_LAB_CHART_REPO", "XDG_CACHE_HOME")}
    repo = practice_repository(tmp_path_factory.mktemp("practice-chart-repo"))
    os.environ["CLEARML_LAB_CHART_REPO"] = repo.url
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("xdg-cache"))
    yield repo
    repo.stop()
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="session")
def extended_chart_repository(tmp_path_factory):
    """A loopback repository serving the practice charts and the tests' own NEW_VERSION chart."""
    repo = extended_repository(tmp_path_factory.mktemp("extended-chart-repo"), tmp_path_factory.mktemp("chart-src"))
    yield repo
    repo.stop()
