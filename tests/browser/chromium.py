"""Which Chromium the browser tests drive, and how. Playwright's own browser download is not reachable from our
machines, so the tests use Debian's ``chromium`` package (``make browser`` installs it)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

DEBIAN_CHROMIUM = Path("/usr/bin/chromium")

# Headless and quiet: no GPU, no sandbox (containers run as root), nothing that phones home while a test runs,
# and shared memory in /tmp should /dev/shm be small (Debian's launcher script decides that unreliably).
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
)

INSTALL = (
    "run `make browser` as root (it runs `apt-get install chromium`), or `sudo apt-get install chromium`, "
    "or set CHROMIUM_PATH to a Chromium binary"
)


def _executable(path) -> bool:
    return Path(path).is_file() and os.access(path, os.X_OK)


def find_chromium(environ=os.environ, debian: Path = DEBIAN_CHROMIUM) -> tuple[Path | None, str]:
    """The Chromium to drive — CHROMIUM_PATH if set, else ``chromium`` on PATH, else Debian's /usr/bin/chromium —
    or None and one sentence saying what is wrong and what to do."""
    named = environ.get("CHROMIUM_PATH")
    if named:
        if _executable(named):
            return Path(named), ""
        return None, f"CHROMIUM_PATH={named} is not an executable file; point it at a Chromium binary or unset it."
    found = shutil.which("chromium", path=environ.get("PATH", "")) or (debian if _executable(debian) else None)
    if found:
        return Path(found), ""
    return None, f"Chromium is not installed, and the browser tests need it: {INSTALL}."


def require_chromium(environ=os.environ, debian: Path = DEBIAN_CHROMIUM) -> Path:
    """The Chromium to drive, or the test fails (never skips) saying what to install."""
    executable, problem = find_chromium(environ, debian)
    if executable is None:
        pytest.fail(problem, pytrace=False)
    return executable
