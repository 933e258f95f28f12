"""Issue 14, item 8: a learner's first hour, played in Chromium on the lab as `make lab` opens it (the lab's JupyterLab
config, the learner's copies in workspace/ made by the same script, beside notebooks/ in a git checkout).

The learner jumps ahead to the install before making the project and is told which step to run; clicks through
00→09; edits a value in notebook 03's form and runs the step (the edit survives); and no output shows a stale state
once a step passed. Afterwards the copies are saved with their outputs, and notebooks/ is clean in `git status`. Everything
is asserted on what the page shows (element text and state), not only photographed."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import urllib.request
import uuid
from pathlib import Path

import pytest

from .conftest import REPO

pytestmark = pytest.mark.browser

CONFIG = REPO / "notebooks" / ".jupyter" / "jupyter_lab_config.py"
EDIT = "fileserver:\n  storage:\n    data:\n      size: 20Gi\n"
STALE = ("(not run yet)", "VBox(", "0 of 0 workloads ready")


def _git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(root), "-c", "user.name=learner", "-c", "user.email=l@example.org", *args],
        check=True,
        capture_output=True,
        text=True,
    ).stdout


@pytest.fixture(scope="module")
def learner(start_jupyter_lab, practice_cluster, tmp_path_factory):
    """A git checkout holding notebooks/ as shipped, and workspace/ beside it made by `make lab`'s own step
    (scripts/build_notebooks.py --workspace), served with the lab's JupyterLab config; the kernels use the session's
    practice cluster in a fresh project."""
    import importlib.util

    work = tmp_path_factory.mktemp("learner")
    checkout = work / "checkout"
    shutil.copytree(
        REPO / "notebooks", checkout / "notebooks", ignore=shutil.ignore_patterns(".ipynb_checkpoints", "values.yaml")
    )
    _git(checkout, "init", "-q")
    _git(checkout, "add", "-A")
    _git(checkout, "commit", "-q", "-m", "the lab as shipped")
    spec = importlib.util.spec_from_file_location("build_notebooks", REPO / "scripts" / "build_notebooks.py")
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    root = checkout / "workspace"
    build.workspace(root, source=checkout / "notebooks")
    home = work / "lab-home"
    (home / "practice").mkdir(parents=True)
    shutil.copy(practice_cluster.kubeconfig, home / "practice" / "kubeconfig")
    namespace = f"learner-{uuid.uuid4().hex[:6]}"
    env = {
        "CLEARML_LAB_HOME": str(home),
        "CLEARML_LAB_NAMESPACE": namespace,
        "KUBECONFIG": None,
        "HOME": str(work / "user"),
        "XDG_CACHE_HOME": str(work / "cache"),
    }
    server = start_jupyter_lab(root, env=env, config=CONFIG)
    server.home_dir, server.namespace, server.checkout = home, namespace, checkout
    yield server
    server.stop()


def _card_badges(lab, cell) -> list[str]:
    return [b.get_attribute("data-badge") for b in lab.cell(cell).locator(".lab-badge").all()]


def _assert_nothing_stale(lab, name: str) -> None:
    """After a step passed: no output says a state from before it, shows a widget's repr, or is still running."""
    shown = lab.notebook.locator(".jp-OutputArea-output").all_inner_texts()
    for text in shown:
        for stale in STALE:
            if stale in text:
                raise lab.fail(f"{name}: an output still says {stale!r} after the step passed")
    if lab.notebook.locator('.lab-badge[data-badge="RUNNING"]').count():
        raise lab.fail(f"{name}: a progress line is still shown after the cells finished")
    blocks = [t.strip() for t in shown if t.strip().startswith("[PASS]")]
    if len(blocks) != len(set(blocks)):
        raise lab.fail(f"{name}: the same result block is printed twice")


def _save(lab) -> None:
    lab.menu("File", "Save Notebook")
    current = ".lm-DockPanel-tabBar .lm-TabBar-tab.lm-mod-current"
    lab.wait_until(
        lambda: lab.page.locator(current).count() == 1 and lab.page.locator(f"{current}.jp-mod-dirty").count() == 0,
        "saving the notebook",
        timeout=30,
    )


