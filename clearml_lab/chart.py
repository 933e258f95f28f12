"""Render the practice `clearml` chart with the real helm, as `helm template --kube-version` would for a cluster.

The chart is packaged from the source in `practice/charts/` into a cache directory named after the source's
hash, so a render always uses the current source and concurrent renders never see a half-written package.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import yaml

from .errors import LabError, UsageError
from .helm import Helm
from .practice import chartrepo
from .profiles import profile_values
from .versions import core, satisfies

CHART = chartrepo.REPO_CHART
RENDER_TIMEOUT_S = 120


def known_chart_versions() -> list[str]:
    """The clearml chart versions the practice repository serves, oldest first."""
    return chartrepo.chart_versions(CHART)


def chart_kube_version_range(chart_version: str) -> str:
    """The chart's `kubeVersion` constraint, e.g. `>= 1.21.0-0 < 1.29.0-0` for 7.3.1."""
    return str(chartrepo.chart_metadata(CHART, _known(chart_version))["kubeVersion"])


def default_values(chart_version: str) -> dict:
    """The chart's default values with its subcharts' defaults under their names (what `helm show values` of the
    chart and of each subchart together say): the keys a values file may set."""
    return chartrepo.effective_defaults(CHART, _known(chart_version))


def chart_package(chart_version: str) -> Path:
    """The packaged practice chart (clearml-<version>.tgz), built once per version of the chart source."""
    version = _known(chart_version)
    out_dir = _cache_dir() / chartrepo.source_digest()[:16]
    target = out_dir / f"{CHART}-{version}.tgz"
    if not target.is_file():
        out_dir.mkdir(parents=True, exist_ok=True)
        chartrepo.package(CHART, version, out_dir)
    return target


def render(chart_version: str, *, profile: str | None = "seed", values_file: str | Path | None = None,
           overrides: dict | None = None, release: str = "clearml", namespace: str = "clearml",
           kube_version: str = "1.32") -> list[dict]:
    """The manifests `helm template` renders for this chart version, values profile, user values and overrides.

    Values apply in that order (later wins), as helm's repeated `-f` does. Raises UsageError for an unknown chart
    version, profile or missing values file, and LabError with helm's reason when helm refuses to render (such as
    a cluster version outside the chart's kubeVersion range).
    """
    version = _known(chart_version)
    try:
        kube_version = str(core(str(kube_version)))  # a cluster's gitVersion (v1.28.2-3598+…) works as well
    except ValueError:
        raise UsageError(f"Kubernetes version {kube_version!r} is not a version like 1.32: give major.minor.") from None
    if values_file is not None and not Path(values_file).is_file():
        raise UsageError(f"values file {values_file} does not exist: check the path.")
    package = chart_package(version)
    helm = Helm(kubeconfig=None, context=None, state_dir=_cache_dir() / "helm-state")
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
        result = helm.run(args, cluster=False, timeout=RENDER_TIMEOUT_S)
    if not result.ok:
        raise LabError(_explain(result.error, version, str(kube_version)))
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def _explain(helm_error: str, chart_version: str, kube_version: str) -> str:
    reason = helm_error.removeprefix("Error: ").strip().rstrip(".")
    if "requires kubeVersion" in reason:
        fitting = [v for v in known_chart_versions() if satisfies(kube_version, chart_kube_version_range(v))]
        advice = (f"choose chart {' or '.join(fitting)}" if fitting else "choose a chart version") + \
            f" for Kubernetes {kube_version}, or a cluster inside {chart_kube_version_range(chart_version)}"
        return f"helm refuses clearml chart {chart_version}: {reason}; {advice}."
    return f"helm could not render clearml chart {chart_version}: {reason}; fix the values or settings it names."


def _known(chart_version: str) -> str:
    versions = known_chart_versions()
    version = str(chart_version).strip().removeprefix("v")
    if version not in versions:
        raise UsageError(f"chart version {chart_version!r} has no practice chart: choose one of {', '.join(versions)}.")
    return version


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "clearml-lab" / "practice-charts"
