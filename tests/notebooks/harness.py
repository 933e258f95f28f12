"""One fresh practice cluster for a run of the notebooks, and the environment their kernels get.

Used by the nbval suite (tests/notebooks/nbval_session.py), by the variant runs (tests/notebooks/test_variants.py) and by
scripts/build_notebooks.py when it records the reference outputs — so all three see the same set-up.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.live.cluster import PracticeCluster

BIN = Path(sys.executable).parent
TIME_SCALE = 0.02  # fixed, so timings in the outputs are stable from run to run


@contextlib.contextmanager
def practice_session(
    *,
    openshift_version: str | None = None,
    chart_version: str | None = None,
    profile: str | None = None,
    learner: str | None = None,
):
    """Start a practice cluster and yield the environment for notebook kernels (a private CLEARML_LAB_HOME).
    With ``learner``, an instructor first provisions that workshop learner, and the kernels act as the learner
    (KUBECONFIG names the learner's kubeconfig)."""
    root = Path(tempfile.mkdtemp(prefix="clearml-lab-notebooks-"))
    extra = ("--openshift-version", openshift_version) if openshift_version else ()
    cluster = PracticeCluster(root / "home" / "practice", time_scale=TIME_SCALE, extra_args=extra)
    cluster.start()
    try:
        env = {
            **os.environ,
            "CLEARML_LAB_HOME": str(root / "home"),
            "HOME": str(root / "user"),
            "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            "XDG_CACHE_HOME": str(root / "cache"),
        }
        (root / "user").mkdir()
        env.pop("KUBECONFIG", None)
        for key, value in (("CLEARML_LAB_CHART_VERSION", chart_version), ("CLEARML_LAB_PROFILE", profile)):
            if value:
                env[key] = value
            else:
                env.pop(key, None)
        if learner:
            out = root / "workshop"
            subprocess.run(
                [
                    str(BIN / "clearml-lab"),
                    "workshop",
                    "provision",
                    "--names",
                    learner,
                    "--out",
                    str(out),
                    *(("--chart-version", chart_version) if chart_version else ()),
                    *(("--profile", profile) if profile else ()),
                ],
                env=env,
                check=True,
                capture_output=True,
                timeout=300,
            )
            env["KUBECONFIG"] = str(out / f"{learner}.kubeconfig")
        yield env
    finally:
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)
