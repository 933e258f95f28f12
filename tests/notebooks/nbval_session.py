"""A pytest plugin: nbval runs the recorded notebooks (tests/notebooks/recorded/) in order against one fresh
practice cluster, started once the notebooks are collected; kernels inherit the environment set here.

Loaded by tests/notebooks/conftest.py, and with `-p tests.notebooks.nbval_session` by a run on a copy elsewhere."""

import os

from tests.notebooks.harness import practice_session

_session = None


def pytest_collection_finish(session):
    global _session
    if any(str(item.fspath).endswith(".ipynb") for item in session.items):
        _session = practice_session()
        os.environ.update(_session.__enter__())


def pytest_sessionfinish(session, exitstatus):
    global _session
    if _session is not None:
        _session.__exit__(None, None, None)
        _session = None
