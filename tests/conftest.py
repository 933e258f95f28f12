import os
import shutil
import sys
from pathlib import Path

import pytest

# The tools `make` installs (helm, kubectl) live beside this interpreter; put them first on PATH so the
# suite behaves the same whether started by `make test` or by `.venv/bin/pytest`.
os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"

# Charts come from loopback Helm repositories (the practice charts for every test; the tests' own on request).
from tests.chartrepo_fixtures import extended_chart_repository, loopback_chart_repository  # noqa: E402,F401
from tests.live.recipe_helpers import HELM3  # noqa: E402


@pytest.fixture(autouse=True)
def _helm_is_installed(request):
    """A test marked `helm` fails, never skips, without helm 4 on PATH and helm 3 in the venv: `make test` installs
    both, so a skip would only hide a broken install."""
    if request.node.get_closest_marker("helm"):
        missing = [name for name, found in (("helm", shutil.which("helm")), (str(HELM3), HELM3.exists())) if not found]
        if missing:
            pytest.fail(f"this test needs {' and '.join(missing)}: run `make tools` (scripts/install-tools.sh).")


@pytest.fixture(scope="module")
def cluster_4_15():
    """A practice cluster of its own emulating OpenShift 4.15 (the last release chart 7.3.1's kubeVersion admits)."""
    from tests.live.cluster import temporary_cluster

    cluster = temporary_cluster(time_scale=0.02, extra_args=("--openshift-version", "4.15"))
    cluster.start()
    yield cluster
    cluster.stop()
