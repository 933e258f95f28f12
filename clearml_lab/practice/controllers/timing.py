"""Small time rules shared by the workload controllers (retry back-off, availability after minReadySeconds)."""

from __future__ import annotations

from ..lifecycle import lifecycle_data
from .base import get_condition, parse_time


def retry_at(failing_since: float | None, now: float, scale: float) -> float:
    """When to try a refused creation again: the wait grows with how long it has been failing, like a
    controller's rate-limited work queue, within the bounds declared in lifecycle.yaml."""
    rules = lifecycle_data()["controllers"]["retry"]
    elapsed = 0.0 if failing_since is None else max(0.0, now - failing_since) / max(scale, 1e-9)
    delay = min(max(rules["initial_seconds"], elapsed), rules["max_seconds"])
    return now + delay * scale


def available_since(pod: dict, min_ready_seconds: int, scale: float) -> float | None:
    """Wall-clock time from which a ready pod counts as available; None if it is not ready."""
    ready = get_condition(pod, "Ready")
    if not ready or ready.get("status") != "True":
        return None
    if not min_ready_seconds:
        return 0.0
    since = parse_time(ready.get("lastTransitionTime")) or 0.0
    return since + min_ready_seconds * scale


class Backoff:
    """Refused creations per object: when they started failing and when the next attempt is due. Kept by the
    controller between reconciles so that its own status writes do not trigger an immediate retry."""

    def __init__(self):
        self._state: dict[str, tuple[float, float]] = {}

    def failed(self, key: str, now: float, scale: float) -> float:
        since = self._state.get(key, (now, now))[0]
        due = retry_at(since, now, scale)
        self._state[key] = (since, due)
        return due

    def due(self, key: str, now: float) -> float | None:
        """The time of the next allowed attempt if it is still in the future."""
        state = self._state.get(key)
        return state[1] if state and state[1] > now else None

    def clear(self, key: str) -> None:
        self._state.pop(key, None)
