import os
import sys
from pathlib import Path

import pytest

# The tools `make` installs (helm, kubectl) live beside this interpreter; put them first on PATH so the
# suite behaves the same whether started by `make test` or by `.venv/bin/pytest`.
os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"

# Charts come from loopback Helm repositories (the practice charts for every test; the tests' own on request).
from tests.chartrepo_fixtures import extended_chart_repository, loopback_chart_repository  # noqa: E402,F401


@pytest.fixture(scope="module")
def cluster_4_15():
    """A practice cluster of its own emulating OpenShift 4.15 (the last release chart 7.3.1's kubeVersion admits)."""
    from tests.live.cluster import temporary_cluster

    cluster = temporary_cluster(time_scale=0.02, extra_args=("--openshift-version", "4.15"))
    cluster.start()
    yield cluster
    cluster.stop()
