"""Progress of long waits, reported by the steps and shown live by whoever called them.

A step reports what it is waiting for with ``progress.report(line)`` ("3/7 workloads ready; waiting for
Deployment/clearml-apiserver: 0/1 ready"). Nothing is shown unless a caller installed a sink for the current thread
with ``progress.reporting(sink)``; a ``Ticker`` is such a sink that re-shows the last line with the elapsed time at
least once a second, so a wait is never silent for more than 2 s even when nothing changes:

    with progress.Ticker(show=lambda text: label.value = text) as ticker, progress.reporting(ticker.report):
        step.run(lab)
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from collections.abc import Callable

_local = threading.local()
TICK_S = 1.0  # how often a ticker re-shows its line (the promise is "at least every 2 s")


def report(line: str) -> None:
    """Tell the caller (if it listens in this thread) what is being waited for now."""
    sink = getattr(_local, "sink", None)
    if sink is not None:
        sink(line)


@contextlib.contextmanager
def reporting(sink: Callable[[str], None] | None):
    """Send this thread's ``report()`` lines to ``sink`` while the block runs."""
    previous = getattr(_local, "sink", None)
    _local.sink = sink
    try:
        yield
    finally:
        _local.sink = previous


class Ticker:
    """Shows ``<what> — <line> (<n> s)`` through ``show`` whenever a line is reported and once every second."""

    def __init__(self, what: str, show: Callable[[str], None], *, tick: float = TICK_S):
        self.what, self.show, self.tick = what, show, tick
        self.line = "starting"
        self.started = time.monotonic()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def text(self) -> str:
        return f"{self.what} — {self.line} ({int(time.monotonic() - self.started)} s)"

    def report(self, line: str) -> None:
        with self._lock:
            self.line = line.strip() or self.line
        self._show()

    def _show(self) -> None:
        try:
            self.show(self.text)
        except Exception:  # a closed widget or terminal must not break the step being watched
            pass

    def _loop(self) -> None:
        while not self._stop.wait(self.tick):
            self._show()

    def __enter__(self) -> Ticker:
        self._show()
        self._thread = threading.Thread(target=self._loop, daemon=True, name="progress-ticker")
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2)


class TerminalProgress:
    """On a terminal, a live line (rewritten in place at least every second) while a step waits; elsewhere
    nothing, so piped output stays the same from run to run."""

    def __init__(self, what: str):
        self.live = sys.stdout.isatty()
        self.ticker = Ticker(what, self._show) if self.live else None
        self.scope = reporting(self.ticker.report if self.ticker else None)

    @staticmethod
    def _show(text: str) -> None:
        width = 119
        sys.stdout.write("\r\033[K" + (text if len(text) <= width else text[: width - 1] + "…"))
        sys.stdout.flush()

    def __enter__(self):
        if self.ticker:
            self.ticker.__enter__()
        self.scope.__enter__()
        return self

    def __exit__(self, *exc):
        self.scope.__exit__(*exc)
        if self.ticker:
            self.ticker.__exit__(*exc)
            sys.stdout.write("\r\033[K")
            sys.stdout.flush()
