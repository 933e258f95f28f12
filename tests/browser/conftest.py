"""Fixtures for tests that drive JupyterLab in a real Chromium.

``jupyter_lab`` is one private JupyterLab on an empty root for the session; ``practice_lab`` is another, on a copy of
``notebooks/``, whose kernels talk to the session's ``practice_cluster``; ``start_jupyter_lab(root, env=...)``
starts more. ``open_lab(server)`` gives a fresh browser tab on any of them as a LabPage, and ``lab`` is such a tab
on ``jupyter_lab``. A missing Chromium or Playwright fails the test with what to install; it never skips."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.live.cluster import PracticeCluster

from .chromium import FLAGS, require_chromium
from .jupyterlab_server import JupyterLabServer

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    # Keep each phase's report on the test item, so a fixture can tell at teardown whether the test failed.
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def chromium(tmp_path_factory):
    """Debian's Chromium under Playwright, one browser for the session. Its config and cache directories (where
    it keeps a crash-report database whatever the profile) are temporary, so nothing lands in the user's home."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail(
            "Playwright for Python is not installed in this environment: run `make install` "
            "(it installs the test extras).",
            pytrace=False,
        )
    executable = require_chromium()
    playwright = sync_playwright().start()
    try:
        home = tmp_path_factory.mktemp("chromium-home")
        env = {**os.environ, "XDG_CONFIG_HOME": str(home / "config"), "XDG_CACHE_HOME": str(home / "cache")}
        browser = playwright.chromium.launch(executable_path=str(executable), headless=True, args=list(FLAGS), env=env)
    except Exception as err:
        playwright.stop()
        pytest.fail(f"Chromium at {executable} did not start under Playwright: {err}", pytrace=False)
    yield browser
    browser.close()
    playwright.stop()


@pytest.fixture(scope="session")
def start_jupyter_lab(tmp_path_factory, chromium):
    """Start a JupyterLab on ``root`` (with ``env`` added for it and its kernels); all are stopped at the end.
    Asks for the browser first, so a missing Chromium fails at once rather than after servers have started."""
    servers: list[JupyterLabServer] = []

    def start(root: Path, *, env: dict[str, str] | None = None, config: Path | None = None) -> JupyterLabServer:
        server = JupyterLabServer(root, tmp_path_factory.mktemp("jupyter-home"), env=env, config=config)
        servers.append(server)
        return server.start()

    yield start
    for server in servers:
        server.stop()


@pytest.fixture(scope="session")
def jupyter_lab(start_jupyter_lab, tmp_path_factory) -> JupyterLabServer:
    """A JupyterLab on an empty temporary root, for tests that write their own notebooks into it."""
    return start_jupyter_lab(tmp_path_factory.mktemp("lab-root"))


@pytest.fixture(scope="session")
def lab_home(tmp_path_factory) -> Path:
    """The lab's own state directory (CLEARML_LAB_HOME) for the notebooks' kernels."""
    return tmp_path_factory.mktemp("clearml-lab-home")


@pytest.fixture(scope="session")
def practice_cluster(lab_home):
    """A practice cluster where the lab looks for one by default (CLEARML_LAB_HOME/practice), at the notebooks'
    fast time scale, so the notebooks find it without being told, as in the nbval run."""
    cluster = PracticeCluster(lab_home / "practice", time_scale=0.02)
    cluster.start()
    yield cluster
    cluster.stop()


@pytest.fixture(scope="session")
def practice_lab(start_jupyter_lab, practice_cluster, lab_home, tmp_path_factory):
    """JupyterLab on a copy of ``notebooks/`` (the committed ones are never run in place) whose kernels use the
    practice cluster as the lab's default target: CLEARML_LAB_HOME set, no KUBECONFIG, a private HOME (so helm's
    repository settings are the test's own)."""
    root = tmp_path_factory.mktemp("notebooks")
    shutil.copytree(REPO / "notebooks", root, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    env = {
        "CLEARML_LAB_HOME": str(lab_home),
        "KUBECONFIG": None,
        "HOME": str(tmp_path_factory.mktemp("home")),
        "XDG_CACHE_HOME": str(tmp_path_factory.mktemp("cache")),
    }
    server = start_jupyter_lab(root, env=env)
    yield server
    server.stop()  # before the cluster goes, so no kernel is left talking to nothing


@pytest.fixture
def open_lab(chromium, artifacts, request):
    """A fresh browser context (own cookies, storage) per call, signed in to the given server by header so the
    token never appears in a URL. The test's screenshots from earlier runs are removed first, and on test failure
    the last tab is photographed before it closes."""
    from .lab_page import LabPage, screenshot_prefix

    prefix = screenshot_prefix(request.node.name)
    for stale in artifacts.glob(f"{prefix}-*.png"):
        stale.unlink()
    contexts, pages = [], []

    def open_(server: JupyterLabServer) -> LabPage:
        context = chromium.new_context(extra_http_headers=server.auth_header, viewport={"width": 1400, "height": 1000})
        contexts.append(context)
        page = LabPage(context.new_page(), server, artifacts, prefix)
        pages.append(page)
        return page

    yield open_
    failed = getattr(request.node, "report_call", None)
    if failed is not None and failed.failed and pages:
        try:
            pages[-1].screenshot("at-failure")
        except Exception:
            pass  # the page may be gone; the failure itself is what matters
    for context in contexts:
        context.close()


@pytest.fixture
def lab(open_lab, jupyter_lab):
    """A browser tab on ``jupyter_lab``."""
    return open_lab(jupyter_lab)
