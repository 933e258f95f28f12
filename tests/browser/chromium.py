"""Which Chromium the browser tests drive, and how. Playwright's own browser download is not reachable from our
machines, so the tests use Debian's ``chromium`` package (``make browser`` installs it)."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

# Headless and quiet: no GPU, no sandbox (containers run as root), nothing that phones home while a test runs.
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage")

MISSING = ("Chromium is not installed, and the browser tests need it: run `make browser` as root (it runs "
           "`apt-get install chromium`), or `sudo apt-get install chromium`, or set CHROMIUM_PATH to a Chromium "
           "binary.")


def find_chromium() -> Path | None:
    """CHROMIUM_PATH if set, else ``chromium`` on PATH, else Debian's place for it."""
    named = os.environ.get("CHROMIUM_PATH")
    if named:
        return Path(named) if Path(named).is_file() else None
    found = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").is_file() else None)
    return Path(found) if found else None