def test_the_lab_opens_on_notebook_00_and_shuts_kernels_down_with_their_notebook(learner):
    request = urllib.request.Request(learner.url + "/", headers=learner.auth_header)

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    try:
        urllib.request.build_opener(NoRedirect).open(request, timeout=10)
        location = None
    except urllib.error.HTTPError as err:
        location = err.headers.get("Location")
    assert location and location.split("?")[0].endswith("/lab/tree/00_welcome_and_prerequisites.ipynb"), location
    tracker = learner.api("/lab/api/settings/@jupyterlab/notebook-extension:tracker")
    assert tracker["schema"]["properties"]["kernelShutdown"]["default"] is True
    names = {entry["name"] for entry in learner.api("/api/contents")["content"]}
    assert "00_welcome_and_prerequisites.ipynb" in names
    assert not names & {"conftest.py", "sanitize.cfg", ".jupyter", ".gitignore"}, names


def test_a_learners_first_hour(learner, open_lab):
    lab = open_lab(learner)
    for name in ("00_welcome_and_prerequisites.ipynb", "01_helm_repository.ipynb"):
        lab.run_notebook(name, timeout=300)
        _save(lab)

    # Jumping ahead: the install before the project. The card says which step (and notebook) to run first.
    lab.open_notebook("05_install.ipynb")
    lab.run_all_cells(above="nb.run_for_me(")
    lab.click_button("Run", cell="nb.card(")
    lab.wait_for_output(text="run `clearml-lab run project` (notebook 02)", cell="nb.card(", timeout=60)
    assert _card_badges(lab, "nb.card(") == ["FAIL"]

    for name in ("02_project.ipynb",):
        lab.run_notebook(name, timeout=300)
        assert "PASS" in _card_badges(lab, "nb.card(") and "FAIL" not in _card_badges(lab, "nb.card(")
        _assert_nothing_stale(lab, name)
        _save(lab)

    # 03: a value typed in the form, then the card's Run: the edit is kept and named as the learner's.
    lab.open_notebook("03_values.ipynb")
    lab.run_all_cells(above="nb.run_for_me(")
    lab.cell("nb.values_form(").locator("textarea").fill(EDIT)
    lab.click_button("Write values.yaml", cell="nb.values_form(")
    lab.wait_for_output(text="fileserver.storage.data.size", cell="nb.values_form(", timeout=120)
    lab.click_button("Run", cell="nb.card(")
    lab.wait_for_output(text="Kept your values: fileserver.storage.data.size", cell="nb.card(", timeout=120)
    assert _card_badges(lab, "nb.card(") == ["PASS"]
    [values] = learner.home_dir.glob(f"state/*-{learner.namespace}/values.yaml")
    assert re.search(r"^\s+size: 20Gi$", values.read_text(), re.M), values.read_text()
    lab.run_all_cells(timeout=300)  # the whole notebook again, as a learner re-running it would
    assert "20Gi" in lab.cell("nb.values_form(").locator("textarea").input_value()  # the form shows it back
    assert re.search(r"^\s+size: 20Gi$", values.read_text(), re.M)
    _assert_nothing_stale(lab, "03_values.ipynb")
    _save(lab)

    for name in (
        "04_security_context_constraints.ipynb",
        "05_install.ipynb",
        "06_routes.ipynb",
        "07_topology.ipynb",
        "08_verify_clearml.ipynb",
        "09_cleanup.ipynb",
    ):
        lab.run_notebook(name, timeout=420)
        if lab.cell("nb.card(").count():
            badges = _card_badges(lab, "nb.card(")
            assert badges and set(badges) <= {"PASS"}, (name, badges)
        checks = lab.cell("nb.check(").locator(".jp-OutputArea-output").all_inner_texts()
        assert any(t.strip().startswith("[PASS]") for t in checks), (name, checks)
        _assert_nothing_stale(lab, name)
        if name in ("05_install.ipynb", "07_topology.ipynb"):  # the live picture stays, every workload ready
            nodes = lab.topology_nodes()
            assert nodes and all(nodes.values()), (name, nodes)
            assert lab.in_outputs(".topology-legend").first.inner_text().count("StatefulSet") == 1
        _save(lab)
    lab.screenshot("after-09")

    saved = json.loads((learner.root / "05_install.ipynb").read_text())
    assert any(cell.get("outputs") for cell in saved["cells"]), "the notebooks were not saved with their outputs"
    assert (learner.root / "values.yaml").resolve().read_text().startswith("# ClearML on OpenShift — profile")
    assert _git(learner.checkout, "status", "--porcelain") == "", "a learner's run changed what git tracks"
