"""What every benchmark returns: figures (printed as `name: value`) and extra table rows that explain them."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class Figure:
    name: str
    value: float | None  # None prints as n/a; the note then says why
    unit: str = ""
    target: str = ""
    note: str = ""

    def line(self) -> str:
        return f"{self.name}: {'n/a' if self.value is None else format_number(self.value)}"


def format_number(value: float) -> str:
    if value == int(value) and abs(value) >= 1:
        return str(int(value))
    return f"{value:.3g}" if abs(value) < 10 else f"{value:.1f}"


def median_seconds(action: Callable[[], object], runs: int) -> tuple[float, list[float]]:
    """The median wall time of ``runs`` calls, and every sample (so the table can show the spread)."""
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples), samples
