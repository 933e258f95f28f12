"""RFC 3339 times as Kubernetes writes them (whole seconds, UTC, `Z`): one spelling for the lab and the practice
cluster alike."""

from __future__ import annotations

import calendar
import time


def rfc3339(t: float | None = None) -> str:
    """``t`` (seconds since the epoch; now when None) as `2026-11-30T07:48:58Z`."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() if t is None else t))


def parse_rfc3339(text: str | None) -> float | None:
    """Seconds since the epoch of an RFC 3339 time (fractions and offsets other than Z are not written here)."""
    if not text:
        return None
    return float(calendar.timegm(time.strptime(text[:19], "%Y-%m-%dT%H:%M:%S")))
