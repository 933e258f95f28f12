"""The harness itself: a missing browser fails the test (never a silent skip), saying what to do."""
from __future__ import annotations

import pytest

from .chromium import require_chromium

pytestmark = pytest.mark.browser


def test_a_missing_chromium_fails_and_says_how_to_install_it(tmp_path):
    nowhere = {"PATH": str(tmp_path)}
    with pytest.raises(pytest.fail.Exception, match=r"Chromium is not installed.*apt-get install chromium"):
        require_chromium(nowhere, debian=tmp_path / "chromium")


def test_a_wrong_chromium_path_fails_naming_it(tmp_path):
    not_a_program = tmp_path / "chromium"
    not_a_program.write_text("")
    with pytest.raises(pytest.fail.Exception, match=f"CHROMIUM_PATH={not_a_program} is not an executable file"):
        require_chromium({"CHROMIUM_PATH": str(not_a_program)})


def test_chromium_is_found_on_path_or_where_debian_puts_it(tmp_path):
    program = tmp_path / "chromium"
    program.write_text("#!/bin/sh\n")
    program.chmod(0o755)
    assert require_chromium({"PATH": str(tmp_path)}, debian=tmp_path / "elsewhere") == program
    assert require_chromium({"PATH": ""}, debian=program) == program
