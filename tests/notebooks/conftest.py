"""nbval's reference notebooks live in recorded/ beside this file; notebooks/ ships the same cells without outputs."""

from tests.notebooks.nbval_session import pytest_collection_finish, pytest_sessionfinish  # noqa: F401
